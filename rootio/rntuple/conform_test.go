package rntuple_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/rntconform"
	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rntuple"
)

// writeSample writes sample rows in clusters of the given sizes.
func writeSample(t *testing.T, opts rntuple.WriteOptions, sizes ...int) []byte {
	t.Helper()
	names, types, _ := sample(0, 0)
	var f memFile
	w, err := rntuple.NewWriter(&f, "events", names, types, opts)
	if err != nil {
		t.Fatal(err)
	}
	first := 0
	for _, n := range sizes {
		_, _, arrays := sample(first, n)
		if err := w.WriteCluster(arrays); err != nil {
			t.Fatal(err)
		}
		first += n
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return f.b
}

func conforms(t *testing.T, b []byte) *rntconform.Report {
	t.Helper()
	rep := rntconform.Check(b)
	for _, e := range rep.Errors {
		t.Error(e)
	}
	for _, w := range rep.Warnings {
		t.Error("ROOT's practice:", w)
	}
	if len(rep.NTuples) != 1 {
		t.Fatalf("%d RNTuples", len(rep.NTuples))
	}
	return rep
}

// TestWriterConforms runs the independent checker (internal/rntconform,
// written from the specification and validated on ROOT's files) over the
// writer's files: every kind, every compression, many clusters and
// groups, pages cut by the element bound, no rows.
func TestWriterConforms(t *testing.T) {
	cases := []struct {
		name  string
		opts  rntuple.WriteOptions
		sizes []int
	}{
		{"none", rntuple.WriteOptions{}, []int{300}},
		{"zlib1", rntuple.WriteOptions{Compression: 101}, []int{300}},
		{"zlib9", rntuple.WriteOptions{Compression: 109}, []int{300}},
		{"lzma", rntuple.WriteOptions{Compression: 207}, []int{60}},
		{"lz4", rntuple.WriteOptions{Compression: 404}, []int{300}},
		{"zstd", rntuple.WriteOptions{Compression: 505}, []int{300}},
		{"clusters", rntuple.WriteOptions{Compression: 505, PageElements: 37}, []int{100, 1, 0, 250, 64, 7, 7, 7}},
		{"groups", rntuple.WriteOptions{Compression: 101, PageElements: 10, ClustersPerGroup: 3}, []int{20, 30, 40, 50, 60, 70, 80}},
		{"nochecksums", rntuple.WriteOptions{Compression: 505, NoPageChecksums: true}, []int{50, 50}},
		{"empty", rntuple.WriteOptions{Compression: 505}, nil},
		{"longname", rntuple.WriteOptions{Compression: 505, FileName: strings.Repeat("n", 190) + ".root"}, []int{10}},
		{"emptycluster", rntuple.WriteOptions{Compression: 505}, []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := writeSample(t, c.opts, c.sizes...)
			rep := conforms(t, b)
			nt := rep.NTuples[0]
			total, clusters := 0, 0
			for _, n := range c.sizes {
				total += n
				if n > 0 {
					clusters++
				}
			}
			if nt.Entries != int64(total) || nt.Clusters != clusters {
				t.Errorf("%d entries in %d clusters, want %d in %d", nt.Entries, nt.Clusters, total, clusters)
			}
			if nt.Pages > 0 && (c.opts.NoPageChecksums != (nt.PageChecksum == 0) || !c.opts.NoPageChecksums && nt.PageChecksum != nt.Pages) {
				t.Errorf("%d of %d pages with a checksum", nt.PageChecksum, nt.Pages)
			}
			for s := range nt.Compressions {
				if int(s) != c.opts.Compression {
					t.Errorf("compression settings %d in the page list, want %d", s, c.opts.Compression)
				}
			}
			// The leaves' values as the checker decodes them from the
			// pages (split, zigzag, bits), against what was written.
			names, _, want := sample(0, total)
			leaves := 0
			for k, name := range names {
				got, ok := nt.TopValues[name]
				if !ok {
					continue
				}
				leaves++
				if len(got) != total {
					t.Errorf("%s: %d values decoded, want %d", name, len(got), total)
					continue
				}
				for i, g := range got {
					w := want[k].Value(i)
					if f, isF := g.(float64); isF && want[k].Type.Kind == rntuple.KindFloat32 {
						g = float64(float32(f))
					}
					if u, isU := g.(uint64); isU && (want[k].Type.Kind >= rntuple.KindInt8 && want[k].Type.Kind <= rntuple.KindInt64) {
						g = int64(u)
					}
					if !reflect.DeepEqual(g, w) {
						t.Errorf("%s[%d]: the pages hold %v (%T), want %v (%T)", name, i, g, g, w, w)
						break
					}
				}
			}
			if total > 0 && leaves != 12 {
				t.Errorf("%d leaf fields decoded by the checker, want 12", leaves)
			}
		})
	}
}

// TestWriterConformsLargePages writes pages over 16 MiB (several
// compressed blocks each) and over the element bound.
func TestWriterConformsLargePages(t *testing.T) {
	f64 := &rntuple.Type{Kind: rntuple.KindFloat64}
	n := 17 << 17 // 17 MiB of doubles in one page: two compressed blocks
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = float64(i%1000) * 0.25
	}
	for _, comp := range []int{0, 505} {
		var f memFile
		w, err := rntuple.NewWriter(&f, "big", []string{"x"}, []*rntuple.Type{f64}, rntuple.WriteOptions{Compression: comp, PageSize: 8 * int64(n)})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteCluster([]rntuple.Array{{Type: f64, Len: n, Floats: vals}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		rep := conforms(t, f.b)
		if rep.NTuples[0].Pages != 1 || rep.NTuples[0].Entries != int64(n) {
			t.Errorf("compression %d: %d pages, %d entries", comp, rep.NTuples[0].Pages, rep.NTuples[0].Entries)
		}
	}
}

// TestWriterLayoutLikeROOT compares the writer's file with ROOT's for the
// same schema (test_int_vfloat_tlv_vtlv: an int, a vector<float>, a
// struct LV of four floats, a vector<LV>): the same keys in the same
// order, the same anchor values, the same field and column descriptions
// but for what only a C++ dictionary gives (LV's type version and
// checksum).
func TestWriterLayoutLikeROOT(t *testing.T) {
	path := testfiles.Shared(t, "rntuple/test_int_vfloat_tlv_vtlv_rntuple_v1-0-0-0.root")
	rb, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root := rntconform.Check(rb)
	f32 := &rntuple.Type{Kind: rntuple.KindFloat32}
	lv := &rntuple.Type{Kind: rntuple.KindStruct, Name: "LV", Names: []string{"pt", "eta", "phi", "mass"}, Members: []*rntuple.Type{f32, f32, f32, f32}}
	types := []*rntuple.Type{{Kind: rntuple.KindInt32}, {Kind: rntuple.KindList, Elem: f32}, lv, {Kind: rntuple.KindList, Elem: lv}}
	var f memFile
	w, err := rntuple.NewWriter(&f, "ntuple", []string{"one_integers", "two_v_floats", "three_LV", "four_v_LVs"}, types, rntuple.WriteOptions{Compression: 505})
	if err != nil {
		t.Fatal(err)
	}
	fl := func(n int) rntuple.Array { return rntuple.Array{Type: f32, Len: n, Floats: make([]float64, n)} }
	lvs := func(n int) rntuple.Array {
		return rntuple.Array{Type: lv, Len: n, Children: []rntuple.Array{fl(n), fl(n), fl(n), fl(n)}}
	}
	if err := w.WriteCluster([]rntuple.Array{
		{Type: types[0], Len: 2, Ints: []int64{1, 2}},
		{Type: types[1], Len: 2, Offsets: []int64{0, 1, 3}, Children: []rntuple.Array{fl(3)}},
		lvs(2),
		{Type: types[3], Len: 2, Offsets: []int64{0, 2, 2}, Children: []rntuple.Array{lvs(2)}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ours := conforms(t, f.b)
	roles := func(r *rntconform.Report) string {
		var s []string
		for _, k := range r.Keys {
			s = append(s, k.Class+":"+k.Role)
		}
		return strings.Join(s, " ")
	}
	// ROOT's key list and free-segment keys carry the class TFile or
	// none, depending on the version: compare roles only there.
	norm := func(s string) string {
		return strings.NewReplacer("TFile:key list", ":key list", "TFile:free", ":free").Replace(s)
	}
	if g, w := norm(roles(ours)), norm(roles(root)); g != w {
		t.Errorf("keys:\n ours %s\n ROOT %s", g, w)
	}
	a, b := ours.NTuples[0], root.NTuples[0]
	if a.Anchor.Version != b.Anchor.Version || a.Anchor.MaxKeySize != b.Anchor.MaxKeySize || a.AnchorClassV != b.AnchorClassV {
		t.Errorf("anchor: ours %+v (class v%d), ROOT %+v (class v%d)", a.Anchor, a.AnchorClassV, b.Anchor, b.AnchorClassV)
	}
	if len(a.Fields) != len(b.Fields) || len(a.Columns) != len(b.Columns) {
		t.Fatalf("%d fields, %d columns; ROOT %d, %d", len(a.Fields), len(a.Columns), len(b.Fields), len(b.Columns))
	}
	for i := range a.Fields {
		g, w := a.Fields[i], b.Fields[i]
		if w.Type == "LV" { // a dictionary's class version and streamer checksum
			w.TypeVersion, w.Flags, w.Checksum = 0, 0, 0
		}
		if g != w {
			t.Errorf("field %d:\n ours %+v\n ROOT %+v", i, g, w)
		}
	}
	for i := range a.Columns {
		if a.Columns[i] != b.Columns[i] {
			t.Errorf("column %d: ours %+v, ROOT %+v", i, a.Columns[i], b.Columns[i])
		}
	}
	if len(a.BlobsPerKey) != len(b.BlobsPerKey) {
		t.Errorf("page keys: ours %v pages per key, ROOT %v", a.BlobsPerKey, b.BlobsPerKey)
	}
	if testing.Verbose() {
		fmt.Println(roles(ours))
		fmt.Println(roles(root))
	}
}

// TestWriterNullable: a Nullable field with absent entries in its second
// cluster only becomes std::optional<T> (the first cluster's index pages
// made at Close); one whose entries are all present stays plain T. Both
// files conform, and the values read back with their gaps.
func TestWriterNullable(t *testing.T) {
	i32 := &rntuple.Type{Kind: rntuple.KindInt32}
	str := &rntuple.Type{Kind: rntuple.KindString}
	types := []*rntuple.Type{{Kind: rntuple.KindOptional, Elem: i32}, {Kind: rntuple.KindOptional, Elem: str}, i32}
	var f memFile
	w, err := rntuple.NewWriter(&f, "n", []string{"x", "s", "plain"}, types, rntuple.WriteOptions{Compression: 505, PageElements: 3, Nullable: []bool{true, true}, ClustersPerGroup: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Entries 0..14 in clusters of 5; x is absent at 7 and 8.
	var want []any
	for c := range 3 {
		xs := rntuple.Array{Type: types[0], Len: 5, Offsets: []int64{0}, Children: []rntuple.Array{{Type: i32}}}
		ss := rntuple.Array{Type: types[1], Len: 5, Offsets: []int64{0}, Children: []rntuple.Array{{Type: str}}}
		pl := rntuple.Array{Type: i32, Len: 5}
		for k := range 5 {
			i := c*5 + k
			if i != 7 && i != 8 {
				xs.Children[0].Ints = append(xs.Children[0].Ints, int64(i*10))
				xs.Children[0].Len++
				want = append(want, int64(i*10))
			} else {
				want = append(want, nil)
			}
			xs.Offsets = append(xs.Offsets, int64(xs.Children[0].Len))
			ss.Children[0].Strings = append(ss.Children[0].Strings, fmt.Sprint("s", i))
			ss.Children[0].Len++
			ss.Offsets = append(ss.Offsets, int64(ss.Children[0].Len))
			pl.Ints = append(pl.Ints, int64(-i))
		}
		if err := w.WriteCluster([]rntuple.Array{xs, ss, pl}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rep := conforms(t, f.b)
	var got []string
	for _, fl := range rep.NTuples[0].Fields {
		got = append(got, fmt.Sprintf("%s:%s:%d", fl.Name, fl.Type, fl.Parent))
	}
	if g, w := strings.Join(got, " "), "x:std::optional<std::int32_t>:0 _0:std::int32_t:0 s:std::string:2 plain:std::int32_t:3"; g != w {
		t.Errorf("fields %s, want %s", g, w)
	}
	nt, err := rntuple.Open(bytes.NewReader(f.b), int64(len(f.b)), "n")
	if err != nil {
		t.Fatal(err)
	}
	ty, err := nt.TypeOf(0)
	if err != nil {
		t.Fatal(err)
	}
	var vals []any
	for ci := range nt.Clusters {
		a, err := nt.ReadType(ty, ci)
		if err != nil {
			t.Fatal(err)
		}
		for r := range a.Len {
			vals = append(vals, a.Value(r))
		}
	}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("x: %v, want %v", vals, want)
	}
}

// genArray makes n values of type t, varied by position (lists of 0 to
// 2 items, optionals present every other time).
func genArray(t *rntuple.Type, n int, seed *int) rntuple.Array {
	a := rntuple.Array{Type: t, Len: n}
	next := func() int { *seed++; return *seed }
	switch t.Kind {
	case rntuple.KindList, rntuple.KindOptional:
		a.Offsets = []int64{0}
		total := 0
		for range n {
			k := next() % 3
			if t.Kind == rntuple.KindOptional {
				k %= 2
			}
			total += k
			a.Offsets = append(a.Offsets, int64(total))
		}
		a.Children = []rntuple.Array{genArray(t.Elem, total, seed)}
	case rntuple.KindArray:
		a.Children = []rntuple.Array{genArray(t.Elem, n*t.Size, seed)}
	case rntuple.KindStruct:
		for _, m := range t.Members {
			a.Children = append(a.Children, genArray(m, n, seed))
		}
	case rntuple.KindString:
		for range n {
			a.Strings = append(a.Strings, fmt.Sprint("s", next()))
		}
	case rntuple.KindFloat64:
		for range n {
			a.Floats = append(a.Floats, float64(next())/4)
		}
	default:
		for range n {
			a.Ints = append(a.Ints, int64(next()%1000-500))
		}
	}
	return a
}

// TestWriterConformsDeep writes a type nested nine levels deep over
// several clusters and checks the file and its values.
func TestWriterConformsDeep(t *testing.T) {
	str := &rntuple.Type{Kind: rntuple.KindString}
	f64 := &rntuple.Type{Kind: rntuple.KindFloat64}
	i16 := &rntuple.Type{Kind: rntuple.KindInt16}
	inner := &rntuple.Type{Kind: rntuple.KindStruct, Name: "Inner", Names: []string{"s", "x"}, Members: []*rntuple.Type{
		{Kind: rntuple.KindList, Elem: str}, {Kind: rntuple.KindArray, Size: 2, Elem: f64}}}
	deep := &rntuple.Type{Kind: rntuple.KindList, Elem: &rntuple.Type{Kind: rntuple.KindList, Elem: &rntuple.Type{
		Kind: rntuple.KindStruct, Name: "Outer", Names: []string{"o", "in", "n"}, Members: []*rntuple.Type{
			{Kind: rntuple.KindOptional, Elem: &rntuple.Type{Kind: rntuple.KindList, Elem: inner}},
			{Kind: rntuple.KindArray, Size: 3, Elem: &rntuple.Type{Kind: rntuple.KindList, Elem: i16}},
			i16}}}}
	var f memFile
	w, err := rntuple.NewWriter(&f, "deep", []string{"d"}, []*rntuple.Type{deep}, rntuple.WriteOptions{Compression: 404, PageElements: 5})
	if err != nil {
		t.Fatal(err)
	}
	seed := 0
	var wants []rntuple.Array
	for _, n := range []int{40, 1, 17} {
		a := genArray(deep, n, &seed)
		wants = append(wants, a)
		if err := w.WriteCluster([]rntuple.Array{a}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rep := conforms(t, f.b)
	if len(rep.NTuples[0].Fields) != 14 {
		t.Errorf("%d fields", len(rep.NTuples[0].Fields))
	}
	nt, err := rntuple.Open(bytes.NewReader(f.b), int64(len(f.b)), "deep")
	if err != nil {
		t.Fatal(err)
	}
	ty, err := nt.TypeOf(0)
	if err != nil {
		t.Fatal(err)
	}
	for ci, want := range wants {
		a, err := nt.ReadType(ty, ci)
		if err != nil {
			t.Fatal(err)
		}
		for r := range want.Len {
			if g, w := a.Value(r), want.Value(r); !reflect.DeepEqual(g, w) {
				t.Fatalf("cluster %d entry %d: %v, want %v", ci, r, g, w)
			}
		}
	}
}

// TestMultiKeyObjects: with a small maximum key size, pages and
// envelopes are split over several RBlob keys as ROOT splits them; the
// checker follows the chunks on its own, and the reader reads the values
// back.
func TestMultiKeyObjects(t *testing.T) {
	for _, c := range []struct {
		maxKey int64
		comp   int
	}{{256, 505}, {400, 0}, {500, 101}} {
		t.Run(fmt.Sprint(c.maxKey, "-", c.comp), func(t *testing.T) {
			b := writeSample(t, rntuple.WriteOptions{Compression: c.comp, MaxKeySize: c.maxKey, PageElements: 50}, 120, 80)
			rep := conforms(t, b)
			nt := rep.NTuples[0]
			if int64(nt.Anchor.MaxKeySize) != c.maxKey || nt.Entries != 200 {
				t.Fatalf("anchor max key %d, %d entries", nt.Anchor.MaxKeySize, nt.Entries)
			}
			for _, k := range rep.Keys {
				if k.Class == "RBlob" && int64(k.Nbytes-int32(k.Keylen)) > c.maxKey {
					t.Errorf("RBlob at %d holds %d bytes, over %d", k.Seek, k.Nbytes-int32(k.Keylen), c.maxKey)
				}
			}
			if nt.Anchor.NbytesHeader <= uint64(c.maxKey) {
				t.Errorf("the header (%d bytes) is not split: the test proves nothing", nt.Anchor.NbytesHeader)
			}
			// A chunk offset pointing past the file is an error, not a crash.
			bad := append([]byte(nil), b...)
			at := int(nt.Anchor.SeekHeader) + int(c.maxKey) - 8
			copy(bad[at:], []byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0})
			if _, err := rntuple.Open(bytes.NewReader(bad), int64(len(bad)), "events"); err == nil || !strings.Contains(err.Error(), "chunk") {
				t.Errorf("a header chunk outside the file: %v", err)
			}
			r, err := rntuple.Open(bytes.NewReader(b), int64(len(b)), "events")
			if err != nil {
				t.Fatal(err)
			}
			names, _, want := sample(0, 200)
			for k, name := range names {
				id := -1
				for i, fl := range r.Fields {
					if fl.TopLevel() && fl.Name == name {
						id = i
					}
				}
				ty, err := r.TypeOf(id)
				if err != nil {
					t.Fatal(err)
				}
				e := 0
				for ci := range r.Clusters {
					a, err := r.ReadType(ty, ci)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					for i := range a.Len {
						if g, w := a.Value(i), want[k].Value(e); !reflect.DeepEqual(g, w) {
							t.Fatalf("%s[%d]: %v, want %v", name, e, g, w)
						}
						e++
					}
				}
			}
		})
	}
}

// TestWriterBytesLikeROOT writes the schemas of two ROOT fixtures (the
// same names, types, entries, one page per column) and compares the
// bytes: the header envelopes must be equal but for the writer's name
// (and so their checksums), the footers and page lists of the same
// lengths, the anchors of the same version and key size.
func TestWriterBytesLikeROOT(t *testing.T) {
	f32 := &rntuple.Type{Kind: rntuple.KindFloat32}
	i32 := &rntuple.Type{Kind: rntuple.KindInt32}
	for _, c := range []struct {
		file  string
		names []string
		types []*rntuple.Type
	}{
		{"test_int_float_rntuple_v1-0-0-0.root", []string{"one_integers", "two_floats"}, []*rntuple.Type{i32, f32}},
		{"test_1jag_int_float_rntuple_v1-0-0-0.root", []string{"one_v_integers", "two_v_floats"},
			[]*rntuple.Type{{Kind: rntuple.KindList, Elem: i32}, {Kind: rntuple.KindList, Elem: f32}}},
	} {
		t.Run(c.file, func(t *testing.T) {
			rb, err := os.ReadFile(testfiles.Shared(t, "rntuple/"+c.file))
			if err != nil {
				t.Fatal(err)
			}
			root := rntconform.Check(rb).NTuples[0]
			n := int(root.Entries)
			arrays := make([]rntuple.Array, len(c.types))
			for k, ty := range c.types {
				arrays[k] = genArray(ty, n, new(int))
				if ty.Kind == rntuple.KindFloat32 {
					arrays[k] = rntuple.Array{Type: ty, Len: n, Floats: make([]float64, n)}
				}
				if ty.Kind == rntuple.KindList && ty.Elem.Kind == rntuple.KindFloat32 {
					arrays[k].Children[0] = rntuple.Array{Type: ty.Elem, Len: arrays[k].Children[0].Len, Floats: make([]float64, arrays[k].Children[0].Len)}
				}
			}
			var f memFile
			w, err := rntuple.NewWriter(&f, root.Name, c.names, c.types, rntuple.WriteOptions{Compression: 505, PageElements: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteCluster(arrays); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			ours := conforms(t, f.b).NTuples[0]
			// The schema: after type, length, feature flags, name,
			// description and writer.
			schema := func(h []byte) []byte {
				p := 16
				for range 3 {
					p += 4 + int(binary.LittleEndian.Uint32(h[p:]))
				}
				return h[p : len(h)-8]
			}
			rs := schema(root.Header)
			if g := schema(ours.Header); !bytes.Equal(g, rs) {
				t.Errorf("header schema bytes differ:\n ours % x\n ROOT % x", g, rs)
			}
			if ours.Anchor.Version != root.Anchor.Version || ours.Anchor.MaxKeySize != root.Anchor.MaxKeySize {
				t.Errorf("anchor %+v, ROOT %+v", ours.Anchor, root.Anchor)
			}
			if ours.Anchor.LenFooter != root.Anchor.LenFooter || !reflect.DeepEqual(ours.PageLists, root.PageLists) {
				t.Errorf("footer %d bytes, page lists %v; ROOT %d, %v", ours.Anchor.LenFooter, ours.PageLists, root.Anchor.LenFooter, root.PageLists)
			}
			if ours.Pages != root.Pages {
				t.Errorf("%d pages, ROOT %d", ours.Pages, root.Pages)
			}
		})
	}
}
