package rntuple

import (
	"strings"
	"testing"
)

// TestRefusals: an unknown feature flag refuses the RNTuple (header or
// footer), and fields this reader cannot read are refused one by one
// with the reason: a ROOT-streamed object (role 4), an unknown column
// type, an unknown structural role.
func TestRefusals(t *testing.T) {
	var w lew
	w.u64(1 << 5) // a feature this reader does not know
	w.str("n")
	if _, err := (&NTuple{}).parseHeader(w.b); err == nil || !strings.Contains(err.Error(), "unknown feature flags 0x20") {
		t.Errorf("header feature flag: %v", err)
	}
	w = lew{}
	w.u64(1<<63 | 0) // continued into a second word
	w.u64(1 << 2)
	if _, err := (&NTuple{}).parseFooter(w.b, 0, nil); err == nil || !strings.Contains(err.Error(), "in word 1") {
		t.Errorf("footer feature flag in the second word: %v", err)
	}

	nt := &NTuple{
		Fields: []Field{
			{ID: 0, Parent: 0, Role: RoleStreamer, Name: "blob", Type: "TH1D"},
			{ID: 1, Parent: 1, Role: RoleLeaf, Name: "odd", Type: "float"},
			{ID: 2, Parent: 2, Role: 9, Name: "future", Type: "X"},
			{ID: 3, Parent: 3, Role: RoleLeaf, Name: "ok", Type: "float"},
		},
		Columns: []Column{
			{ID: 0, Type: ColIndex64, Field: 0}, {ID: 1, Type: ColByte, Field: 0},
			{ID: 2, Type: 0x7f, Field: 1},
			{ID: 3, Type: ColSplitReal32, Field: 3},
		},
	}
	if err := nt.link(nil); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int]string{0: "ROOT-streamed object (structural role 4)", 1: "unknown column type 0x7f", 2: "unknown structural role 9"} {
		if _, err := nt.TypeOf(id); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), nt.Fields[id].Name) {
			t.Errorf("field %q: %v, want an error naming it and saying %q", nt.Fields[id].Name, err, want)
		}
	}
	if ty, err := nt.TypeOf(3); err != nil || ty.Kind != KindFloat32 {
		t.Errorf("the readable field beside them: %v %v", ty, err)
	}
}
