package sqlfuncs

import (
	"github.com/hepsql/hepsql/internal/capi"
)

// operand is one argument of an element-wise function: a DOUBLE column or a
// list column of T.
type operand[T float] struct {
	list bool
	s    scalars[float64]
	l    lists[T]
}

// elementwise evaluates fn on each row's arguments. When every argument is
// a scalar the result is a DOUBLE; otherwise it is a DOUBLE list, lists in
// one row must have the same length, and scalars are repeated along them.
// isList[i] tells the shape of argument i (fixed per overload).
func elementwise[T float](in capi.Args, out capi.Vector, isList []bool, fn func(x *[4]float64) float64) error {
	n := in.Rows()
	ops := make([]operand[T], len(isList))
	anyList := false
	for i, l := range isList {
		ops[i].list = l
		if l {
			ops[i].l = readLists[T](in.Arg(i), n)
			anyList = true
		} else {
			ops[i].s = readScalars[float64](in.Arg(i), n)
		}
	}
	var x [4]float64
	if !anyList {
		res := newResult[float64](out, n)
		for r := 0; r < n; r++ {
			ok := true
			for i := range ops {
				if !ops[i].s.ok(r) {
					ok = false
					break
				}
				x[i] = ops[i].s.data[r]
			}
			if !ok {
				res.null(r)
				continue
			}
			res.data[r] = fn(&x)
		}
		return nil
	}
	// Child rows needed: the first list argument's total length, a good
	// estimate since lists in one row have equal lengths.
	var rows [4][]T
	w := newListResult[float64](out, n, len(firstList(ops).child))
	for r := 0; r < n; r++ {
		length, first, ok := -1, -1, true
		for i := range ops {
			if ops[i].list {
				v, valid := ops[i].l.row(r)
				if !valid {
					ok = false
					break
				}
				if length >= 0 && len(v) != length {
					return &lengthError{a: first, b: i, na: length, nb: len(v)}
				}
				if first < 0 {
					first = i
				}
				length, rows[i] = len(v), v
			} else if !ops[i].s.ok(r) {
				ok = false
				break
			} else {
				x[i] = ops[i].s.data[r]
			}
		}
		if !ok {
			w.null(r)
			continue
		}
		dst := w.begin(r, length)
		for k := range dst {
			for i := range ops {
				if ops[i].list {
					x[i] = float64(rows[i][k])
				}
			}
			dst[k] = fn(&x)
		}
	}
	return w.finish()
}

func firstList[T float](ops []operand[T]) lists[T] {
	for _, o := range ops {
		if o.list {
			return o.l
		}
	}
	return lists[T]{}
}

// shapes returns, for a function of groups of arity per group, every
// overload shape: all scalars, then each group as a list with the others
// scalar, then all lists. Argument i belongs to group i/arity.
func shapes(groups, arity int) [][]bool {
	var out [][]bool
	for mask := 0; mask < 1<<groups; mask++ {
		s := make([]bool, groups*arity)
		for i := range s {
			s[i] = mask&(1<<(i/arity)) != 0
		}
		out = append(out, s)
	}
	return out
}

// elementwiseOverloads builds the overloads of an element-wise function
// over argument groups (e.g. (eta, phi) of two objects), each group a scalar
// or a list, for FLOAT and DOUBLE lists.
func elementwiseOverloads(names []string, arity int, fn func(x *[4]float64) float64) []Overload {
	var out []Overload
	for _, shape := range shapes(len(names)/arity, arity) {
		anyList := false
		for _, l := range shape {
			anyList = anyList || l
		}
		build := func(elem capi.Type, exec func(capi.Args, capi.Vector) error) {
			o := Overload{Returns: tDouble, Exec: exec}
			if anyList {
				o.Returns = tDoubles
			}
			for i, l := range shape {
				t := tDouble
				if l {
					t = capi.ListOf(elem)
				}
				o.Args = append(o.Args, Arg{Name: names[i], Type: t})
			}
			out = append(out, o)
		}
		shape := shape
		if !anyList {
			build(tDouble, func(in capi.Args, v capi.Vector) error { return elementwise[float64](in, v, shape, fn) })
			continue
		}
		build(tFloat, func(in capi.Args, v capi.Vector) error { return elementwise[float32](in, v, shape, fn) })
		build(tDouble, func(in capi.Args, v capi.Vector) error { return elementwise[float64](in, v, shape, fn) })
	}
	return out
}

var _ = define(&Function{
	Name:    "delta_phi",
	Group:   "angles",
	Summary: "Azimuthal difference phi1 − phi2 wrapped into [−π, π]; on scalars, or element-wise on lists (a scalar is repeated along a list).",
	Example: "SELECT delta_phi(3.0, -3.0) AS scalar, delta_phi([0.1, 3.1]::FLOAT[], -3.1) AS per_element",
	Overloads: elementwiseOverloads([]string{"phi1", "phi2"}, 1, func(x *[4]float64) float64 {
		return DeltaPhi(x[0], x[1])
	}),
})

var _ = define(&Function{
	Name:    "delta_r",
	Group:   "angles",
	Summary: "ΔR = sqrt(Δη² + Δφ²) with Δφ wrapped; on scalars, or element-wise on lists (e.g. every jet against one lepton).",
	Example: "SELECT delta_r(0.5, 3.0, -0.5, -3.0) AS scalar, delta_r([0.0, 1.0]::FLOAT[], [0.0, 0.0]::FLOAT[], 0.0, 0.0) AS to_origin",
	Overloads: elementwiseOverloads([]string{"eta1", "phi1", "eta2", "phi2"}, 2, func(x *[4]float64) float64 {
		return DeltaR(x[0], x[1], x[2], x[3])
	}),
})

var _ = define(&Function{
	Name:    "mt",
	Group:   "four-vectors",
	Summary: "Transverse mass sqrt(2·pt·MET·(1 − cos(φ − φ_MET))) of an object (or each object of a list) and the missing momentum.",
	Example: "SELECT mt(40.0, 0.0, 40.0, 3.141592653589793) AS back_to_back",
	Overloads: func() []Overload {
		// Only the object may be a list: MET is one per event.
		var out []Overload
		for _, o := range elementwiseOverloads([]string{"pt", "phi", "met", "met_phi"}, 2, func(x *[4]float64) float64 {
			return TransverseMass(x[0], x[1], x[2], x[3])
		}) {
			if o.Args[2].Type.ID != capi.List {
				out = append(out, o)
			}
		}
		return out
	}(),
})
