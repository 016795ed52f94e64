package rootscan

import (
	"github.com/hepsql/hepsql/rootio/tbranch"
	"reflect"
	"testing"
)

// TestOutputsRule checks the grouping rule on made-up columns: members
// need the counter nX and the prefix X_; a column counted by nX without
// the prefix, one with the prefix but another counter, a non-jagged X_y
// and a collection whose name a column has all stay as they are.
func TestOutputsRule(t *testing.T) {
	f := tbranch.Scalar(tbranch.Float)
	jag := func(name, count string) *tbranch.Column {
		return &tbranch.Column{Name: name, Layout: tbranch.LayoutJagged, Count: count, Type: tbranch.ListOf(f)}
	}
	scalar := func(name string) *tbranch.Column {
		return &tbranch.Column{Name: name, Layout: tbranch.LayoutFixed, Type: f}
	}
	cols := []*tbranch.Column{
		scalar("nJet"),
		jag("Jet_pt", "nJet"),
		scalar("MET_pt"),
		jag("Jet_eta", "nJet"),
		jag("Lepton_pt", "nJet"),  // counted by nJet, not Jet_: a list
		jag("Jet_other", "nJets"), // Jet_ prefix, another counter: a list
		scalar("Jet_area"),        // not jagged
		jag("Tau_pt", "nTau"),     // a collection named like a column: flat
		scalar("Tau"),
		jag("X_", "nX"),            // nothing after the prefix
		jag("Photon_e", "nPhoton"), // counter absent from the table: still grouped
	}
	var got []string
	var types []string
	for _, o := range outputs(cols, true) {
		got = append(got, o.name)
		types = append(types, o.typ.String())
	}
	want := []string{"nJet", "Jet", "MET_pt", "Lepton_pt", "Jet_other", "Jet_area", "Tau_pt", "Tau", "X_", "Photon"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outputs %v, want %v", got, want)
	}
	if types[1] != `STRUCT("pt" FLOAT, "eta" FLOAT)[]` || types[9] != `STRUCT("e" FLOAT)[]` {
		t.Errorf("types %v", types)
	}
	flat := outputs(cols, false)
	if len(flat) != len(cols) {
		t.Errorf("nest false: %d outputs for %d columns", len(flat), len(cols))
	}
	for i, o := range flat {
		if o.nested || o.name != cols[i].Name || !reflect.DeepEqual(o.cols, []int{i}) {
			t.Errorf("nest false: output %d is %+v", i, o)
		}
	}
}
