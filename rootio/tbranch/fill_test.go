package tbranch

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/ttree"
)

type memFile struct{ *bytes.Reader }

func (f memFile) Size() (int64, error) { return f.Reader.Size(), nil }
func (memFile) Close() error           { return nil }

// TestFillWithoutDuckDB writes a tree with groot (scalars, a fixed array,
// a counted jagged leaf, a std::vector, a C string and a std::string
// leaf list's neighbours) over several baskets, types its columns with
// ColumnsOf and decodes every column through Reader.Fill into MemVectors,
// in chunks that straddle the baskets: the values must be those written.
func TestFillWithoutDuckDB(t *testing.T) {
	const rows = 1000
	var (
		i32 int32
		u16 uint16
		f64 float64
		b   bool
		arr [3]float32
		n   int32
		jag []float32
		vec []int64
		str string
	)
	vars := []rtree.WriteVar{
		{Name: "i32", Value: &i32},
		{Name: "u16", Value: &u16},
		{Name: "f64", Value: &f64},
		{Name: "b", Value: &b},
		{Name: "arr", Value: &arr},
		{Name: "n", Value: &n},
		{Name: "jag", Value: &jag, Count: "n"},
		{Name: "vec", Value: &vec},
		{Name: "str", Value: &str},
	}
	want := map[string][]any{}
	fill := func(e int) {
		i32, u16, f64, b = int32(e*7-300), uint16(e*13), float64(e)/3, e%3 == 0
		arr = [3]float32{float32(e), float32(-e), 0.5}
		n = int32(e % 5)
		jag = jag[:0]
		for k := range int(n) {
			jag = append(jag, float32(e)+float32(k)/10)
		}
		vec = vec[:0]
		for k := range e % 4 {
			vec = append(vec, int64(e)<<20+int64(k))
		}
		str = fmt.Sprintf("entry %d", e)
		anys := func(s any) []any {
			v := reflect.ValueOf(s)
			out := make([]any, v.Len())
			for i := range out {
				out[i] = v.Index(i).Interface()
			}
			return out
		}
		for name, v := range map[string]any{"i32": i32, "u16": u16, "f64": f64, "b": b, "arr": anys(arr), "n": n, "jag": anys(jag), "vec": anys(vec), "str": str} {
			want[name] = append(want[name], v)
		}
	}
	path := filepath.Join(t.TempDir(), "fill.root")
	data := testfiles.WriteTree(t, path, "t", vars, rows, fill, rtree.WithBasketSize(512))
	rf, err := riofs.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	obj, err := rf.Get("t")
	if err != nil {
		t.Fatal(err)
	}
	cols, err := ColumnsOf(obj.(rtree.Tree), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &File{Path: path, Tree: "t", R: &rfile.CountingFile{File: memFile{bytes.NewReader(data)}, FileSize: int64(len(data))}, Cols: cols}
	if len(cols) != len(vars) {
		t.Fatalf("%d columns, want %d", len(cols), len(vars))
	}
	for _, c := range cols {
		if !c.Supported() {
			t.Errorf("%s: unsupported: %s", c.Name, c.Why)
			continue
		}
		if len(c.Baskets.Seek) < 2 {
			t.Errorf("%s: %d baskets, the test wants several", c.Name, len(c.Baskets.Seek))
		}
		r := NewReader(c, f)
		for _, chunk := range []int{rows, 97} {
			var got []any
			for at := 0; at < rows; at += chunk {
				k := min(chunk, rows-at)
				m := NewMemVector(c.Type)
				if err := r.Fill(m, int64(at), k); err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				for i := range k {
					got = append(got, m.Value(i))
				}
			}
			if !reflect.DeepEqual(got, want[c.Name]) {
				t.Errorf("%s (%s, chunks of %d): decoded %v…, wrote %v…", c.Name, c.Type, chunk, got[:3], want[c.Name][:3])
			}
		}
	}
}

// FuzzDecodeEntry runs the element decoders of every encoding, and the
// entry parsers (std::vector and string headers, maps), over arbitrary
// bytes: none may panic or read past its input.
func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte{0x40, 0, 0, 10, 0, 9, 0, 0, 0, 2, 0x3f, 0x80, 0, 0, 0x40, 0, 0, 0})
	f.Add([]byte{3, 'a', 'b', 'c', 255, 0, 0, 0, 1, 'x'})
	f.Add([]byte{0x40, 0, 0, 30, 0x40, 9, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 1, 'a', 1, 'b'})
	// Seeds from real baskets: the first entries of each branch of the
	// CMS sample and of a NanoAOD file, and the start of its first basket
	// (two well-formed files groot opens without read_root's guards).
	for _, name := range []string{testfiles.CMSSample(f), testfiles.UprootTestFile(f, "nanoAOD_2015_CMS_Open_Data_ttbar.root")} {
		for _, seed := range basketSeeds(f, name) {
			f.Add(seed)
		}
	}
	var dst []byte // the decoders' output, reused across executions
	maps := []*Column{}
	for _, cxx := range []string{"map<int,int>", "map<string,double>", "map<int,vector<short>>", "map<TString,string>"} {
		c := &Column{}
		if !mapColumn(c, cxx) {
			f.Fatalf("%s is not a map column", cxx)
		}
		maps = append(maps, c)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		for _, p := range []packing{{}, {nbits: 12}, {factor: 10, xmin: -1}} {
			for e := EncBool; e <= EncD32; e++ {
				if n := 8*len(b) + 8; cap(dst) < n {
					dst = make([]byte, n)
				}
				dst = dst[:8*len(b)+8]
				_ = decodeElems(e, p, dst, b, len(b)/max(1, e.diskSize(p)))
				// A count larger than the input must be refused, not read.
				if err := decodeElems(e, p, dst, b, len(b)+1); err == nil {
					t.Fatalf("encoding %d: %d elements from %d bytes", e, len(b)+1, len(b))
				}
			}
		}
		if n, body, err := vectorBody(b); err == nil && n < 0 || len(body) > len(b) {
			t.Fatalf("vectorBody: %d elements, %d of %d bytes", n, len(body), len(b))
		}
		if s, rest, err := readString(b); err == nil && len(s)+len(rest) >= len(b)+1 {
			t.Fatalf("readString: %d+%d bytes of %d", len(s), len(rest), len(b))
		}
		for _, c := range maps {
			var bufs [2]mapBuf
			_, _ = c.mapEntry(b, &bufs)
		}
	})
}

// basketSeeds reads the first basket of every branch of file name's
// Events tree and returns its first entries and the start of its data.
func basketSeeds(t testing.TB, name string) [][]byte {
	rf, err := riofs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	obj, err := rf.Get("Events")
	if err != nil {
		t.Fatal(err)
	}
	cols, err := ColumnsOf(obj.(rtree.Tree), nil)
	if err != nil {
		t.Fatal(err)
	}
	var seeds [][]byte
	for _, c := range cols {
		bt := c.Baskets
		if len(bt.Seek) == 0 || bt.Bytes[0] <= 0 || bt.EmbeddedAt(0) != nil {
			continue
		}
		raw := make([]byte, bt.Bytes[0])
		if _, err := rf.ReadAt(raw, bt.Seek[0]); err != nil {
			t.Fatal(err)
		}
		b, _, err := ttree.DecodeBasket(raw, c.Layout != LayoutFixed, nil)
		if err != nil {
			t.Fatalf("%s: branch %s: %v", name, c.Name, err)
		}
		seeds = append(seeds, b.Data[:min(len(b.Data), 4096)])
		for i := 0; i+1 < len(b.Offsets) && i < 3; i++ {
			seeds = append(seeds, b.Data[b.Offsets[i]:b.Offsets[i+1]])
		}
	}
	if len(seeds) == 0 {
		t.Fatalf("%s: no basket to seed from", name)
	}
	return seeds
}
