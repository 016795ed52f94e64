package rootscan

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"go-hep.org/x/hep/groot/rbase"
	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/rdict"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rmeta"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// writeUncompressed writes a small tree with no compression, so that the
// file's records (keys list, streamers, tree record) lie in the file as
// groot and the lean reader parse them, for tests to patch.
func writeUncompressed(t testing.TB, name string) []byte {
	t.Helper()
	var (
		n   int32
		x   float64
		arr [3]float32
		jag []float32
		s   string
	)
	vars := []rtree.WriteVar{
		{Name: "n", Value: &n},
		{Name: "x", Value: &x},
		{Name: "arr", Value: &arr},
		{Name: "jag", Value: &jag, Count: "n"},
		{Name: "s", Value: &s},
	}
	return testfiles.WriteTree(t, name, "Events", vars, 20, func(i int) {
		n, x, s = int32(i%4), float64(i)/2, strings.Repeat("s", i%3)
		arr = [3]float32{float32(i), 1, 2}
		jag = make([]float32, n)
	}, rtree.WithTitle("hostile"))
}

// memCF serves bytes as a rfile.CountingFile.
func memCF(data []byte) *rfile.CountingFile {
	return &rfile.CountingFile{File: memFile{bytes.NewReader(data)}, FileSize: int64(len(data))}
}

// metadataErrors runs what root_trees, root_branches and read_root's bind
// do with a file's metadata (groot's parse and the lean reader's) on data,
// and returns the errors; a panic that escapes is returned as one too.
func metadataErrors(name string, data []byte) (errs []error) {
	defer func() {
		if r := recover(); r != nil {
			errs = append(errs, fmt.Errorf("PANIC escaped: %v", r))
		}
	}()
	rf, _, err := tbranch.OpenGroot(name, memCF(data))
	if err != nil {
		return []error{err}
	}
	defer rf.Close()
	for _, tn := range tbranch.TreesIn(rf) {
		if _, err := parseTree(name, memCF(data), tn); err != nil {
			errs = append(errs, err)
		}
		tbranch.GuardLean(func() (*tbranch.Tree, error) { return tbranch.LeanSchema(memCF(data), tn) })
		// The lean reader must not panic either: it runs unguarded here.
		tbranch.LeanSchema(memCF(data), tn)
	}
	return errs
}

// metadataRegions are the byte ranges of a file's metadata: the header and
// top directory, the keys list, the streamer record and the tree's key.
func metadataRegions(t testing.TB, data []byte) map[string][2]int64 {
	t.Helper()
	cf := memCF(data)
	l, err := rfile.CheckLayout(cf)
	if err != nil {
		t.Fatal(err)
	}
	regions := map[string][2]int64{
		"header":    {0, l.Begin + l.NbytesName + 60},
		"keys list": {l.SeekKeys, l.SeekKeys + l.NbytesKeys},
		"streamers": {l.SeekInfo, l.SeekInfo + l.NbytesInfo},
	}
	for _, k := range l.Keys {
		if k.Class == "TTree" {
			regions["tree key "+k.Name] = [2]int64{k.Seek, k.Seek + k.Nbytes}
		}
	}
	return regions
}

// TestMetadataCorruption flips bytes in each metadata structure of an
// uncompressed groot file, of the CMS sample and of a split-object file:
// every failure must be an error naming the file, never a Go runtime
// error's text, never a panic that escapes.
func TestMetadataCorruption(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	files["uncompressed"] = writeUncompressed(t, filepath.Join(dir, "plain.root"))
	for _, p := range []string{
		filepath.Join(testfiles.GrootTestdata(t), "small-evnt-tree-fullsplit.root"),
		filepath.Join(testfiles.GrootTestdata(t), "std-containers-split00.root"),
	} {
		if data, err := os.ReadFile(p); err == nil {
			files[filepath.Base(p)] = data
		}
	}
	// HEPSQL_SWEEP=n sweeps every go-hep test file and the CMS sample,
	// n flips per structure.
	sweep, _ := strconv.Atoi(os.Getenv("HEPSQL_SWEEP"))
	if sweep > 0 {
		all, _ := filepath.Glob(filepath.Join(testfiles.GrootTestdata(t), "*.root"))
		for _, p := range all {
			if data, err := os.ReadFile(p); err == nil {
				if _, err := rfile.CheckLayout(memCF(data)); err == nil && len(metadataErrors(p, data)) == 0 {
					files[filepath.Base(p)] = data
				}
			}
		}
	}
	if sweep > 0 || os.Getenv("CI") != "" {
		data, err := os.ReadFile(testfiles.CMSSample(t))
		if err != nil {
			t.Fatal(err)
		}
		files["cms"] = data
	}
	seed, _ := strconv.ParseUint(os.Getenv("HEPSQL_SWEEP_SEED"), 10, 64)
	rng := rand.New(rand.NewPCG(15+seed, 443))
	iters := 60
	if testing.Short() {
		iters = 15
	}
	if sweep > 0 {
		iters = sweep
	}
	var nerr, nok int
	for _, fname := range slices.Sorted(maps.Keys(files)) {
		data := files[fname]
		if errs := metadataErrors(fname, data); len(errs) > 0 {
			t.Fatalf("%s intact: %v", fname, errs)
		}
		regions := metadataRegions(t, data)
		for _, region := range slices.Sorted(maps.Keys(regions)) {
			span := regions[region]
			for i := range iters {
				bad := append([]byte(nil), data...)
				for range 1 + i%3 {
					pos := span[0] + rng.Int64N(span[1]-span[0])
					bad[pos] ^= byte(1 + rng.IntN(255))
				}
				name := fmt.Sprintf("%s-%s-%d.root", fname, strings.ReplaceAll(region, " ", "_"), i)
				if os.Getenv("HEPSQL_SWEEP_TRACE") != "" {
					fmt.Fprintln(os.Stderr, "sweep:", name)
				}
				errs := metadataErrors(name, bad)
				if len(errs) == 0 {
					nok++
				}
				for _, err := range errs {
					if os.Getenv("HEPSQL_SWEEP_TRACE") != "" {
						fmt.Fprintln(os.Stderr, "sweep error:", err)
					}
					nerr++
					msg := err.Error()
					switch {
					case strings.Contains(msg, "PANIC"), strings.Contains(msg, "rootscan bug"):
						t.Errorf("%s: %v", region, err)
					case strings.Contains(msg, "runtime error") && !strings.Contains(msg, "(groot: runtime error"):
						t.Errorf("%s: runtime error from hepsql's code: %v", region, err)
					case !strings.Contains(msg, name):
						t.Errorf("%s: error without the file's name: %v", region, err)
					case !strings.Contains(msg, "corrupt ") && !strings.Contains(msg, "no TTree") &&
						!strings.Contains(msg, "not a ROOT file") && !strings.Contains(msg, "not a TTree"):
						t.Logf("%s: uncategorised: %v", region, err)
					}
					if !utf8.ValidString(msg) {
						t.Errorf("%s: message is not valid UTF-8: %q", region, msg)
					}
				}
			}
		}
	}
	t.Logf("%d errors, %d corrupt copies parsed", nerr, nok)
}

// put32 writes v big-endian at b[off:].
func put32(b []byte, off int64, v uint32) {
	b[off], b[off+1], b[off+2], b[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

// TestHostileSizesAndCounts patches one size or count at a time in an
// uncompressed groot file to what a hostile file could claim (GBs, 2^31
// elements): each must be a clean error naming the file and the corrupt
// structure, found before groot allocates from it.
func TestHostileSizesAndCounts(t *testing.T) {
	dir := t.TempDir()
	if keep := os.Getenv("HEPSQL_HOSTILE_KEEP"); keep != "" {
		dir = keep // to try the files on other builds
	}
	data := writeUncompressed(t, filepath.Join(dir, "plain.root"))
	l, err := rfile.CheckLayout(memCF(data))
	if err != nil {
		t.Fatal(err)
	}
	if l.Big {
		t.Fatal("groot wrote a big-file header; the offsets below are the small header's")
	}
	// Where the keys list's entry of the tree sits, and its fields.
	own, _, err := rfile.ParseKeyHeader(data[l.SeekKeys:], 0)
	if err != nil {
		t.Fatal(err)
	}
	body := l.SeekKeys + own.Keylen
	var treeEntry int64 = -1
	at := 4
	for range l.Keys {
		k, next, err := rfile.ParseKeyHeader(data[body:body+own.Objlen], at)
		if err != nil {
			t.Fatal(err)
		}
		if k.Class == "TTree" {
			treeEntry = body + int64(at)
		}
		at = next
	}
	if treeEntry < 0 {
		t.Fatal("no tree key")
	}
	var tree rfile.Key
	for _, k := range l.Keys {
		if k.Class == "TTree" {
			tree = k
		}
	}
	// The tree record's branch x: its fMaxBaskets and its sub-branch array.
	xAt := int64(bytes.Index(data[tree.Seek:tree.Seek+tree.Nbytes], []byte("\x01x\x03x/D")))
	if xAt < 0 {
		t.Fatal("branch x not found in the tree record")
	}
	r := ttree.TreeRecordReader{RecordReader: rfile.RecordReader{Buf: data, Pos: int(tree.Seek + xAt + 6)}}
	r.SkipObject() // TAttFill
	r.Skip(16 + 8) // fCompress ... fWriteBasket, fEntryNumber
	r.SkipObject() // fIOFeatures
	r.Skip(4)      // fOffset
	maxBaskets := int64(r.Pos)
	r.Skip(4 + 4 + 8 + 8 + 8 + 8) // fMaxBaskets, fSplitLevel, fEntries, fFirstEntry, fTotBytes, fZipBytes
	r.Header()
	r.TObject()
	r.Str()
	subBranches := int64(r.Pos)
	// The tree's fEntries.
	r = ttree.TreeRecordReader{RecordReader: rfile.RecordReader{Buf: data, Pos: int(tree.Seek + tree.Keylen)}}
	r.Header()
	r.Named()
	r.SkipObject() // TAttLine
	r.SkipObject() // TAttFill
	r.SkipObject() // TAttMarker
	treeEntries := int64(r.Pos)
	// The streamer record's TList length.
	r = ttree.TreeRecordReader{RecordReader: rfile.RecordReader{Buf: data, Pos: int(l.SeekInfo + l.StreamerKey.Keylen)}}
	r.Header()
	r.TObject()
	r.Str()
	listLen := int64(r.Pos)
	if r.Err != nil {
		t.Fatal(r.Err)
	}

	cases := []struct {
		name  string
		patch func(b []byte)
		kind  rfile.CorruptKind
		want  string
	}{
		{"streamer record size", func(b []byte) { put32(b, 41, 0x7fffff00) }, rfile.ErrCorruptHeader, "streamer record of"},
		{"directory name size", func(b []byte) { put32(b, 28, 0x7fffff00) }, rfile.ErrCorruptHeader, "fNbytesName"},
		{"keys list size", func(b []byte) { put32(b, l.Begin+l.NbytesName+2+8, 0x7fffff00) }, rfile.ErrCorruptDirectory, "keys list of"},
		{"keys list object size", func(b []byte) { put32(b, l.SeekKeys+6, 0x7fffff00) }, rfile.ErrCorruptDirectory, "keys list's key"},
		{"number of keys", func(b []byte) { put32(b, body, 0x7fffffff) }, rfile.ErrCorruptDirectory, "keys in a"},
		{"tree object size", func(b []byte) { put32(b, treeEntry+6, 0x7fffff00) }, rfile.ErrCorruptTree, "inflate"},
		{"tree key size", func(b []byte) { put32(b, treeEntry, 0x7fffff00) }, rfile.ErrCorruptTree, "past the file"},
		{"streamer list length", func(b []byte) { put32(b, listLen, 0x7fffffff) }, rfile.ErrCorruptStreamers, "list of"},
		{"branch fMaxBaskets", func(b []byte) { put32(b, maxBaskets, 0x7fffffff) }, rfile.ErrCorruptTree, "baskets written"},
		{"sub-branch count", func(b []byte) { put32(b, subBranches, 0x7fffffff) }, rfile.ErrCorruptTree, "branches in"},
		{"tree entries", func(b []byte) { put32(b, treeEntries, 0x40000000) }, rfile.ErrCorruptTree, "the tree says"},
		{"negative tree entries", func(b []byte) { put32(b, treeEntries, 0x80000000) }, rfile.ErrCorruptTree, "entries"},
	}
	// A wrong fEND alone allocates nothing: the file still reads.
	endBad := append([]byte(nil), data...)
	put32(endBad, 12, 0x7fffff00)
	if errs := metadataErrors("end.root", endBad); len(errs) > 0 {
		t.Errorf("fEND past the file: %v", errs)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := append([]byte(nil), data...)
			c.patch(bad)
			name := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".root")
			if err := os.WriteFile(name, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			errs := metadataErrors(name, bad)
			if len(errs) == 0 {
				t.Fatal("no error")
			}
			err := errs[0]
			msg := err.Error()
			if !errors.Is(err, c.kind) || !errors.Is(err, rfile.ErrCorruptFile) || !strings.Contains(msg, c.want) || !strings.Contains(msg, name) {
				t.Errorf("error %q: want %q, %q and the file's name", msg, c.kind, c.want)
			}
			if strings.Contains(msg, "runtime error") || strings.Contains(msg, "PANIC") {
				t.Errorf("error %q", msg)
			}
			// What read_root's bind does first: the same error.
			if _, err := openTree(name, ""); err == nil {
				t.Errorf("openTree: no error")
			}
		})
	}
}

// classChain registers streamers for classes prefix0..prefix(n-1), each
// holding width members of the next, in a file being written, and
// returns the file.
func classChain(t *testing.T, prefix string, n, width int) *riofs.File {
	t.Helper()
	f, err := riofs.Create(filepath.Join(t.TempDir(), prefix+".root"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	for i := range n {
		var elems []rbytes.StreamerElement
		elems = append(elems, &rdict.StreamerBasicType{StreamerElement: rdict.Element{
			Name: *rbase.NewNamed("v", ""), Type: rmeta.Int32, Size: 4, EName: "int",
		}.New()})
		if i+1 < n {
			for j := range width {
				elems = append(elems, &rdict.StreamerObjectAny{StreamerElement: rdict.Element{
					Name: *rbase.NewNamed(fmt.Sprintf("m%d", j), ""), Type: rmeta.Any, Size: 4,
					EName: fmt.Sprintf("%s%d", prefix, i+1),
				}.New()})
			}
		}
		f.RegisterStreamer(rdict.NewCxxStreamerInfo(fmt.Sprintf("%s%d", prefix, i), 1, uint32(i+1), elems))
	}
	return f
}

// TestStreamerGuardBounds: a chain of classes nested deeper than
// tbranch.MaxClassDepth and a graph whose type expands exponentially (each class
// holds two of the next) are cut, so that groot's type builder finishes
// at once on them; a shallow chain is left whole.
func TestStreamerGuardBounds(t *testing.T) {
	for _, c := range []struct {
		prefix       string
		n, width     int
		wantCut      bool
		wantReasonIn string
	}{
		{"hostileShallow", 10, 2, false, ""},
		{"hostileDeep", tbranch.MaxClassDepth + 20, 1, true, "nests more than"},
		{"hostileWide", 40, 2, true, "expands to more than"},
	} {
		f := classChain(t, c.prefix, c.n, c.width)
		g, err := tbranch.GuardStreamers(f, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		why := g.Reason(c.prefix + "0")
		if (why != "") != c.wantCut || !strings.Contains(why, c.wantReasonIn) {
			t.Errorf("%s: reason %q, want cut=%v with %q", c.prefix, why, c.wantCut, c.wantReasonIn)
		}
		si, err := f.StreamerInfo(c.prefix+"0", -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rdict.TypeFromSI(f, si); err != nil {
			t.Errorf("%s: type: %v", c.prefix, err)
		}
	}
}
