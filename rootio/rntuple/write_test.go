package rntuple_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hepsql/hepsql/rootio/rntuple"
)

// memFile is an in-memory io.WriterAt.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	copy(m.b[off:], p)
	return len(p), nil
}

// sample builds n entries of every written kind, entry i from first.
func sample(first, n int) ([]string, []*rntuple.Type, []rntuple.Array) {
	f32 := &rntuple.Type{Kind: rntuple.KindFloat32}
	i32 := &rntuple.Type{Kind: rntuple.KindInt32}
	str := &rntuple.Type{Kind: rntuple.KindString}
	lv := &rntuple.Type{Kind: rntuple.KindStruct, Name: "LV", Names: []string{"pt", "q"}, Members: []*rntuple.Type{f32, i32}}
	types := []*rntuple.Type{
		{Kind: rntuple.KindBool}, {Kind: rntuple.KindInt8}, {Kind: rntuple.KindInt16}, i32, {Kind: rntuple.KindInt64},
		{Kind: rntuple.KindUint16}, {Kind: rntuple.KindUint64}, f32, {Kind: rntuple.KindFloat64}, str,
		{Kind: rntuple.KindList, Elem: f32},
		{Kind: rntuple.KindList, Elem: &rntuple.Type{Kind: rntuple.KindList, Elem: str}},
		{Kind: rntuple.KindOptional, Elem: i32},
		{Kind: rntuple.KindArray, Size: 3, Elem: f32},
		lv,
		{Kind: rntuple.KindList, Elem: lv},
		{Kind: rntuple.KindVariant, Names: []string{"_0", "_1"}, Members: []*rntuple.Type{i32, str}},
		{Kind: rntuple.KindList, Elem: &rntuple.Type{Kind: rntuple.KindVariant, Names: []string{"_0", "_1"}, Members: []*rntuple.Type{f32, {Kind: rntuple.KindList, Elem: i32}}}},
	}
	types = append(types, &rntuple.Type{Kind: rntuple.KindUint8}, &rntuple.Type{Kind: rntuple.KindUint32})
	names := []string{"b", "i8", "i16", "i32", "i64", "u16", "u64", "f32", "f64", "s", "vf", "vvs", "opt", "arr", "lv", "vlv", "var", "lvar", "u8", "u32"}
	arrays := make([]rntuple.Array, len(types))
	for k, t := range types {
		arrays[k] = rntuple.Array{Type: t, Len: n}
	}
	var vfOff, vvsOff, innerOff, optOff, vlvOff = []int64{0}, []int64{0}, []int64{0}, []int64{0}, []int64{0}
	var vf, inner []float64
	var innerS []string
	var opt []int64
	var lvPt []float64
	var lvQ []int64
	var arr []float64
	var vlvPt []float64
	var vlvQ []int64
	var varTags []int32
	var varIdx, varI, lvarOff, lvarIdx, innerVOff, innerV []int64
	var varS []string
	var lvarTags []int32
	var lvarFl []float64
	lvarOff, innerVOff = []int64{0}, []int64{0}
	for i := first; i < first+n; i++ {
		switch i % 3 { // none, an int, a string
		case 0:
			varTags, varIdx = append(varTags, 0), append(varIdx, 0)
		case 1:
			varTags, varIdx = append(varTags, 1), append(varIdx, int64(len(varI)))
			varI = append(varI, int64(i))
		case 2:
			varTags, varIdx = append(varTags, 2), append(varIdx, int64(len(varS)))
			varS = append(varS, fmt.Sprint("v", i))
		}
		for k := range i % 3 {
			if (i+k)%2 == 0 {
				lvarTags, lvarIdx = append(lvarTags, 1), append(lvarIdx, int64(len(lvarFl)))
				lvarFl = append(lvarFl, float64(i+k))
			} else {
				lvarTags, lvarIdx = append(lvarTags, 2), append(lvarIdx, int64(len(innerVOff)-1))
				for m := range k {
					innerV = append(innerV, int64(i*m))
				}
				innerVOff = append(innerVOff, int64(len(innerV)))
			}
		}
		lvarOff = append(lvarOff, int64(len(lvarTags)))
		arrays[0].Bools = append(arrays[0].Bools, i%3 == 0)
		arrays[1].Ints = append(arrays[1].Ints, int64(int8(i)))
		arrays[2].Ints = append(arrays[2].Ints, int64(-i*7))
		arrays[3].Ints = append(arrays[3].Ints, int64(i*1000-5))
		arrays[4].Ints = append(arrays[4].Ints, -int64(i)<<40)
		arrays[5].Uints = append(arrays[5].Uints, uint64(i%65536))
		arrays[6].Uints = append(arrays[6].Uints, uint64(i)<<50)
		arrays[7].Floats = append(arrays[7].Floats, float64(float32(i)/3))
		arrays[8].Floats = append(arrays[8].Floats, float64(i)/7)
		arrays[9].Strings = append(arrays[9].Strings, fmt.Sprintf("entry %d", i))
		arrays[18].Uints = append(arrays[18].Uints, uint64(i*7%256))
		arrays[19].Uints = append(arrays[19].Uints, uint64(i)*2654435761%(1<<32))
		for k := range i % 4 {
			vf = append(vf, float64(i+k))
		}
		vfOff = append(vfOff, int64(len(vf)))
		for k := range i % 3 {
			for m := range k + 1 {
				innerS = append(innerS, fmt.Sprint(i, k, m))
			}
			_ = inner
			innerOff = append(innerOff, int64(len(innerS)))
		}
		vvsOff = append(vvsOff, int64(len(innerOff)-1))
		if i%2 == 1 {
			opt = append(opt, int64(i))
		}
		optOff = append(optOff, int64(len(opt)))
		arr = append(arr, float64(i), float64(i+1), float64(i+2))
		lvPt = append(lvPt, float64(i)+0.5)
		lvQ = append(lvQ, int64(i%2*2-1))
		for k := range i % 5 {
			vlvPt = append(vlvPt, float64(k))
			vlvQ = append(vlvQ, int64(i))
		}
		vlvOff = append(vlvOff, int64(len(vlvPt)))
	}
	arrays[10].Offsets, arrays[10].Children = vfOff, []rntuple.Array{{Type: f32, Len: len(vf), Floats: vf}}
	arrays[11].Offsets = vvsOff
	arrays[11].Children = []rntuple.Array{{Type: types[11].Elem, Len: len(innerOff) - 1, Offsets: innerOff,
		Children: []rntuple.Array{{Type: str, Len: len(innerS), Strings: innerS}}}}
	arrays[12].Offsets, arrays[12].Children = optOff, []rntuple.Array{{Type: i32, Len: len(opt), Ints: opt}}
	arrays[13].Children = []rntuple.Array{{Type: f32, Len: len(arr), Floats: arr}}
	arrays[14].Children = []rntuple.Array{{Type: f32, Len: n, Floats: lvPt}, {Type: i32, Len: n, Ints: lvQ}}
	arrays[15].Offsets = vlvOff
	arrays[15].Children = []rntuple.Array{{Type: lv, Len: len(vlvPt), Children: []rntuple.Array{
		{Type: f32, Len: len(vlvPt), Floats: vlvPt}, {Type: i32, Len: len(vlvQ), Ints: vlvQ}}}}
	arrays[16].Tags, arrays[16].Index = varTags, varIdx
	arrays[16].Children = []rntuple.Array{{Type: i32, Len: len(varI), Ints: varI}, {Type: str, Len: len(varS), Strings: varS}}
	vt := types[17].Elem
	arrays[17].Offsets = lvarOff
	arrays[17].Children = []rntuple.Array{{Type: vt, Len: len(lvarTags), Tags: lvarTags, Index: lvarIdx, Children: []rntuple.Array{
		{Type: f32, Len: len(lvarFl), Floats: lvarFl},
		{Type: vt.Members[1], Len: len(innerVOff) - 1, Offsets: innerVOff, Children: []rntuple.Array{{Type: i32, Len: len(innerV), Ints: innerV}}}}}}
	return names, types, arrays
}

// TestWriteRoundTrip writes every kind the writer supports with each of
// ROOT's compression algorithms (and none), in several clusters and
// cluster groups with small pages, and reads it back: the reader's pages
// in zlib, lzma and lz4, which no test file holds, come from here.
func TestWriteRoundTrip(t *testing.T) {
	for _, comp := range []int{0, 101, 207, 404, 505} {
		t.Run(fmt.Sprint(comp), func(t *testing.T) {
			names, types, _ := sample(0, 0)
			var f memFile
			w, err := rntuple.NewWriter(&f, "events", names, types, rntuple.WriteOptions{Compression: comp, PageElements: 37, ClustersPerGroup: 2})
			if err != nil {
				t.Fatal(err)
			}
			sizes := []int{100, 1, 0, 250, 64}
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
			// The empty cluster is not written.
			readBack(t, f.b, first, len(sizes)-1)
			if os.Getenv("RNTUPLE_WRITE_DIR") != "" { // for reading with other readers by hand
				os.WriteFile(filepath.Join(os.Getenv("RNTUPLE_WRITE_DIR"), fmt.Sprintf("roundtrip-%d.root", comp)), f.b, 0o644)
			}
		})
	}
}

// readBack reads the file of sample's fields that b holds and checks it
// holds entries entries in clusters clusters, equal to sample(0, entries).
func readBack(t *testing.T, b []byte, entries, clusters int) {
	t.Helper()
	names, _, _ := sample(0, 0)
	nt, err := rntuple.Open(bytes.NewReader(b), int64(len(b)), "events")
	if err != nil {
		t.Fatal(err)
	}
	if nt.Entries != int64(entries) || len(nt.Clusters) != clusters {
		t.Fatalf("%d entries in %d clusters", nt.Entries, len(nt.Clusters))
	}
	_, _, want := sample(0, entries)
	for k, name := range names {
		id := -1
		for i, fl := range nt.Fields {
			if fl.TopLevel() && fl.Name == name {
				id = i
			}
		}
		ty, err := nt.TypeOf(id)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e := 0
		for ci := range nt.Clusters {
			a, err := nt.ReadType(ty, ci)
			if err != nil {
				t.Fatal(err)
			}
			for r := range a.Len {
				if got, exp := a.Value(r), want[k].Value(e); !reflect.DeepEqual(got, exp) {
					t.Fatalf("%s[%d]: %v, want %v", name, e, got, exp)
				}
				e++
			}
		}
	}
}

// TestAppendStreams writes sample's fields through Append in chunks of
// odd sizes, several to a cluster, so that pages (37 elements) fill and
// are sealed in the middle of a chunk and of a cluster, lists' offsets
// and variants' indexes run on across chunks, and reads back what
// WriteCluster's whole clusters give; the checker accepts the file.
func TestAppendStreams(t *testing.T) {
	for _, comp := range []int{0, 505} {
		t.Run(fmt.Sprint(comp), func(t *testing.T) {
			names, types, _ := sample(0, 0)
			var f memFile
			w, err := rntuple.NewWriter(&f, "events", names, types, rntuple.WriteOptions{Compression: comp, PageElements: 37, ClustersPerGroup: 2})
			if err != nil {
				t.Fatal(err)
			}
			clusters := [][]int{{7, 1, 13, 40, 0, 39}, {1}, {200, 3}, {5, 5, 5, 5}}
			first := 0
			for _, chunks := range clusters {
				for _, n := range chunks {
					_, _, arrays := sample(first, n)
					if err := w.Append(arrays); err != nil {
						t.Fatal(err)
					}
					first += n
				}
				if err := w.CommitCluster(); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.CommitCluster(); err != nil { // nothing pending: no cluster
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			conforms(t, f.b)
			readBack(t, f.b, first, len(clusters))
		})
	}
}
