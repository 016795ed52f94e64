package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql"
)

// The CMS sample, relative to this directory; HEPSQL_SAMPLE overrides it.
const defaultSample = "../../shared/data/Run2012B_SingleMu_10000.root"

func sample(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv("HEPSQL_SAMPLE")
	if path == "" {
		path = defaultSample
	}
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("CMS sample not available: %v", err)
	}
	return path
}

// fixture is one database with the sample and its Parquet conversion.
type fixture struct {
	db      *sql.DB
	path    string // the sample
	root    string // read_root(...) of the sample
	parquet string // read_parquet(...) of its conversion
}

func newFixture(tb testing.TB, threads int) *fixture {
	tb.Helper()
	path := sample(tb)
	db, err := hepsql.Open(fmt.Sprintf("?threads=%d", threads))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	pq := filepath.Join(tb.TempDir(), "sample.parquet")
	if err := ToParquet(context.Background(), db, path, pq); err != nil {
		tb.Fatal(err)
	}
	return &fixture{
		db:      db,
		path:    path,
		root:    fmt.Sprintf("read_root(%s, tree := '%s')", QuoteString(path), Tree),
		parquet: fmt.Sprintf("read_parquet(%s)", QuoteString(pq)),
	}
}

// TestPeersAgree checks, on the one sample file, that read_root,
// read_parquet and groot's event loop give the same results: the check the
// scan benchmark makes over the replicated files.
func TestPeersAgree(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	for _, q := range Queries {
		t.Run(q, func(t *testing.T) {
			want, err := RunGroot(q, []string{sample(t)}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if q == Scan && want.Events() != 10000 {
				t.Fatalf("groot read %d events, want 10000", want.Events())
			}
			for _, from := range []string{f.root, f.parquet} {
				got, err := RunSQL(ctx, f.db, q, from)
				if err != nil {
					t.Fatal(err)
				}
				if err := Compare(q, want, got); err != nil {
					t.Errorf("%s vs groot: %v", from, err)
				}
			}
		})
	}
}

// TestShippedQueries checks that the benchmark's Q1 and Q2 are the text of
// queries/adl/q1.sql and q2.sql, comments and layout aside.
func TestShippedQueries(t *testing.T) {
	squash := func(text string) string {
		var lines []string
		for _, l := range strings.Split(text, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
				lines = append(lines, l)
			}
		}
		return strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
	}
	for _, q := range []string{Q1, Q2} {
		shipped, err := os.ReadFile(filepath.Join("..", "queries", "adl", q+".sql"))
		if err != nil {
			t.Fatal(err)
		}
		text, err := SQL(q, "read_root('${input}')")
		if err != nil {
			t.Fatal(err)
		}
		if squash(text) != squash(string(shipped)) {
			t.Errorf("%s: benchmark text\n%s\ndiffers from queries/adl/%s.sql\n%s", q, text, q, shipped)
		}
	}
}

// uncompressedBytes is the uncompressed size of the sample's baskets of the
// branches query reads: the bytes b.SetBytes reports for every peer, so
// that their MB/s compare.
func uncompressedBytes(b *testing.B, f *fixture, query string) int64 {
	b.Helper()
	branches := BranchNames()
	if _, branch, ok := histQuery(query); ok {
		branches = []string{branch}
	}
	var n int64
	err := f.db.QueryRow(fmt.Sprintf(
		"SELECT sum(uncompressed_bytes)::BIGINT FROM root_branches(%s, tree := '%s') WHERE name IN ('%s')",
		QuoteString(f.path), Tree, strings.Join(branches, "', '"))).Scan(&n)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func benchmarkSQL(b *testing.B, parquet bool, threads int) {
	f := newFixture(b, threads)
	from := f.root
	if parquet {
		from = f.parquet
	}
	ctx := context.Background()
	for _, q := range Queries {
		b.Run(q, func(b *testing.B) {
			b.SetBytes(uncompressedBytes(b, f, q))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := RunSQL(ctx, f.db, q, from); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The benchmarks run the queries on the one sample file (10,000 events);
// MB/s are of uncompressed ROOT basket bytes of the branches read, for
// every peer.

func BenchmarkReadROOT1Thread(b *testing.B)     { benchmarkSQL(b, false, 1) }
func BenchmarkReadParquet1Thread(b *testing.B)  { benchmarkSQL(b, true, 1) }
func BenchmarkReadROOT2Threads(b *testing.B)    { benchmarkSQL(b, false, 2) }
func BenchmarkReadParquet2Threads(b *testing.B) { benchmarkSQL(b, true, 2) }

func BenchmarkGrootLoop(b *testing.B) {
	f := newFixture(b, 1)
	for _, q := range Queries {
		b.Run(q, func(b *testing.B) {
			b.SetBytes(uncompressedBytes(b, f, q))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := RunGroot(q, []string{f.path}, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
