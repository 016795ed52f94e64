package rootscan_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/rootscan"
)

// compareStarWithGroot reads every supported column of file's tree with
// SELECT * and compares it, entry by entry, with groot's per-entry reader;
// it returns how many columns it compared. For the columns in tail, the
// entries from tailFrom on are compared with groot's reader started at
// tailFrom instead (see TestEmbeddedBasketsAgainstGroot).
func compareStarWithGroot(t *testing.T, file, treeName string, tail map[string]bool, tailFrom int64) int {
	t.Helper()
	f, err := groot.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	obj, err := riofs.Dir(f).Get(treeName)
	if err != nil {
		t.Fatal(err)
	}
	tree := obj.(rtree.Tree)
	db := openDB(t)
	branches := branchesOf(t, db, file, treeName)
	var paths []string
	byName := map[string]branchInfo{}
	for _, b := range branches {
		if b.supported {
			paths = append(paths, b.path)
			byName[b.name] = b
		}
	}
	ref, err := grootColumns(t, tree, paths)
	if err != nil {
		t.Fatalf("groot's reader: %v", err)
	}
	if len(tail) > 0 {
		var tailPaths []string
		for _, p := range paths {
			if tail[p] {
				tailPaths = append(tailPaths, p)
			}
		}
		refTail, err := grootColumns(t, tree, tailPaths, rtree.WithRange(tailFrom, tree.Entries()))
		if err != nil {
			t.Fatalf("groot's reader from entry %d: %v", tailFrom, err)
		}
		for p, vals := range refTail {
			if int64(len(vals)) != tree.Entries()-tailFrom || int64(len(ref[p])) != tree.Entries() {
				t.Fatalf("%q: groot gives %d entries from %d and %d in all", p, len(vals), tailFrom, len(ref[p]))
			}
			copy(ref[p][tailFrom:], vals)
		}
	}
	rows, err := db.Query(fmt.Sprintf(`SELECT * FROM read_root(%s, tree := %s) ORDER BY _entry`, quote(file), quote(treeName)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	compared := map[string]bool{}
	entry := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			b, ok := byName[c]
			if !ok {
				continue
			}
			want, ok := ref[b.path]
			if !ok {
				continue
			}
			if entry >= len(want) {
				t.Fatalf("%q: more rows than groot's %d", c, len(want))
			}
			if got := canon(reflect.ValueOf(vals[i])); !equalCanon(got, want[entry]) {
				t.Fatalf("%q (%s) entry %d: read_root %v, groot %v", c, b.rootType, entry, got, want[entry])
			}
			compared[c] = true
		}
		entry++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if int64(entry) != tree.Entries() {
		t.Errorf("%d rows, groot %d entries", entry, tree.Entries())
	}
	return len(compared)
}

// TestEmbeddedBasketsAgainstGroot: the real CMS NanoAOD file whose baskets
// all sit in the TTree record (its writer never flushed the tree; one
// branch also has two baskets on disk before its kept one). Every branch
// is supported, and SELECT * equals groot's per-entry reader (which reads
// the kept baskets back from the record) on every column over all 200
// entries, with default units and with units of 1 to 7 entries so that
// reads start inside baskets.
//
// One branch, LHEPdfWeight, has two baskets on disk (entries 0–151) and
// its kept basket (152–199). groot's reader over all entries repeats entry
// 151 at 152 and 153 (a groot bug where it switches from the disk baskets
// to the kept one: its values from 154 on, and those of its reader started
// at 152, agree with the kept basket's bytes), so that column's entries
// from 152 on are compared with groot's reader started at 152.
func TestEmbeddedBasketsAgainstGroot(t *testing.T) {
	file := sharedUproot(t, "nanoAOD_2015_CMS_Open_Data_ttbar.root")
	db := openDB(t)
	branches := branchesOf(t, db, file, "Events")
	supported, kept := 0, 0
	for _, b := range branches {
		if b.supported {
			supported++
		} else if strings.Contains(b.note, "TTree") {
			kept++
		}
	}
	if kept > 0 || supported < 900 {
		t.Fatalf("%d of %d branches supported, %d refused for baskets in the tree record", supported, len(branches), kept)
	}
	for _, unit := range []int64{0, 7} {
		if unit > 0 {
			restore := rootscan.SetUnitSizes(1, unit)
			defer restore()
		}
		if n := compareStarWithGroot(t, file, "Events", map[string]bool{"LHEPdfWeight": true}, 152); n < 900 {
			t.Errorf("units of %d: only %d columns compared with groot", unit, n)
		}
	}
}
