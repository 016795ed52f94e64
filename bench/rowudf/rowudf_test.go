package rowudf_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/bench/rowudf"
	"github.com/hepsql/hepsql/internal/adlref"
	"github.com/hepsql/hepsql/internal/testfiles"
)

// conn opens a hepsql database with the row versions registered on its
// only connection.
func conn(t *testing.T) *sql.Conn {
	t.Helper()
	db, err := hepsql.Open("?threads=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := rowudf.Register(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFunctionsAgree calls each row version and its vectorised original on
// every event of the CMS sample: the results must be identical, value for
// value (same Go arithmetic, only the bridge differs).
func TestFunctionsAgree(t *testing.T) {
	sample := testfiles.CMSSample(t)
	c := conn(t)
	calls := map[string]string{
		"adl_bin":       "adl_bin(MET_pt, 0, 2000, 100)",
		"mt":            "mt(Muon_pt[1], Muon_phi[1], MET_pt, MET_phi)",
		"argsort_desc":  "argsort_desc(Jet_pt)",
		"count_above":   "count_above(Jet_pt, 40)",
		"count_between": "count_between(pair_mass(Muon_pt, Muon_eta, Muon_phi, Muon_mass, Muon_charge), 60, 120)",
		"pair_mass":     "pair_mass(Muon_pt, Muon_eta, Muon_phi, Muon_mass, Muon_charge)",
		"best_triplet":  "best_triplet(Jet_pt, Jet_eta, Jet_phi, Jet_mass, 172.5)",
		"best_pair": "best_pair(list_concat(Electron_pt, Muon_pt), list_concat(Electron_eta, Muon_eta), " +
			"list_concat(Electron_phi, Muon_phi), list_concat(Electron_mass, Muon_mass), " +
			"list_concat(Electron_charge, Muon_charge), " +
			"list_concat(list_transform(Electron_pt, lambda x: 11), list_transform(Muon_pt, lambda x: 13)), 91.2)",
		"min_delta_r": "min_delta_r(Jet_eta, Jet_phi, list_concat(Electron_pt, Muon_pt), " +
			"list_concat(Electron_eta, Muon_eta), list_concat(Electron_phi, Muon_phi), 10)",
		// The DOUBLE-list overloads.
		"pair_mass DOUBLE[]":    "pair_mass(Muon_pt::DOUBLE[], Muon_eta::DOUBLE[], Muon_phi::DOUBLE[], Muon_mass::DOUBLE[], Muon_charge)",
		"best_triplet DOUBLE[]": "best_triplet(Jet_pt::DOUBLE[], Jet_eta::DOUBLE[], Jet_phi::DOUBLE[], Jet_mass::DOUBLE[], 172.5)",
	}
	for name, call := range calls {
		row, err := rowudf.Rewrite(call)
		if err != nil {
			t.Fatal(err)
		}
		if row == call {
			t.Fatalf("%s: not rewritten", call)
		}
		q := fmt.Sprintf(`SELECT count(*) FILTER (WHERE v IS DISTINCT FROM r), count(v), count(*)
			FROM (SELECT %s AS v, %s AS r FROM read_root('%s'))`, call, row, sample)
		var differ, nonNull, all int64
		if err := c.QueryRowContext(t.Context(), q).Scan(&differ, &nonNull, &all); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if all != 10000 || nonNull == 0 {
			t.Errorf("%s: %d rows, %d non-NULL; want 10000 rows and some non-NULL", name, all, nonNull)
		}
		if differ != 0 {
			t.Errorf("%s: %d of %d rows differ between the row UDF and the library", name, differ, all)
		}
	}
}

// TestADLQueries runs queries/adl/*.sql with the row versions on the CMS
// sample against the plain-Go reference.
func TestADLQueries(t *testing.T) {
	sample := testfiles.CMSSample(t)
	c := conn(t)
	dir := filepath.Join("..", "..", "queries", "adl")
	for _, q := range adlref.Queries() {
		want, err := adlref.Compute(q, []string{sample})
		if err != nil {
			t.Fatal(err)
		}
		stmts, err := bench.LoadADL(dir, q, sample, rowudf.Rewrite)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stmts[len(stmts)-1].SQL, "adl_hist"+rowudf.Suffix) {
			t.Fatalf("%s: the rewritten query does not call adl_hist_row", q)
		}
		got, err := bench.RunADL(t.Context(), c, q, stmts)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if err := bench.CompareBins(want, got); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}

func TestRewrite(t *testing.T) {
	got, err := rowudf.Rewrite("SELECT ADL_HIST(mt (a, b, c, d), 0, 1, 10), list_max(x), adl_hist_row(y) -- pt (GeV)")
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT ADL_HIST_row(mt_row (a, b, c, d), 0, 1, 10), list_max(x), adl_hist_row(y) -- pt (GeV)"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// A library function without a row version must not pass unnoticed.
	if _, err := rowudf.Rewrite("SELECT cone_sum(a, b, c, d, e, 0.3)"); err == nil || !strings.Contains(err.Error(), "cone_sum") {
		t.Errorf("cone_sum: got error %v, want one naming it", err)
	}
}

// TestMacro checks both overloads of the row macro against the library's
// aggregate on scalar and list values, NULLs and empty lists included.
func TestMacro(t *testing.T) {
	c := conn(t)
	q := `SELECT adl_hist(v, 0, 10, 5)::VARCHAR = adl_hist_row(v, 0, 10, 5)::VARCHAR,
	             adl_hist(l, 0, 10, 5)::VARCHAR = adl_hist_row(l, 0, 10, 5)::VARCHAR,
	             adl_hist_row(l, 0, 10, 5)::VARCHAR
	      FROM (VALUES (1.0, [1.0, 12.0]), (1.5, []), (NULL, NULL), (9.0, [-1.0, 9.5, 9.9]), (12.0, [5.0])) t(v, l)`
	var scalarSame, listSame bool
	var hist string
	if err := c.QueryRowContext(t.Context(), q).Scan(&scalarSame, &listSame, &hist); err != nil {
		t.Fatal(err)
	}
	if want := "[{'x': -1.0, 'y': 1}, {'x': 1.0, 'y': 1}, {'x': 5.0, 'y': 1}, {'x': 9.0, 'y': 2}, {'x': 11.0, 'y': 1}]"; hist != want {
		t.Errorf("list histogram %s, want %s", hist, want)
	}
	if !scalarSame || !listSame {
		t.Errorf("row macro differs from adl_hist: scalar same %v, list same %v", scalarSame, listSame)
	}
}
