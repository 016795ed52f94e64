package sqlfuncs

import (
	"github.com/hepsql/hepsql/internal/capi"
)

// p4Result writes STRUCT(pt, eta, phi, mass, e) rows, or the same fields
// after a leading idx INTEGER[] field for candidates.
type p4Result struct {
	parent *nullMask
	fields [5]result[float64]
	idx    *listResult[int32] // nil for plain four-vectors
}

func newP4Result(out capi.Vector, n int, withIdx bool, idxHint int) *p4Result {
	w := &p4Result{parent: newNullMask(out, n)}
	first := 0
	if withIdx {
		w.idx = newListResult[int32](out.StructChild(0), n, idxHint)
		first = 1
	}
	for i := range w.fields {
		w.fields[i] = newResult[float64](out.StructChild(first+i), n)
	}
	return w
}

func (w *p4Result) set(r int, p P4) {
	w.fields[0].data[r] = p.Pt()
	w.fields[1].data[r] = p.Eta()
	w.fields[2].data[r] = p.Phi()
	w.fields[3].data[r] = p.Mass()
	w.fields[4].data[r] = p.E
}

// null marks row r NULL in the struct and in every field: DuckDB reads a
// struct's fields directly (struct_extract), so they must agree.
func (w *p4Result) null(r int) {
	w.parent.set(r)
	for _, f := range w.fields {
		f.null(r)
	}
	if w.idx != nil {
		w.idx.null(r)
	}
}

func (w *p4Result) finish() error {
	if w.idx != nil {
		return w.idx.finish()
	}
	return nil
}

// collection is the (pt, eta, phi, mass) lists of one object collection in
// a chunk, the first four arguments of the four-vector functions.
type collection[T float] struct {
	pt, eta, phi, mass lists[T]
	first              int // pt's argument index
}

func readCollection[T float](in capi.Args, first int) collection[T] {
	n := in.Rows()
	return collection[T]{first: first,
		pt: readLists[T](in.Arg(first), n), eta: readLists[T](in.Arg(first+1), n),
		phi: readLists[T](in.Arg(first+2), n), mass: readLists[T](in.Arg(first+3), n),
	}
}

// objects is one row of a collection.
type objects[T float] struct{ pt, eta, phi, mass []T }

// row returns row r's objects; false when a list is NULL or holds a NULL, or
// the four lists differ in length (err set).
func (c *collection[T]) row(r int) (objects[T], bool, error) {
	var o objects[T]
	var ok [4]bool
	o.pt, ok[0] = c.pt.row(r)
	o.eta, ok[1] = c.eta.row(r)
	o.phi, ok[2] = c.phi.row(r)
	o.mass, ok[3] = c.mass.row(r)
	if !ok[0] || !ok[1] || !ok[2] || !ok[3] {
		return o, false, nil
	}
	f := c.first
	if err := checkLengths([]int{f, f + 1, f + 2, f + 3}, len(o.pt), len(o.eta), len(o.phi), len(o.mass)); err != nil {
		return o, false, err
	}
	return o, true, nil
}

func (o objects[T]) p4(i int) P4 {
	return PtEtaPhiM(float64(o.pt[i]), float64(o.eta[i]), float64(o.phi[i]), float64(o.mass[i]))
}

// sumObjects adds the objects at 1-based indices idx (all when idx is nil).
func sumObjects[T float](o objects[T], idx []int32, r int) (P4, error) {
	var sum P4
	if idx == nil {
		for i := range o.pt {
			sum = sum.Add(o.p4(i))
		}
		return sum, nil
	}
	for _, k := range idx {
		if k < 1 || int(k) > len(o.pt) {
			return sum, dataErrorf("index %d outside the collection's %d objects (indices start at 1)", k, len(o.pt))
		}
		sum = sum.Add(o.p4(int(k - 1)))
	}
	return sum, nil
}

// execSum implements p4_sum and inv_mass: the sum of a collection's objects
// (or of the selected indices when withIdx), as a struct or as its mass.
func execSum[T float](withIdx, massOnly bool) func(capi.Args, capi.Vector) error {
	return func(in capi.Args, out capi.Vector) error {
		n := in.Rows()
		c := readCollection[T](in, 0)
		var idx lists[int32]
		if withIdx {
			idx = readLists[int32](in.Arg(4), n)
		}
		var (
			p4s  *p4Result
			mass result[float64]
		)
		if massOnly {
			mass = newResult[float64](out, n)
		} else {
			p4s = newP4Result(out, n, false, 0)
		}
		for r := 0; r < n; r++ {
			o, ok, err := c.row(r)
			if err != nil {
				return err
			}
			var sel []int32
			if ok && withIdx {
				sel, ok = idx.row(r)
				if sel == nil {
					sel = []int32{}
				}
			}
			if !ok {
				if massOnly {
					mass.null(r)
				} else {
					p4s.null(r)
				}
				continue
			}
			sum, err := sumObjects(o, sel, r)
			if err != nil {
				return err
			}
			if massOnly {
				mass.data[r] = sum.Mass()
			} else {
				p4s.set(r, sum)
			}
		}
		return nil
	}
}

// collectionOverloads builds the FLOAT and DOUBLE overloads of a function
// whose first arguments are a collection (pt, eta, phi, mass) followed by
// extra arguments.
func collectionOverloads(returns capi.Type, extra []Arg, exec32, exec64 func(capi.Args, capi.Vector) error) []Overload {
	mk := func(elem capi.Type, exec func(capi.Args, capi.Vector) error) Overload {
		l := capi.ListOf(elem)
		a := args("pt", l, "eta", l, "phi", l, "mass", l)
		return Overload{Args: append(a, extra...), Returns: returns, Exec: exec}
	}
	return []Overload{mk(tFloat, exec32), mk(tDouble, exec64)}
}

var _ = define(&Function{
	Name:    "p4_sum",
	Group:   "four-vectors",
	Summary: "Sum of the four-vectors of a collection's objects, or of the objects at the given 1-based indices, as STRUCT(pt, eta, phi, mass, e).",
	Example: "SELECT p4_sum([30.0, 40.0], [0.5, -0.5], [0.0, 3.0], [0.1, 0.1]) AS all_jets, p4_sum([30.0, 40.0], [0.5, -0.5], [0.0, 3.0], [0.1, 0.1], [2]).pt AS second_pt",
	Overloads: append(
		collectionOverloads(p4Type, nil, execSum[float32](false, false), execSum[float64](false, false)),
		collectionOverloads(p4Type, args("idx", tInts), execSum[float32](true, false), execSum[float64](true, false))...),
})

var _ = define(&Function{
	Name:    "inv_mass",
	Group:   "four-vectors",
	Summary: "Invariant mass of the summed four-vector of a collection's objects, or of the objects at the given 1-based indices.",
	Example: "SELECT inv_mass([45.0, 45.0], [0.0, 0.0], [0.0, 3.141592653589793], [0.0, 0.0]) AS z_like",
	Overloads: append(
		collectionOverloads(tDouble, nil, execSum[float32](false, true), execSum[float64](false, true)),
		collectionOverloads(tDouble, args("idx", tInts), execSum[float32](true, true), execSum[float64](true, true))...),
})
