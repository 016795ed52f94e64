package tbranch_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
)

// openCounting opens a local file as the readers see it.
func openCounting(t *testing.T, name string) *rfile.CountingFile {
	t.Helper()
	b, err := rfile.BackendFor(name)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rfile.OpenBackend(b, name, rfile.DefaultSourceOptions)
	if err != nil {
		t.Fatal(err)
	}
	size, err := raw.Size()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return &rfile.CountingFile{File: raw, FileSize: size}
}

// sameTree compares a lean reader's Tree with groot's (ParseTree), column
// by column and in every field.
func sameTree(t *testing.T, what string, got, want *tbranch.Tree) {
	t.Helper()
	if got.Entries != want.Entries || got.Name != want.Name || got.Title != want.Title {
		t.Errorf("%s: lean %d entries %q %q, groot %d %q %q", what, got.Entries, got.Name, got.Title, want.Entries, want.Name, want.Title)
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

// TestLeanKeptBaskets: the lean reader reads the baskets kept in the tree
// record of the CMS NanoAOD ttbar file (and of the no-offsets file) into
// the same columns and basket tables as groot's parse, field for field,
// as a first file and as a chain member reading every column.
func TestLeanKeptBaskets(t *testing.T) {
	for _, base := range []string{"nanoAOD_2015_CMS_Open_Data_ttbar.root", "uproot-small-dy-nooffsets.root"} {
		name := testfiles.Shared(t, filepath.Join("uproot", base))
		cf := openCounting(t, name)
		want, err := tbranch.ParseTree(name, cf, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := tbranch.LeanSchema(cf, "")
		if err != nil {
			t.Fatalf("%s: lean reader gave up: %v", base, err)
		}
		sameTree(t, base, got, want)
		kept := 0
		for _, c := range got.Cols {
			kept += c.Baskets.InMemory
		}
		if base[0] == 'n' && kept < 900 {
			t.Errorf("%s: %d kept baskets read", base, kept)
		}
		m, err := tbranch.LeanMember(cf, want.Name, tbranch.NewLeanWant(want.Cols, want.Cols))
		if err != nil {
			t.Fatalf("%s: lean member: %v", base, err)
		}
		sameTree(t, base+" as a member", m, want)
	}
}

// TestChooseTree: a tree is found at the top or by path in a
// subdirectory, and the errors name the file and the trees there are.
func TestChooseTree(t *testing.T) {
	name := testfiles.Shared(t, "uproot/uproot-nesteddirs.root")
	cf := openCounting(t, name)
	rf, l, err := tbranch.OpenGroot(name, cf)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	nested := l.WalkDirs(cf).Trees()
	if len(nested) == 0 {
		t.Fatalf("%s: no trees in subdirectories", name)
	}
	for _, p := range nested {
		td, err := tbranch.ChooseTree(name, cf, rf, l, p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		dir, base := rfile.SplitTreePath(p)
		if td.Path != p || td.Dir != dir || td.Name != base {
			t.Errorf("%s: chose %+v", p, td)
		}
		tree, err := tbranch.ParseTree(name, cf, p)
		if err != nil || tree.Name != p || len(tree.Cols) == 0 {
			t.Errorf("%s: parsed %v, %v", p, tree, err)
		}
	}
	_, err = tbranch.ChooseTree(name, cf, rf, l, "nosuch")
	if err == nil || !strings.Contains(err.Error(), name+`: no tree "nosuch" (trees: `+strings.Join(nested, ", ")+")") {
		t.Errorf("missing tree: %v", err)
	}
	_, err = tbranch.ChooseTree(name, cf, rf, l, "")
	if want := name + ": no TTree at the top of the file; in its directories: " + strings.Join(nested, ", "); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("default tree: %v, want %q", err, want)
	}
	if err := tbranch.CheckEntries(-1, nil); !errors.Is(err, rfile.ErrCorruptTree) {
		t.Errorf("negative entries: %v", err)
	}
}
