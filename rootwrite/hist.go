package rootwrite

import (
	"fmt"
	"slices"

	"go-hep.org/x/hep/groot/rhist"
	"go-hep.org/x/hep/hbook"

	"github.com/hepsql/hepsql/internal/capi"
)

// Hist is one HIST value (see sqlfuncs/hist.go): bin i spans
// [Edges[i], Edges[i+1]) and holds SumW[i] and SumW2[i].
type Hist struct {
	Edges, SumW, SumW2      []float64
	Underflow, Overflow     float64
	UnderflowW2, OverflowW2 float64
	Entries                 int64
}

// histFields are the HIST STRUCT's fields, in order.
var histFields = []string{"edges", "sumw", "sumw2", "underflow", "overflow", "underflow_sumw2", "overflow_sumw2", "entries"}

// IsHist reports whether t is hepsql's HIST value type.
func IsHist(t capi.Type) bool {
	if t.ID != capi.Struct || len(t.Fields) != len(histFields) {
		return false
	}
	for i, f := range t.Fields {
		if f.Name != histFields[i] {
			return false
		}
		switch {
		case i < 3 && (f.Type.ID != capi.List || f.Type.Elem.ID != capi.Double),
			i >= 3 && i < 7 && f.Type.ID != capi.Double,
			i == 7 && f.Type.ID != capi.BigInt:
			return false
		}
	}
	return true
}

// RowLabels joins, for each row of in, the VARCHAR columns cols with sep
// ("NULL" for a NULL): the names that tell a result's histograms apart.
func RowLabels(in capi.Args, cols []int, sep string) []string {
	n := in.Rows()
	labels := make([]string, n)
	for _, i := range cols {
		v := in.Arg(i)
		mask := v.ReadValidity(n)
		for r := range n {
			s := "NULL"
			if capi.IsValid(mask, r) {
				s = v.StringAt(r)
			}
			if labels[r] != "" {
				labels[r] += sep
			}
			labels[r] += s
		}
	}
	return labels
}

// ReadHists reads rows [0, n) of a HIST vector; a NULL row is nil.
func ReadHists(v capi.Vector, n int) []*Hist {
	out := make([]*Hist, n)
	mask := v.ReadValidity(n)
	lists := make([][]float64, 3)
	var entries [3][]capi.ListEntry
	for i := range 3 {
		lv := v.StructChild(i)
		entries[i] = capi.Slice[capi.ListEntry](lv, n)
		lists[i] = capi.Slice[float64](lv.ListChild(), lv.ListSize())
	}
	var scal [4][]float64
	for i := range 4 {
		scal[i] = capi.Slice[float64](v.StructChild(3+i), n)
	}
	ent := capi.Slice[int64](v.StructChild(7), n)
	get := func(i, r int) []float64 {
		e := entries[i][r]
		return slices.Clone(lists[i][e.Offset : e.Offset+e.Length])
	}
	for r := range n {
		if !capi.IsValid(mask, r) {
			continue
		}
		out[r] = &Hist{Edges: get(0, r), SumW: get(1, r), SumW2: get(2, r),
			Underflow: scal[0][r], Overflow: scal[1][r], UnderflowW2: scal[2][r], OverflowW2: scal[3][r],
			Entries: ent[r]}
	}
	return out
}

// check rejects a value that is not a binning with its contents.
func (h *Hist) check() error {
	nb := len(h.Edges) - 1
	if nb < 1 || len(h.SumW) != nb || len(h.SumW2) != nb {
		return fmt.Errorf("%d edges for %d bins of contents and %d of squared weights", len(h.Edges), len(h.SumW), len(h.SumW2))
	}
	for i := 1; i < len(h.Edges); i++ {
		if !(h.Edges[i-1] < h.Edges[i]) {
			return fmt.Errorf("bin edges must increase: %v then %v", h.Edges[i-1], h.Edges[i])
		}
	}
	return nil
}

// TH1D converts h into ROOT's TH1D named name. ROOT's statistics ΣwX and
// ΣwX², which HIST does not keep, are computed from the bin centres (what
// ROOT's TH1::ResetStats does); ΣW and ΣW² leave the flows out, as ROOT's.
func (h *Hist) TH1D(name string) (*rhist.H1D, error) {
	if err := h.check(); err != nil {
		return nil, fmt.Errorf("histogram %s: %w", name, err)
	}
	hb := hbook.NewH1DFromEdges(h.Edges)
	var tot hbook.Dist1D
	for i := range hb.Binning.Bins {
		b := &hb.Binning.Bins[i]
		w, w2 := h.SumW[i], h.SumW2[i]
		x := 0.5 * (h.Edges[i] + h.Edges[i+1])
		b.Dist.Dist.SumW, b.Dist.Dist.SumW2 = w, w2
		b.Dist.Stats.SumWX, b.Dist.Stats.SumWX2 = w*x, w*x*x
		tot.Dist.SumW += w
		tot.Dist.SumW2 += w2
		tot.Stats.SumWX += w * x
		tot.Stats.SumWX2 += w * x * x
	}
	hb.Binning.Outflows[0].Dist = hbook.Dist0D{SumW: h.Underflow, SumW2: h.UnderflowW2}
	hb.Binning.Outflows[1].Dist = hbook.Dist0D{SumW: h.Overflow, SumW2: h.OverflowW2}
	tot.Dist.N = h.Entries
	hb.Binning.Dist = tot
	hb.Annotation()["name"] = name
	hb.Annotation()["title"] = name
	return rhist.NewH1DFrom(hb), nil
}
