package rfile

import (
	"errors"
	"os"
	"testing"

	"go-hep.org/x/hep/groot/riofs"
)

// cmsSample is the shared CMS sample, relative to this package.
const cmsSample = "../../../shared/data/Run2012B_SingleMu_10000.root"

func openCounting(t *testing.T, name string) *CountingFile {
	t.Helper()
	if _, err := os.Stat(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: %v", name, err)
		}
		t.Skipf("%s is missing: %v", name, err)
	}
	b, err := BackendFor(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := b.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	return &CountingFile{File: f, FileSize: size}
}

// TestLayoutMatchesGroot reads the CMS sample's header and top keys list
// and compares them with what groot (go-hep) reads from the same file.
func TestLayoutMatchesGroot(t *testing.T) {
	cf := openCounting(t, cmsSample)
	l, err := CheckLayout(cf)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckStreamerRecord(cf, l); err != nil {
		t.Fatal(err)
	}
	rf, err := riofs.Open(cmsSample)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	if l.End != cf.FileSize {
		t.Errorf("fEND %d in a %d-byte file", l.End, cf.FileSize)
	}
	keys := rf.Keys()
	if len(keys) != len(l.Keys) || len(keys) == 0 {
		t.Fatalf("%d keys; groot reads %d", len(l.Keys), len(keys))
	}
	for i, k := range keys {
		got := l.Keys[i]
		if got.Name != k.Name() || got.Class != k.ClassName() || got.Cycle != k.Cycle() || got.Objlen != int64(k.ObjLen()) || got.Keylen != int64(k.KeyLen()) || got.Seek != k.SeekKey() {
			t.Errorf("key %d: %+v; groot: %s %s;%d objlen %d keylen %d seek %d", i, got, k.ClassName(), k.Name(), k.Cycle(), k.ObjLen(), k.KeyLen(), k.SeekKey())
		}
	}
	w := l.WalkDirs(cf)
	if trees := w.Trees(); len(trees) != 1 || trees[0] != keys[0].Name() {
		t.Errorf("trees %q; want [%q]", trees, keys[0].Name())
	}
}

// TestLayoutTruncated checks that a file cut inside its top directory is
// a corrupt directory, with the message read_root reports.
func TestLayoutTruncated(t *testing.T) {
	cf := openCounting(t, cmsSample)
	cut := &CountingFile{File: cf.File, FileSize: 120}
	_, err := CheckLayout(cut)
	if !errors.Is(err, ErrCorruptFile) || !errors.Is(err, ErrCorruptHeader) {
		t.Fatalf("%v; want a corrupt file header", err)
	}
	if _, err := CheckLayout(&CountingFile{File: cf.File, FileSize: 3}); !errors.Is(err, ErrNotROOT) {
		t.Errorf("3 bytes: %v; want %v", err, ErrNotROOT)
	}
}
