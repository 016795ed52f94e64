package sqlfuncs

import (
	"fmt"
	"slices"

	"github.com/hepsql/hepsql/internal/capi"
)

// A 2-D histogram value (HIST2D in the reference) keeps every cell,
// under- and overflow included, in ROOT's global bin order, so that it maps
// onto a TH2D's array as it is:
//
//	xedges  DOUBLE[]  nx+1 edges
//	yedges  DOUBLE[]  ny+1 edges
//	sumw    DOUBLE[]  (nx+2)·(ny+2) cells; cell ix + (nx+2)·iy, where ix = 0 is
//	                  the x underflow, 1..nx the bins and nx+1 the overflow (iy alike)
//	sumw2   DOUBLE[]  the same cells' sums of squared weights
//	entries BIGINT
var hist2dType = capi.Type{ID: capi.Struct, Fields: []capi.Field{
	{Name: "xedges", Type: tDoubles}, {Name: "yedges", Type: tDoubles},
	{Name: "sumw", Type: tDoubles}, {Name: "sumw2", Type: tDoubles}, {Name: "entries", Type: tBigInt},
}}

type hist2dState struct {
	weighted       bool
	xedges, yedges []float64 // nil until the first row with a binning
	x, y           fixedAxis
	sumw, sumw2    []float64
	entries        int64
}

func (h *hist2dState) setEdges(xe, ye []float64) {
	h.xedges, h.yedges = xe, ye
	h.x, h.y = newFixedAxis(xe), newFixedAxis(ye)
	cells := (len(xe) + 1) * (len(ye) + 1)
	h.sumw, h.sumw2 = make([]float64, cells), make([]float64, cells)
}

func describe2d(xe, ye []float64) string {
	return describeBinning(xe) + " × " + describeBinning(ye)
}

func (h *hist2dState) Update(in capi.Args, from, to int) error {
	n := in.Rows()
	x, y := readScalars[float64](in.Arg(0), n), readScalars[float64](in.Arg(1), n)
	xb := binningReader{nbins: readScalars[int64](in.Arg(2), n), lo: readScalars[float64](in.Arg(3), n), hi: readScalars[float64](in.Arg(4), n)}
	yb := binningReader{nbins: readScalars[int64](in.Arg(5), n), lo: readScalars[float64](in.Arg(6), n), hi: readScalars[float64](in.Arg(7), n)}
	var w scalars[float64]
	if h.weighted {
		w = readScalars[float64](in.Arg(8), n)
	}
	last := -1 // the last row whose binning was checked against the group's
	for r := from; r < to; r++ {
		if last < 0 || !xb.same(last, r) || !yb.same(last, r) {
			xe, err := xb.edgesOf(r)
			if err != nil {
				return err
			}
			ye, err := yb.edgesOf(r)
			if err != nil {
				return err
			}
			if xe == nil || ye == nil {
				continue
			}
			if h.xedges == nil {
				h.setEdges(xe, ye)
			} else if !slices.Equal(xe, h.xedges) || !slices.Equal(ye, h.yedges) {
				return fmt.Errorf("binning changed within a histogram: %s, then %s", describe2d(h.xedges, h.yedges), describe2d(xe, ye))
			}
			last = r
		}
		if !x.ok(r) || !y.ok(r) || (h.weighted && !w.ok(r)) {
			continue
		}
		wt := 1.0
		if h.weighted {
			wt = w.data[r]
		}
		c := h.x.index(x.data[r]) + (h.x.nbins+2)*h.y.index(y.data[r])
		h.sumw[c] += wt
		h.sumw2[c] += wt * wt
		h.entries++
	}
	return nil
}

func (h *hist2dState) Combine(other capi.AggregateState) error {
	return h.add(other.(*hist2dState))
}

func (h *hist2dState) add(o *hist2dState) error {
	switch {
	case o.xedges == nil:
		return nil
	case h.xedges == nil:
		h.setEdges(o.xedges, o.yedges)
	case !slices.Equal(h.xedges, o.xedges) || !slices.Equal(h.yedges, o.yedges):
		return fmt.Errorf("histograms with different binnings: %s and %s", describe2d(h.xedges, h.yedges), describe2d(o.xedges, o.yedges))
	}
	for i := range h.sumw {
		h.sumw[i] += o.sumw[i]
		h.sumw2[i] += o.sumw2[i]
	}
	h.entries += o.entries
	return nil
}

func (h *hist2dState) Finalize(out capi.Vector, row int) error {
	if h.xedges == nil {
		out.SetNull(row)
		for i := range hist2dType.Fields {
			c := out.StructChild(i)
			if i < 4 {
				if err := appendList(c, row, nil); err != nil {
					return err
				}
			}
			c.SetNull(row)
		}
		return nil
	}
	for i, vals := range [][]float64{h.xedges, h.yedges, h.sumw, h.sumw2} {
		if err := appendList(out.StructChild(i), row, vals); err != nil {
			return err
		}
	}
	capi.Slice[int64](out.StructChild(4), row+1)[row] = h.entries
	return nil
}

// hist2dMerge is hist_merge over HIST2D values.
type hist2dMerge struct{ hist2dState }

func (m *hist2dMerge) Update(in capi.Args, from, to int) error {
	n := in.Rows()
	v := in.Arg(0)
	valid := v.ReadValidity(n)
	xe, ye := readLists[float64](v.StructChild(0), n), readLists[float64](v.StructChild(1), n)
	sw, sw2 := readLists[float64](v.StructChild(2), n), readLists[float64](v.StructChild(3), n)
	entries := readScalars[int64](v.StructChild(4), n)
	for r := from; r < to; r++ {
		if !capi.IsValid(valid, r) {
			continue
		}
		x, ok1 := xe.row(r)
		y, ok2 := ye.row(r)
		w, ok3 := sw.row(r)
		w2, ok4 := sw2.row(r)
		if !ok1 || !ok2 || !ok3 || !ok4 || !entries.ok(r) {
			return fmt.Errorf("not a 2-D histogram: a field is NULL")
		}
		if len(x) < 2 || len(y) < 2 || len(w) != (len(x)+1)*(len(y)+1) || len(w2) != len(w) {
			return fmt.Errorf("not a 2-D histogram: %d x edges, %d y edges, %d sumw, %d sumw2", len(x), len(y), len(w), len(w2))
		}
		o := &hist2dState{xedges: x, yedges: y, sumw: w, sumw2: w2, entries: entries.data[r]}
		if m.xedges == nil {
			m.setEdges(slices.Clone(x), slices.Clone(y))
		}
		if err := m.add(o); err != nil {
			return err
		}
	}
	return nil
}

func (m *hist2dMerge) Combine(other capi.AggregateState) error {
	return m.add(&other.(*hist2dMerge).hist2dState)
}

var _ = define(&Function{
	Name:  "hist2d",
	Group: "histograms",
	Summary: "Aggregate: the 2-D histogram of (x, y) in nx × ny fixed bins as a HIST2D value, " +
		"STRUCT(xedges DOUBLE[], yedges DOUBLE[], sumw DOUBLE[], sumw2 DOUBLE[], entries BIGINT): sumw and sumw2 hold every cell, " +
		"under- and overflow included, in ROOT's global bin order (cell ix + (nx+2)·iy, ix = 0 the x underflow, nx+1 the overflow; iy alike); " +
		"bins as hist's. A NULL x, y or weight is not entered. hist_merge adds HIST2D values too.",
	Example: "SELECT h.sumw[1 + 1 + 4 * 1] AS cell_1_1, h.entries FROM (SELECT hist2d(x, y, 2, 0, 2, 2, 0, 2) AS h " +
		"FROM (VALUES (0.5, 0.5), (0.7, 0.2), (1.5, 0.5), (5.0, -1.0)) t(x, y))",
	Aggregates: []AggregateOverload{
		{Args: args("x", tDouble, "y", tDouble, "nx", tBigInt, "xlo", tDouble, "xhi", tDouble, "ny", tBigInt, "ylo", tDouble, "yhi", tDouble),
			Returns: hist2dType, New: func() capi.AggregateState { return &hist2dState{} }},
		{Args: args("x", tDouble, "y", tDouble, "nx", tBigInt, "xlo", tDouble, "xhi", tDouble, "ny", tBigInt, "ylo", tDouble, "yhi", tDouble, "weight", tDouble),
			Returns: hist2dType, New: func() capi.AggregateState { return &hist2dState{weighted: true} }},
	},
})
