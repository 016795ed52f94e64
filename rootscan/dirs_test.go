package rootscan

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"
)

// writeNested writes, uncompressed, a tree "top" at the top and, for each
// dir, a tree "t" holding entries i*10 .. i*10+n-1 of x in that
// directory (made with groot's Mkdir, parents included).
func writeNested(t testing.TB, name string, n int, dirs ...string) {
	t.Helper()
	f, err := riofs.Create(name, riofs.WithoutCompression())
	if err != nil {
		t.Fatal(err)
	}
	write := func(d riofs.Directory, tree string, base int) {
		var x int32
		w, err := rtree.NewWriter(d, tree, []rtree.WriteVar{{Name: "x", Value: &x}}, rtree.WithoutCompression())
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			x = int32(base + i)
			if _, err := w.Write(); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	write(f, "top", 1000)
	for i, p := range dirs {
		d, err := riofs.Dir(f).Mkdir(p)
		if err != nil {
			t.Fatal(err)
		}
		write(d, "t", 10*i)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// xs reads column x of tree through parseTree's metadata and a column
// reader, as read_root does.
func treeXs(t *testing.T, name, tree string) ([]int32, error) {
	t.Helper()
	f, err := openTree(name, tree)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := f.ByName["x"]
	m := tbranch.NewMemVector(c.Type)
	if err := tbranch.NewReader(c, f.dec).Fill(m, 0, int(f.Entries)); err != nil {
		return nil, err
	}
	var out []int32
	for e := range int(f.Entries) {
		out = append(out, m.Value(e).(int32))
	}
	return out, nil
}

// TestTreesInDirectories: a groot-written file with trees at the top and
// two levels down is listed with paths, each tree reads by path with its
// own values, the default stays the top one, and a missing path names
// the trees there are.
func TestTreesInDirectories(t *testing.T) {
	name := filepath.Join(t.TempDir(), "nested.root")
	writeNested(t, name, 3, "a", "a/b", "c")
	cf, rf, l, err := openROOTWith(name, rfile.DefaultSourceOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	if got, want := l.WalkDirs(cf).Trees(), []string{"top", "a/t", "a/b/t", "c/t"}; !slices.Equal(got, want) {
		t.Errorf("trees %q, want %q", got, want)
	}
	for i, p := range []string{"a/t", "a/b/t", "c/t", "/c/t"} {
		xs, err := treeXs(t, name, p)
		want := []int32{int32(10 * min(i, 2)), int32(10*min(i, 2) + 1), int32(10*min(i, 2) + 2)}
		if err != nil || !slices.Equal(xs, want) {
			t.Errorf("%s: %v, %v; want %v", p, xs, err, want)
		}
	}
	if f, err := openTree(name, ""); err != nil || f.Name != "top" {
		t.Errorf("default tree: %v, %v; want top", f, err)
	}
	if _, err := openTree(name, "a/nope"); err == nil || !strings.Contains(err.Error(), "a/b/t") {
		t.Errorf("missing path: %v, want an error listing the trees", err)
	}
}

// TestDirectoryCycleAndDepth: a directory whose record points at its
// parent's keys list (a cycle) and directories nested deeper than
// maxDirDepth are left out of the listing, with the rest listed; naming a
// tree in them is an error saying why; nothing hangs or overflows.
func TestDirectoryCycleAndDepth(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "cycle.root")
	writeNested(t, name, 2, "a", "a/b")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	cf := memCF(data)
	l, err := rfile.CheckLayout(cf)
	if err != nil {
		t.Fatal(err)
	}
	w := l.WalkDirs(cf)
	if len(w.Dirs) != 3 {
		t.Fatalf("%d directories", len(w.Dirs))
	}
	// Point a/b's record at a's keys list: version, two dates, nbytes of
	// keys and of name, then three 32-bit seeks (small file), the last
	// fSeekKeys.
	var bKey, aKeys rfile.Key
	for _, k := range w.Dirs[1].Keys {
		if k.Name == "b" {
			bKey = k
		}
	}
	for _, k := range w.Dirs[0].Keys {
		if k.Name == "a" {
			aKeys = k
		}
	}
	if bKey.Name == "" || aKeys.Name == "" {
		t.Fatal("directory keys not found")
	}
	aRec := aKeys.Seek + aKeys.Keylen
	bRec := bKey.Seek + bKey.Keylen
	if binary.BigEndian.Uint16(data[bRec:]) > 1000 {
		t.Skip("64-bit directory record")
	}
	copy(data[bRec+10:bRec+14], data[aRec+10:aRec+14]) // fNbytesKeys
	copy(data[bRec+26:bRec+30], data[aRec+26:aRec+30]) // fSeekKeys
	patched := filepath.Join(dir, "patched.root")
	if err := os.WriteFile(patched, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cf = memCF(data)
	l, err = rfile.CheckLayout(cf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.WalkDirs(cf).Trees(), []string{"top", "a/t"}; !slices.Equal(got, want) {
		t.Errorf("cycle: trees %q, want %q", got, want)
	}
	if _, err := openTree(patched, "a/b/t"); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: reading a/b/t: %v, want an error naming the cycle", err)
	}
	if xs, err := treeXs(t, patched, "a/t"); err != nil || len(xs) != 2 {
		t.Errorf("cycle: a/t: %v, %v", xs, err)
	}

	deep := filepath.Join(dir, "deep.root")
	path := strings.TrimSuffix(strings.Repeat("d/", rfile.MaxDirDepth+2), "/")
	writeNested(t, deep, 1, "d", path)
	cf2, rf, l2, err := openROOTWith(deep, rfile.DefaultSourceOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	if got, want := l2.WalkDirs(cf2).Trees(), []string{"top", "d/t"}; !slices.Equal(got, want) {
		t.Errorf("deep: trees %q, want %q", got, want)
	}
	if _, err := openTree(deep, path+"/t"); err == nil || !strings.Contains(err.Error(), "deep") {
		t.Errorf("deep: reading %s/t: %v, want an error naming the depth", path, err)
	}
}
