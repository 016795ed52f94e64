package sqlfuncs

import (
	"bytes"
	"fmt"
	"unsafe"

	"github.com/hepsql/hepsql/internal/capi"
)

// binning is the (lo, hi, nbins) arguments after the values.
type binning struct {
	lo, hi scalars[float64]
	nbins  scalars[int64]
}

func readBinning(in capi.Args) binning {
	n := in.Rows()
	return binning{readScalars[float64](in.Arg(1), n), readScalars[float64](in.Arg(2), n), readScalars[int64](in.Arg(3), n)}
}

// row checks the row's binning; a bad one is an error, not a NULL, since it
// is a mistake in the query rather than in the data.
func (b *binning) row(r int) (lo, hi float64, nbins int, ok bool, err error) {
	if !b.lo.ok(r) || !b.hi.ok(r) || !b.nbins.ok(r) {
		return 0, 0, 0, false, nil
	}
	lo, hi, nb := b.lo.data[r], b.hi.data[r], b.nbins.data[r]
	if nb <= 0 || !(lo < hi) {
		return 0, 0, 0, false, binningError(nb, lo, hi, 0)
	}
	return lo, hi, int(nb), true, nil
}

func execBinScalar(in capi.Args, out capi.Vector) error {
	n := in.Rows()
	v := readScalars[float64](in.Arg(0), n)
	b := readBinning(in)
	res := newResult[float64](out, n)
	for r := 0; r < n; r++ {
		lo, hi, nb, ok, err := b.row(r)
		if err != nil {
			return err
		}
		if !ok || !v.ok(r) {
			res.null(r)
			continue
		}
		res.data[r] = BinCentre(v.data[r], lo, hi, nb)
	}
	return nil
}

func execBinList[T float](in capi.Args, out capi.Vector) error {
	n := in.Rows()
	v := readLists[T](in.Arg(0), n)
	b := readBinning(in)
	w := newListResult[float64](out, n, len(v.child))
	for r := 0; r < n; r++ {
		lo, hi, nb, ok, err := b.row(r)
		if err != nil {
			return err
		}
		vals, okv := v.row(r)
		if !ok || !okv {
			w.null(r)
			continue
		}
		dst := w.begin(r, len(vals))
		for i, x := range vals {
			dst[i] = BinCentre(float64(x), lo, hi, nb)
		}
	}
	return w.finish()
}

var _ = define(&Function{
	Name:  "adl_bin",
	Group: "histograms",
	Summary: "The ADL benchmark's histogram position of a value (or of each element of a list): the centre of its bin of [lo, hi) in nbins bins, " +
		"lo − w/2 for underflow and hi + w/2 for overflow (w = bin width; the upper edge is exclusive).",
	Example: "SELECT adl_bin(37.2, 0, 2000, 100) AS x, adl_bin([-1.0, 2500.0], 0, 2000, 100) AS under_over",
	Overloads: append([]Overload{{
		Args: args("value", tDouble, "lo", tDouble, "hi", tDouble, "nbins", tBigInt), Returns: tDouble, Exec: execBinScalar,
	}}, perElem(func(l capi.Type) Overload {
		return Overload{Args: args("values", l, "lo", tDouble, "hi", tDouble, "nbins", tBigInt), Returns: tDoubles,
			Exec: pick(l, execBinList[float32], execBinList[float64]).(func(capi.Args, capi.Vector) error)}
	})...),
})

// histState is one group of adl_hist: dense counts for underflow, the
// bins and overflow, so entering a value is an index computation and an
// increment (no hashing).
type histState struct {
	list    bool // values are lists (FLOAT[] or DOUBLE[]): every element enters
	float32 bool // values (or elements) are FLOAT
	lo, hi  float64
	nbins   int
	counts  []int64 // [0] underflow, [1..nbins] bins, [nbins+1] overflow
	lanes   []int64 // binValues' four interleaved scratch histograms, zero between calls
}

func (h *histState) enter(v, w float64) { h.counts[h.axis(w).index(v)]++ }

// axis is a group's binning as plain values, which a loop keeps in
// registers (stores into the counts would make the compiler reload
// histState's fields for every value). At most four fields: a larger
// struct lives in memory, which made binning 2-4x slower.
type axis struct {
	lo, hi, w float64
	nbins     int
}

func (h *histState) axis(w float64) axis { return axis{h.lo, h.hi, w, h.nbins} }

// index is v's slot in counts: 0 underflow, 1..nbins, nbins+1 overflow
// (NaN included).
func (a axis) index(v float64) int {
	switch {
	case v < a.lo:
		return 0
	case !(v < a.hi):
		return a.nbins + 1
	}
	return 1 + min(int((v-a.lo)/a.w), a.nbins-1)
}

// Update enters rows [from, to); the binning comes from the first row with
// one and must not change within a group.
func (h *histState) Update(in capi.Args, from, to int) error {
	n := in.Rows()
	b := readBinning(in)
	var (
		vals scalars[float64]
		vf   scalars[float32]
		lf   lists[float32]
		ld   lists[float64]
	)
	switch {
	case !h.list && h.float32:
		vf = readScalars[float32](in.Arg(0), n)
	case !h.list:
		vals = readScalars[float64](in.Arg(0), n)
	case h.float32:
		lf = readLists[float32](in.Arg(0), n)
	default:
		ld = readLists[float64](in.Arg(0), n)
	}
	enterRow := func(r int, w float64) {
		switch {
		case !h.list && h.float32:
			if vf.ok(r) {
				h.enter(float64(vf.data[r]), w)
			}
		case !h.list:
			if vals.ok(r) {
				h.enter(vals.data[r], w)
			}
		case h.float32:
			enterList(h, lf, r, w)
		default:
			enterList(h, ld, r, w)
		}
	}
	if from < to && b.uniform(from, to) {
		// The usual case, literal bounds: one check for the whole run, then
		// a loop that only bins (per-row checks cost more than binning).
		lo, hi, nb, _, err := b.row(from)
		if err != nil {
			return err
		}
		if err := h.useBinning(from, lo, hi, nb); err != nil {
			return err
		}
		w := (h.hi - h.lo) / float64(h.nbins)
		switch {
		case !h.list && h.float32 && vf.valid == nil:
			binValues(h, vf.data[from:to], w)
			return nil
		case !h.list && !h.float32 && vals.valid == nil:
			binValues(h, vals.data[from:to], w)
			return nil
		case h.list && h.float32:
			enterListRows(h, lf, from, to, w)
			return nil
		case h.list:
			enterListRows(h, ld, from, to, w)
			return nil
		}
		for r := from; r < to; r++ {
			enterRow(r, w)
		}
		return nil
	}
	for r := from; r < to; r++ {
		lo, hi, nb, ok, err := b.row(r)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := h.useBinning(r, lo, hi, nb); err != nil {
			return err
		}
		enterRow(r, (h.hi-h.lo)/float64(h.nbins))
	}
	return nil
}

// useBinning takes row r's binning for the group, or checks that it is the
// one the group already has.
func (h *histState) useBinning(r int, lo, hi float64, nb int) error {
	if h.counts == nil {
		h.lo, h.hi, h.nbins, h.counts = lo, hi, nb, make([]int64, nb+2)
	} else if lo != h.lo || hi != h.hi || nb != h.nbins {
		return fmt.Errorf("binning changed within a histogram: [%g, %g) in %d bins, then [%g, %g) in %d", h.lo, h.hi, h.nbins, lo, hi, nb)
	}
	return nil
}

// uniform reports whether rows [from, to) all have row from's binning,
// none of it NULL.
func (b binning) uniform(from, to int) bool {
	if b.lo.valid != nil || b.hi.valid != nil || b.nbins.valid != nil {
		return false
	}
	return allSame(b.lo.data[from:to]) && allSame(b.hi.data[from:to]) && allSame(b.nbins.data[from:to])
}

// allSame reports whether every element of s has the bits of the first:
// s[1:] equals s[:len-1] as memory, one vectorised comparison (a loop of
// == over three 2048-row arguments was 5% of Q1). Bit equality is stricter
// than == only for -0 against 0, which then take the per-row path.
func allSame[T int64 | float64](s []T) bool {
	if len(s) < 2 {
		return true
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*8)
	return bytes.Equal(b[8:], b[:len(b)-8])
}

// binValues enters values none of which is NULL. Real distributions pile
// into a few bins (most MET below 40 GeV), and an increment of the bin the
// previous value also hit waits for that store. A run long enough is
// spread over four interleaved copies of the histogram, summed at the end,
// so that consecutive values rarely wait on each other: MET-like values
// bin at ~2.7 ns each against ~4.5 ns one at a time
// (BenchmarkBinValues/scalars). Multiplying by 1/w instead of dividing,
// and conditional moves for the bounds, measured no faster.
func binValues[T float](h *histState, vals []T, w float64) {
	m := h.nbins + 2
	if len(vals) < 4*m {
		for _, v := range vals {
			h.enter(float64(v), w)
		}
		return
	}
	if len(h.lanes) != 4*m {
		h.lanes = make([]int64, 4*m)
	}
	l0, l1, l2, l3 := h.lanes[:m], h.lanes[m:2*m], h.lanes[2*m:3*m], h.lanes[3*m:4*m]
	a := h.axis(w)
	n := len(vals) &^ 3
	for i := 0; i < n; i += 4 {
		l0[a.index(float64(vals[i]))]++
		l1[a.index(float64(vals[i+1]))]++
		l2[a.index(float64(vals[i+2]))]++
		l3[a.index(float64(vals[i+3]))]++
	}
	for _, v := range vals[n:] {
		l0[a.index(float64(v))]++
	}
	counts := h.counts[:m]
	for i := range counts {
		counts[i] += l0[i] + l1[i] + l2[i] + l3[i]
		l0[i], l1[i], l2[i], l3[i] = 0, 0, 0, 0
	}
}

// enterListRows enters the elements of rows [from, to) of l.
func enterListRows[T float](h *histState, l lists[T], from, to int, w float64) {
	if !l.plain() {
		for r := from; r < to; r++ {
			enterList(h, l, r, w)
		}
		return
	}
	// A scan's lists lie end to end in the child vector: one run.
	start, end := l.entries[from].Offset, l.entries[from].Offset
	for _, e := range l.entries[from:to] {
		if e.Offset != end {
			for r := from; r < to; r++ {
				e := l.entries[r]
				binValues(h, l.child[e.Offset:e.Offset+e.Length], w)
			}
			return
		}
		end += e.Length
	}
	binValues(h, l.child[start:end], w)
}

// enterList enters a row's elements, skipping NULL ones (as the scalar form
// skips NULL rows).
func enterList[T float](h *histState, l lists[T], r int, w float64) {
	if !capi.IsValid(l.valid, r) {
		return
	}
	e := l.entries[r]
	for i := e.Offset; i < e.Offset+e.Length; i++ {
		if capi.IsValid(l.childValid, int(i)) {
			h.enter(float64(l.child[i]), w)
		}
	}
}

func (h *histState) Combine(other capi.AggregateState) error {
	o := other.(*histState)
	switch {
	case o.counts == nil:
		return nil
	case h.counts == nil:
		h.lo, h.hi, h.nbins, h.counts = o.lo, o.hi, o.nbins, append([]int64(nil), o.counts...)
		return nil
	case o.lo != h.lo || o.hi != h.hi || o.nbins != h.nbins:
		return fmt.Errorf("binning differs between parts of a histogram: [%g, %g) in %d bins and [%g, %g) in %d", h.lo, h.hi, h.nbins, o.lo, o.hi, o.nbins)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	return nil
}

// Finalize writes the non-empty bins as a list of STRUCT(x, y) by
// ascending x; x follows BinCentre's convention.
func (h *histState) Finalize(out capi.Vector, row int) error {
	entries := capi.Slice[capi.ListEntry](out, row+1)
	size := out.ListSize()
	k := 0
	for _, c := range h.counts {
		if c != 0 {
			k++
		}
	}
	if err := out.ListReserve(size + k); err != nil {
		return err
	}
	child := out.ListChild()
	xs := capi.Slice[float64](child.StructChild(0), size+k)
	ys := capi.Slice[int64](child.StructChild(1), size+k)
	w := (h.hi - h.lo) / float64(max(h.nbins, 1))
	i := size
	for b, c := range h.counts {
		if c == 0 {
			continue
		}
		switch {
		case b == 0:
			xs[i] = h.lo - w/2
		case b == h.nbins+1:
			xs[i] = h.hi + w/2
		default:
			xs[i] = h.lo + float64((float64(b-1)+0.5)*w)
		}
		ys[i] = c
		i++
	}
	entries[row] = capi.ListEntry{Offset: uint64(size), Length: uint64(k)}
	return out.ListSetSize(size + k)
}

var histType = capi.ListOf(capi.Type{ID: capi.Struct, Fields: []capi.Field{{Name: "x", Type: tDouble}, {Name: "y", Type: tBigInt}}})

var _ = define(&Function{
	Name:  "adl_hist",
	Group: "histograms",
	Summary: "Aggregate: the histogram of a column, or of every element of a list column, with adl_bin's convention, " +
		"as a list of STRUCT(x, y) by ascending x, one per non-empty bin; NULLs are not entered. " +
		"unnest(adl_hist(...), recursive := true) gives the benchmark's x, y rows.",
	Example: "SELECT unnest(adl_hist(v, 0, 10, 5), recursive := true) FROM (VALUES (1.0), (1.5), (9.0), (12.0)) t(v)",
	Aggregates: []AggregateOverload{
		{Args: args("value", tDouble, "lo", tDouble, "hi", tDouble, "nbins", tBigInt), Returns: histType,
			New: func() capi.AggregateState { return &histState{} }},
		// FLOAT branches (MET_pt) without DuckDB casting each chunk first.
		{Args: args("value", tFloat, "lo", tDouble, "hi", tDouble, "nbins", tBigInt), Returns: histType,
			New: func() capi.AggregateState { return &histState{float32: true} }},
		{Args: args("values", tFloats, "lo", tDouble, "hi", tDouble, "nbins", tBigInt), Returns: histType,
			New: func() capi.AggregateState { return &histState{list: true, float32: true} }},
		{Args: args("values", tDoubles, "lo", tDouble, "hi", tDouble, "nbins", tBigInt), Returns: histType,
			New: func() capi.AggregateState { return &histState{list: true} }},
	},
})
