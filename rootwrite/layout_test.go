package rootwrite

import (
	"path/filepath"
	"testing"

	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/gohep"
)

// leafStreamerCounts counts, per class of leafClasses, the streamers a
// file lists for it.
func leafStreamerCounts(f *riofs.File) map[string]int {
	n := map[string]int{}
	for _, si := range f.StreamerInfos() {
		for _, c := range leafClasses {
			if si.Name() == c {
				n[c]++
			}
		}
	}
	return n
}

// writeSmallTree writes a tree of one float and one counted float array
// into a new file, calling prepare on the file first.
func writeSmallTree(t *testing.T, path string, prepare func(*riofs.File) error) {
	t.Helper()
	f, err := riofs.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := prepare(f); err != nil {
		t.Fatal(err)
	}
	var (
		x  float32
		n  int32
		xs []float32
	)
	w, err := rtree.NewWriter(f, "t", []rtree.WriteVar{
		{Name: "x", Value: &x}, {Name: "n", Value: &n}, {Name: "xs", Value: &xs, Count: "n"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		x, n, xs = float32(i), int32(i%3), make([]float32, i%3)
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
}

// TestLeafStreamersLayout pins registerLeafStreamers, which appends to
// riofs.File's unexported streamer list, to the go-hep version it was
// written for, and checks through groot's exported API that it does what
// it must: without it groot's file lists no TLeaf streamer (why it
// exists), with it every leaf class is listed once, twice called or not,
// and the list survives writing a tree and reopening the file.
func TestLeafStreamersLayout(t *testing.T) {
	if v := testfiles.ModuleVersion(t, "go-hep.org/x/hep"); v != gohep.Version {
		t.Fatalf("go-hep is %s in this build; rootwrite.registerLeafStreamers was written for %s.\n"+
			"Upgrading go-hep? Re-check riofs.File's unexported fields sinfos ([]rbytes.StreamerInfo) and simap (map[rbytes.StreamerInfo]struct{}),\n"+
			"whether riofs.File.RegisterStreamer still skips classes groot's registry knows, and whether groot now writes the TLeaf streamers itself\n"+
			"(then registerLeafStreamers can go); run TestJSROOTReadsTree (needs node and jsroot), then set gohep.Version.", v, gohep.Version)
	}
	dir := t.TempDir()

	plain := filepath.Join(dir, "plain.root")
	writeSmallTree(t, plain, func(*riofs.File) error { return nil })
	f, err := riofs.Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	if n := leafStreamerCounts(f); len(n) > 0 {
		t.Errorf("groot now lists leaf streamers itself (%v): registerLeafStreamers may be unneeded, check with jsroot", n)
	}
	f.Close()

	withLeaves := filepath.Join(dir, "leaves.root")
	writeSmallTree(t, withLeaves, func(f *riofs.File) error {
		before := len(f.StreamerInfos())
		for range 2 { // the second call adds nothing
			if err := registerLeafStreamers(f); err != nil {
				return err
			}
		}
		n := leafStreamerCounts(f)
		for _, c := range leafClasses {
			if n[c] != 1 {
				t.Errorf("after registerLeafStreamers the file lists %d streamers for %s, want 1", n[c], c)
			}
		}
		if got := len(f.StreamerInfos()); got != before+len(leafClasses) {
			t.Errorf("registerLeafStreamers: %d streamers, had %d, want %d more", got, before, len(leafClasses))
		}
		return nil
	})
	f, err = riofs.Open(withLeaves)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := leafStreamerCounts(f)
	for _, c := range leafClasses {
		if n[c] != 1 {
			t.Errorf("reopened file lists %d streamers for %s, want 1", n[c], c)
		}
	}
	obj, err := f.Get("t")
	if err != nil {
		t.Fatal(err)
	}
	if tree := obj.(rtree.Tree); tree.Entries() != 10 {
		t.Errorf("reopened tree has %d entries, want 10", tree.Entries())
	}
}
