package sqlfuncs

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/hepsql/hepsql/internal/capi"
)

// A histogram value (SQL type HIST) is a STRUCT of plain columns, so that
// tables and Parquet files store it and SQL reads its fields:
//
//	edges           DOUBLE[]  nbins+1 ascending bin edges
//	sumw            DOUBLE[]  per bin: the sum of the weights entered (counts when unweighted)
//	sumw2           DOUBLE[]  per bin: the sum of the squared weights (the variance of sumw)
//	underflow       DOUBLE    sumw of the values below edges[1]
//	overflow        DOUBLE    sumw of the values at or above edges[nbins+1], and of NaN
//	underflow_sumw2 DOUBLE
//	overflow_sumw2  DOUBLE
//	entries         BIGINT    values entered, under- and overflow included (ROOT's GetEntries)
//
// Bins follow ROOT's TAxis::FindBin: a value x lands in bin
// 1 + ⌊nbins·(x−lo)/(hi−lo)⌋ (fixed bins) or in the bin whose edges hold
// it, lower edge included (variable bins); x < lo is underflow, x ≥ hi and
// NaN overflow.
//
// HIST is the name the reference gives this STRUCT, not a DuckDB type: a
// type alias registered through the C API (duckdb_register_logical_type)
// was tried and left out, since DuckDB then binds no field access
// (h.entries, struct_extract) on the aliased value, and does not cast a
// plain STRUCT (a histogram read back from Parquet) to it implicitly.
var histValueType = capi.Type{ID: capi.Struct, Fields: []capi.Field{
	{Name: "edges", Type: tDoubles}, {Name: "sumw", Type: tDoubles}, {Name: "sumw2", Type: tDoubles},
	{Name: "underflow", Type: tDouble}, {Name: "overflow", Type: tDouble},
	{Name: "underflow_sumw2", Type: tDouble}, {Name: "overflow_sumw2", Type: tDouble},
	{Name: "entries", Type: tBigInt},
}}

// fixedAxis is a fixed binning as plain values a loop keeps in registers.
type fixedAxis struct {
	lo, hi, n float64
	nbins     int
}

func newFixedAxis(e []float64) fixedAxis {
	n := len(e) - 1
	return fixedAxis{e[0], e[n], float64(n), n}
}

// index is x's slot: 0 underflow, 1..n, n+1 overflow (NaN included), by
// ROOT's formula; rounding up to n past the last bin is clamped.
func (a fixedAxis) index(x float64) int {
	switch {
	case x < a.lo:
		return 0
	case !(x < a.hi):
		return a.nbins + 1
	}
	return 1 + min(int(a.n*(x-a.lo)/(a.hi-a.lo)), a.nbins-1)
}

// varIndex is x's slot among ascending edges (len ≥ 2).
func varIndex(e []float64, x float64) int {
	n := len(e) - 1
	switch {
	case x < e[0]:
		return 0
	case !(x < e[n]):
		return n + 1
	}
	lo, hi := 1, n // the answer: the first i ≥ 1 with e[i] > x
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if e[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// fixedEdges are ROOT's low edges lo + i·((hi−lo)/n), with hi last.
func fixedEdges(lo, hi float64, n int) []float64 {
	e := make([]float64, n+1)
	w := (hi - lo) / float64(n)
	for i := range n {
		e[i] = lo + float64(i)*w
	}
	e[n] = hi
	return e
}

// describeBinning names a binning in errors.
func describeBinning(e []float64) string {
	n := len(e) - 1
	if n <= 6 {
		parts := make([]string, len(e))
		for i, x := range e {
			parts[i] = fmt.Sprint(x)
		}
		return "edges [" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("%d bins over [%g, %g)", n, e[0], e[n])
}

// checkEdges rejects edges that are not a binning.
func checkEdges(e []float64) error {
	if len(e) < 2 {
		return fmt.Errorf("a binning needs at least 2 edges, got %d", len(e))
	}
	for i, x := range e {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("bin edge %v is not finite", x)
		}
		if i > 0 && !(e[i-1] < x) {
			return fmt.Errorf("bin edges must increase: %v then %v", e[i-1], x)
		}
	}
	return nil
}

// histAcc is a histogram being filled or merged: slot 0 is underflow, 1..n
// the bins, n+1 overflow. Unweighted fills count in counts (integers, and
// exact); weighted ones and merges sum in sumw and sumw2.
type histAcc struct {
	edges    []float64 // nil until the first row with a binning
	counts   []int64
	lanes    []int64
	sumw     []float64
	sumw2    []float64
	entries  int64 // entries of the weighted sums (counts hold their own)
	weighted bool
}

func (h *histAcc) setEdges(e []float64) {
	h.edges = e
	m := len(e) + 1
	if h.weighted {
		h.sumw, h.sumw2 = make([]float64, m), make([]float64, m)
	} else {
		h.counts = make([]int64, m)
	}
}

// add adds a weighted histogram with h's edges (slots as h's) into h.
func (h *histAcc) add(sumw, sumw2 []float64, entries int64) {
	for i, x := range sumw {
		h.sumw[i] += x
	}
	for i, x := range sumw2 {
		h.sumw2[i] += x
	}
	h.entries += entries
}

// finalize writes the histogram as a HIST into row of out (a NULL when it
// never saw a binning).
func (h *histAcc) finalize(out capi.Vector, row int) error {
	if h.edges == nil {
		return writeHistNull(out, row)
	}
	sumw, sumw2, entries := h.sumw, h.sumw2, h.entries
	if !h.weighted {
		sumw = make([]float64, len(h.counts))
		entries = 0
		for i, c := range h.counts {
			sumw[i] = float64(c)
			entries += c
		}
		sumw2 = sumw
	}
	return writeHist(out, row, h.edges, sumw, sumw2, entries)
}

// writeHist writes a histogram with slots (underflow, bins, overflow).
func writeHist(out capi.Vector, row int, edges, sumw, sumw2 []float64, entries int64) error {
	n := len(edges) - 1
	for i, vals := range [][]float64{edges, sumw[1 : n+1], sumw2[1 : n+1]} {
		if err := appendList(out.StructChild(i), row, vals); err != nil {
			return err
		}
	}
	for i, x := range []float64{sumw[0], sumw[n+1], sumw2[0], sumw2[n+1]} {
		capi.Slice[float64](out.StructChild(3+i), row+1)[row] = x
	}
	capi.Slice[int64](out.StructChild(7), row+1)[row] = entries
	return nil
}

func writeHistNull(out capi.Vector, row int) error {
	out.SetNull(row)
	for i := range histValueType.Fields {
		c := out.StructChild(i)
		if i < 3 {
			if err := appendList(c, row, nil); err != nil {
				return err
			}
		}
		c.SetNull(row)
	}
	return nil
}

// appendList writes vals as row's list at the end of v's child vector.
func appendList(v capi.Vector, row int, vals []float64) error {
	size := v.ListSize()
	if err := v.ListReserve(size + len(vals)); err != nil {
		return err
	}
	copy(capi.Slice[float64](v.ListChild(), size+len(vals))[size:], vals)
	capi.Slice[capi.ListEntry](v, row+1)[row] = capi.ListEntry{Offset: uint64(size), Length: uint64(len(vals))}
	return v.ListSetSize(size + len(vals))
}

// histFill is the state of hist(): its overload's shape and the
// accumulator.
type histFill struct {
	histAcc
	float32  bool // x (or its elements) is FLOAT
	list     bool // x is a list: every element enters
	variable bool // the binning is a list of edges, not (nbins, lo, hi)
	fixed    fixedAxis
}

// binningReader reads the binning arguments (and finds the weight's).
type binningReader struct {
	variable   bool
	nbins      scalars[int64]
	lo, hi     scalars[float64]
	edges      lists[float64]
	weightsArg int // index of the weight argument, or -1
}

func (h *histFill) reader(in capi.Args) binningReader {
	n := in.Rows()
	if h.variable {
		b := binningReader{variable: true, edges: readLists[float64](in.Arg(1), n), weightsArg: -1}
		if h.weighted {
			b.weightsArg = 2
		}
		return b
	}
	b := binningReader{nbins: readScalars[int64](in.Arg(1), n), lo: readScalars[float64](in.Arg(2), n),
		hi: readScalars[float64](in.Arg(3), n), weightsArg: -1}
	if h.weighted {
		b.weightsArg = 4
	}
	return b
}

// same reports whether row r has the binning of row f (both non-NULL).
func (b *binningReader) same(f, r int) bool {
	if b.variable {
		if !capi.IsValid(b.edges.valid, r) {
			return false
		}
		ef, er := b.edges.entries[f], b.edges.entries[r]
		if ef == er {
			return true
		}
		x, _ := b.edges.row(f)
		y, ok := b.edges.row(r)
		return ok && slices.Equal(x, y)
	}
	return b.nbins.ok(r) && b.lo.ok(r) && b.hi.ok(r) &&
		b.nbins.data[r] == b.nbins.data[f] && b.lo.data[r] == b.lo.data[f] && b.hi.data[r] == b.hi.data[f]
}

// edgesOf returns row r's binning as edges, nil when NULL.
func (b *binningReader) edgesOf(r int) ([]float64, error) {
	if b.variable {
		e, ok := b.edges.row(r)
		if !ok {
			return nil, nil
		}
		if err := checkEdges(e); err != nil {
			return nil, err
		}
		return slices.Clone(e), nil
	}
	if !b.nbins.ok(r) || !b.lo.ok(r) || !b.hi.ok(r) {
		return nil, nil
	}
	nb, lo, hi := b.nbins.data[r], b.lo.data[r], b.hi.data[r]
	if nb <= 0 || nb > 1<<26 || !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil, binningError(nb, lo, hi, 1<<26)
	}
	return fixedEdges(lo, hi, int(nb)), nil
}

// Update enters rows [from, to). Every row's binning must be the group's;
// rows with a NULL binning, a NULL value or a NULL weight are not entered.
func (h *histFill) Update(in capi.Args, from, to int) error {
	b := h.reader(in)
	// The first row with a binning, checked against (or giving) the
	// group's; then the others, all at once when they repeat it.
	first := -1
	for r := from; r < to && first < 0; r++ {
		ok, err := h.checkRow(&b, r)
		if err != nil {
			return err
		}
		if ok {
			first = r
		}
	}
	if first < 0 {
		return nil
	}
	uniform := !b.variable && b.nbins.valid == nil && b.lo.valid == nil && b.hi.valid == nil &&
		allSame(b.nbins.data[first:to]) && allSame(b.lo.data[first:to]) && allSame(b.hi.data[first:to])
	if !uniform {
		uniform = true
		for r := first + 1; r < to; r++ {
			if !b.same(first, r) {
				uniform = false
				break
			}
		}
	}
	if !uniform {
		// Rare: check each row, then enter it alone.
		for r := first; r < to; r++ {
			ok, err := h.checkRow(&b, r)
			if err != nil {
				return err
			}
			if ok {
				h.enterRows(in, b, r, r+1)
			}
		}
		return nil
	}
	h.enterRows(in, b, first, to)
	return nil
}

// checkRow checks row r's binning against the group's, taking it as the
// group's when the group has none yet; ok is false for a NULL binning.
// The usual case, the group's binning again, allocates nothing: grouped
// aggregation calls Update for runs of a row or two.
func (h *histFill) checkRow(b *binningReader, r int) (ok bool, err error) {
	if h.edges != nil {
		if b.variable {
			e, ok := b.edges.row(r)
			if ok && slices.Equal(e, h.edges) {
				return true, nil
			}
		} else if b.nbins.ok(r) && b.lo.ok(r) && b.hi.ok(r) &&
			int(b.nbins.data[r]) == h.fixed.nbins && b.lo.data[r] == h.fixed.lo && b.hi.data[r] == h.fixed.hi {
			return true, nil
		}
	}
	e, err := b.edgesOf(r)
	if err != nil || e == nil {
		return false, err
	}
	if h.edges == nil {
		h.setEdges(e)
		if !h.variable {
			h.fixed = newFixedAxis(e)
		}
		return true, nil
	}
	return false, fmt.Errorf("binning changed within a histogram: %s, then %s", describeBinning(h.edges), describeBinning(e))
}

// enterRows enters rows [from, to), all with the group's binning.
func (h *histFill) enterRows(in capi.Args, b binningReader, from, to int) {
	n := in.Rows()
	var w scalars[float64]
	if b.weightsArg >= 0 {
		w = readScalars[float64](in.Arg(b.weightsArg), n)
	}
	switch {
	case !h.list && h.float32:
		enterScalars(h, readScalars[float32](in.Arg(0), n), w, from, to)
	case !h.list:
		enterScalars(h, readScalars[float64](in.Arg(0), n), w, from, to)
	case h.float32:
		enterLists(h, readLists[float32](in.Arg(0), n), w, from, to)
	default:
		enterLists(h, readLists[float64](in.Arg(0), n), w, from, to)
	}
}

func enterScalars[T float](h *histFill, x scalars[T], w scalars[float64], from, to int) {
	if x.valid == nil && (!h.weighted || w.valid == nil) {
		if h.weighted {
			fillWeighted(h, x.data[from:to], w.data[from:to], 0)
		} else {
			countValues(h, x.data[from:to])
		}
		return
	}
	for r := from; r < to; r++ {
		if !x.ok(r) || (h.weighted && !w.ok(r)) {
			continue
		}
		if h.weighted {
			fillWeighted(h, x.data[r:r+1], nil, w.data[r])
		} else {
			countValues(h, x.data[r:r+1])
		}
	}
}

func enterLists[T float](h *histFill, x lists[T], w scalars[float64], from, to int) {
	if !h.weighted && x.plain() {
		// A scan's lists lie end to end in the child vector: one run.
		start, end := x.entries[from].Offset, x.entries[from].Offset
		contiguous := true
		for _, e := range x.entries[from:to] {
			if e.Offset != end {
				contiguous = false
				break
			}
			end += e.Length
		}
		if contiguous {
			countValues(h, x.child[start:end])
			return
		}
	}
	for r := from; r < to; r++ {
		if !capi.IsValid(x.valid, r) || (h.weighted && !w.ok(r)) {
			continue
		}
		e := x.entries[r]
		vals := x.child[e.Offset : e.Offset+e.Length]
		if x.childValid == nil {
			if h.weighted {
				fillWeighted(h, vals, nil, w.data[r])
			} else {
				countValues(h, vals)
			}
			continue
		}
		for i := range vals {
			if !capi.IsValid(x.childValid, int(e.Offset)+i) {
				continue
			}
			if h.weighted {
				fillWeighted(h, vals[i:i+1], nil, w.data[r])
			} else {
				countValues(h, vals[i:i+1])
			}
		}
	}
}

// countValues enters unweighted values. On a fixed axis a run long
// enough is spread over four interleaved copies of the counts (as adl_hist
// does, see binValues): consecutive values that hit the same bin then
// rarely wait for each other's increment.
func countValues[T float](h *histFill, vals []T) {
	counts := h.counts
	if h.variable {
		e := h.edges
		for _, v := range vals {
			counts[varIndex(e, float64(v))]++
		}
		return
	}
	a := h.fixed
	m := len(counts)
	if len(vals) < 4*m {
		for _, v := range vals {
			counts[a.index(float64(v))]++
		}
		return
	}
	if len(h.lanes) != 4*m {
		h.lanes = make([]int64, 4*m)
	}
	l0, l1, l2, l3 := h.lanes[:m], h.lanes[m:2*m], h.lanes[2*m:3*m], h.lanes[3*m:4*m]
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
	for i := range counts {
		counts[i] += l0[i] + l1[i] + l2[i] + l3[i]
		l0[i], l1[i], l2[i], l3[i] = 0, 0, 0, 0
	}
}

// fillWeighted enters values with weights ws (or, when ws is nil, each
// with weight w).
func fillWeighted[T float](h *histFill, vals []T, ws []float64, w float64) {
	sumw, sumw2 := h.sumw, h.sumw2
	h.entries += int64(len(vals))
	for i, v := range vals {
		var k int
		if h.variable {
			k = varIndex(h.edges, float64(v))
		} else {
			k = h.fixed.index(float64(v))
		}
		if ws != nil {
			w = ws[i]
		}
		sumw[k] += w
		sumw2[k] += w * w
	}
}

func (h *histFill) Combine(other capi.AggregateState) error {
	if err := h.histAcc.combine(&other.(*histFill).histAcc); err != nil {
		return err
	}
	if !h.variable && h.edges != nil {
		h.fixed = newFixedAxis(h.edges)
	}
	return nil
}

func (h *histFill) Finalize(out capi.Vector, row int) error { return h.finalize(out, row) }

// combine adds o, a part of the same aggregate, into h.
func (h *histAcc) combine(o *histAcc) error {
	switch {
	case o.edges == nil:
		return nil
	case h.edges == nil:
		h.setEdges(o.edges)
	case !slices.Equal(h.edges, o.edges):
		return fmt.Errorf("binning differs between parts of a histogram: %s and %s", describeBinning(h.edges), describeBinning(o.edges))
	}
	if h.weighted {
		h.add(o.sumw, o.sumw2, o.entries)
		return nil
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	return nil
}
