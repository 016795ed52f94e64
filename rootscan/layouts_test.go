package rootscan_test

import (
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rphys"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/rootscan"
)

// TestSplitBaseClassMembers: the members of a split base class (TObject's
// fUniqueID and fBits under each TVector3 and TObjString of uproot's
// issue443 tree) are columns typed from the base's streamer: groot gives
// their branches no streamer element, and they were refused as "C++ type
// TObject". The tree holds no entries: the types are the check, and
// SELECT * naming them must work.
func TestSplitBaseClassMembers(t *testing.T) {
	file := sharedUproot(t, "uproot-issue443.root")
	db := openDB(t)
	rows, err := db.Query(fmt.Sprintf(`SELECT name, root_type, sql_type, supported FROM root_branches(%s, tree := 'muonDataTree') WHERE name LIKE '%%.TObject.%%' ORDER BY name`, quote(file)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name, rootType, sqlType string
		var ok bool
		if err := rows.Scan(&name, &rootType, &sqlType, &ok); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %v", name, rootType, sqlType, ok))
	}
	var want []string
	for _, obj := range []string{"hitPosExtrap", "hitPosRaw", "trkInnerPos", "trkInnerPosLocal", "trkModuleName", "trkOuterPos", "trkOuterPosLocal"} {
		want = append(want,
			obj+".TObject.fBits TBranchElement UInt_t UINTEGER true",
			obj+".TObject.fUniqueID TBranchElement UInt_t UINTEGER true")
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("split TObject members:\n got %q\nwant %q", got, want)
	}
	var n int
	if err := db.QueryRow(fmt.Sprintf(`SELECT count("trkInnerPos.TObject.fBits") FROM (SELECT * FROM read_root(%s, tree := 'muonDataTree'))`, quote(file))).Scan(&n); err != nil || n != 0 {
		t.Errorf("SELECT * with the base members: %d rows, %v", n, err)
	}
}

// TestTLeafObjectTreeOpens: a tree holding a TLeafObject of a physics
// class (go-hep's tlv-split00: TLorentzVector p4, unsplit) opens; the leaf
// is refused with its reason and the entries are counted. groot
// unmarshals such a leaf through its type registry, which only holds
// TLorentzVector when rootscan itself links groot's rphys: the test binary
// links all of groot, so the package's own dependencies are checked too.
func TestTLeafObjectTreeOpens(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/hepsql/hepsql/rootscan").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if !slices.Contains(strings.Fields(string(out)), "go-hep.org/x/hep/groot/rphys") {
		t.Errorf("rootscan does not link go-hep.org/x/hep/groot/rphys: trees with a TLorentzVector TLeafObject fail to open outside tests")
	}
	file := filepath.Join(grootTestdata(t), "tlv-split00.root")
	db := openDB(t)
	var n int64
	if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM (SELECT * FROM read_root(%s))`, quote(file))).Scan(&n); err != nil || n != 10 {
		t.Errorf("tlv-split00: SELECT * gave %d rows, %v; want groot's 10", n, err)
	}
	b := branchesOf(t, db, file, "tree")
	if len(b) != 1 || b[0].supported || b[0].note != "leaf class TLeafObject" {
		t.Errorf("tlv-split00 branches: %+v, want p4 refused as a TLeafObject", b)
	}
}

// TestPointerMembersAgainstGroot: the "T* x; //[n]" members of a split
// object (go-hep's small-evnt-tree-fullsplit: evt.SliceI16 … SliceF64,
// sized by evt.N) are lists equal, entry by entry, to what
// groot's per-entry reader gives, over reads that start inside baskets.
func TestPointerMembersAgainstGroot(t *testing.T) {
	file := filepath.Join(grootTestdata(t), "small-evnt-tree-fullsplit.root")
	f, err := groot.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	obj, err := riofs.Dir(f).Get("tree")
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	var names []string
	for _, b := range branchesOf(t, db, file, "tree") {
		if strings.HasSuffix(b.rootType, "*") {
			if !b.supported {
				t.Errorf("%s (%s) refused: %s", b.name, b.rootType, b.note)
			}
			names = append(names, b.path)
		}
	}
	if len(names) != 8 {
		t.Fatalf("pointer members %q, want the file's 8", names)
	}
	ref, err := grootColumns(t, obj.(rtree.Tree), names)
	if err != nil {
		t.Fatal(err)
	}
	for _, unit := range []int64{0, 3} {
		if unit > 0 {
			defer rootscan.SetUnitSizes(1, unit)()
		}
		for _, n := range names {
			want, ok := ref[n]
			if !ok || len(want) == 0 {
				t.Fatalf("groot gives no values for %s", n)
			}
			got, err := readColumn(db, file, "tree", n)
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d rows, groot %d", n, len(got), len(want))
			}
			for i := range got {
				if !equalCanon(got[i], want[i]) {
					t.Errorf("%s entry %d (unit %d): read_root %v, groot %v", n, i, unit, got[i], want[i])
					break
				}
			}
		}
	}
}

// TestObjectsAgainstGroot: unsplit objects read as STRUCTs of their
// members equal groot's per-entry reading of them: the TLorentzVector p4
// of go-hep's tlv-split01 and tlv-split99 (a nested TVector3 fP and fE),
// uproot's HZZ-objects' TVector2 MET and TVector3 MC_* branches (jsroot
// reads these two classes two bytes off: it skips TObject's version) and
// its vector<TLorentzVector> jetp4 and muonp4 (LISTs of STRUCTs).
func TestObjectsAgainstGroot(t *testing.T) {
	parts := func(v any) []float64 {
		switch v := v.(type) {
		case *rphys.LorentzVector:
			return []float64{v.Px(), v.Py(), v.Pz(), v.E()}
		case *rphys.Vector3:
			return []float64{v.X(), v.Y(), v.Z()}
		case *rphys.Vector2:
			return []float64{v.X(), v.Y()}
		case *[]rphys.LorentzVector:
			out := []float64{float64(len(*v))}
			for _, p := range *v {
				out = append(out, p.Px(), p.Py(), p.Pz(), p.E())
			}
			return out
		}
		return []float64{math.NaN()} // a type this test does not know
	}
	num := func(m map[string]any, k string) float64 { f, _ := m[k].(float64); return f }
	var sqlParts func(v any) []float64
	sqlParts = func(v any) []float64 {
		if l, ok := v.([]any); ok {
			out := []float64{float64(len(l))}
			for _, e := range l {
				out = append(out, sqlParts(e)...)
			}
			return out
		}
		m, _ := v.(map[string]any)
		if p, ok := m["fP"].(map[string]any); ok {
			return []float64{num(p, "fX"), num(p, "fY"), num(p, "fZ"), num(m, "fE")}
		}
		if _, ok := m["fZ"]; ok {
			return []float64{num(m, "fX"), num(m, "fY"), num(m, "fZ")}
		}
		return []float64{num(m, "fX"), num(m, "fY")}
	}
	db := openDB(t)
	cases := []struct {
		file     string
		branches []string
	}{
		{filepath.Join(grootTestdata(t), "tlv-split01.root"), []string{"p4"}},
		{filepath.Join(grootTestdata(t), "tlv-split99.root"), []string{"p4"}},
		{hzzObjects(t), []string{"MET", "MC_bquarkhadronic", "MC_lepton", "jetp4", "muonp4"}},
	}
	for _, c := range cases {
		f, err := groot.Open(c.file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		name := "tree"
		if strings.Contains(c.file, "HZZ") {
			name = "events"
		}
		obj, err := riofs.Dir(f).Get(name)
		if err != nil {
			t.Fatal(err)
		}
		tree := obj.(rtree.Tree)
		for _, br := range c.branches {
			var want [][]float64
			var vars []rtree.ReadVar
			for _, rv := range rtree.NewReadVars(tree) {
				if rv.Name == br {
					vars = append(vars, rv)
				}
			}
			if len(vars) != 1 {
				t.Fatalf("%s: groot has no read variable %s", c.file, br)
			}
			r, err := rtree.NewReader(tree, vars)
			if err != nil {
				t.Fatalf("%s %s: groot: %v", c.file, br, err)
			}
			err = r.Read(func(rtree.RCtx) error {
				want = append(want, parts(vars[0].Value))
				return nil
			})
			r.Close()
			if err != nil {
				t.Fatalf("%s %s: groot: %v", c.file, br, err)
			}
			// Default units, then units of 7 entries that start inside
			// baskets.
			var got [][]float64
			for _, unit := range []int64{0, 7} {
				restore := func() {}
				if unit > 0 {
					restore = rootscan.SetUnitSizes(1, unit)
				}
				rows, err := db.Query(fmt.Sprintf(`SELECT "%s" FROM read_root(%s, tree := %s) ORDER BY _entry`, br, quote(c.file), quote(name)))
				if err != nil {
					t.Fatalf("%s %s: %v", c.file, br, err)
				}
				var g [][]float64
				for rows.Next() {
					var v any
					if err := rows.Scan(&v); err != nil {
						t.Fatal(err)
					}
					g = append(g, sqlParts(v))
				}
				rows.Close()
				restore()
				if got != nil && len(g) != len(got) {
					t.Fatalf("%s %s: %d rows with units of %d, %d with default units", c.file, br, len(g), unit, len(got))
				}
				if got == nil {
					got = g
				}
				for i := range min(len(g), len(got)) {
					if !slices.Equal(g[i], got[i]) {
						t.Fatalf("%s %s entry %d: units of %d give %v, default units %v", c.file, br, i, unit, g[i], got[i])
					}
				}
			}
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%s %s: %d rows, groot %d", c.file, br, len(got), len(want))
			}
			nonzero := false
			for i := range got {
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("%s %s entry %d: read_root %v, groot %v", filepath.Base(c.file), br, i, got[i], want[i])
					break
				}
				nonzero = nonzero || slices.ContainsFunc(got[i], func(x float64) bool { return x != 0 })
			}
			if !nonzero && !strings.HasPrefix(br, "MC_") { // the MC_ vectors of this sample are all 0
				t.Errorf("%s %s: every value is 0", c.file, br)
			}
		}
	}
}

// TestLeafListVarAgainstGroot: the leaves of a leaf list with variable-
// length leaves (go-hep's pod-advanced: "orange", whose Trk_px and Trk_py
// are counted by its Trk_ntracks) are columns, the counted ones LISTs,
// equal entry by entry to groot's per-entry reader's values, over reads
// that start inside baskets.
func TestLeafListVarAgainstGroot(t *testing.T) {
	file := filepath.Join(grootTestdata(t), "pod-advanced.root")
	f, err := groot.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	obj, err := riofs.Dir(f).Get("orange")
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	var names []string
	lists := 0
	for _, b := range branchesOf(t, db, file, "orange") {
		if !strings.HasPrefix(b.path, "orange.") {
			continue
		}
		if !b.supported {
			t.Errorf("%s (%s) refused: %s", b.name, b.rootType, b.note)
		}
		if strings.HasSuffix(b.sqlType, "[]") {
			lists++
		}
		names = append(names, b.path)
	}
	if len(names) != 7 || lists != 2 {
		t.Fatalf("leaves of orange %q (%d lists), want the list's leaves with Trk_px and Trk_py as lists", names, lists)
	}
	ref, err := grootColumns(t, obj.(rtree.Tree), names)
	if err != nil {
		t.Fatal(err)
	}
	for _, unit := range []int64{0, 3} {
		if unit > 0 {
			defer rootscan.SetUnitSizes(1, unit)()
		}
		for _, n := range names {
			want, ok := ref[n]
			if !ok || len(want) == 0 {
				t.Fatalf("groot gives no values for %s", n)
			}
			got, err := readColumn(db, file, "orange", n)
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d rows, groot %d", n, len(got), len(want))
			}
			for i := range got {
				if !equalCanon(got[i], want[i]) {
					t.Errorf("%s entry %d (unit %d): read_root %v, groot %v", n, i, unit, got[i], want[i])
					break
				}
			}
		}
	}
}
