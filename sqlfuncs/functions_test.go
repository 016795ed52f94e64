package sqlfuncs_test

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/hepsql/hepsql/internal/adlref"
)

// Reference implementations: plain loops over plain Go values, using
// internal/adlref's kinematics (written for the core issue's ADL reference,
// independently of sqlfuncs).

func refP4(pt, eta, phi, m []float64, i int) adlref.P4 {
	return adlref.PtEtaPhiM(pt[i], eta[i], phi[i], m[i])
}

func refStruct(p adlref.P4, idx []int) map[string]any {
	eta := math.Asinh(p.Pz / p.Pt())
	if p.Pt() == 0 {
		eta = map[bool]float64{true: math.Inf(1), false: math.Inf(-1)}[p.Pz > 0]
		if p.Pz == 0 {
			eta = 0
		}
	}
	m := map[string]any{"pt": p.Pt(), "eta": eta, "phi": math.Atan2(p.Py, p.Px), "mass": p.Mass(), "e": p.E}
	if idx != nil {
		l := make([]any, len(idx))
		for k, i := range idx {
			l[k] = int64(i + 1)
		}
		m["idx"] = l
	}
	return m
}

// elementwiseRef applies f to each position of the row, repeating scalars.
func elementwiseRef(f func(x []float64) float64) func(a []any) any {
	return func(a []any) any {
		n, isList := -1, false
		for _, v := range a {
			if l, ok := v.([]float64); ok {
				if n >= 0 && len(l) != n {
					return nil // lengths differ: the harness never generates it
				}
				n, isList = len(l), true
			}
		}
		x := make([]float64, len(a))
		at := func(k int) float64 {
			for i, v := range a {
				switch t := v.(type) {
				case []float64:
					x[i] = t[k]
				case float64:
					x[i] = t
				}
			}
			return f(x)
		}
		if !isList {
			return at(0)
		}
		out := make([]any, n)
		for k := range out {
			out[k] = at(k)
		}
		return out
	}
}

func pairsOf(n int, allow func(i, j int) bool, f func(i, j int)) {
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if allow(i, j) {
				f(i, j)
			}
		}
	}
}

func TestFunctionsAgainstReference(t *testing.T) {
	db := openDB(t)
	deltaR := func(x []float64) float64 { return adlref.DeltaR(x[0], x[1], x[2], x[3]) }
	cases := []harnessCase{
		{name: "delta_phi scalars", fn: "delta_phi", args: []argKind{scalar(genPhi), scalar(genPhi)},
			ref: elementwiseRef(func(x []float64) float64 { return adlref.DeltaPhi(x[0], x[1]) })},
		{name: "delta_phi lists", fn: "delta_phi", args: []argKind{list("FLOAT[]", 0, genPhi), list("FLOAT[]", 0, genPhi)},
			ref: elementwiseRef(func(x []float64) float64 { return adlref.DeltaPhi(x[0], x[1]) })},
		{name: "delta_phi list scalar", fn: "delta_phi", args: []argKind{list("DOUBLE[]", 0, genPhi), scalar(genPhi)},
			ref: elementwiseRef(func(x []float64) float64 { return adlref.DeltaPhi(x[0], x[1]) })},
		{name: "delta_r scalars", fn: "delta_r", args: []argKind{scalar(genEta), scalar(genPhi), scalar(genEta), scalar(genPhi)}, ref: elementwiseRef(deltaR)},
		{name: "delta_r scalar list", fn: "delta_r", args: []argKind{scalar(genEta), scalar(genPhi), list("FLOAT[]", 0, genEta), list("FLOAT[]", 0, genPhi)}, ref: elementwiseRef(deltaR)},
		{name: "delta_r lists", fn: "delta_r", args: []argKind{list("DOUBLE[]", 0, genEta), list("DOUBLE[]", 0, genPhi), list("DOUBLE[]", 0, genEta), list("DOUBLE[]", 0, genPhi)}, ref: elementwiseRef(deltaR)},
		{name: "mt", fn: "mt", args: []argKind{scalar(genPt), scalar(genPhi), scalar(genPt), scalar(genPhi)},
			ref: elementwiseRef(func(x []float64) float64 { return adlref.TransverseMass(x[0], x[1], x[2], x[3]) })},
		{name: "mt list", fn: "mt", args: []argKind{list("FLOAT[]", 0, genPt), list("FLOAT[]", 0, genPhi), scalar(genPt), scalar(genPhi)},
			ref: elementwiseRef(func(x []float64) float64 { return adlref.TransverseMass(x[0], x[1], x[2], x[3]) })},
		{name: "p4_sum", fn: "p4_sum", args: collectionArgs("FLOAT[]", 0), ref: func(a []any) any {
			pt, eta, phi, m := floats(a[0]), floats(a[1]), floats(a[2]), floats(a[3])
			var s adlref.P4
			for i := range pt {
				s = s.Add(refP4(pt, eta, phi, m, i))
			}
			return refStruct(s, nil)
		}},
		{name: "inv_mass", fn: "inv_mass", args: collectionArgs("DOUBLE[]", 0), ref: func(a []any) any {
			pt, eta, phi, m := floats(a[0]), floats(a[1]), floats(a[2]), floats(a[3])
			var s adlref.P4
			for i := range pt {
				s = s.Add(refP4(pt, eta, phi, m, i))
			}
			return s.Mass()
		}},
		{name: "pair_mass os", fn: "pair_mass", args: append(collectionArgs("FLOAT[]", 0), list("INTEGER[]", 0, genCharge)), ref: func(a []any) any {
			pt, eta, phi, m, q := floats(a[0]), floats(a[1]), floats(a[2]), floats(a[3]), floats(a[4])
			out := []any{}
			pairsOf(len(pt), func(i, j int) bool { return q[i]*q[j] < 0 }, func(i, j int) {
				out = append(out, refP4(pt, eta, phi, m, i).Add(refP4(pt, eta, phi, m, j)).Mass())
			})
			return out
		}},
		{name: "best_pair sfos", fn: "best_pair", args: append(collectionArgs("FLOAT[]", 0), list("INTEGER[]", 0, genCharge), list("INTEGER[]", 0, genFlav), fixed("DOUBLE", 91.2)), ref: func(a []any) any {
			pt, eta, phi, m, q, fl := floats(a[0]), floats(a[1]), floats(a[2]), floats(a[3]), floats(a[4]), floats(a[5])
			bi, bj, best := -1, -1, math.Inf(1)
			pairsOf(len(pt), func(i, j int) bool { return q[i]*q[j] < 0 && fl[i] == fl[j] }, func(i, j int) {
				if d := math.Abs(refP4(pt, eta, phi, m, i).Add(refP4(pt, eta, phi, m, j)).Mass() - 91.2); d < best {
					bi, bj, best = i, j, d
				}
			})
			if bi < 0 {
				return nil
			}
			return refStruct(refP4(pt, eta, phi, m, bi).Add(refP4(pt, eta, phi, m, bj)), []int{bi, bj})
		}},
		{name: "best_triplet", fn: "best_triplet", maxLen: 7, args: append(collectionArgs("FLOAT[]", 0), fixed("DOUBLE", 172.5)), ref: func(a []any) any {
			pt, eta, phi, m := floats(a[0]), floats(a[1]), floats(a[2]), floats(a[3])
			var best []int
			var bestP adlref.P4
			bestD := math.Inf(1)
			n := len(pt)
			for i := 0; i < n; i++ {
				for j := i + 1; j < n; j++ {
					for k := j + 1; k < n; k++ {
						s := refP4(pt, eta, phi, m, i).Add(refP4(pt, eta, phi, m, j)).Add(refP4(pt, eta, phi, m, k))
						if d := math.Abs(s.Mass() - 172.5); d < bestD {
							best, bestP, bestD = []int{i, j, k}, s, d
						}
					}
				}
			}
			if best == nil {
				return nil
			}
			return refStruct(bestP, best)
		}},
		{name: "min_delta_r cut", fn: "min_delta_r", args: []argKind{list("FLOAT[]", 0, genEta), list("FLOAT[]", 0, genPhi),
			list("FLOAT[]", 1, genPt), list("FLOAT[]", 1, genEta), list("FLOAT[]", 1, genPhi), fixed("DOUBLE", 30.0)}, ref: func(a []any) any {
			etaA, phiA, ptB, etaB, phiB := floats(a[0]), floats(a[1]), floats(a[2]), floats(a[3]), floats(a[4])
			out := make([]any, len(etaA))
			for i := range etaA {
				best := math.Inf(1)
				for k := range ptB {
					if ptB[k] > 30 {
						best = math.Min(best, adlref.DeltaR(etaA[i], phiA[i], etaB[k], phiB[k]))
					}
				}
				out[i] = best
			}
			return out
		}},
		{name: "cone_sum", fn: "cone_sum", maxLen: 40, args: []argKind{list("DOUBLE[]", 0, genEta), list("DOUBLE[]", 0, genPhi),
			list("DOUBLE[]", 1, genPt), list("DOUBLE[]", 1, genEta), list("DOUBLE[]", 1, genPhi), fixed("DOUBLE", 1.0)}, ref: coneRef(false)},
		{name: "rel_iso cut", fn: "rel_iso", maxLen: 40, args: []argKind{list("FLOAT[]", 0, genPt), list("FLOAT[]", 0, genEta), list("FLOAT[]", 0, genPhi),
			list("FLOAT[]", 1, genPt), list("FLOAT[]", 1, genEta), list("FLOAT[]", 1, genPhi), fixed("DOUBLE", 1.0), fixed("DOUBLE", 50.0)}, ref: coneRef(true)},
		{name: "argsort_desc", fn: "argsort_desc", args: []argKind{list("FLOAT[]", 0, func(r *rand.Rand) float64 { return float64(r.IntN(5)) })}, ref: func(a []any) any {
			k := floats(a[0])
			idx := make([]int, len(k))
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(x, y int) bool { return k[idx[x]] > k[idx[y]] })
			out := make([]any, len(idx))
			for i, v := range idx {
				out[i] = int64(v + 1)
			}
			return out
		}},
		{name: "top_n", fn: "top_n", args: []argKind{list("DOUBLE[]", 0, genPt), fixed("BIGINT", 3)}, ref: func(a []any) any {
			k := append([]float64(nil), floats(a[0])...)
			idx := make([]int, len(k))
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(x, y int) bool { return k[idx[x]] > k[idx[y]] })
			out := []any{}
			for i := 0; i < len(idx) && i < 3; i++ {
				out = append(out, int64(idx[i]+1))
			}
			return out
		}},
		{name: "pad", fn: "pad", args: []argKind{list("FLOAT[]", 0, genPt), fixed("BIGINT", 5), fixed("DOUBLE", -1.0)}, ref: func(a []any) any {
			v := floats(a[0])
			out := make([]any, 5)
			for i := range out {
				out[i] = -1.0
				if i < len(v) {
					out[i] = v[i]
				}
			}
			return out
		}},
		{name: "pad_mask", fn: "pad_mask", args: []argKind{list("DOUBLE[]", 0, genPt), fixed("BIGINT", 5)}, ref: func(a []any) any {
			out := make([]any, 5)
			for i := range out {
				out[i] = i < len(floats(a[0]))
			}
			return out
		}},
		{name: "count_above", fn: "count_above", args: []argKind{list("FLOAT[]", 0, genPt), scalar(func(r *rand.Rand) float64 { return 100 * r.Float64() })}, ref: func(a []any) any {
			cut, n := a[1].(float64), int64(0)
			for _, x := range floats(a[0]) {
				if x > cut {
					n++
				}
			}
			return n
		}},
		{name: "count_between", fn: "count_between", args: []argKind{list("DOUBLE[]", 0, genPt), fixed("DOUBLE", 30.0), scalar(func(r *rand.Rand) float64 { return 20 + 80*r.Float64() })}, ref: func(a []any) any {
			lo, hi, n := a[1].(float64), a[2].(float64), int64(0)
			for _, x := range floats(a[0]) {
				if lo < x && x < hi {
					n++
				}
			}
			return n
		}},
		{name: "count_above ties", fn: "count_above", args: []argKind{list("DOUBLE[]", 0, func(r *rand.Rand) float64 { return float64(r.IntN(4)) }), fixed("DOUBLE", 2.0)}, ref: func(a []any) any {
			n := int64(0)
			for _, x := range floats(a[0]) {
				if x > 2 {
					n++
				}
			}
			return n
		}},
		{name: "count_between ties", fn: "count_between", args: []argKind{list("FLOAT[]", 0, func(r *rand.Rand) float64 { return float64(r.IntN(5)) }), fixed("DOUBLE", 1.0), fixed("DOUBLE", 3.0)}, ref: func(a []any) any {
			n := int64(0)
			for _, x := range floats(a[0]) {
				if x > 1 && x < 3 {
					n++
				}
			}
			return n
		}},
		{name: "adl_bin", fn: "adl_bin", args: []argKind{scalar(func(r *rand.Rand) float64 { return -100 + 2300*r.Float64() }),
			fixed("DOUBLE", 0.0), fixed("DOUBLE", 2000.0), fixed("BIGINT", 100)}, ref: func(a []any) any {
			h := adlref.NewHist(0, 2000, 100)
			return h.Centre(h.BinIndex(a[0].(float64)))
		}},
		{name: "adl_bin list", fn: "adl_bin", args: []argKind{list("FLOAT[]", 0, func(r *rand.Rand) float64 { return float64(float32(10 + 60*r.Float64())) }),
			fixed("DOUBLE", 15.0), fixed("DOUBLE", 60.0), fixed("BIGINT", 100)}, ref: func(a []any) any {
			h := adlref.NewHist(15, 60, 100)
			v := floats(a[0])
			out := make([]any, len(v))
			for i, x := range v {
				out[i] = h.Centre(h.BinIndex(x))
			}
			return out
		}},
	}
	covered := map[string]bool{
		"adl_hist": true, // an aggregate: TestHistogramAggregate
		// Aggregates, and functions of HIST values, which the harness
		// cannot generate: TestHist*, TestCutflow, TestHistScalarVectors.
		"hist": true, "hist2d": true, "hist_merge": true, "cutflow": true,
		"hist_add": true, "hist_bins": true, "hist_integral": true, "hist_mean": true, "hist_std": true,
	}
	for name := range topologyHarnessExempt {
		covered[name] = true
	}
	for name := range jetHarnessExempt {
		covered[name] = true
	}
	for _, c := range append(append(cases, topologyHarnessCases()...), jetHarnessCases()...) {
		covered[c.fn] = true
		t.Run(c.name, func(t *testing.T) { runHarness(t, db, c) })
	}
	for _, f := range sqlfuncsAll() {
		if !covered[f] {
			t.Errorf("function %s has no harness case", f)
		}
	}
}

// coneRef is the O(|A|·|B|) cone sum: pt of B objects within ΔR < 1 but not
// within 1e-4 (the object itself), optionally above 50 GeV, optionally
// divided by A's pt.
func coneRef(relative bool) func(a []any) any {
	return func(a []any) any {
		off := 0
		var ptA []float64
		if relative {
			ptA, off = floats(a[0]), 1
		}
		etaA, phiA, ptB, etaB, phiB := floats(a[off]), floats(a[off+1]), floats(a[off+2]), floats(a[off+3]), floats(a[off+4])
		out := make([]any, len(etaA))
		for i := range etaA {
			s := 0.0
			for k := range ptB {
				if relative && !(ptB[k] > 50) {
					continue
				}
				if d := adlref.DeltaR(etaA[i], phiA[i], etaB[k], phiB[k]); d < 1 && d >= 1e-4 {
					s += ptB[k]
				}
			}
			if relative {
				s /= ptA[i]
			}
			out[i] = s
		}
		return out
	}
}
