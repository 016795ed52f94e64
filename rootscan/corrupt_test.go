package rootscan_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootscan"
)

// memFS serves in-memory files to read_root under sweep://, so that each
// corrupted copy is read through the whole read path without touching
// the disk.
type memFS struct {
	mu    sync.Mutex
	files map[string][]byte
}

type memFile struct{ *bytes.Reader }

func (memFile) Close() error                      { return nil }
func (f memFile) Size() (int64, error)            { return f.Reader.Size(), nil }
func (fs *memFS) Glob(p string) ([]string, error) { return []string{p}, nil }

func (fs *memFS) Open(name string) (rfile.File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	b, ok := fs.files[name]
	if !ok {
		return nil, os.ErrNotExist
	}
	return memFile{bytes.NewReader(b)}, nil
}

func (fs *memFS) put(name string, b []byte) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if b == nil {
		delete(fs.files, name)
	} else {
		fs.files[name] = b
	}
}

var sweepFS = sync.OnceValue(func() *memFS {
	fs := &memFS{files: map[string][]byte{}}
	rfile.RegisterBackend("sweep", fs)
	return fs
})

// checksummed says which basket kinds carry a checksum over their whole
// payload: a flipped byte there must never give a different value silently.
var checksummed = map[string]bool{"ZL": true, "XZ": true, "L4": true}

// sweepInput is one file of the corruption sweep.
type sweepInput struct {
	label string
	path  func(t *testing.T) string // resolves (or writes) the file
	tree  string
	flips int
	// zstdChecksum: the file's zstd frames carry a content checksum
	// (klauspost's encoder, which groot uses, writes one; ROOT's do not).
	zstdChecksum bool
}

// TestCorruptionSweep flips single bytes at deterministic random positions
// inside the basket payloads of real files of every compression kind,
// reads the affected column through read_root, and compares it with the
// pristine file's: every result must equal the original or be an error
// naming the file, tree, branch and basket. Where the basket is
// checksummed (zlib, lzma, lz4, and zstd frames that carry a checksum) a
// different value without an error fails the test; for ROOT's zstd frames
// and uncompressed baskets the silent differences are counted and logged.
// Files with zlib baskets are swept with both inflaters (libdeflate and
// Go). Bounded by the number of flips, not by testing.Short.
func TestCorruptionSweep(t *testing.T) {
	db := openDB(t)
	fs := sweepFS()
	gen := t.TempDir()
	td := func(rel string) func(*testing.T) string {
		return func(t *testing.T) string { return filepath.Join(grootTestdata(t), filepath.FromSlash(rel)) }
	}
	shared := func(rel string) func(*testing.T) string {
		return func(t *testing.T) string { return testfiles.Shared(t, rel) }
	}
	written := func(kind string) func(*testing.T) string {
		return func(t *testing.T) string { return writeSweepFile(t, gen, kind) }
	}
	inputs := []sweepInput{
		{label: "CMS sample (zlib)", path: func(t *testing.T) string { return cmsSample(t) }, tree: "Events", flips: 150},
		{label: "uproot-Zmumu-zlib", path: shared("uproot/uproot-Zmumu-zlib.root"), tree: "events", flips: 120},
		{label: "uproot-Zmumu-lz4", path: shared("uproot/uproot-Zmumu-lz4.root"), tree: "events", flips: 120},
		{label: "go-hep sample-6.14.00-zlib", path: td("uproot/sample-6.14.00-zlib.root"), tree: "sample", flips: 60},
		{label: "go-hep sample-6.14.00-lz4", path: td("uproot/sample-6.14.00-lz4.root"), tree: "sample", flips: 60},
		{label: "go-hep sample-6.14.00-lzma", path: td("uproot/sample-6.14.00-lzma.root"), tree: "sample", flips: 40},
		{label: "go-hep sample-6.14.00-uncompressed", path: td("uproot/sample-6.14.00-uncompressed.root"), tree: "sample", flips: 60},
		{label: "go-hep small-flat-tree (zlib)", path: td("small-flat-tree.root"), tree: "tree", flips: 60},
		{label: "groot-written lzma", path: written("lzma"), tree: "T", flips: 30},
		{label: "groot-written lz4", path: written("lz4"), tree: "T", flips: 60},
		{label: "groot-written zstd (with checksum)", path: written("zstd"), tree: "T", flips: 60, zstdChecksum: true},
		{label: "groot-written zstd, checksum removed as ROOT writes it", path: written("zstd-root"), tree: "T", flips: 60},
		{label: "groot-written uncompressed", path: written("none"), tree: "T", flips: 60},
	}
	for _, in := range inputs {
		t.Run(in.label, func(t *testing.T) {
			sweepFile(t, db, fs, in)
		})
	}
}

// sweepFile runs the flips of one input, with each inflater when the file
// has zlib baskets.
func sweepFile(t *testing.T, db *sql.DB, fs *memFS, in sweepInput) {
	path := in.path(t)
	pristine, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	spans, err := rootscan.BasketSpans(path, in.tree)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, s := range spans {
		kinds[s.Kind]++
	}
	if len(spans) == 0 {
		t.Fatalf("no basket in %s", path)
	}
	// Flip positions: the flips are shared out evenly among the basket
	// kinds the file has (so that a file's few lz4 or zstd baskets are not
	// drowned by its uncompressed ones), uniform over each kind's payload
	// bytes.
	h := fnv.New64a()
	h.Write([]byte(in.label))
	rng := rand.New(rand.NewPCG(15, h.Sum64()))
	type flip struct {
		span *rootscan.BasketSpan
		pos  int64
		xor  byte
	}
	kindBytes := map[string]int64{}
	for _, s := range spans {
		kindBytes[s.Kind] += s.End - s.Start
	}
	kindList := make([]string, 0, len(kindBytes))
	for k := range kindBytes {
		kindList = append(kindList, k)
	}
	sort.Strings(kindList)
	flips := make([]flip, in.flips)
	for i := range flips {
		kind := kindList[i%len(kindList)]
		at := rng.Int64N(kindBytes[kind])
		for j := range spans {
			if spans[j].Kind != kind {
				continue
			}
			if n := spans[j].End - spans[j].Start; at < n {
				flips[i] = flip{&spans[j], spans[j].Start + at, byte(1 + rng.IntN(255))}
				break
			} else {
				at -= n
			}
		}
	}
	paths := []string{"n/a"}
	if kinds["ZL"] > 0 {
		paths = []string{"libdeflate", "go"}
	}
	base := filepath.Base(path)
	for _, p := range paths {
		if p == "libdeflate" && !capi.HaveZlibInflater() {
			if os.Getenv("CI") != "" {
				t.Fatal("libdeflate.so.0 not found in CI")
			}
			t.Logf("%s: libdeflate not available, its pass skipped", in.label)
			continue
		}
		restore := rootscan.SetGoInflate(p == "go")
		want := map[string]sweepResult{} // pristine result per column
		var equal, errored, silent int
		firstErr := ""
		silentKinds := map[string]int{}
		for k, f := range flips {
			col := f.span.Column
			w, ok := want[col]
			if !ok {
				fs.put("sweep://pristine/"+base, pristine)
				w = sweepQuery(db, "sweep://pristine/"+base, in.tree, col)
				fs.put("sweep://pristine/"+base, nil)
				if w.err != nil {
					t.Fatalf("pristine %s, column %q: %v", path, col, w.err)
				}
				want[col] = w
			}
			bad := bytes.Clone(pristine)
			bad[f.pos] ^= f.xor
			name := fmt.Sprintf("sweep://%s/%d/%s", p, k, base)
			fs.put(name, bad)
			got := sweepQuery(db, name, in.tree, col)
			fs.put(name, nil)
			switch {
			case got.err != nil:
				errored++
				msg := got.err.Error()
				if firstErr == "" {
					firstErr = msg
				}
				for _, need := range []string{"read_root", name, fmt.Sprintf("tree %q", in.tree), fmt.Sprintf("branch %q", col), fmt.Sprintf("basket %d (entries ", f.span.Basket)} {
					if !strings.Contains(msg, need) {
						t.Errorf("flip at %d (%s basket %d of %q): error does not name %s: %v", f.pos, f.span.Kind, f.span.Basket, col, need, msg)
					}
				}
				for _, bug := range []string{"runtime error", "panic"} {
					if strings.Contains(msg, bug) {
						t.Errorf("flip at %d (%s basket %d of %q): recovered panic: %v", f.pos, f.span.Kind, f.span.Basket, col, msg)
					}
				}
			case got == w:
				equal++
			default:
				silent++
				silentKinds[f.span.Kind]++
				if checksummed[f.span.Kind] || (f.span.Kind == "ZS" && in.zstdChecksum) {
					t.Errorf("flip at %d (^%#02x, %s basket %d of %q): different value without an error (%d rows, hash %s; want %d rows, hash %s)",
						f.pos, f.xor, f.span.Kind, f.span.Basket, col, got.rows, got.hash, w.rows, w.hash)
				}
			}
		}
		restore()
		t.Logf("%s [inflate: %s] baskets %v: %d flips, %d equal, %d errored, %d silently different %v",
			in.label, p, sortedCounts(kinds), len(flips), equal, errored, silent, sortedCounts(silentKinds))
		if firstErr != "" {
			t.Logf("first error: %s", firstErr)
		}
	}
}

type sweepResult struct {
	rows int64
	hash string
	err  error
}

// sweepQuery reads every value of col: its row count and an
// order-independent hash of (entry, value) pairs.
func sweepQuery(db *sql.DB, name, tree, col string) sweepResult {
	var r sweepResult
	var hash sql.NullString
	q := fmt.Sprintf(`SELECT count(*), bit_xor(hash(_entry, "%s"))::VARCHAR FROM read_root(%s, tree := %s)`,
		strings.ReplaceAll(col, `"`, `""`), quote(name), quote(tree))
	r.err = db.QueryRow(q).Scan(&r.rows, &hash)
	r.hash = hash.String
	return r
}

func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%d", k, m[k])
	}
	b.WriteString("}")
	return b.String()
}

// writeSweepFile writes, with groot, a tree "T" of 3000 entries (a float,
// a counter, a jagged float array, a double and a string) compressed as
// kind says, in small baskets. "zstd-root" is the zstd file with each
// basket's frame rewritten as ROOT writes it: a 4-byte dictionary ID of 0
// (no dictionary) takes the place of the content checksum, so that the
// file's layout is unchanged and the frames have no checksum.
func writeSweepFile(t *testing.T, dir, kind string) string {
	name := filepath.Join(dir, kind+".root")
	opt := map[string]rtree.WriteOption{
		"zlib": rtree.WithZlib(1), "lzma": rtree.WithLZMA(1), "lz4": rtree.WithLZ4(1),
		"zstd": rtree.WithZstd(1), "zstd-root": rtree.WithZstd(1), "none": rtree.WithoutCompression(),
	}[kind]
	f, err := groot.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	var (
		x   float32
		n   int32
		v   [8]float32
		d   float64
		str string
	)
	w, err := rtree.NewWriter(f, "T", []rtree.WriteVar{
		{Name: "x", Value: &x}, {Name: "n", Value: &n}, {Name: "v", Value: &v, Count: "n"},
		{Name: "d", Value: &d}, {Name: "s", Value: &str},
	}, opt, rtree.WithBasketSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(15, 3))
	for i := range 3000 {
		x = float32(rng.NormFloat64())
		n = int32(rng.IntN(len(v) + 1))
		for j := range v {
			v[j] = float32(rng.ExpFloat64())
		}
		d = float64(i) + rng.Float64()
		str = fmt.Sprintf("entry-%d-%x", i, rng.Uint32()%4096)
		if _, err := w.Write(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if kind == "zstd-root" {
		stripZstdChecksums(t, name)
	}
	return name
}

// stripZstdChecksums rewrites every zstd basket block of the file so that
// its frame has no content checksum, keeping the frame's length.
func stripZstdChecksums(t *testing.T, name string) {
	spans, err := rootscan.BasketSpans(name, "T")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	done := map[int64]bool{}
	for _, s := range spans {
		if s.Kind != "ZS" || done[s.Start] {
			continue
		}
		done[s.Start] = true
		blk := raw[s.Start:s.End]
		csize := int(blk[3]) | int(blk[4])<<8 | int(blk[5])<<16
		if 9+csize != len(blk) {
			t.Fatalf("basket at %d: %d-byte block in %d bytes", s.Start, csize, len(blk))
		}
		frame := blk[9:]
		fhd := frame[4]
		if fhd&0x04 == 0 || fhd&0x03 != 0 {
			t.Fatalf("basket at %d: frame header %08b, want a checksum and no dictionary ID", s.Start, fhd)
		}
		out := make([]byte, 0, len(frame))
		out = append(out, frame[:4]...)
		out = append(out, fhd&^0x04|0x03, 0, 0, 0, 0)
		out = append(out, frame[5:len(frame)-4]...)
		copy(frame, out)
	}
	if len(done) == 0 {
		t.Fatal("no zstd basket to rewrite")
	}
	if err := os.WriteFile(name, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
