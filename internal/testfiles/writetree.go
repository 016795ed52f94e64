package testfiles

import (
	"os"
	"testing"

	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"
)

// WriteTree writes, with groot and without compression, a ROOT file at
// path holding one tree of rows entries: fill sets the values behind vars
// for entry i. It returns the file's bytes, which are laid out as groot and
// rootscan parse them, for tests that patch them.
func WriteTree(t testing.TB, path, tree string, vars []rtree.WriteVar, rows int, fill func(i int), opts ...rtree.WriteOption) []byte {
	t.Helper()
	f, err := riofs.Create(path, riofs.WithoutCompression())
	if err != nil {
		t.Fatal(err)
	}
	w, err := rtree.NewWriter(f, tree, vars, append([]rtree.WriteOption{rtree.WithoutCompression()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		fill(i)
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
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
