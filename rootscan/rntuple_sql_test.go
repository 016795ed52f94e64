package rootscan_test

import (
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rntuple"
	"github.com/hepsql/hepsql/rootscan"
)

func rntupleFile(t *testing.T, name string) string {
	t.Helper()
	return testfiles.Shared(t, "rntuple/"+name)
}

// readNT reads a field's values with rootio/rntuple, the reference the
// SQL side is compared with.
func readNT(t *testing.T, file, ntuple, field string) []any {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	nt, err := rntuple.Open(f, st.Size(), ntuple)
	if err != nil {
		t.Fatal(err)
	}
	for i, fl := range nt.Fields {
		if fl.TopLevel() && fl.Name == field {
			var out []any
			for ci := range nt.Clusters {
				a, err := nt.Read(i, ci)
				if err != nil {
					t.Fatal(err)
				}
				for r := range a.Len {
					out = append(out, a.Value(r))
				}
			}
			return out
		}
	}
	t.Fatalf("no field %q", field)
	return nil
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.String)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// TestRNTupleSQL reads RNTuples through read_root and compares with the
// values uproot's tests state (and with rootio/rntuple's reader for the
// CMS muons).
func TestRNTupleSQL(t *testing.T) {
	t.Run("clusters", func(t *testing.T) { testRNTupleSQL(t) })
	// Units of 7 entries start and end inside pages, collections and
	// strings: the same values.
	t.Run("parts", func(t *testing.T) {
		defer rootscan.SetRNTupleUnitEntries(7)()
		testRNTupleSQL(t)
	})
	// Lists' items and strings' characters reserved and read 2 at a time
	// (a guard against hostile lengths): the same values.
	t.Run("pieces", func(t *testing.T) {
		defer rootscan.SetRNTupleStreamPiece(2)()
		testRNTupleSQL(t)
	})
}

func testRNTupleSQL(t *testing.T) {
	db := openDB(t)
	stl := rntupleFile(t, "test_stl_containers_rntuple_v1-0-0-0.root")
	for q, want := range map[string][]string{
		`SELECT string FROM read_root(%s) ORDER BY _entry`:                         {"one", "two", "three", "four", "five"},
		`SELECT vector_int32::VARCHAR FROM read_root(%s) ORDER BY _entry`:          {"[1]", "[1, 2]", "[1, 2, 3]", "[1, 2, 3, 4]", "[1, 2, 3, 4, 5]"},
		`SELECT array_float::VARCHAR FROM read_root(%s) LIMIT 2`:                   {"[1.0, 1.0, 1.0]", "[2.0, 2.0, 2.0]"},
		`SELECT vector_vector_int32[2]::VARCHAR FROM read_root(%s) WHERE _entry=1`: {"[2]"},
		`SELECT vector_string[2] FROM read_root(%s) WHERE _entry=1`:                {"two"},
		`SELECT tuple_int32_string._1 FROM read_root(%s) WHERE _entry=2`:           {"three"},
		`SELECT array_lv[3].pt::VARCHAR FROM read_root(%s) WHERE _entry=4`:         {"5.0"},
		`SELECT variant_int32_string::VARCHAR FROM read_root(%s) WHERE _entry<2 ORDER BY _entry`: {
			"{'_0': 1, '_1': NULL}", "{'_0': NULL, '_1': two}"},
	} {
		check := queryStrings(t, db, fmt.Sprintf(q, quote(stl)))
		if fmt.Sprint(check) != fmt.Sprint(want) {
			t.Errorf("%s: got %q, want %q", q, check, want)
		}
	}

	// Several clusters in several groups, the units of a parallel scan.
	groups := rntupleFile(t, "test_multiple_cluster_groups_rntuple_v1-0-0-0.root")
	var n, sum, bad int64
	if err := db.QueryRow(fmt.Sprintf(`SELECT count(*), sum(one), count(*) FILTER (WHERE int_vector != [one, one+1]) FROM read_root(%s)`, quote(groups))).Scan(&n, &sum, &bad); err != nil {
		t.Fatal(err)
	}
	if n != 1000 || sum != 999*1000/2 || bad != 0 {
		t.Errorf("cluster groups: %d rows, sum %d, %d bad vectors", n, sum, bad)
	}
	// A chain of two files, with the provenance columns.
	if err := db.QueryRow(fmt.Sprintf(`SELECT count(*), count(DISTINCT _file), max(_entry) FROM read_root([%s, %s])`, quote(groups), quote(groups))).Scan(&n, &sum, &bad); err != nil {
		t.Fatal(err)
	}
	if n != 2000 || sum != 1 || bad != 999 {
		t.Errorf("chain: %d rows, %d files, max entry %d", n, sum, bad)
	}

	// Schema extension: deferred columns read as zeros.
	ext := rntupleFile(t, "test_extension_columns_rntuple_v1-0-0-0.root")
	var zeros, empties int64
	if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FILTER (WHERE float_field = 0), count(*) FILTER (WHERE len(intvec_field) = 0) FROM read_root(%s)`, quote(ext))).Scan(&zeros, &empties); err != nil {
		t.Fatal(err)
	}
	if zeros != 200 || empties != 400 {
		t.Errorf("extension: %d zeros, %d empty vectors; want 200 and 400", zeros, empties)
	}

	// tree := names one of two RNTuples.
	multi := rntupleFile(t, "rntviewer-testfile-multiple-rntuples-v1-0-0-0.root")
	if err := db.QueryRow(fmt.Sprintf(`SELECT sum(g) FROM read_root(%s, tree := 'B')`, quote(multi))).Scan(&sum); err != nil || sum != 100*99*100/2 {
		t.Errorf("tree := 'B': sum %d, %v", sum, err)
	}

	// CMS muons: the projected RVec fields and the cardinality equal
	// rootio/rntuple's reading, and uproot's stated first event.
	cms := rntupleFile(t, "Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root")
	got := queryStrings(t, db, fmt.Sprintf(`SELECT Muon_pt::DOUBLE[]::VARCHAR FROM read_root(%s) ORDER BY _entry`, quote(cms)))
	ref := readNT(t, cms, "Events", "Muon_pt")
	if len(got) != 1000 || len(ref) != 1000 {
		t.Fatalf("%d rows, %d reference", len(got), len(ref))
	}
	for i := range got {
		var parts []string
		for _, v := range ref[i].([]any) {
			parts = append(parts, fmt.Sprint(v))
		}
		if want := "[" + strings.Join(parts, ", ") + "]"; got[i] != want {
			t.Fatalf("entry %d: Muon_pt %s, reference %s", i, got[i], want)
		}
	}
	if got[0] != "[10.763696670532227, 15.736522674560547]" {
		t.Errorf("Muon_pt[0] = %s", got[0])
	}
	if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FILTER (WHERE nMuon != len(Muon_pt)) FROM read_root(%s)`, quote(cms))).Scan(&bad); err != nil || bad != 0 {
		t.Errorf("nMuon != len(Muon_pt) in %d events (%v)", bad, err)
	}

	// root_trees and root_branches.
	var kind, entries string
	if err := db.QueryRow(fmt.Sprintf(`SELECT kind, entries FROM root_trees(%s)`, quote(cms))).Scan(&kind, &entries); err != nil || kind != "RNTuple" || entries != "1000" {
		t.Errorf("root_trees: %s %s %v", kind, entries, err)
	}
	var cpp, sqlType string
	var ok bool
	if err := db.QueryRow(fmt.Sprintf(`SELECT root_type, sql_type, supported FROM root_branches(%s) WHERE name = 'Muon_pt'`, quote(cms))).Scan(&cpp, &sqlType, &ok); err != nil || cpp != "ROOT::VecOps::RVec<float>" || sqlType != "FLOAT[]" || !ok {
		t.Errorf("root_branches: %s %s %v %v", cpp, sqlType, ok, err)
	}
	empty := rntupleFile(t, "test_emptystruct_invalidvar_rntuple_v1-0-0-0.root")
	var note string
	if err := db.QueryRow(fmt.Sprintf(`SELECT note FROM root_branches(%s) WHERE name = 'empty_struct' AND NOT supported`, quote(empty))).Scan(&note); err != nil || !strings.Contains(note, "empty record") {
		t.Errorf("empty struct: %q %v", note, err)
	}
}

// TestRNTupleLikeTTree: the CMS muons as RNTuple (DoubleMuParked, 2012B
// and C) read with the same column names and SQL types as the CMS TTree
// sample (SingleMu, 2012B) has for them. The two samples hold different
// events (no event of one has the other's muon pt list; the RNTuple keeps
// no run or event number to match on), so values are compared with
// rootio/rntuple and uproot's stated values in TestRNTupleSQL instead.
func TestRNTupleLikeTTree(t *testing.T) {
	db := openDB(t)
	types := func(src string) map[string]string {
		rows, err := db.Query(fmt.Sprintf(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_root(%s))`, quote(src)))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var n, ty string
			if err := rows.Scan(&n, &ty); err != nil {
				t.Fatal(err)
			}
			out[n] = ty
		}
		return out
	}
	tt := types(testfiles.CMSSample(t))
	nt := types(rntupleFile(t, "Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root"))
	for _, c := range []string{"nMuon", "Muon_pt", "Muon_eta", "Muon_phi", "Muon_mass", "Muon_charge", "_file", "_entry"} {
		if tt[c] == "" || tt[c] != nt[c] {
			t.Errorf("%s: TTree %q, RNTuple %q", c, tt[c], nt[c])
		}
	}
	var joined int64
	if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM read_root(%s) a JOIN read_root(%s) b ON a.Muon_pt = b.Muon_pt AND len(a.Muon_pt) > 0`,
		quote(testfiles.CMSSample(t)), quote(rntupleFile(t, "Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root")))).Scan(&joined); err != nil || joined != 0 {
		t.Errorf("events in common: %d (%v); the samples were thought disjoint", joined, err)
	}

	// CMS NanoAOD through ROOT's RNTupleImporter: every top-level field
	// is a column.
	nano := rntupleFile(t, "cmsopendata2015_ttbar_19980_NANOAOD_RNTupleImporter_rntuple_v1-0-0-1.root")
	var n, cols int64
	if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM (SELECT * FROM read_root(%s))`, quote(nano))).Scan(&n); err != nil || n != 10 {
		t.Errorf("NanoAOD: %d rows (%v)", n, err)
	}
	if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM root_branches(%s) WHERE supported`, quote(nano))).Scan(&cols); err != nil || cols < 900 {
		t.Errorf("NanoAOD: %d readable fields (%v)", cols, err)
	}
}
