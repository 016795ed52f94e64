package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/internal/adlref"
)

const sampleRel = "../../../../shared/data/Run2012B_SingleMu_10000.root"

// The reading-only variant must read what each library query reads: the
// columns come from the plan, so check them for Q5 by hand, and check
// that every query gets a floor that runs and counts the sample's events.
func TestReadOnlyReadsTheLibraryColumns(t *testing.T) {
	sample, err := filepath.Abs(sampleRel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sample); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CMS sample missing in CI: %v", err)
		}
		t.Skipf("CMS sample not available (%v)", err)
	}
	ctx := context.Background()
	db, err := hepsql.Open("?threads=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range adlref.Queries() {
		stmts, err := bench.LoadADL("../../../queries/adl", q, sample, nil)
		if err != nil {
			t.Fatal(err)
		}
		floor, err := readOnlyQueries(ctx, conn, stmts[len(stmts)-1].SQL, sample)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		scans, err := projections(ctx, conn, stmts[len(stmts)-1].SQL)
		if err != nil {
			t.Fatal(err)
		}
		if q == "q5" {
			want := []string{"MET_pt", "Muon_charge", "Muon_eta", "Muon_mass", "Muon_phi", "Muon_pt"}
			got := slices.Sorted(slices.Values(scans[0]))
			if len(scans) != 1 || !slices.Equal(got, want) {
				t.Errorf("q5 scans %v, want one of %v", scans, want)
			}
		}
		for i, f := range floor {
			counts := make([]int64, len(scans[i]))
			dst := make([]any, len(counts))
			for j := range counts {
				dst[j] = &counts[j]
			}
			if err := conn.QueryRowContext(ctx, f).Scan(dst...); err != nil {
				t.Fatalf("%s: %s: %v", q, f, err)
			}
			// Every branch of the sample has a value in every event.
			for j, n := range counts {
				if n != 10000 {
					t.Errorf("%s scan %d: %s counted %d, want the sample's 10000 events", q, i, scans[i][j], n)
				}
			}
		}
	}
	if err := runReadOnly(ctx, conn, []string{"SELECT count(nope) FROM read_root(" + bench.QuoteString(sample) + ")"}); err == nil {
		t.Error("a floor over a missing column ran")
	}
}
