package rootscan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/hepsql/hepsql/gen/adl"
	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
	"github.com/hepsql/hepsql/rootio/tbranch/tbranchtest"
)

// TestLeanMatchesGroot reads every tree of every test file (go-hep's
// testdata, ../shared/data and its uproot and rntuple folders, generated
// NanoAOD-style files; nested trees by path) both ways. Where the lean
// reader accepts a tree, as a first file or as a member of a chain whose
// first file is itself, its columns must equal groot's field for field,
// basket tables included; where it refuses, the path queries take
// (openMember) must still give groot's columns; and a tree groot cannot
// read the lean reader must not accept either. It must accept the
// NanoAOD-style files, or the fast path would be dead without anyone
// noticing.
func TestLeanMatchesGroot(t *testing.T) {
	files := tbranchtest.EveryTestFile(t)
	mustLean := map[string]bool{}
	for _, f := range []string{
		testfiles.CMSSample(t),
		testfiles.UprootTestFile(t, "nanoAOD_2015_CMS_Open_Data_ttbar.root"),
		testfiles.UprootTestFile(t, "uproot-small-dy-nooffsets.root"),
		testfiles.UprootTestFile(t, "uproot-small-dy-withoffsets.root"),
	} {
		mustLean[f] = true
	}
	dir := t.TempDir()
	for _, c := range []adl.Compression{"zlib", "lzma", "zstd", "none"} {
		gen, err := adl.Generate(adl.Options{Events: 3000, Seed: 5, OutDir: filepath.Join(dir, string(c)), Compression: c})
		if err != nil {
			t.Fatal(err)
		}
		mustLean[gen[0]] = true
		files = append(files, gen[0])
	}

	var lean, fallback, leanFirst, firstFallback, grootOnly, grootFails int
	for _, name := range files {
		cf, err := openRaw(name, rfile.DefaultSourceOptions)
		if err != nil {
			t.Fatal(err)
		}
		var trees []string
		if l, err := tbranch.CheckedLayout(cf); err == nil {
			trees = l.WalkDirs(cf).Trees()
		}
		cf.File.Close()
		for _, tree := range append(trees, "") {
			what := fmt.Sprintf("%s:%q", filepath.Base(name), tree)
			cf, err := openRaw(name, rfile.DefaultSourceOptions)
			if err != nil {
				t.Fatal(err)
			}
			schema, gerr := parseTree(name, cf, tree) // groot's
			first, lerr := leanSchema(cf, tree)
			if gerr != nil {
				cf.File.Close()
				grootFails++
				if lerr == nil {
					t.Errorf("%s: the lean reader accepts a tree groot refuses (%v)", what, gerr)
				}
				if f, err := openMember(name, tree, nil, rfile.DefaultSourceOptions); err == nil {
					f.Close()
					t.Errorf("%s: opened, though groot refuses it: %v", what, gerr)
				}
				continue
			}
			f := newOpenFile(name, cf, schema)
			if lerr == nil {
				leanFirst++
				checkSameMeta(t, what+" first file", first, schema)
			} else {
				firstFallback++
				if mustLean[name] {
					t.Errorf("%s: lean reader gave up on the first file: %v", what, lerr)
				}
			}
			// The path queries take: lean or not, groot's columns.
			if of, err := openMember(name, tree, nil, rfile.DefaultSourceOptions); err != nil {
				t.Errorf("%s: opening as a first file: %v", what, err)
			} else {
				checkSameMeta(t, what+" opened", of.fileMeta, schema)
				of.Close()
			}
			if tree == "" {
				f.Close()
				continue
			}
			want := newLeanWant(schema, schema.Cols)
			if of, err := openMember(name, tree, want, rfile.DefaultSourceOptions); err != nil {
				t.Errorf("%s: opening as a chain member: %v", what, err)
			} else {
				checkSameCols(t, what+" opened as a member", of.fileMeta, schema)
				of.Close()
			}
			m, err := leanMeta(f.r, tree, want)
			if err == nil {
				checkLeanWanted(t, f, tree, mustLean[name])
			}
			f.Close()
			if err != nil {
				if mustLean[name] {
					t.Errorf("%s: lean reader gave up: %v", what, err)
				}
				fallback++
				if lerr != nil {
					grootOnly++
				}
				continue
			}
			lean++
			checkSameCols(t, what+" member", m, schema)
		}
	}
	t.Logf("%d trees read by the lean reader as chain members, %d left to groot; as first files %d and %d; %d trees only groot reads; %d trees groot refuses, and so does the lean reader",
		lean, fallback, leanFirst, firstFallback, grootOnly, grootFails)
	if lean < 10 || leanFirst < 10 {
		t.Errorf("the lean reader accepted too few trees: the fast path is dead?")
	}
}

// checkSameCols compares a chain member's metadata with groot's: the same
// tree, entries and columns, field for field.
func checkSameCols(t *testing.T, what string, m, schema *fileMeta) {
	t.Helper()
	if m.Entries != schema.Entries || m.Name != schema.Name || m.Title != schema.Title {
		t.Errorf("%s: lean %d entries %q %q, groot %d %q %q", what, m.Entries, m.Name, m.Title, schema.Entries, schema.Name, schema.Title)
	}
	if len(m.Cols) != len(schema.Cols) {
		t.Errorf("%s: lean %d columns, groot %d", what, len(m.Cols), len(schema.Cols))
		return
	}
	for i, c := range m.Cols {
		if !reflect.DeepEqual(*c, *schema.Cols[i]) {
			t.Errorf("%s: column %q differs:\nlean  %+v\ngroot %+v", what, c.Name, *c, *schema.Cols[i])
		}
	}
}

// checkSameMeta compares a lean reader's schema with groot's, column by
// column and in every field.
func checkSameMeta(t *testing.T, what string, got, want *fileMeta) {
	t.Helper()
	if got.Entries != want.Entries || got.Name != want.Name || got.Title != want.Title || got.bytes != want.bytes {
		t.Errorf("%s: lean %d entries %q %q %d bytes, groot %d %q %q %d", what, got.Entries, got.Name, got.Title, got.bytes, want.Entries, want.Name, want.Title, want.bytes)
	}
	if len(got.Cols) != len(want.Cols) || len(got.ByName) != len(want.ByName) {
		t.Errorf("%s: lean %d columns, groot %d", what, len(got.Cols), len(want.Cols))
		return
	}
	for i, c := range got.Cols {
		if !reflect.DeepEqual(*c, *want.Cols[i]) || got.ByName[c.Name] != c {
			t.Errorf("%s: column %q differs:\nlean  %+v\ngroot %+v", what, c.Name, *c, *want.Cols[i])
		}
	}
}

// checkLeanWanted reads f's tree limited to each column alone, then to
// every third column, and compares with groot's columns. Reading one column
// skips the branches before it, where its leaf class (TLeafF, ...) was
// first streamed, so a must-lean file also proves that class references
// into skipped bytes resolve.
func checkLeanWanted(t *testing.T, f *openFile, tree string, mustLean bool) {
	t.Helper()
	schema := f.fileMeta
	var sets [][]*tbranch.Column
	var third []*tbranch.Column
	for i, c := range schema.Cols {
		if !c.Supported() || c.LeanSig == "" {
			continue
		}
		sets = append(sets, []*tbranch.Column{c})
		if i%3 == 0 {
			third = append(third, c)
		}
	}
	sets = append(sets, third, nil)
	for _, cols := range sets {
		m, err := leanMeta(f.r, tree, newLeanWant(schema, cols))
		if err != nil {
			if mustLean {
				t.Errorf("%s:%s: lean reader gave up on %d columns: %v", filepath.Base(f.path), tree, len(cols), err)
			}
			continue
		}
		if m.Entries != schema.Entries || len(m.Cols) < len(cols) {
			t.Errorf("%s:%s: %d wanted columns: %d entries, %d columns", filepath.Base(f.path), tree, len(cols), m.Entries, len(m.Cols))
			continue
		}
		// After the wanted columns come the counters of their jagged
		// ones (newLeanWant), and nothing else.
		for _, c := range m.Cols[len(cols):] {
			if !slices.ContainsFunc(cols, func(w *tbranch.Column) bool { return w.Count == c.Path }) {
				t.Errorf("%s:%s: column %q read but neither wanted nor a wanted column's counter", filepath.Base(f.path), tree, c.Name)
			}
		}
		for i, c := range m.Cols[:len(cols)] {
			if !reflect.DeepEqual(*c, *cols[i]) || m.ByName[c.Name] != c {
				t.Errorf("%s:%s: wanted column %q differs:\nlean  %+v\ngroot %+v", filepath.Base(f.path), tree, c.Name, *c, *cols[i])
			}
		}
	}
}

// TestLeanCorruptMembers feeds the lean reader truncated and byte-flipped
// copies of the CMS sample, as chain members and as first files: it must
// give up or succeed, never panic (a failure sends the file to groot, whose
// errors users see).
func TestLeanCorruptMembers(t *testing.T) {
	cms := testfiles.CMSSample(t)
	data, err := os.ReadFile(cms)
	if err != nil {
		t.Fatal(err)
	}
	f, err := openTree(cms, "Events")
	if err != nil {
		t.Fatal(err)
	}
	all := newLeanWant(f.fileMeta, f.Cols) // every column: the whole record is walked
	f.Close()
	if _, err := leanMeta(&rfile.CountingFile{File: memFile{bytes.NewReader(data)}, FileSize: int64(len(data))}, "Events", all); err != nil {
		t.Fatalf("intact copy: %v", err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var gaveUp, read int
	try := func(b []byte) {
		cf := &rfile.CountingFile{File: memFile{bytes.NewReader(b)}, FileSize: int64(len(b))}
		_, err := leanMeta(cf, "Events", all)
		if err != nil {
			gaveUp++
		} else {
			read++
		}
		// The first-file reader walks the same bytes, leaves in full.
		leanSchema(cf, "Events")
		leanSchema(cf, "")
	}
	for range 100 {
		try(data[:rng.IntN(len(data))])
	}
	// Flips land in the header, the key list and the tree record (at the
	// end of the file), where the lean reader looks.
	for i := range 300 {
		bad := append([]byte(nil), data...)
		for range 1 + i%4 {
			pos := rng.IntN(len(bad))
			if i%2 == 0 {
				pos = len(bad) - 1 - rng.IntN(min(len(bad), 16384))
			} else if i%3 == 0 {
				pos = rng.IntN(512)
			}
			bad[pos] ^= byte(1 + rng.IntN(255))
		}
		try(bad)
	}
	t.Logf("lean reader gave up on %d corrupt copies, read %d", gaveUp, read)
}

// memFile serves a File from memory.
type memFile struct{ *bytes.Reader }

func (memFile) Close() error { return nil }

func (m memFile) Size() (int64, error) { return m.Reader.Size(), nil }

// BenchmarkLeanMeta reads the CMS sample's metadata as a chain member: the
// per-file cost that a cold query over many files pays, for every column
// and for a query's one or two.
func BenchmarkLeanMeta(b *testing.B) {
	cms := testfiles.CMSSample(b)
	f, err := openTree(cms, "Events")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for _, bc := range []struct {
		name string
		want *leanWant
	}{
		{"all", newLeanWant(f.fileMeta, f.Cols)},
		{"MET_pt", newLeanWant(f.fileMeta, []*tbranch.Column{f.ByName["MET_pt"]})},
		{"Jet_pt", newLeanWant(f.fileMeta, []*tbranch.Column{f.ByName["nJet"], f.ByName["Jet_pt"]})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := leanMeta(f.r, "Events", bc.want); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// leanSchema and leanMeta are rootio/tbranch's lean reader, unguarded, as
// the metadata cache keeps what it reads.
func leanSchema(cf *rfile.CountingFile, tree string) (*fileMeta, error) {
	t, err := tbranch.LeanSchema(cf, tree)
	if err != nil {
		return nil, err
	}
	return metaOf(t), nil
}

func leanMeta(cf *rfile.CountingFile, tree string, want *leanWant) (*fileMeta, error) {
	t, err := tbranch.LeanMember(cf, tree, want.LeanWant)
	if err != nil {
		return nil, err
	}
	return metaOf(t), nil
}
