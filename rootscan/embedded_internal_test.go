package rootscan

import (
	"path/filepath"
	"testing"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rfile"
)

// TestLeanKeptBaskets: the lean reader reads the baskets kept in the tree
// record of the CMS NanoAOD ttbar file (and of the no-offsets file) into
// the same columns and basket tables as groot's parse, field for field,
// as a first file and as a chain member reading every column.
func TestLeanKeptBaskets(t *testing.T) {
	for _, base := range []string{"nanoAOD_2015_CMS_Open_Data_ttbar.root", "uproot-small-dy-nooffsets.root"} {
		name := testfiles.Shared(t, filepath.Join("uproot", base))
		cf, err := openRaw(name, rfile.DefaultSourceOptions)
		if err != nil {
			t.Fatal(err)
		}
		want, err := parseTree(name, cf, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := leanSchema(cf, "")
		if err != nil {
			t.Fatalf("%s: lean reader gave up: %v", base, err)
		}
		checkSameMeta(t, base, got, want)
		kept := 0
		for _, c := range got.cols {
			kept += c.Baskets.InMemory
		}
		if base[0] == 'n' && kept < 900 {
			t.Errorf("%s: %d kept baskets read", base, kept)
		}
		m, err := leanMeta(cf, want.tree, newLeanWant(want, want.cols))
		if err != nil {
			t.Fatalf("%s: lean member: %v", base, err)
		}
		checkSameMeta(t, base+" as a member", m, want)
		cf.File.Close()
	}
}
