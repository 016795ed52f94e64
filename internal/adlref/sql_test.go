package adlref

import (
	"context"
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/hepsql/hepsql/gen/adl"
)

// paramLine is the declaration every ADL pipeline file starts with.
const paramLine = "-- @param input = ../shared/data/Run2012B_SingleMu_10000.root\n"

// repoRoot returns the folder holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test folder")
		}
		dir = parent
	}
}

// cmsSample locates the CMS open-data sample next to the repository. It
// fails in CI, where the sample must be present, and skips elsewhere.
func cmsSample(t testing.TB) string {
	t.Helper()
	path := filepath.Join(repoRoot(t), "..", "shared", "data", "Run2012B_SingleMu_10000.root")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CMS sample missing in CI: %v", err)
		}
		t.Skipf("CMS sample not available (%v); set it up at ../shared/data to run this test", err)
	}
	return path
}

// runPipeline runs queries/adl/builtin/<name>.sql (DuckDB built-ins only) against a database whose
// read_root is the stand-in over a table loaded from files.
func runPipeline(t *testing.T, db *sql.DB, name, input string) []Bin {
	t.Helper()
	path := filepath.Join(repoRoot(t), "queries", "adl", "builtin", name+".sql")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(text), paramLine) {
		t.Fatalf("%s does not start with %q", path, paramLine)
	}
	// The pipeline runner substitutes ${name} textually; do the same.
	q := strings.ReplaceAll(string(text), "${input}", input)

	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	if len(types) != 2 || types[0].Name() != "x" || types[0].DatabaseTypeName() != "DOUBLE" ||
		types[1].Name() != "y" || types[1].DatabaseTypeName() != "BIGINT" {
		var got []string
		for _, c := range types {
			got = append(got, c.Name()+" "+c.DatabaseTypeName())
		}
		t.Fatalf("%s: columns %v, want [x DOUBLE, y BIGINT]", path, got)
	}
	var bins []Bin
	for rows.Next() {
		var b Bin
		if err := rows.Scan(&b.X, &b.Y); err != nil {
			t.Fatal(err)
		}
		bins = append(bins, b)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return bins
}

func compareBins(t *testing.T, name string, got, want []Bin) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows from SQL, %d from the reference", name, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if math.Abs(got[i].X-want[i].X) > 1e-9 || got[i].Y != want[i].Y {
			t.Errorf("%s: row %d: SQL (x=%v, y=%d), reference (x=%v, y=%d)", name, i, got[i].X, got[i].Y, want[i].X, want[i].Y)
		}
	}
}

// checkPipelines loads files into DuckDB and compares every ADL pipeline's
// output with the reference computed by groot's reader.
func checkPipelines(t *testing.T, files []string) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := LoadROOT(ctx, db, "events", Tree, files)
	if err != nil {
		t.Fatal(err)
	}
	if err := StandInReadRoot(ctx, db, "events"); err != nil {
		t.Fatal(err)
	}
	want, err := ComputeAll(files)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d events from %d file(s)", n, len(files))
	for _, name := range Queries() {
		t.Run(name, func(t *testing.T) {
			got := runPipeline(t, db, name, files[0])
			if len(want[name]) == 0 {
				t.Fatalf("reference histogram of %s is empty: the comparison would prove nothing", name)
			}
			compareBins(t, name, got, want[name])
			var entries int64
			for _, b := range got {
				entries += b.Y
			}
			t.Logf("%s: %d entries in %d rows", name, entries, len(got))
		})
	}
}

func TestPipelinesMatchReferenceOnCMSSample(t *testing.T) {
	checkPipelines(t, []string{cmsSample(t)})
}

func TestPipelinesMatchReferenceOnGeneratedData(t *testing.T) {
	files, err := adl.Generate(adl.Options{Events: 20000, Seed: 11, OutDir: t.TempDir(), EventsPerFile: 8000})
	if err != nil {
		t.Fatal(err)
	}
	checkPipelines(t, files)
}

func TestLoadROOTColumnTypes(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files := []string{cmsSample(t)}
	if _, err := LoadROOT(ctx, db, "events", Tree, files); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"run": "INTEGER", "luminosityBlock": "UINTEGER", "event": "UBIGINT", "HLT_IsoMu24": "BOOLEAN",
		"nJet": "UINTEGER", "Jet_pt": "FLOAT[]", "Jet_puId": "BOOLEAN[]", "Muon_charge": "INTEGER[]",
		"MET_pt": "FLOAT",
	}
	for col, typ := range want {
		var got string
		err := db.QueryRow("SELECT data_type FROM information_schema.columns WHERE table_name = 'events' AND column_name = ?", col).Scan(&got)
		if err != nil {
			t.Fatalf("column %s: %v", col, err)
		}
		if got != typ {
			t.Errorf("column %s has type %s, want %s", col, got, typ)
		}
	}
	// Events without jets must hold an empty list, not NULL.
	var nulls, empties int
	if err := db.QueryRow("SELECT count(*) FILTER (Jet_pt IS NULL), count(*) FILTER (len(Jet_pt) = 0) FROM events").Scan(&nulls, &empties); err != nil {
		t.Fatal(err)
	}
	if nulls != 0 || empties == 0 {
		t.Errorf("jetless events: %d NULL lists, %d empty lists; want 0 NULL and some empty", nulls, empties)
	}
}
