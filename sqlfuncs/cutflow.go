package sqlfuncs

import (
	"fmt"
	"slices"

	"github.com/hepsql/hepsql/internal/capi"
)

// cutflowState is one group of cutflow(): events and their summed weight
// before any cut (slot 0) and after each cut of the chain (slots 1..k).
type cutflowState struct {
	named, weighted bool
	names           []string // the cuts' names; nil until the first row
	pass            []int64
	sumw            []float64
}

func (s *cutflowState) Update(in capi.Args, from, to int) error {
	n := in.Rows()
	conds := readLists[bool](in.Arg(0), n)
	var w scalars[float64]
	if s.weighted {
		w = readScalars[float64](in.Arg(in.Len()-1), n)
	}
	for r := from; r < to; r++ {
		if !capi.IsValid(conds.valid, r) {
			continue
		}
		e := conds.entries[r]
		if s.pass == nil {
			if err := s.start(in, r, int(e.Length)); err != nil {
				return err
			}
		} else if int(e.Length) != len(s.pass)-1 {
			return fmt.Errorf("%d conditions, %d in earlier rows: the chain of cuts must not change", e.Length, len(s.pass)-1)
		}
		if s.weighted && !w.ok(r) {
			continue
		}
		weight := 1.0
		if s.weighted {
			weight = w.data[r]
		}
		s.pass[0]++
		s.sumw[0] += weight
		for i := range int(e.Length) {
			k := int(e.Offset) + i
			if !capi.IsValid(conds.childValid, k) || !conds.child[k] {
				break // NULL fails, as in WHERE
			}
			s.pass[i+1]++
			s.sumw[i+1] += weight
		}
	}
	return nil
}

// start takes the number of cuts, and their names, from row r.
func (s *cutflowState) start(in capi.Args, r, k int) error {
	s.pass, s.sumw = make([]int64, k+1), make([]float64, k+1)
	s.names = make([]string, k+1)
	s.names[0] = "all"
	for i := 1; i <= k; i++ {
		s.names[i] = fmt.Sprintf("cut %d", i)
	}
	if !s.named {
		return nil
	}
	v := in.Arg(1)
	if !capi.IsValid(v.ReadValidity(in.Rows()), r) {
		return nil
	}
	e := capi.Slice[capi.ListEntry](v, r+1)[r]
	if int(e.Length) != k {
		return fmt.Errorf("%d conditions but %d names", k, e.Length)
	}
	child := v.ListChild()
	valid := child.ReadValidity(v.ListSize())
	for i := range k {
		if j := int(e.Offset) + i; capi.IsValid(valid, j) {
			s.names[i+1] = child.StringAt(j)
		}
	}
	return nil
}

func (s *cutflowState) Combine(other capi.AggregateState) error {
	o := other.(*cutflowState)
	switch {
	case o.pass == nil:
		return nil
	case s.pass == nil:
		s.names, s.pass, s.sumw = o.names, slices.Clone(o.pass), slices.Clone(o.sumw)
		return nil
	case len(o.pass) != len(s.pass):
		return fmt.Errorf("%d conditions in one part, %d in another: the chain of cuts must not change", len(s.pass)-1, len(o.pass)-1)
	}
	for i := range s.pass {
		s.pass[i] += o.pass[i]
		s.sumw[i] += o.sumw[i]
	}
	return nil
}

// Finalize writes the rows (cut, name, pass, sumw, eff, cumulative_eff):
// cut 0 is every event entered; eff is sumw over the previous row's sumw,
// cumulative_eff over cut 0's; NULL where that is 0.
func (s *cutflowState) Finalize(out capi.Vector, row int) error {
	if s.pass == nil {
		out.SetNull(row)
		capi.Slice[capi.ListEntry](out, row+1)[row] = capi.ListEntry{Offset: uint64(out.ListSize())}
		return nil
	}
	size, k := out.ListSize(), len(s.pass)
	if err := out.ListReserve(size + k); err != nil {
		return err
	}
	child := out.ListChild()
	cuts := capi.Slice[int32](child.StructChild(0), size+k)[size:]
	pass := capi.Slice[int64](child.StructChild(2), size+k)[size:]
	sumw := capi.Slice[float64](child.StructChild(3), size+k)[size:]
	eff := capi.Slice[float64](child.StructChild(4), size+k)[size:]
	cum := capi.Slice[float64](child.StructChild(5), size+k)[size:]
	var text []byte
	ends := make([]uint64, k)
	for i := range k {
		cuts[i], pass[i], sumw[i] = int32(i), s.pass[i], s.sumw[i]
		prev := s.sumw[max(i-1, 0)]
		if prev != 0 {
			eff[i] = s.sumw[i] / prev
		} else {
			child.StructChild(4).SetNull(size + i)
		}
		if s.sumw[0] != 0 {
			cum[i] = s.sumw[i] / s.sumw[0]
		} else {
			child.StructChild(5).SetNull(size + i)
		}
		text = append(text, s.names[i]...)
		ends[i] = uint64(len(text))
	}
	child.StructChild(1).AssignStrings(size, text, ends)
	capi.Slice[capi.ListEntry](out, row+1)[row] = capi.ListEntry{Offset: uint64(size), Length: uint64(k)}
	return out.ListSetSize(size + k)
}

var cutflowType = capi.ListOf(capi.Type{ID: capi.Struct, Fields: []capi.Field{
	{Name: "cut", Type: tInt}, {Name: "name", Type: capi.Scalar(capi.Varchar)}, {Name: "pass", Type: tBigInt},
	{Name: "sumw", Type: tDouble}, {Name: "eff", Type: tDouble}, {Name: "cumulative_eff", Type: tDouble},
}})

var _ = define(&Function{
	Name:  "cutflow",
	Group: "histograms",
	Summary: "Aggregate: a cut-flow, RDataFrame's Report() in SQL. conditions is a chain of cuts, one BOOLEAN per cut, the same number in every row; " +
		"an event passes cut i when it passes cuts 1..i (a NULL condition fails, as in WHERE). " +
		"Returns one row per cut, after a row 0 named 'all' for every event entered: pass (events), sumw (their weight; the count when unweighted), " +
		"eff (sumw over the previous row's) and cumulative_eff (over row 0's), NULL where that is 0. " +
		"names (a constant list) names the cuts, else 'cut 1', ...; a NULL conditions list or weight leaves the event out. " +
		"unnest(cutflow(...), recursive := true) gives one row per cut.",
	Example: "SELECT unnest(cutflow([nMuon >= 2, met > 40], ['2 muons', 'MET > 40']), recursive := true) " +
		"FROM (VALUES (2, 50.0), (3, 20.0), (1, 60.0), (2, 45.0)) t(nMuon, met)",
	Aggregates: []AggregateOverload{
		{Args: args("conditions", tBools), Returns: cutflowType, New: func() capi.AggregateState { return &cutflowState{} }},
		{Args: args("conditions", tBools, "names", capi.ListOf(capi.Scalar(capi.Varchar))), Returns: cutflowType,
			New: func() capi.AggregateState { return &cutflowState{named: true} }},
		{Args: args("conditions", tBools, "weight", tDouble), Returns: cutflowType,
			New: func() capi.AggregateState { return &cutflowState{weighted: true} }},
		{Args: args("conditions", tBools, "names", capi.ListOf(capi.Scalar(capi.Varchar)), "weight", tDouble), Returns: cutflowType,
			New: func() capi.AggregateState { return &cutflowState{named: true, weighted: true} }},
	},
})
