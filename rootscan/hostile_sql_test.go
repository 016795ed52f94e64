package rootscan_test

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot/rdict"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/testfiles"
)

// grootRead reads branches of tree in file with groot's own reader, the
// independent reference.
func grootRead(t *testing.T, file, tree string, names []string) map[string][]any {
	t.Helper()
	f, err := riofs.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	obj, err := riofs.Dir(f).Get(tree)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := grootColumns(t, obj.(rtree.Tree), names)
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

// TestRecursiveClassIssue443 opens uproot-issue443.root, whose class
// ND::TDatum holds an ND::TDatum*: groot's type builder recursed on it
// until the stack overflowed and killed the process. The file's trees are
// listed, the branch that stores the class is unsupported with the reason,
// and the other tree's branches read by name, as groot's reader reads them.
func TestRecursiveClassIssue443(t *testing.T) {
	file := testfiles.UprootTestFile(t, "uproot-issue443.root")
	db := openDB(t)

	rows, err := db.Query(fmt.Sprintf(`SELECT tree, entries FROM root_trees(%s) ORDER BY tree`, quote(file)))
	if err != nil {
		t.Fatalf("root_trees: %v", err)
	}
	var trees []string
	for rows.Next() {
		var name string
		var entries int64
		if err := rows.Scan(&name, &entries); err != nil {
			t.Fatal(err)
		}
		trees = append(trees, name)
	}
	rows.Close()
	if !slices.Equal(trees, []string{"ND280Events", "muonDataTree"}) {
		t.Errorf("root_trees lists %v, want ND280Events and muonDataTree", trees)
	}

	bs := branchesOf(t, db, file, "ND280Events")
	if len(bs) != 1 || bs[0].name != "ND280Event" || bs[0].supported || !strings.Contains(bs[0].note, "recursive class ND::TDatum") {
		t.Errorf("ND280Events branches: %+v, want ND280Event unsupported as a recursive class", bs)
	}
	mustFailExplained(t, db, fmt.Sprintf(`SELECT ND280Event FROM read_root(%s, tree := 'ND280Events')`, quote(file)), "ND280Event", "recursive class")

	// muonDataTree holds no recursive class: its branches read by name.
	var names []string
	for _, b := range branchesOf(t, db, file, "muonDataTree") {
		if b.supported {
			names = append(names, b.name)
		}
	}
	if len(names) < 60 {
		t.Fatalf("muonDataTree: only %d supported branches: %v", len(names), names)
	}
	want := grootRead(t, file, "muonDataTree", names)
	for _, n := range []string{"evtNum", "trkNum", "trkChi2X", "trkInnerPos.fX", "trkModuleName.fString"} {
		got, err := readColumn(db, file, "muonDataTree", n)
		if err != nil {
			t.Errorf("read_root muonDataTree.%s: %v", n, err)
			continue
		}
		if len(got) != len(want[n]) || (len(got) > 0 && !equalCanon(got, want[n])) {
			t.Errorf("muonDataTree.%s: read_root %v, groot %v", n, got, want[n])
		}
	}
}

// hostileNodA holds a hostileNodB; the test below renames that member's
// type in the written streamer to hostileNodA, a class that holds itself.
type hostileNodA struct {
	X   int32
	Sub hostileNodB
}

type hostileNodB struct {
	Y int32
}

// writeSelfReferencing writes a tree with a plain branch e and a branch n
// of class hostileNodA, uncompressed, and returns its bytes and a copy
// whose streamer makes hostileNodA hold a hostileNodA.
func writeSelfReferencing(t *testing.T, dir string) (orig, bad string) {
	t.Helper()
	rdict.StreamerInfos.Add(rdict.StreamerOf(rdict.StreamerInfos, reflect.TypeFor[hostileNodB]()))
	orig = filepath.Join(dir, "nod.root")
	var (
		e int32
		n hostileNodA
	)
	data := testfiles.WriteTree(t, orig, "T", []rtree.WriteVar{{Name: "e", Value: &e}, {Name: "n", Value: &n}}, 5, func(i int) {
		e, n = int32(i*3), hostileNodA{X: int32(i), Sub: hostileNodB{Y: int32(10 * i)}}
	})
	// The streamer of hostileNodA (written first) names its member's type;
	// the streamer of hostileNodB follows.
	i := bytes.Index(data, []byte("hostileNodB"))
	if i < 0 || bytes.Index(data, []byte("hostileNodA")) > i {
		t.Fatalf("streamer layout: hostileNodB at %d", i)
	}
	copy(data[i:], "hostileNodA")
	bad = filepath.Join(dir, "nod-self.root")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return orig, bad
}

// TestSelfReferencingStreamer reproduces issue443's crash with a file of
// our own: a class whose streamer holds the class itself by value.
func TestSelfReferencingStreamer(t *testing.T) {
	orig, bad := writeSelfReferencing(t, t.TempDir())
	db := openDB(t)
	var tree string
	var entries int64
	if err := db.QueryRow(fmt.Sprintf(`SELECT tree, entries FROM root_trees(%s)`, quote(bad))).Scan(&tree, &entries); err != nil || tree != "T" || entries != 5 {
		t.Fatalf("root_trees: %q %d %v", tree, entries, err)
	}
	bs := branchesOf(t, db, bad, "T")
	if len(bs) != 2 || !bs[0].supported || bs[1].supported || !strings.Contains(bs[1].note, "recursive class hostileNodA") {
		t.Errorf("branches: %+v, want e supported and n unsupported as a recursive class", bs)
	}
	got, err := readColumn(db, bad, "T", "e")
	if err != nil {
		t.Fatal(err)
	}
	if want := grootRead(t, orig, "T", []string{"e"})["e"]; !equalCanon(got, want) {
		t.Errorf("e: read_root %v, groot (unpatched file) %v", got, want)
	}
	mustFailExplained(t, db, fmt.Sprintf(`SELECT n FROM read_root(%s)`, quote(bad)), `"n"`, "recursive class hostileNodA")
}

// TestArrayBeyondDuckDB: a fixed array larger than DuckDB's ARRAY type
// holds (100000 elements) was a column DuckDB silently dropped; it is now
// unsupported with the reason, and the tree's other branches read.
func TestArrayBeyondDuckDB(t *testing.T) {
	name := filepath.Join(t.TempDir(), "bigarr.root")
	f, err := riofs.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	var (
		e   int32
		arr [100001]float32
	)
	w, err := rtree.NewWriter(f, "T", []rtree.WriteVar{{Name: "e", Value: &e}, {Name: "arr", Value: &arr}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		e, arr[0] = int32(i+7), float32(i)
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
	db := openDB(t)
	bs := branchesOf(t, db, name, "T")
	if len(bs) != 2 || !bs[0].supported || bs[1].supported || !strings.Contains(bs[1].note, "ARRAY limit") {
		t.Errorf("branches: %+v", bs)
	}
	mustFailExplained(t, db, fmt.Sprintf(`SELECT arr FROM read_root(%s)`, quote(name)), `"arr"`, "ARRAY limit")
	got, err := readColumn(db, name, "T", "e")
	if err != nil || len(got) != 2 {
		t.Errorf("e: %v %v", got, err)
	}
}

// TestRecursiveClassFromAnotherFile: groot keeps every streamer of every
// file a process opens in one registry, and looks up there a class a file
// names without describing. A file whose branch names hostileNodA without
// its streamer, read after nod-self.root registered a hostileNodA that
// holds itself, must not send groot into the recursion either.
func TestRecursiveClassFromAnotherFile(t *testing.T) {
	dir := t.TempDir()
	orig, bad := writeSelfReferencing(t, dir)
	data, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	if v := binary.BigEndian.Uint32(data[4:]); v >= 1000000 {
		t.Fatalf("file version %d: a big-file header", v)
	}
	seekInfo := int(binary.BigEndian.Uint32(data[37:]))
	nbytesInfo := int(binary.BigEndian.Uint32(data[41:]))
	region := data[seekInfo : seekInfo+nbytesInfo]
	if n := bytes.Count(region, []byte("hostileNodA")); n == 0 {
		t.Fatal("no hostileNodA streamer to hide")
	}
	copy(region, bytes.ReplaceAll(region, []byte("hostileNodA"), []byte("hostileNodZ")))
	orphan := filepath.Join(dir, "nod-orphan.root")
	if err := os.WriteFile(orphan, data, 0o644); err != nil {
		t.Fatal(err)
	}

	db := openDB(t)
	branchesOf(t, db, bad, "T") // registers the recursive hostileNodA
	bs := branchesOf(t, db, orphan, "T")
	if len(bs) != 2 || !bs[0].supported || bs[1].supported || !strings.Contains(bs[1].note, "recursive class hostileNodA") {
		t.Errorf("branches: %+v, want e supported and n unsupported as a recursive class", bs)
	}
	got, err := readColumn(db, orphan, "T", "e")
	if err != nil || len(got) != 5 {
		t.Errorf("e: %v %v", got, err)
	}
}

// mustFailExplained runs q on one connection and checks that it fails and
// that the error, as hepsql.Notices explains it (an unsupported branch is
// left out of the table, so DuckDB alone only says the column is missing),
// contains every one of wants.
func mustFailExplained(t *testing.T, db *sql.DB, q string, wants ...string) {
	t.Helper()
	_, _, _, err := queryNotices(session(t, db), q)
	if err == nil {
		t.Fatalf("%s: no error", q)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not mention %q", q, err, w)
		}
	}
}
