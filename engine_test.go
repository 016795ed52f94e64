package hepsql_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/gen/adl"
	"github.com/hepsql/hepsql/internal/adlref"
	"github.com/hepsql/hepsql/internal/testfiles"
)

func cmsSample(t testing.TB) string { return testfiles.CMSSample(t) }

func open(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := hepsql.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestADLQueries runs each saved ADL pipeline through the engine's script
// runner and compares its histogram with the plain-Go computation over
// groot's reader, on the CMS sample and on a generated chain of files.
func TestADLQueries(t *testing.T) {
	gen := t.TempDir()
	if _, err := adl.Generate(adl.Options{Events: 30000, Seed: 7, OutDir: gen, EventsPerFile: 10000}); err != nil {
		t.Fatal(err)
	}
	genFiles, _ := filepath.Glob(filepath.Join(gen, "*.root"))
	inputs := map[string][]string{
		"cms":       {cmsSample(t)},
		"generated": genFiles,
	}
	db := open(t, "?threads=2")
	for label, files := range inputs {
		input := files[0]
		if len(files) > 1 {
			input = filepath.Join(gen, "*.root")
		}
		for _, q := range adlref.Queries() {
			want, err := adlref.Compute(q, files)
			if err != nil {
				t.Fatalf("%s %s reference: %v", label, q, err)
			}
			// Both versions: with the function library, and with DuckDB's
			// built-in list functions only (the benchmark's baseline).
			for _, dir := range []string{"adl", filepath.Join("adl", "builtin")} {
				file := filepath.Join("queries", dir, q+".sql")
				src, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				stmts, err := engine.ParseScript(file, string(src), map[string]string{"input": input})
				if err != nil {
					t.Fatal(err)
				}
				var got []adlref.Bin
				err = engine.RunScript(t.Context(), db, stmts, file, func(r engine.Result) error {
					for _, row := range r.Rows {
						got = append(got, adlref.Bin{X: row[0].(float64), Y: row[1].(int64)})
					}
					return nil
				})
				if err != nil {
					t.Fatalf("%s %s: %v", label, file, err)
				}
				if len(got) != len(want) {
					t.Errorf("%s %s: %d bins, reference %d", label, file, len(got), len(want))
					continue
				}
				for i := range got {
					if math.Abs(got[i].X-want[i].X) > 1e-9 || got[i].Y != want[i].Y {
						t.Errorf("%s %s bin %d: %+v, reference %+v", label, file, i, got[i], want[i])
						break
					}
				}
			}
		}
	}
}

// TestConcurrentUse runs read_root from many goroutines over the pool: every
// pooled connection sees the functions and the results agree (run with -race).
func TestConcurrentUse(t *testing.T) {
	cms := cmsSample(t)
	db := open(t, "")
	db.SetMaxOpenConns(8)
	q := fmt.Sprintf(`SELECT count(*), sum(list_sum(Jet_pt)) FROM read_root('%s')`, cms)
	var ref float64
	var n int64
	if err := db.QueryRow(q).Scan(&n, &ref); err != nil || n != 10000 {
		t.Fatalf("%d %v", n, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			conn, err := db.Conn(context.Background())
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			var n int64
			var s float64
			if err := conn.QueryRowContext(context.Background(), q).Scan(&n, &s); err != nil {
				errs <- err
				return
			}
			if n != 10000 || s != ref {
				errs <- fmt.Errorf("got %d %v, want 10000 %v", n, s, ref)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCancel interrupts a long query through its context; the connection
// pool stays usable.
func TestCancel(t *testing.T) {
	cms := cmsSample(t)
	db := open(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	q := fmt.Sprintf(`SELECT count(*) FROM read_root('%s') a, read_root('%s') b, range(1000) c WHERE a.MET_pt + b.MET_pt + c.range > 1e9`, cms, cms)
	var n int64
	err := db.QueryRowContext(ctx, q).Scan(&n)
	if err == nil {
		t.Fatal("query was not interrupted")
	}
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "nterrupt") {
		t.Errorf("unexpected error: %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("interruption took %v", d)
	}
	if err := db.QueryRow(`SELECT 42`).Scan(&n); err != nil || n != 42 {
		t.Fatalf("after cancel: %v", err)
	}
}

// TestFileDatabaseAndSettings checks a file-backed database keeps tables
// made from ROOT data across reopenings, and that DSN settings apply.
func TestFileDatabaseAndSettings(t *testing.T) {
	cms := cmsSample(t)
	path := filepath.Join(t.TempDir(), "events.db")
	db := open(t, path+"?threads=1")
	var threads int64
	if err := db.QueryRow(`SELECT current_setting('threads')`).Scan(&threads); err != nil || threads != 1 {
		t.Fatalf("threads = %d, %v", threads, err)
	}
	if _, err := db.Exec(fmt.Sprintf(`CREATE TABLE met AS SELECT MET_pt FROM '%s'`, cms)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db2 := open(t, path)
	var n int64
	if err := db2.QueryRow(`SELECT count(*) FROM met`).Scan(&n); err != nil || n != 10000 {
		t.Fatalf("reopened: %d rows, %v", n, err)
	}
	if err := db2.QueryRow(fmt.Sprintf(`SELECT count(*) FROM read_root('%s')`, cms)).Scan(&n); err != nil || n != 10000 {
		t.Fatalf("read_root after reopen: %d, %v", n, err)
	}
	if _, err := hepsql.Open(filepath.Join(t.TempDir(), "x.db?threads")); err == nil {
		t.Error("a setting without a value was accepted")
	}
}
