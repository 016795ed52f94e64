package adlref

import (
	"fmt"
	"math"
	"slices"
)

// Bin is one output row of a benchmark histogram: the bin centre X (or the
// under/overflow position) and the number of entries Y.
type Bin struct {
	X float64
	Y int64
}

// Hist is a fixed-width histogram with the ADL benchmark's conventions:
// with w = (hi-lo)/nbins, a value v in [lo, hi) goes to bin
// k = floor((v-lo)/w), reported at its centre lo + (k+½)·w; values below lo
// share one underflow row at lo - w/2 and values at or above hi (the upper
// edge is exclusive, as in ROOT's TH1) one overflow row at hi + w/2.
type Hist struct {
	lo, hi, w float64
	nbins     int
	counts    []int64 // index 0: underflow, 1..nbins: bins, nbins+1: overflow
}

// NewHist returns an empty histogram of nbins bins over [lo, hi).
func NewHist(lo, hi float64, nbins int) *Hist {
	if nbins <= 0 || !(lo < hi) {
		panic(fmt.Sprintf("adlref: invalid histogram range [%g, %g) with %d bins", lo, hi, nbins))
	}
	return &Hist{lo: lo, hi: hi, w: (hi - lo) / float64(nbins), nbins: nbins, counts: make([]int64, nbins+2)}
}

// BinIndex returns the bin of v: -1 for underflow, nbins for overflow.
//
// NaN counts as overflow, as DuckDB orders NaN above every number (so
// "v >= hi" holds for it in SQL). The index is capped at nbins-1 because
// for v just below hi the rounded quotient (v-lo)/w can reach nbins, while
// v < hi belongs to the last bin by definition.
func (h *Hist) BinIndex(v float64) int {
	switch {
	case v < h.lo:
		return -1
	case !(v < h.hi):
		return h.nbins
	}
	return min(int(math.Floor((v-h.lo)/h.w)), h.nbins-1)
}

// Centre returns the X reported for bin k as numbered by BinIndex.
func (h *Hist) Centre(k int) float64 {
	switch {
	case k < 0:
		return h.lo - h.w/2
	case k >= h.nbins:
		return h.hi + h.w/2
	}
	// The conversion keeps Go from fusing the multiply-add (see package doc).
	return h.lo + float64((float64(k)+0.5)*h.w)
}

// Fill enters one value.
func (h *Hist) Fill(v float64) { h.counts[h.BinIndex(v)+1]++ }

// Entries returns the number of values entered, under- and overflow
// included.
func (h *Hist) Entries() int64 {
	var n int64
	for _, c := range h.counts {
		n += c
	}
	return n
}

// Bins returns one row per non-empty bin, by ascending X.
func (h *Hist) Bins() []Bin {
	var bins []Bin
	for i, c := range h.counts {
		if c != 0 {
			bins = append(bins, Bin{X: h.Centre(i - 1), Y: c})
		}
	}
	// Counts are stored in X order already; keep the guarantee explicit.
	slices.SortFunc(bins, func(a, b Bin) int {
		switch {
		case a.X < b.X:
			return -1
		case a.X > b.X:
			return 1
		}
		return 0
	})
	return bins
}
