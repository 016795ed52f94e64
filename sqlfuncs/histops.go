package sqlfuncs

import (
	"fmt"
	"math"
	"slices"

	"github.com/hepsql/hepsql/internal/capi"
)

// histColumn reads a HIST input column.
type histColumn struct {
	valid              []uint64
	edges, sumw, sumw2 lists[float64]
	under, over        scalars[float64]
	under2, over2      scalars[float64]
	entries            scalars[int64]
}

func readHistColumn(v capi.Vector, n int) histColumn {
	return histColumn{
		valid: v.ReadValidity(n),
		edges: readLists[float64](v.StructChild(0), n), sumw: readLists[float64](v.StructChild(1), n),
		sumw2: readLists[float64](v.StructChild(2), n),
		under: readScalars[float64](v.StructChild(3), n), over: readScalars[float64](v.StructChild(4), n),
		under2: readScalars[float64](v.StructChild(5), n), over2: readScalars[float64](v.StructChild(6), n),
		entries: readScalars[int64](v.StructChild(7), n),
	}
}

// histView is one histogram read from a column: slots (underflow, bins,
// overflow) as histAcc keeps them.
type histView struct {
	edges, sumw, sumw2 []float64
	entries            int64
}

// row returns row r's histogram; ok is false for a NULL one. A value that
// is not a histogram (lengths that disagree, NULL fields) is an error.
func (c *histColumn) row(r int) (h histView, ok bool, err error) {
	if !capi.IsValid(c.valid, r) {
		return h, false, nil
	}
	e, ok1 := c.edges.row(r)
	w, ok2 := c.sumw.row(r)
	w2, ok3 := c.sumw2.row(r)
	if !ok1 || !ok2 || !ok3 || !c.under.ok(r) || !c.over.ok(r) || !c.under2.ok(r) || !c.over2.ok(r) || !c.entries.ok(r) {
		return h, false, fmt.Errorf("not a histogram: a field is NULL")
	}
	if len(e) < 2 || len(w) != len(e)-1 || len(w2) != len(w) {
		return h, false, fmt.Errorf("not a histogram: %d edges, %d sumw, %d sumw2", len(e), len(w), len(w2))
	}
	h.edges = e
	h.sumw = make([]float64, len(w)+2)
	h.sumw2 = make([]float64, len(w)+2)
	copy(h.sumw[1:], w)
	copy(h.sumw2[1:], w2)
	n := len(w)
	h.sumw[0], h.sumw[n+1] = c.under.data[r], c.over.data[r]
	h.sumw2[0], h.sumw2[n+1] = c.under2.data[r], c.over2.data[r]
	h.entries = c.entries.data[r]
	return h, true, nil
}

// onHist makes the overload of a one-HIST-argument function.
func onHist(returns capi.Type, exec func(capi.Args, capi.Vector) error) []Overload {
	return []Overload{{Args: args("h", histValueType), Returns: returns, Exec: exec}}
}

// histMerge is the state of hist_merge.
type histMerge struct{ histAcc }

func (m *histMerge) Update(in capi.Args, from, to int) error {
	c := readHistColumn(in.Arg(0), in.Rows())
	for r := from; r < to; r++ {
		h, ok, err := c.row(r)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := m.addView(r, h); err != nil {
			return err
		}
	}
	return nil
}

func (m *histMerge) addView(r int, h histView) error {
	switch {
	case m.edges == nil:
		m.setEdges(slices.Clone(h.edges))
	case !slices.Equal(m.edges, h.edges):
		return fmt.Errorf("histograms with different binnings: %s and %s", describeBinning(m.edges), describeBinning(h.edges))
	}
	m.add(h.sumw, h.sumw2, h.entries)
	return nil
}

func (m *histMerge) Combine(other capi.AggregateState) error {
	o := &other.(*histMerge).histAcc
	if m.edges != nil && o.edges != nil && !slices.Equal(m.edges, o.edges) {
		return fmt.Errorf("histograms with different binnings: %s and %s", describeBinning(m.edges), describeBinning(o.edges))
	}
	return m.combine(o)
}

func (m *histMerge) Finalize(out capi.Vector, row int) error { return m.finalize(out, row) }

// execHistAdd is hist_add(h1, h2): NULL when either is NULL.
func execHistAdd(in capi.Args, out capi.Vector) error {
	n := in.Rows()
	a, b := readHistColumn(in.Arg(0), n), readHistColumn(in.Arg(1), n)
	for r := range n {
		x, ok1, err := a.row(r)
		if err != nil {
			return err
		}
		y, ok2, err := b.row(r)
		if err != nil {
			return err
		}
		if !ok1 || !ok2 {
			if err := writeHistNull(out, r); err != nil {
				return err
			}
			continue
		}
		m := histMerge{histAcc{weighted: true}}
		if err := m.addView(r, x); err != nil {
			return err
		}
		if err := m.addView(r, y); err != nil {
			return err
		}
		if err := m.finalize(out, r); err != nil {
			return err
		}
	}
	return nil
}

var binType = capi.Type{ID: capi.Struct, Fields: []capi.Field{
	{Name: "bin", Type: tInt}, {Name: "lo", Type: tDouble}, {Name: "hi", Type: tDouble},
	{Name: "sumw", Type: tDouble}, {Name: "sumw2", Type: tDouble},
}}

// execHistBins is hist_bins(h): the bins as a list of STRUCT(bin, lo, hi,
// sumw, sumw2), bin numbered from 1 as in ROOT.
func execHistBins(in capi.Args, out capi.Vector) error {
	n := in.Rows()
	c := readHistColumn(in.Arg(0), n)
	nulls := newNullMask(out, n)
	entries := capi.Slice[capi.ListEntry](out, n)
	size := 0
	for r := range n {
		h, ok, err := c.row(r)
		if err != nil {
			return err
		}
		if !ok {
			entries[r] = capi.ListEntry{Offset: uint64(size)}
			nulls.set(r)
			continue
		}
		k := len(h.edges) - 1
		if err := out.ListReserve(size + k); err != nil {
			return err
		}
		child := out.ListChild()
		bins := capi.Slice[int32](child.StructChild(0), size+k)[size:]
		los := capi.Slice[float64](child.StructChild(1), size+k)[size:]
		his := capi.Slice[float64](child.StructChild(2), size+k)[size:]
		ws := capi.Slice[float64](child.StructChild(3), size+k)[size:]
		w2s := capi.Slice[float64](child.StructChild(4), size+k)[size:]
		for i := range k {
			bins[i], los[i], his[i], ws[i], w2s[i] = int32(i+1), h.edges[i], h.edges[i+1], h.sumw[i+1], h.sumw2[i+1]
		}
		entries[r] = capi.ListEntry{Offset: uint64(size), Length: uint64(k)}
		size += k
	}
	return out.ListSetSize(size)
}

// histStat computes one number from each histogram; NULL for a NULL one
// (and where stat says so by returning NaN with ok false).
func histStat(stat func(h histView) (float64, bool)) func(capi.Args, capi.Vector) error {
	return func(in capi.Args, out capi.Vector) error {
		n := in.Rows()
		c := readHistColumn(in.Arg(0), n)
		res := newResult[float64](out, n)
		for r := range n {
			h, ok, err := c.row(r)
			if err != nil {
				return err
			}
			var v float64
			if ok {
				v, ok = stat(h)
			}
			if !ok {
				res.null(r)
				continue
			}
			res.data[r] = v
		}
		return nil
	}
}

// binnedMoments are Σw, Σw·x and Σw·x² over the bins (not under- or
// overflow), x the bin centres, as ROOT's GetMean and GetStdDev compute them
// from bin contents.
func binnedMoments(h histView) (sw, swx, swx2 float64) {
	for i := 1; i < len(h.edges); i++ {
		x := (h.edges[i-1] + h.edges[i]) / 2
		w := h.sumw[i]
		sw += w
		swx += w * x
		swx2 += w * x * x
	}
	return
}

func histMean(h histView) (float64, bool) {
	sw, swx, _ := binnedMoments(h)
	if sw == 0 {
		return 0, false
	}
	return swx / sw, true
}

func histStd(h histView) (float64, bool) {
	sw, swx, swx2 := binnedMoments(h)
	if sw == 0 {
		return 0, false
	}
	m := swx / sw
	return math.Sqrt(math.Abs(swx2/sw - m*m)), true
}

func histIntegral(h histView) (float64, bool) {
	s := 0.0
	for _, w := range h.sumw[1 : len(h.sumw)-1] {
		s += w
	}
	return s, true
}

// histOverloads are hist's signatures: a value (FLOAT or DOUBLE) or a list
// of them (every element enters), fixed or variable bins, with or without
// a weight.
func histOverloads() []AggregateOverload {
	var out []AggregateOverload
	for _, x := range []struct {
		name    string
		t       capi.Type
		list, f bool
	}{{"x", tDouble, false, false}, {"x", tFloat, false, true}, {"xs", tDoubles, true, false}, {"xs", tFloats, true, true}} {
		for _, variable := range []bool{false, true} {
			for _, weighted := range []bool{false, true} {
				a := args(x.name, x.t)
				if variable {
					a = append(a, args("edges", tDoubles)...)
				} else {
					a = append(a, args("nbins", tBigInt, "lo", tDouble, "hi", tDouble)...)
				}
				if weighted {
					a = append(a, args("weight", tDouble)...)
				}
				list, f, variable, weighted := x.list, x.f, variable, weighted
				out = append(out, AggregateOverload{Args: a, Returns: histValueType, New: func() capi.AggregateState {
					return &histFill{histAcc: histAcc{weighted: weighted}, float32: f, list: list, variable: variable}
				}})
			}
		}
	}
	return out
}

var _ = define(&Function{
	Name:  "hist",
	Group: "histograms",
	Summary: "Aggregate: the histogram of a column (or of every element of a list column) as a HIST value, " +
		"STRUCT(edges DOUBLE[], sumw DOUBLE[], sumw2 DOUBLE[], underflow DOUBLE, overflow DOUBLE, underflow_sumw2 DOUBLE, overflow_sumw2 DOUBLE, entries BIGINT): " +
		"nbins fixed bins over [lo, hi) or the bins between ascending edges, each bin's sum of weights and of squared weights, " +
		"empty bins kept. Bins as ROOT's TAxis::FindBin: lower edge included, x < lo underflow, x ≥ hi and NaN overflow; " +
		"entries counts every value entered, under- and overflow included. A NULL value, list element or weight is not entered; " +
		"NULL when no row had a binning. One per group with GROUP BY; hist_merge adds them. " +
		"HIST is this reference's name for the STRUCT (tables and Parquet files store it as is; h.sumw, h.entries read its fields).",
	Example: "SELECT hist(v, 4, 0, 8) AS h, hist(v, [0, 1, 5, 10], w) AS weighted " +
		"FROM (VALUES (0.5, 1.0), (1.5, 2.0), (3.0, 0.5), (9.0, 1.0), (-1.0, 1.0), ('nan'::DOUBLE, 1.0)) t(v, w)",
	Aggregates: histOverloads(),
})

var _ = define(&Function{
	Name:  "hist_merge",
	Group: "histograms",
	Summary: "Aggregate: the sum of HIST (or HIST2D) values with equal edges (shards, files, samples): sums, under/overflow and entries add; " +
		"NULLs are skipped; different binnings are an error naming both.",
	Example: "SELECT hist_bins(hist_merge(h)) AS bins FROM (SELECT hist(v, 2, 0, 4) AS h FROM (VALUES (1.0), (3.0), (3.5)) t(v) GROUP BY v > 2)",
	Aggregates: []AggregateOverload{
		{Args: args("h", histValueType), Returns: histValueType,
			New: func() capi.AggregateState { return &histMerge{histAcc{weighted: true}} }},
		{Args: args("h", hist2dType), Returns: hist2dType,
			New: func() capi.AggregateState { return &hist2dMerge{} }},
	},
})

var _ = define(&Function{
	Name:      "hist_add",
	Group:     "histograms",
	Summary:   "The sum of two HIST values with equal edges; NULL if either is NULL.",
	Example:   "SELECT hist_integral(hist_add(hist(v, 2, 0, 4), hist(v * 0.5, 2, 0, 4))) AS total FROM (VALUES (1.0), (3.0)) t(v)",
	Overloads: []Overload{{Args: args("h1", histValueType, "h2", histValueType), Returns: histValueType, Exec: execHistAdd}},
})

var _ = define(&Function{
	Name:  "hist_bins",
	Group: "histograms",
	Summary: "The bins of a HIST as a list of STRUCT(bin, lo, hi, sumw, sumw2), bin numbered from 1 as in ROOT (under- and overflow are the HIST's fields); " +
		"unnest(hist_bins(h), recursive := true) gives one row per bin.",
	Example:   "SELECT unnest(hist_bins(hist(v, 3, 0, 3)), recursive := true) FROM (VALUES (0.5), (0.7), (2.5)) t(v)",
	Overloads: onHist(capi.ListOf(binType), execHistBins),
})

var _ = define(&Function{
	Name:      "hist_mean",
	Group:     "histograms",
	Summary:   "The mean of a HIST from its bin centres and contents, under- and overflow excluded (ROOT's GetMean of a histogram without stored statistics); NULL when the bins are empty.",
	Example:   "SELECT hist_mean(hist(v, 4, 0, 8)) AS mean FROM (VALUES (1.0), (3.0), (20.0)) t(v)",
	Overloads: onHist(tDouble, histStat(histMean)),
})

var _ = define(&Function{
	Name:      "hist_std",
	Group:     "histograms",
	Summary:   "The standard deviation of a HIST from its bin centres and contents, under- and overflow excluded (ROOT's GetStdDev likewise); NULL when the bins are empty.",
	Example:   "SELECT hist_std(hist(v, 4, 0, 8)) AS std FROM (VALUES (1.0), (3.0), (20.0)) t(v)",
	Overloads: onHist(tDouble, histStat(histStd)),
})

var _ = define(&Function{
	Name:      "hist_integral",
	Group:     "histograms",
	Summary:   "The sum of weights in the bins of a HIST, under- and overflow excluded (ROOT's Integral()).",
	Example:   "SELECT hist_integral(hist(v, 4, 0, 8)) AS integral FROM (VALUES (1.0), (3.0), (20.0)) t(v)",
	Overloads: onHist(tDouble, histStat(histIntegral)),
})
