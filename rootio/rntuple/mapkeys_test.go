package rntuple_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/rootio/rntuple"
)

// TestMapRepeatedKey: a std::map whose entry repeats a key (hostile or
// mislabelled bytes: a std::map's keys are unique, and a DuckDB MAP relies
// on it) is an error naming the entry and the pairs, whether the cluster
// is read whole or from an entry inside it; a multimap's repeats are
// fine.
func TestMapRepeatedKey(t *testing.T) {
	i32 := &rntuple.Type{Kind: rntuple.KindInt32}
	str := &rntuple.Type{Kind: rntuple.KindString}
	pair := func(k, v *rntuple.Type) *rntuple.Type {
		return &rntuple.Type{Kind: rntuple.KindStruct, Name: "std::pair<>", Names: []string{"_0", "_1"}, Members: []*rntuple.Type{k, v}}
	}
	types := []*rntuple.Type{
		{Kind: rntuple.KindList, Name: "std::map<>", Elem: pair(str, i32)},
		{Kind: rntuple.KindList, Name: "std::multimap<>", Elem: pair(i32, i32)},
	}
	// Entry 0: {a, b}; entry 1: {c, d, c}: pair 2 repeats pair 0's key.
	m := rntuple.Array{Type: types[0], Len: 2, Offsets: []int64{0, 2, 5}, Children: []rntuple.Array{{Type: types[0].Elem, Len: 5, Children: []rntuple.Array{
		{Type: str, Len: 5, Strings: []string{"a", "b", "c", "d", "c"}}, {Type: i32, Len: 5, Ints: []int64{1, 2, 3, 4, 5}}}}}}
	mm := rntuple.Array{Type: types[1], Len: 2, Offsets: []int64{0, 2, 2}, Children: []rntuple.Array{{Type: types[1].Elem, Len: 2, Children: []rntuple.Array{
		{Type: i32, Len: 2, Ints: []int64{7, 7}}, {Type: i32, Len: 2, Ints: []int64{1, 2}}}}}}
	var f memFile
	w, err := rntuple.NewWriter(&f, "t", []string{"m", "mm"}, types, rntuple.WriteOptions{Compression: 505})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteCluster([]rntuple.Array{m, mm}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	nt, err := rntuple.Open(bytes.NewReader(f.b), int64(len(f.b)), "t")
	if err != nil {
		t.Fatal(err)
	}
	for id, fl := range nt.Fields {
		if !fl.TopLevel() {
			continue
		}
		ty, err := nt.TypeOf(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, first := range []int64{0, 1} {
			_, err := nt.ReadRange(ty, 0, first, 2-first)
			switch fl.Name {
			case "m":
				if err == nil || !strings.Contains(err.Error(), "entry 1: map pair 2 repeats the key of pair 0") {
					t.Errorf("map from entry %d: err = %v, want the repeated key of entry 1", first, err)
				}
			case "mm":
				if err != nil {
					t.Errorf("multimap from entry %d: %v", first, err)
				}
			}
		}
	}
}
