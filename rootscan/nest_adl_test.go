package rootscan_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/internal/adlref"
)

// flatFromNested is a table expression over read_root(input, nest := true)
// that rebuilds the flat X_y columns from the collections, so that the
// shipped ADL queries run unchanged through nested reading.
func flatFromNested(mem map[string][]string) string {
	var cols []string
	for _, x := range cmsCollections {
		for _, m := range mem[x] {
			cols = append(cols, fmt.Sprintf("list_transform(%s, e -> e.%s) AS %s", x, strings.TrimPrefix(m, x+"_"), m))
		}
	}
	return fmt.Sprintf("(SELECT * EXCLUDE (%s), %s FROM read_root('${input}', nest := true))",
		strings.Join(cmsCollections, ", "), strings.Join(cols, ", "))
}

// TestNestADL: the ADL queries give the plain-Go reference's histograms
// (internal/adlref, over groot's reader) through nest := true: Q1-Q8 as
// shipped, their read_root('${input}') replaced by the flat columns
// rebuilt from the collections, and Q2, Q3 (queries/adl/nested/q3.sql,
// shorter than q3.sql) and Q4 written with the collections' syntax.
func TestNestADL(t *testing.T) {
	sample := cmsSample(t)
	db := openDB(t)
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	from := flatFromNested(members(t, db, sample))
	dir := filepath.Join("..", "queries", "adl")
	want := map[string][]adlref.Bin{}
	for _, q := range adlref.Queries() {
		if want[q], err = adlref.Compute(q, []string{sample}); err != nil {
			t.Fatal(err)
		}
		stmts, err := bench.LoadADL(dir, q, sample, func(text string) (string, error) {
			if !strings.Contains(text, "read_root('${input}')") {
				return "", fmt.Errorf("no read_root('${input}') to replace")
			}
			return strings.ReplaceAll(text, "read_root('${input}')", from), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := bench.RunADL(t.Context(), conn, q, stmts)
		if err != nil {
			t.Fatalf("%s through nest := true: %v", q, err)
		}
		if err := bench.CompareBins(want[q], got); err != nil {
			t.Errorf("%s through nest := true: %v", q, err)
		}
	}

	nested := map[string]string{
		"q2": `SELECT unnest(adl_hist(j.pt, 15, 60, 100), recursive := true)
			FROM (SELECT unnest(Jet) AS j FROM read_root('${input}', nest := true))`,
		"q4": `SELECT unnest(adl_hist(MET_pt, 0, 2000, 100), recursive := true)
			FROM read_root('${input}', nest := true)
			WHERE len(list_filter(Jet, j -> j.pt > 40)) >= 2`,
	}
	dirNested := filepath.Join(dir, "nested")
	files, err := filepath.Glob(filepath.Join(dirNested, "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no nested queries in %s: %v", dirNested, err)
	}
	for _, file := range files {
		q := strings.TrimSuffix(filepath.Base(file), ".sql")
		// A nested variant is shipped only when shorter than the flat one.
		flat, err1 := os.ReadFile(filepath.Join(dir, q+".sql"))
		text, err2 := os.ReadFile(file)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if a, b := len(squashSQL(string(text))), len(squashSQL(string(flat))); a >= b {
			t.Errorf("nested/%s.sql is %d characters of SQL, %s.sql %d: not shorter", q, a, q, b)
		}
		nested[q] = string(text)
	}
	for q, text := range nested {
		path := filepath.Join(t.TempDir(), q+".sql")
		if !strings.HasPrefix(text, "-- @param input") {
			text = "-- @param input = " + sample + "\n" + text
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		stmts, err := bench.LoadADL(filepath.Dir(path), q, sample, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := bench.RunADL(t.Context(), conn, q, stmts)
		if err != nil {
			t.Fatalf("nested %s: %v", q, err)
		}
		if err := bench.CompareBins(want[q], got); err != nil {
			t.Errorf("nested %s: %v", q, err)
		}
	}
}

// squashSQL is a query's text without comments and repeated blanks.
func squashSQL(text string) string {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
			lines = append(lines, l)
		}
	}
	return strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
}
