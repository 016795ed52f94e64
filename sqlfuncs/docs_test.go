package sqlfuncs_test

import (
	"os"
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

// TestErrors: a failure in a function names the function and the row, and
// leaves the connection usable.
func TestErrors(t *testing.T) {
	db := openDB(t)
	for query, want := range map[string]string{
		"SELECT delta_r([0.0, 1.0], [0.0], 0.0, 0.0)":      "delta_r: row 0: list arguments have different lengths (2 and 1)",
		"SELECT inv_mass([1.0], [0.0], [0.0], [0.0], [2])": "inv_mass: row 0: index 2 outside the collection's 1 objects",
		"SELECT adl_bin(1.0, 5, 0, 10)":                    "adl_bin: row 0: invalid binning: 10 bins over [5, 0)",
		"SELECT pad([1.0], -1, 0)":                         "pad: row 0: n must not be negative",
		"SELECT topo_event([40.0]::FLOAT[], [0.5]::FLOAT[], [1.0]::FLOAT[], [300], [0.0]::FLOAT[], [0.0]::FLOAT[], [0.0]::FLOAT[], " +
			"[]::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::FLOAT[], []::INTEGER[], " +
			"[40.0]::FLOAT[], [-1.0]::FLOAT[], [-2.0]::FLOAT[], [1], []::FLOAT[], []::FLOAT[], []::INTEGER[], 35.0, -2.0)": "topo_event: row 0: track charge 300 does not fit the particle list's TINYINT",
		"SELECT adl_hist(x::DOUBLE, 10, 0, 5) FROM range(3) t(x)":                                              "adl_hist: row 0: invalid binning: 5 bins over [10, 0)",
		"SELECT adl_hist(x::DOUBLE, 0, 10, CASE WHEN x < 5 THEN 10 ELSE 20 END) FROM range(10) t(x)":           "adl_hist: row 5: binning changed within a histogram: [0, 10) in 10 bins, then [0, 10) in 20",
		"SELECT adl_hist(x::DOUBLE, CASE WHEN x = 2 THEN 'nan'::DOUBLE ELSE 0 END, 10, 10) FROM range(3) t(x)": "adl_hist: row 2: invalid binning: 10 bins over [NaN, 10)",
		"SELECT best_pair([1.0, 2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1], 91.2)":                          "best_pair: row 0: 1 charges for 2 objects",
	} {
		_, err := db.Exec(query)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", query, err, want)
		}
		var one int
		if err := db.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("connection unusable after %s: %v", query, err)
		}
	}
}
