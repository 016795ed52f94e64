package sqlfuncs_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/sqlfuncs"
)

// TestDocsUpToDate runs every example and checks docs/functions.md is what
// the generator writes now: examples run, their printed results are true,
// and the reference matches the registry.
func TestDocsUpToDate(t *testing.T) {
	db := openDB(t)
	results, err := sqlfuncs.RunExamples(db)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range results {
		if strings.Count(text, "\n") < 2 {
			t.Errorf("example of %s returns no rows:\n%s", name, text)
		}
	}
	want := sqlfuncs.Markdown(results)
	got, err := os.ReadFile("../docs/functions.md")
	if err != nil || string(got) != want {
		t.Fatalf("docs/functions.md is stale (err %v); run: go generate ./sqlfuncs", err)
	}
}

// TestRegistry checks every function documents itself.
func TestRegistry(t *testing.T) {
	for _, f := range sqlfuncs.All() {
		if f.Summary == "" || f.Example == "" || f.Group == "" {
			t.Errorf("%s: summary, example and group are required", f.Name)
		}
		if len(f.Overloads) == 0 && len(f.Aggregates) == 0 {
			t.Errorf("%s: no overloads", f.Name)
		}
		if sqlfuncs.Lookup(strings.ToUpper(f.Name)) != f {
			t.Errorf("Lookup(%s) fails", f.Name)
		}
	}
	// Entries documented by other packages (the ML functions) are in the
	// reference, found by Lookup, and not registered by this package.
	for _, f := range sqlfuncs.Reference() {
		if sqlfuncs.Lookup(f.Name) != f || len(f.Signatures()) == 0 {
			t.Errorf("%s: not found, or no signatures", f.Name)
		}
		if len(f.Forms) > 0 && slices.Contains(sqlfuncs.All(), f) {
			t.Errorf("%s: a documented entry is in the library", f.Name)
		}
	}
}

// TestErrors: a failure in a function names the function, the arguments
// and their values, never a row number (DuckDB's rows are positions inside
// a 2048-row chunk, which locate nothing); errors caused by a row's values
// say how to list the entries; the connection stays usable.
func TestErrors(t *testing.T) {
	db := openDB(t)
	const find = "; to list the entries: SELECT _file, _entry … WHERE try("
	for query, want := range map[string]string{
		"SELECT delta_r([0.0, 1.0], [0.0], 0.0, 0.0)":                       "delta_r: eta1 has 2 values and phi1 has 1 (in the same row)" + find + "delta_r(eta1, phi1, eta2, phi2)) IS NULL",
		"SELECT delta_r(0.0, 0.0, [0.0, 1.0], [0.0])":                       "delta_r: eta2 has 2 values and phi2 has 1 (in the same row)",
		"SELECT inv_mass([1.0], [0.0], [0.0], [0.0], [2])":                  "inv_mass: index 2 outside the collection's 1 objects (indices start at 1)" + find + "inv_mass(pt, eta, phi, mass, idx)) IS NULL",
		"SELECT p4_sum([1.0, 2.0], [0.0, 0.0], [0.0], [0.0, 0.0])":          "p4_sum: pt has 2 values and phi has 1 (in the same row)",
		"SELECT cone_sum([0.0], [0.0], [1.0, 2.0], [0.1], [0.0, 0.2], 0.3)": "cone_sum: pt_b has 2 values and eta_b has 1 (in the same row)",
		"SELECT adl_bin(1.0, 5, 0, 10)":                                     "adl_bin: invalid binning nbins = 10, lo = 5, hi = 0: lo must be below hi",
		"SELECT pad([1.0], -1, 0)":                                          "pad: n must not be negative, got -1",
		"SELECT topo_event([40.0]::FLOAT[], [0.5]::FLOAT[], [1.0]::FLOAT[], [300], [0.0]::FLOAT[], [0.0]::FLOAT[], [0.0]::FLOAT[], " +
			"[]::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::INTEGER[], " +
			"[40.0]::FLOAT[], [-1.0]::FLOAT[], [-2.0]::FLOAT[], [1], []::FLOAT[], []::FLOAT[], []::INTEGER[], 35.0, -2.0)": "topo_event: track charge 300 does not fit the particle list's TINYINT",
		"SELECT adl_hist(x::DOUBLE, 10, 0, 5) FROM range(3) t(x)":                                              "adl_hist: invalid binning nbins = 5, lo = 10, hi = 0: lo must be below hi",
		"SELECT adl_hist(x::DOUBLE, 0, 10, CASE WHEN x < 5 THEN 10 ELSE 20 END) FROM range(10) t(x)":           "adl_hist: binning changed within a histogram: [0, 10) in 10 bins, then [0, 10) in 20",
		"SELECT adl_hist(x::DOUBLE, CASE WHEN x = 2 THEN 'nan'::DOUBLE ELSE 0 END, 10, 10) FROM range(3) t(x)": "adl_hist: invalid binning nbins = 10, lo = NaN, hi = 10: lo and hi must be finite",
		"SELECT best_pair([1.0, 2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1], 91.2)":                          "best_pair: pt has 2 values and charge has 1 (in the same row)",
		// The row is the 3001st, in DuckDB's second chunk: no position is
		// printed, but the hint's try() finds it.
		"SELECT delta_r(CASE WHEN x = 3000 THEN [0.0] ELSE [0.0, 1.0] END, [0.0, 1.0], 0.0, 0.0) FROM range(5000) t(x)": "delta_r: eta1 has 1 values and phi1 has 2 (in the same row)",
	} {
		_, err := db.Exec(query)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", query, err, want)
		}
		if err != nil && rowNumber.MatchString(err.Error()) {
			t.Errorf("%s: error %v names a row number", query, err)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", query, err, want)
		}
		var one int
		if err := db.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("connection unusable after %s: %v", query, err)
		}
	}
}

var rowNumber = regexp.MustCompile(`\brow \d`)

// TestErrorHintFindsEntries: the query an error suggests lists exactly the
// offending entries.
func TestErrorHintFindsEntries(t *testing.T) {
	db := openDB(t)
	var n, first int
	err := db.QueryRow(`SELECT count(*), min(x) FROM range(5000) t(x)
		WHERE try(delta_r(CASE WHEN x % 1700 = 3 THEN [0.0] ELSE [0.0, 1.0] END, [0.0, 1.0], 0.0, 0.0)) IS NULL`).Scan(&n, &first)
	if err != nil || n != 3 || first != 3 {
		t.Fatalf("try() found %d rows from %d (err %v), want 3 from 3", n, first, err)
	}
}
