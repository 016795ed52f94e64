package sqlfuncs

import (
	"math"

	"github.com/hepsql/hepsql/internal/capi"
)

// pairRule says which pairs (i, j) of a row count: any, opposite charge, or
// same flavour and opposite charge.
type pairRule int

const (
	anyPair pairRule = iota
	oppositeCharge
	sameFlavourOppositeCharge
)

// conditions reads the optional charge and flavour lists after the
// collection.
type conditions struct {
	rule            pairRule
	charge, flavour lists[int32]
}

func readConditions(in capi.Args, rule pairRule) conditions {
	c := conditions{rule: rule}
	n := in.Rows()
	if rule >= oppositeCharge {
		c.charge = readLists[int32](in.Arg(4), n)
	}
	if rule == sameFlavourOppositeCharge {
		c.flavour = readLists[int32](in.Arg(5), n)
	}
	return c
}

// row returns the row's charges and flavours, checking lengths against n
// objects.
func (c *conditions) row(r, n int) (charge, flavour []int32, ok bool, err error) {
	if c.rule == anyPair {
		return nil, nil, true, nil
	}
	if charge, ok = c.charge.row(r); !ok {
		return nil, nil, false, nil
	}
	if len(charge) != n {
		return nil, nil, false, &lengthError{a: 0, b: 4, na: n, nb: len(charge)}
	}
	if c.rule == sameFlavourOppositeCharge {
		if flavour, ok = c.flavour.row(r); !ok {
			return nil, nil, false, nil
		}
		if len(flavour) != n {
			return nil, nil, false, &lengthError{a: 0, b: 5, na: n, nb: len(flavour)}
		}
	}
	return charge, flavour, true, nil
}

// conditionedRow returns row r's objects with their charges and flavours;
// ok is false when any of them is NULL.
func conditionedRow[T float](c *collection[T], cond *conditions, r int) (o objects[T], charge, flavour []int32, ok bool, err error) {
	if o, ok, err = c.row(r); !ok || err != nil {
		return o, nil, nil, false, err
	}
	charge, flavour, ok, err = cond.row(r, len(o.pt))
	return o, charge, flavour, ok, err
}

// anyAllowed reports whether some pair of the row's m objects passes the
// condition. When none does (a same-sign muon pair: a third of the CMS
// sample's events with two muons) the four-vectors need not be computed.
func (c *conditions) anyAllowed(charge, flavour []int32, m int) bool {
	if c.rule == anyPair {
		return m >= 2
	}
	for i := 0; i < m; i++ {
		for j := i + 1; j < m; j++ {
			if c.allows(charge, flavour, i, j) {
				return true
			}
		}
	}
	return false
}

func (c *conditions) allows(charge, flavour []int32, i, j int) bool {
	switch c.rule {
	case oppositeCharge:
		return charge[i]*charge[j] < 0
	case sameFlavourOppositeCharge:
		return flavour[i] == flavour[j] && charge[i]*charge[j] < 0
	}
	return true
}

// plain reports whether the chunk's inputs hold no NULL at all, so that a
// row's validity need not be checked list by list.
func (c collection[T]) plain() bool {
	return c.pt.plain() && c.eta.plain() && c.phi.plain() && c.mass.plain()
}

func (c conditions) plain() bool {
	return (c.rule < oppositeCharge || c.charge.plain()) && (c.rule < sameFlavourOppositeCharge || c.flavour.plain())
}

// fewerThan reports that row r of a plain chunk holds fewer than k objects
// and would pass conditionedRow (its lists agree in length), reading only
// list lengths. The pair and triplet functions answer such rows without
// slicing five lists or building a four-vector: in most events a
// collection has few objects (76% of the CMS sample's have under two
// muons).
func fewerThan[T float](c *collection[T], cond *conditions, r, k int) bool {
	m := c.pt.entries[r].Length
	if m >= uint64(k) || c.eta.entries[r].Length != m || c.phi.entries[r].Length != m || c.mass.entries[r].Length != m {
		return false
	}
	return (cond.rule < oppositeCharge || cond.charge.entries[r].Length == m) &&
		(cond.rule < sameFlavourOppositeCharge || cond.flavour.entries[r].Length == m)
}

// fill computes the row's four-vectors into buf (reused across rows).
func fill[T float](o objects[T], buf []P4) []P4 {
	buf = buf[:0]
	for i := range o.pt {
		buf = append(buf, o.p4(i))
	}
	return buf
}

// execPairMass: the invariant mass of every allowed pair i < j, in
// lexicographic order.
func execPairMass[T float](rule pairRule) func(capi.Args, capi.Vector) error {
	return func(in capi.Args, out capi.Vector) error {
		n := in.Rows()
		c := readCollection[T](in, 0)
		cond := readConditions(in, rule)
		w := newListResult[float64](out, n, n)
		plain := c.plain() && cond.plain()
		var p4s []P4
		for r := 0; r < n; r++ {
			if plain && fewerThan(&c, &cond, r, 2) {
				w.begin(r, 0) // no pair
				continue
			}
			o, charge, flavour, ok, err := conditionedRow(&c, &cond, r)
			if err != nil {
				return err
			}
			m := len(o.pt)
			if !ok {
				w.null(r)
				continue
			}
			if !cond.anyAllowed(charge, flavour, m) {
				// No pair: skip the four-vectors (an exp and a sincos per
				// object; most events of a single-lepton sample).
				w.begin(r, 0)
				continue
			}
			dst := w.begin(r, m*(m-1)/2)
			p4s = fill(o, p4s)
			k := 0
			for i := 0; i < m; i++ {
				for j := i + 1; j < m; j++ {
					if cond.allows(charge, flavour, i, j) {
						dst[k] = p4s[i].Add(p4s[j]).Mass()
						k++
					}
				}
			}
			w.shrink(r, k)
		}
		return w.finish()
	}
}

// execBest: the allowed combination of size k (2 or 3) whose summed mass is
// closest to the target; ties go to the first in lexicographic index order.
// Rows with no allowed combination are NULL.
func execBest[T float](k int, rule pairRule) func(capi.Args, capi.Vector) error {
	return func(in capi.Args, out capi.Vector) error {
		n := in.Rows()
		c := readCollection[T](in, 0)
		cond := readConditions(in, rule)
		targetArg := 4
		switch rule {
		case oppositeCharge:
			targetArg = 5
		case sameFlavourOppositeCharge:
			targetArg = 6
		}
		target := readScalars[float64](in.Arg(targetArg), n)
		w := newP4Result(out, n, true, n*k)
		plain := c.plain() && cond.plain()
		var p4s []P4
		for r := 0; r < n; r++ {
			if plain && fewerThan(&c, &cond, r, k) {
				w.null(r) // no candidate
				continue
			}
			o, charge, flavour, ok, err := conditionedRow(&c, &cond, r)
			if err != nil {
				return err
			}
			m := len(o.pt)
			if !ok || !target.ok(r) || m < k || !cond.anyAllowed(charge, flavour, m) {
				w.null(r)
				continue
			}
			p4s = fill(o, p4s)
			t := target.data[r]
			best, bestDist := [3]int{-1, -1, -1}, math.Inf(1)
			var bestSum P4
			for i := 0; i < m; i++ {
				for j := i + 1; j < m; j++ {
					if !cond.allows(charge, flavour, i, j) {
						continue
					}
					pair := p4s[i].Add(p4s[j])
					if k == 2 {
						if d := math.Abs(pair.Mass() - t); d < bestDist {
							best, bestDist, bestSum = [3]int{i, j}, d, pair
						}
						continue
					}
					for l := j + 1; l < m; l++ {
						sum := pair.Add(p4s[l])
						if d := math.Abs(sum.Mass() - t); d < bestDist {
							best, bestDist, bestSum = [3]int{i, j, l}, d, sum
						}
					}
				}
			}
			if best[0] < 0 {
				w.null(r)
				continue
			}
			idx := w.idx.begin(r, k)
			for q := range idx {
				idx[q] = int32(best[q] + 1)
			}
			w.set(r, bestSum)
		}
		return w.finish()
	}
}

func pairExtra(rule pairRule) []Arg {
	switch rule {
	case oppositeCharge:
		return args("charge", tInts)
	case sameFlavourOppositeCharge:
		return args("charge", tInts, "flavour", tInts)
	}
	return nil
}

var _ = define(&Function{
	Name:  "pair_mass",
	Group: "combinatorics",
	Summary: "Invariant masses of all pairs i < j of a collection's objects, in index order; " +
		"with charge, only opposite-charge pairs.",
	Example: "SELECT pair_mass([45.0, 45.0, 20.0], [0.0, 0.0, 1.0], [0.0, 3.14159, 1.0], [0.1, 0.1, 0.1], [1, -1, 1]) AS os_masses",
	Overloads: func() []Overload {
		var out []Overload
		for _, rule := range []pairRule{anyPair, oppositeCharge} {
			out = append(out, collectionOverloads(tDoubles, pairExtra(rule), execPairMass[float32](rule), execPairMass[float64](rule))...)
		}
		return out
	}(),
})

var _ = define(&Function{
	Name:  "best_pair",
	Group: "combinatorics",
	Summary: "The pair whose invariant mass is closest to target, as STRUCT(idx, pt, eta, phi, mass, e) with 1-based indices; " +
		"with charge, opposite-charge pairs only; with charge and flavour, same-flavour opposite-charge pairs; NULL when no pair qualifies. " +
		"Ties go to the first pair in index order.",
	Example: "SELECT best_pair([50.0, 40.0, 30.0], [0.1, -0.4, 1.2], [0.0, 2.9, -1.0], [0.0, 0.0, 0.0], [1, -1, -1], [11, 11, 13], 91.2) AS z",
	Overloads: func() []Overload {
		var out []Overload
		for _, rule := range []pairRule{anyPair, oppositeCharge, sameFlavourOppositeCharge} {
			extra := append(pairExtra(rule), Arg{Name: "target", Type: tDouble})
			out = append(out, collectionOverloads(candidateType, extra, execBest[float32](2, rule), execBest[float64](2, rule))...)
		}
		return out
	}(),
})

var _ = define(&Function{
	Name:    "best_triplet",
	Group:   "combinatorics",
	Summary: "The three distinct objects whose summed invariant mass is closest to target, as STRUCT(idx, pt, eta, phi, mass, e); NULL with fewer than three. Ties go to the first triplet in index order.",
	Example: "SELECT best_triplet([80.0, 60.0, 50.0, 20.0], [0.1, -0.3, 0.8, 2.0], [0.0, 2.0, -2.0, 1.0], [10.0, 8.0, 6.0, 4.0], 172.5) AS top",
	Overloads: collectionOverloads(candidateType, args("target", tDouble),
		execBest[float32](3, anyPair), execBest[float64](3, anyPair)),
})
