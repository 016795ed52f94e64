package sqlfuncs

import (
	"math"
	"slices"

	"github.com/hepsql/hepsql/internal/capi"
)

// selfDeltaR is the distance under which an object of B counts as the
// object of A itself (the same particle seen in both lists, e.g. a lepton
// and its own track) and is left out of cone sums.
const selfDeltaR = 1e-4

// matchInput is A's (eta, phi) and B's (pt, eta, phi) for one chunk. A's pt
// comes first in rel_iso only.
type matchInput[T float] struct {
	ptA, etaA, phiA lists[T]
	ptB, etaB, phiB lists[T]
	hasPtA          bool
	first           int // etaA's argument index
}

func readMatch[T float](in capi.Args, hasPtA bool) matchInput[T] {
	n := in.Rows()
	m := matchInput[T]{hasPtA: hasPtA}
	i := 0
	if hasPtA {
		m.ptA = readLists[T](in.Arg(0), n)
		i = 1
	}
	m.first = i
	m.etaA, m.phiA = readLists[T](in.Arg(i), n), readLists[T](in.Arg(i+1), n)
	m.ptB, m.etaB, m.phiB = readLists[T](in.Arg(i+2), n), readLists[T](in.Arg(i+3), n), readLists[T](in.Arg(i+4), n)
	return m
}

type matchRow[T float] struct {
	ptA, etaA, phiA, ptB, etaB, phiB []T
}

func (m *matchInput[T]) row(r int) (matchRow[T], bool, error) {
	var x matchRow[T]
	ok := true
	get := func(l lists[T]) []T {
		v, valid := l.row(r)
		ok = ok && valid
		return v
	}
	if m.hasPtA {
		x.ptA = get(m.ptA)
	}
	x.etaA, x.phiA = get(m.etaA), get(m.phiA)
	x.ptB, x.etaB, x.phiB = get(m.ptB), get(m.etaB), get(m.phiB)
	if !ok {
		return x, false, nil
	}
	i := m.first
	if err := checkLengths([]int{i, i + 1}, len(x.etaA), len(x.phiA)); err != nil {
		return x, false, err
	}
	if m.hasPtA {
		if err := checkLengths([]int{i, 0}, len(x.etaA), len(x.ptA)); err != nil {
			return x, false, err
		}
	}
	if err := checkLengths([]int{i + 2, i + 3, i + 4}, len(x.ptB), len(x.etaB), len(x.phiB)); err != nil {
		return x, false, err
	}
	return x, true, nil
}

// sweep holds B's objects above the pT cut sorted by η, so that the objects
// within a cone of radius R around (η, φ) are found by binary search on
// η ∈ [η−R, η+R] followed by a Δφ test: O((|A| + |B|) log |B|) plus the
// matches, instead of |A|·|B|. Buffers are reused across rows.
type sweep struct {
	eta, phi, pt []float64
	order        []int
}

func (s *sweep) load(ptB, etaB, phiB []float64, minPt float64, sorted bool) {
	s.order = s.order[:0]
	for i := range ptB {
		if ptB[i] > minPt {
			s.order = append(s.order, i)
		}
	}
	if sorted {
		s.sortByEta(etaB)
	}
	s.eta, s.phi, s.pt = s.eta[:0], s.phi[:0], s.pt[:0]
	for _, i := range s.order {
		s.eta = append(s.eta, etaB[i])
		s.phi = append(s.phi, phiB[i])
		s.pt = append(s.pt, ptB[i])
	}
}

func (s *sweep) sortByEta(etaB []float64) {
	slices.SortFunc(s.order, func(a, b int) int {
		switch {
		case etaB[a] < etaB[b]:
			return -1
		case etaB[a] > etaB[b]:
			return 1
		}
		return a - b
	})
}

// window returns the index range of objects with η in [eta−r, eta+r].
func (s *sweep) window(eta, r float64) (int, int) {
	lo, _ := slices.BinarySearch(s.eta, eta-r)
	hi := lo
	for hi < len(s.eta) && s.eta[hi] <= eta+r {
		hi++
	}
	return lo, hi
}

// coneSum sums the pT of objects within ΔR < r of (eta, phi), leaving out
// the object itself (ΔR < selfDeltaR).
func (s *sweep) coneSum(eta, phi, r float64) float64 {
	lo, hi := s.window(eta, r)
	sum := 0.0
	for k := lo; k < hi; k++ {
		d := DeltaR(eta, phi, s.eta[k], s.phi[k])
		if d < r && d >= selfDeltaR {
			sum += s.pt[k]
		}
	}
	return sum
}

// minDeltaR is the smallest ΔR from (eta, phi) to an object; +Inf when
// there is none. B is a handful of objects in its uses (leptons against
// jets), so a linear scan beats any index.
func (s *sweep) minDeltaR(eta, phi float64) float64 {
	best := math.Inf(1)
	for i := range s.eta {
		if d := DeltaR(eta, phi, s.eta[i], s.phi[i]); d < best {
			best = d
		}
	}
	return best
}

// toFloat64 converts a row's list into buf.
func toFloat64[T float](v []T, buf []float64) []float64 {
	buf = buf[:0]
	for _, x := range v {
		buf = append(buf, float64(x))
	}
	return buf
}

type matchKind int

const (
	kindMinDeltaR matchKind = iota
	kindConeSum
	kindRelIso
)

func execMatch[T float](kind matchKind, hasRadius, hasMinPt bool) func(capi.Args, capi.Vector) error {
	return func(in capi.Args, out capi.Vector) error {
		n := in.Rows()
		m := readMatch[T](in, kind == kindRelIso)
		next := 5
		if kind == kindRelIso {
			next = 6
		}
		var radius, minPt scalars[float64]
		if hasRadius {
			radius = readScalars[float64](in.Arg(next), n)
			next++
		}
		if hasMinPt {
			minPt = readScalars[float64](in.Arg(next), n)
		}
		w := newListResult[float64](out, n, len(m.etaA.child))
		var (
			sw                sweep
			bufPt, bufE, bufP []float64
		)
		for r := 0; r < n; r++ {
			x, ok, err := m.row(r)
			if err != nil {
				return err
			}
			if !ok || (hasRadius && !radius.ok(r)) || (hasMinPt && !minPt.ok(r)) {
				w.null(r)
				continue
			}
			cut := math.Inf(-1)
			if hasMinPt {
				cut = minPt.data[r]
			}
			bufPt, bufE, bufP = toFloat64(x.ptB, bufPt), toFloat64(x.etaB, bufE), toFloat64(x.phiB, bufP)
			sw.load(bufPt, bufE, bufP, cut, kind != kindMinDeltaR)
			dst := w.begin(r, len(x.etaA))
			for i := range dst {
				eta, phi := float64(x.etaA[i]), float64(x.phiA[i])
				switch kind {
				case kindMinDeltaR:
					dst[i] = sw.minDeltaR(eta, phi)
				case kindConeSum:
					dst[i] = sw.coneSum(eta, phi, radius.data[r])
				case kindRelIso:
					dst[i] = sw.coneSum(eta, phi, radius.data[r]) / float64(x.ptA[i])
				}
			}
		}
		return w.finish()
	}
}

// matchOverloads builds FLOAT and DOUBLE overloads with and without the
// trailing min_pt argument.
func matchOverloads(kind matchKind) []Overload {
	var out []Overload
	for _, elem := range []capi.Type{tFloat, tDouble} {
		l := capi.ListOf(elem)
		var head []Arg
		if kind == kindRelIso {
			head = args("pt_a", l)
		}
		head = append(head, args("eta_a", l, "phi_a", l, "pt_b", l, "eta_b", l, "phi_b", l)...)
		hasRadius := kind != kindMinDeltaR
		if hasRadius {
			head = append(head, Arg{Name: "radius", Type: tDouble})
		}
		for _, withCut := range []bool{false, true} {
			a := append([]Arg(nil), head...)
			if withCut {
				a = append(a, Arg{Name: "min_pt_b", Type: tDouble})
			}
			exec := execMatch[float64](kind, hasRadius, withCut)
			if elem.ID == capi.Float {
				exec = execMatch[float32](kind, hasRadius, withCut)
			}
			out = append(out, Overload{Args: a, Returns: tDoubles, Exec: exec})
		}
	}
	return out
}

var _ = define(&Function{
	Name:  "min_delta_r",
	Group: "matching",
	Summary: "For each object of A, the smallest ΔR to an object of B (optionally only B objects with pt > min_pt_b); " +
		"+Infinity when there is none. Jet–lepton cleaning: keep jets with min_delta_r(...) >= 0.4.",
	Example:   "SELECT min_delta_r([0.0, 2.0]::FLOAT[], [0.0, 0.0]::FLOAT[], [25.0, 5.0]::FLOAT[], [0.1, 2.0]::FLOAT[], [0.0, 0.0]::FLOAT[], 10) AS dr",
	Overloads: matchOverloads(kindMinDeltaR),
})

var _ = define(&Function{
	Name:  "cone_sum",
	Group: "matching",
	Summary: "For each object of A, the summed pt of B's objects within ΔR < radius (optionally only those with pt > min_pt_b), " +
		"leaving out the object itself (a B object within ΔR < 1e-4). Absolute isolation.",
	Example:   "SELECT cone_sum([0.0], [0.0], [1.0, 2.0, 4.0], [0.1, 0.0, 1.0], [0.0, 0.2, 0.0], 0.3) AS iso",
	Overloads: matchOverloads(kindConeSum),
})

var _ = define(&Function{
	Name:      "rel_iso",
	Group:     "matching",
	Summary:   "cone_sum divided by each A object's pt: relative isolation.",
	Example:   "SELECT rel_iso([30.0], [0.0], [0.0], [30.0, 2.0, 4.0], [0.0, 0.0, 1.0], [0.0, 0.2, 0.0], 0.3) AS rel",
	Overloads: matchOverloads(kindRelIso),
})
