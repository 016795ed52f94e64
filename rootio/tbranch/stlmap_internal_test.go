package tbranch

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// TestMapOf: the map containers' type names split into key and value at
// the top-level comma, dropping a comparator or allocator.
func TestMapOf(t *testing.T) {
	for _, tc := range []struct{ in, k, v string }{
		{"map<int,short>", "int", "short"},
		{"unordered_map<string,string>", "string", "string"},
		{"map<int,vector<short>>", "int", "vector<short>"},
		{"map<pair<int,int>,double,less<pair<int,int>>>", "pair<int,int>", "double"},
	} {
		k, v, ok := mapOf(tc.in)
		if !ok || k != tc.k || v != tc.v {
			t.Errorf("mapOf(%q) = %q, %q, %v; want %q, %q", tc.in, k, v, ok, tc.k, tc.v)
		}
	}
	for _, in := range []string{"vector<int>", "map<int>", "mapping<int,int>", "multimap<int,int>", "unordered_multimap<int,int>"} {
		if _, _, ok := mapOf(in); ok {
			t.Errorf("mapOf(%q) accepted", in)
		}
	}
}

// TestMapEntryHostile: entries of map<string,short> copied from go-hep's
// std-containers file decode to their pairs; every truncation and every
// count or length byte set to hostile values gives an error, never a panic
// or an allocation sized by the claim.
func TestMapEntryHostile(t *testing.T) {
	c := &Column{}
	if !mapColumn(c, "map<string,short>") {
		t.Fatal("map<string,short> not a MAP column")
	}
	// Member-wise: byte count, version 0x4009, pair version 1, 2 pairs,
	// the keys behind one std::string header, then the values.
	good := []byte{0x40, 0, 0, 0x1a, 0x40, 0x09, 0, 1, 0, 0, 0, 2, 0x40, 0, 0, 0x0a, 0, 9, 3, 'o', 'n', 'e', 3, 't', 'w', 'o', 0xff, 0xff, 0xff, 0xfe}
	var bufs [2]mapBuf
	n, err := c.mapEntry(good, &bufs)
	if err != nil || n != 2 || string(bufs[0].strs) != "onetwo" || !reflect.DeepEqual(bufs[0].ends, []uint64{3, 6}) || !reflect.DeepEqual(bufs[1].raw, []byte{0xff, 0xff, 0xff, 0xfe}) {
		t.Fatalf("mapEntry = %d, %v, %+v", n, err, bufs)
	}
	for cut := range len(good) - 1 {
		if _, err := c.mapEntry(good[:cut], &[2]mapBuf{}); err == nil {
			t.Errorf("entry cut to %d bytes: no error", cut)
		}
	}
	for i := range good {
		for _, b := range []byte{0, 0x7f, 0x80, 0xff} {
			bad := append([]byte(nil), good...)
			bad[i] = b
			var bufs [2]mapBuf
			if n, err := c.mapEntry(bad, &bufs); err == nil && (n > 2 || len(bufs[0].strs) > len(bad)) {
				t.Errorf("byte %d set to %#x: %d pairs from %d bytes", i, b, n, len(bad))
			}
		}
	}
	huge := append([]byte(nil), good...)
	copy(huge[8:], []byte{0x7f, 0xff, 0xff, 0xff})
	if _, err := c.mapEntry(huge, &[2]mapBuf{}); !errors.Is(err, rfile.ErrCorrupt) || !strings.Contains(err.Error(), "pairs") {
		t.Errorf("2^31-1 pairs: %v", err)
	}
	// "two" renamed "one": the second pair repeats the first's key, which
	// a std::map cannot hold and a DuckDB MAP must not.
	repeated := append([]byte(nil), good...)
	copy(repeated[23:26], "one")
	if _, err := c.mapEntry(repeated, &[2]mapBuf{}); !errors.Is(err, rfile.ErrCorrupt) || !strings.Contains(err.Error(), "map pair 1 repeats the key of pair 0") {
		t.Errorf("repeated key: %v", err)
	}
	// A repeat among 20 numeric keys (the hashed path), after a first
	// entry in the same buffers.
	ints := &Column{}
	if !mapColumn(ints, "map<int,int>") {
		t.Fatal("map<int,int> not a MAP column")
	}
	entry := func(keys ...uint32) []byte {
		b := []byte{0x40, 0, 0, 0, 0x40, 0x09, 0, 1, 0, 0, 0, byte(len(keys))}
		for _, k := range keys {
			b = append(b, byte(k>>24), byte(k>>16), byte(k>>8), byte(k))
		}
		for range keys {
			b = append(b, 0, 0, 0, 1)
		}
		return b
	}
	var many [2]mapBuf
	keys := make([]uint32, 20)
	for i := range keys {
		keys[i] = uint32(100 + i)
	}
	if _, err := ints.mapEntry(entry(keys...), &many); err != nil {
		t.Fatalf("20 distinct keys: %v", err)
	}
	keys[17] = 103
	if _, err := ints.mapEntry(entry(keys...), &many); !errors.Is(err, rfile.ErrCorrupt) || !strings.Contains(err.Error(), "map pair 17 repeats the key of pair 3") {
		t.Errorf("repeated numeric key: %v", err)
	}
	objectWise := append([]byte(nil), good...)
	objectWise[4] = 0
	if _, err := c.mapEntry(objectWise, &[2]mapBuf{}); err == nil || !strings.Contains(err.Error(), "object-wise") {
		t.Errorf("object-wise map: %v", err)
	}
}

// TestMapListValuesHostile: map<int,vector<short>>, an entry copied from
// go-hep's std-containers file ({-2: [-1, -2], -1: [-1]}); truncations and
// a hostile inner count give errors.
func TestMapListValuesHostile(t *testing.T) {
	c := &Column{}
	if !mapColumn(c, "map<int,vector<short>>") || c.Type.String() != "MAP(INTEGER, SMALLINT[])" {
		t.Fatalf("map<int,vector<short>>: layout %v, type %v", c.Layout, c.Type)
	}
	good := []byte{0x40, 0, 0, 0x24, 0x40, 0x09, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff,
		0x40, 0, 0, 0x10, 0, 9, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 1, 0xff, 0xff}
	var bufs [2]mapBuf
	n, err := c.mapEntry(good, &bufs)
	if err != nil || n != 2 || !reflect.DeepEqual(bufs[1].lens, []int{2, 1}) || len(bufs[1].raw) != 6 || len(bufs[0].raw) != 8 {
		t.Fatalf("mapEntry = %d, %v, %+v", n, err, bufs)
	}
	for cut := range len(good) - 1 {
		if _, err := c.mapEntry(good[:cut], &[2]mapBuf{}); err == nil {
			t.Errorf("entry cut to %d bytes: no error", cut)
		}
	}
	huge := append([]byte(nil), good...)
	copy(huge[26:], []byte{0x7f, 0xff, 0xff, 0xff})
	if _, err := c.mapEntry(huge, &[2]mapBuf{}); !errors.Is(err, rfile.ErrCorrupt) || !strings.Contains(err.Error(), "elements") {
		t.Errorf("2^31-1 elements: %v", err)
	}
}
