package main

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"go-hep.org/x/hep/groot/rphys"
)

// TestCompare pins what counts as agreeing with jsroot, and that a wrong
// value of every kind is caught.
func TestCompare(t *testing.T) {
	js := func(s string) any {
		var v any
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		h    any
		j    string
		same bool
	}{
		{int32(-7), `-7`, true},
		{int32(-7), `-8`, false},
		{uint64(math.MaxUint64), `{"$i":"18446744073709551615"}`, true},
		{uint64(math.MaxUint64 - 1), `{"$i":"18446744073709551615"}`, false},
		{float32(0.1), `0.10000000149011612`, true},
		{float32(0.1), `0.1`, false}, // the float32 widened, not rounded
		{math.NaN(), `{"$f":"NaN"}`, true},
		{math.Inf(-1), `{"$f":"-Infinity"}`, true},
		{1.5, `{"$f":"NaN"}`, false},
		{true, `true`, true},
		{true, `0`, false},
		{"mu", `"mu"`, true},
		{"mu", `"e"`, false},
		{[]any{int8(-5), int8(65), int8(0)}, `"\u00fbA"`, true}, // jsroot's char arrays: bytes as a string to the first zero
		{[]any{int8(-5), int8(66), int8(0)}, `"\u00fbA"`, false},
		{[]any{[]any{1.0, 2.0}, []any{3.0, 4.0}}, `[1,2,3,4]`, true}, // x[2][2] flat in jsroot
		{[]any{[]any{1.0, 2.0}, []any{3.0, 5.0}}, `[1,2,3,4]`, false},
		{[]any{1.0}, `[1,2]`, false},
		{map[string]any{"x": 1.0}, `{"x":1,"fUniqueID":0}`, true},
		{map[string]any{"x": 1.0, "y": 2.0}, `{"x":1}`, false},
		{nil, `1`, false},
	} {
		why := compare(c.h, js(c.j))
		if (why == "") != c.same {
			t.Errorf("compare(%#v, %s) = %q, want same=%v", c.h, c.j, why, c.same)
		}
	}
}

// TestFlatGo: groot's values flatten to their numbers in member order,
// TObject's part left out, as hepsql's STRUCT unnested gives them.
func TestFlatGo(t *testing.T) {
	p4 := rphys.NewLorentzVector(1, 2, 3, 4)
	got := flatGo(reflect.ValueOf(p4), nil)
	want := []any{1.0, 2.0, 3.0, 4.0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flatGo(TLorentzVector) = %v, want %v", got, want)
	}
	got = flatGo(reflect.ValueOf([]float32{0.5, 1.5}), nil)
	if !reflect.DeepEqual(got, []any{0.5, 1.5}) {
		t.Errorf("flatGo([]float32) = %v", got)
	}
}

// TestIgnoresPID: a split collection's fBits differing from jsroot's only
// after its first referenced element is jsroot's reading; a difference
// before it, or in an entry without a referenced element, is a mismatch.
func TestIgnoresPID(t *testing.T) {
	b := branchRow{name: "Track.fBits", sqlType: "UINTEGER[]"}
	h := []any{[]any{uint32(1), uint32(0x10), uint32(1)}, []any{uint32(1)}}
	for _, c := range []struct {
		js   []string
		want bool
	}{
		{[]string{"[1,16,66304]", "[1]"}, true},
		{[]string{"[2,16,66304]", "[1]"}, false},
		{[]string{"[1,16,1]", "[2]"}, false},
		{[]string{"[1,16]", "[1]"}, false},
	} {
		raw := make([]json.RawMessage, len(c.js))
		for i, s := range c.js {
			raw[i] = json.RawMessage(s)
		}
		if got := ignoresPID(b, h, raw); got != c.want {
			t.Errorf("ignoresPID(%v, %v) = %v, want %v", h, c.js, got, c.want)
		}
	}
	if ignoresPID(branchRow{name: "Track.PT", sqlType: "UINTEGER[]"}, h, []json.RawMessage{json.RawMessage("[1,16,66304]"), json.RawMessage("[1]")}) {
		t.Error("ignoresPID applies to a column other than fBits")
	}
}
