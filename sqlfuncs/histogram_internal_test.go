package sqlfuncs

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hepsql/hepsql/internal/capi"
)

// TestBinValuesMatchesEnter bins values on and around every bin edge, and
// random ones, of several axes with binValues and with enter (the plain
// division): the counts must be identical.
func TestBinValuesMatchesEnter(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	axes := []struct {
		lo, hi float64
		nbins  int
	}{{15, 60, 100}, {0, 2000, 100}, {-3.2, 3.2, 64}, {0.1, 0.7, 3}, {-1e-3, 1e-3, 7}, {0, 1, 1 << 20}, {0, 1, 1<<24 + 1}}
	for _, a := range axes {
		w := (a.hi - a.lo) / float64(a.nbins)
		var vals []float64
		for k := -2; k <= a.nbins+2; k += max(1, a.nbins/1000) {
			edge := a.lo + float64(k)*w
			vals = append(vals, edge, math.Nextafter(edge, math.Inf(1)), math.Nextafter(edge, math.Inf(-1)),
				edge+w*1e-7, edge-w*1e-7, edge+w/2)
		}
		for range 10000 {
			vals = append(vals, a.lo-w+rng.Float64()*(a.hi-a.lo+2*w))
		}
		vals = append(vals, a.lo, a.hi, math.NaN(), math.Inf(1), math.Inf(-1), -0.0)
		want := &histState{lo: a.lo, hi: a.hi, nbins: a.nbins, counts: make([]int64, a.nbins+2)}
		got := &histState{lo: a.lo, hi: a.hi, nbins: a.nbins, counts: make([]int64, a.nbins+2)}
		for _, v := range vals {
			want.enter(v, w)
		}
		binValues(got, vals, w)
		got32 := &histState{lo: a.lo, hi: a.hi, nbins: a.nbins, counts: make([]int64, a.nbins+2)}
		want32 := &histState{lo: a.lo, hi: a.hi, nbins: a.nbins, counts: make([]int64, a.nbins+2)}
		vals32 := make([]float32, len(vals))
		for i, v := range vals {
			vals32[i] = float32(v)
			want32.enter(float64(vals32[i]), w)
		}
		binValues(got32, vals32, w)
		for i := range want.counts {
			if got.counts[i] != want.counts[i] || got32.counts[i] != want32.counts[i] {
				t.Fatalf("axis %+v, bin %d: binValues %d (float32 %d), enter %d (%d)", a, i-1, got.counts[i], got32.counts[i], want.counts[i], want32.counts[i])
			}
		}
	}
}

// BenchmarkBinValues bins jet-like pT (an exponential tail above 10 GeV)
// into Q2's axis: per row through enterList, as Update did for lists, and
// per run through binValues; then MET-like scalars into Q1's.
func BenchmarkBinValues(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const rows = 2048
	l := lists[float32]{entries: make([]capi.ListEntry, rows)}
	for r := range rows {
		n := rng.IntN(7)
		l.entries[r] = capi.ListEntry{Offset: uint64(len(l.child)), Length: uint64(n)}
		for range n {
			l.child = append(l.child, float32(10+rng.ExpFloat64()*25))
		}
	}
	h := &histState{lo: 15, hi: 60, nbins: 100, counts: make([]int64, 102)}
	w := (h.hi - h.lo) / float64(h.nbins)
	b.Run("rows", func(b *testing.B) {
		b.SetBytes(int64(4 * len(l.child)))
		for b.Loop() {
			for r := range rows {
				enterList(h, l, r, w)
			}
		}
	})
	b.Run("run", func(b *testing.B) {
		b.SetBytes(int64(4 * len(l.child)))
		for b.Loop() {
			enterListRows(h, l, 0, rows, w)
		}
	})
	// A chunk of MET-like values on Q1's axis, most in its first two bins,
	// one at a time (enter) and as binValues spreads them over four lanes.
	met := make([]float64, rows)
	for i := range met {
		met[i] = rng.ExpFloat64() * 30
	}
	hm := &histState{lo: 0, hi: 2000, nbins: 100, counts: make([]int64, 102)}
	wm := (hm.hi - hm.lo) / float64(hm.nbins)
	b.Run("scalars/enter", func(b *testing.B) {
		b.SetBytes(int64(8 * len(met)))
		for b.Loop() {
			for _, v := range met {
				hm.enter(v, wm)
			}
		}
	})
	b.Run("scalars/binValues", func(b *testing.B) {
		b.SetBytes(int64(8 * len(met)))
		for b.Loop() {
			binValues(hm, met, wm)
		}
	})
}
