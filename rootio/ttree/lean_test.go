package ttree

import (
	"os"
	"testing"

	"github.com/hepsql/hepsql/rootio/rfile"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"
)

// cmsSample is the shared CMS sample, relative to this package.
const cmsSample = "../../../shared/data/Run2012B_SingleMu_10000.root"

// TestTreeRecordMatchesGroot reads the CMS sample's tree record with the
// lean parser and compares the tree, its branches and their leaves with
// groot's reading of the same record.
func TestTreeRecordMatchesGroot(t *testing.T) {
	f, err := os.Open(cmsSample)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	cf := &rfile.CountingFile{File: osFile{f}, FileSize: st.Size()}
	key, err := FindKey(cf, "")
	if err != nil {
		t.Fatal(err)
	}
	defer key.Release()
	r := TreeRecordReader{RecordReader: rfile.RecordReader{Buf: key.Payload, Base: key.Keylen, Classes: map[int]string{}}, Full: true}
	name, _, entries, branches := r.TreeRecord()
	if r.Err != nil {
		t.Fatal(r.Err)
	}

	rf, err := riofs.Open(cmsSample)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	obj, err := riofs.Dir(rf).Get(name)
	if err != nil {
		t.Fatal(err)
	}
	tree := obj.(rtree.Tree)
	if entries != tree.Entries() {
		t.Errorf("%d entries; groot: %d", entries, tree.Entries())
	}
	want := tree.Branches()
	if len(branches) != len(want) || len(want) == 0 {
		t.Fatalf("%d branches; groot: %d", len(branches), len(want))
	}
	for i, b := range branches {
		g := want[i]
		if b.Name != g.Name() || len(b.Leaves) != len(g.Leaves()) {
			t.Errorf("branch %d: %q with %d leaves; groot: %q with %d", i, b.Name, len(b.Leaves), g.Name(), len(g.Leaves()))
			continue
		}
		if n := len(b.Baskets.First); n == 0 || b.Baskets.First[n-1] != tree.Entries() {
			t.Errorf("branch %q: basket table ends at %v; groot: %d entries", b.Name, b.Baskets.First, tree.Entries())
		}
		for j, l := range b.Leaves {
			gl := g.Leaves()[j]
			if l.Name != gl.Name() || l.Class != gl.Class() || l.Title != gl.Title() || l.LenType != gl.LenType() || l.Unsigned != gl.IsUnsigned() || l.Counted != (gl.LeafCount() != nil) {
				t.Errorf("branch %q leaf %d: %+v; groot: %s %s %q lenType %d unsigned %v", b.Name, j, l, gl.Class(), gl.Name(), gl.Title(), gl.LenType(), gl.IsUnsigned())
			}
		}
	}
}

// osFile gives an *os.File the Size rfile.File asks for.
type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
