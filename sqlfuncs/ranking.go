package sqlfuncs

import (
	"slices"

	"github.com/hepsql/hepsql/internal/capi"
)

// execArgsort: 1-based indices of the list ordered by decreasing key; equal
// keys keep their storage order. With limit, only the first n indices.
func execArgsort[T float](limit bool) func(capi.Args, capi.Vector) error {
	return func(in capi.Args, out capi.Vector) error {
		n := in.Rows()
		keys := readLists[T](in.Arg(0), n)
		var count scalars[int64]
		if limit {
			count = readScalars[int64](in.Arg(1), n)
		}
		w := newListResult[int32](out, n, len(keys.child))
		var order []int32
		for r := 0; r < n; r++ {
			k, ok := keys.row(r)
			if !ok || (limit && !count.ok(r)) {
				w.null(r)
				continue
			}
			if limit && count.data[r] < 0 {
				return dataErrorf("n must not be negative, got %d", count.data[r])
			}
			order = order[:0]
			for i := range k {
				order = append(order, int32(i))
			}
			slices.SortStableFunc(order, func(a, b int32) int {
				switch {
				case k[a] > k[b]:
					return -1
				case k[a] < k[b]:
					return 1
				}
				return 0
			})
			if limit {
				order = order[:min(len(order), int(count.data[r]))]
			}
			dst := w.begin(r, len(order))
			for i, o := range order {
				dst[i] = o + 1
			}
		}
		return w.finish()
	}
}

// execPad: the list cut or padded with value to exactly n elements, or
// (mask) n booleans telling real elements from padding.
func execPad[T float](mask bool) func(capi.Args, capi.Vector) error {
	return func(in capi.Args, out capi.Vector) error {
		rows := in.Rows()
		vals := readLists[T](in.Arg(0), rows)
		size := readScalars[int64](in.Arg(1), rows)
		var fillValue scalars[float64]
		if !mask {
			fillValue = readScalars[float64](in.Arg(2), rows)
		}
		var (
			wf *listResult[float64]
			wb *listResult[bool]
		)
		if mask {
			wb = newListResult[bool](out, rows, rows)
		} else {
			wf = newListResult[float64](out, rows, rows)
		}
		for r := 0; r < rows; r++ {
			v, ok := vals.row(r)
			ok = ok && size.ok(r) && (mask || fillValue.ok(r))
			if ok && size.data[r] < 0 {
				return dataErrorf("n must not be negative, got %d", size.data[r])
			}
			if !ok {
				if mask {
					wb.null(r)
				} else {
					wf.null(r)
				}
				continue
			}
			n := int(size.data[r])
			real := min(n, len(v))
			if mask {
				dst := wb.begin(r, n)
				for i := range dst {
					dst[i] = i < real
				}
				continue
			}
			dst := wf.begin(r, n)
			for i := 0; i < real; i++ {
				dst[i] = float64(v[i])
			}
			for i := real; i < n; i++ {
				dst[i] = fillValue.data[r]
			}
		}
		if mask {
			return wb.finish()
		}
		return wf.finish()
	}
}

// perElem builds one overload per list element type, FLOAT then DOUBLE.
func perElem(build func(l capi.Type) Overload) []Overload {
	return []Overload{build(tFloats), build(tDoubles)}
}

func pick[T32, T64 any](l capi.Type, a T32, b T64) any {
	if l.Elem.ID == capi.Float {
		return a
	}
	return b
}

var _ = define(&Function{
	Name:    "argsort_desc",
	Group:   "ranking",
	Summary: "1-based indices that order the list by decreasing value (pT ranking); equal values keep their order. Use with list_select.",
	Example: "SELECT argsort_desc([10.0, 30.0, 20.0]) AS order, list_select([10.0, 30.0, 20.0], argsort_desc([10.0, 30.0, 20.0])) AS ranked",
	Overloads: perElem(func(l capi.Type) Overload {
		return Overload{Args: args("key", l), Returns: tInts,
			Exec: pick(l, execArgsort[float32](false), execArgsort[float64](false)).(func(capi.Args, capi.Vector) error)}
	}),
})

var _ = define(&Function{
	Name:    "top_n",
	Group:   "ranking",
	Summary: "The 1-based indices of the n largest values, largest first (fewer when the list is shorter).",
	Example: "SELECT top_n([10.0, 30.0, 20.0], 2) AS leading_two",
	Overloads: perElem(func(l capi.Type) Overload {
		return Overload{Args: args("key", l, "n", tBigInt), Returns: tInts,
			Exec: pick(l, execArgsort[float32](true), execArgsort[float64](true)).(func(capi.Args, capi.Vector) error)}
	}),
})

var _ = define(&Function{
	Name:    "pad",
	Group:   "ranking",
	Summary: "The list cut or padded with value to exactly n elements: the fixed-size input a network needs.",
	Example: "SELECT pad([3.0, 2.0]::FLOAT[], 4, 0) AS padded, pad([3.0, 2.0, 1.0], 2, 0) AS cut",
	Overloads: perElem(func(l capi.Type) Overload {
		return Overload{Args: args("list", l, "n", tBigInt, "value", tDouble), Returns: tDoubles,
			Exec: pick(l, execPad[float32](false), execPad[float64](false)).(func(capi.Args, capi.Vector) error)}
	}),
})

var _ = define(&Function{
	Name:    "pad_mask",
	Group:   "ranking",
	Summary: "n booleans, true where pad(list, n, ...) holds a real element and false for padding.",
	Example: "SELECT pad_mask([3.0, 2.0], 4) AS mask",
	Overloads: perElem(func(l capi.Type) Overload {
		return Overload{Args: args("list", l, "n", tBigInt), Returns: tBools,
			Exec: pick(l, execPad[float32](true), execPad[float64](true)).(func(capi.Args, capi.Vector) error)}
	}),
})
