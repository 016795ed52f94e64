package xrootd_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/internal/xrdtest"
	"github.com/hepsql/hepsql/rootio/xrootd"
)

// chainOf puts n copies of the sample on the server as dir/fNN.root and
// returns the SQL lists of their local paths (in the server's folder) and
// of their URLs.
func chainOf(t *testing.T, srv *xrdtest.Server, sample, dir string, n int) (local, remote string) {
	t.Helper()
	var ls, rs []string
	for i := range n {
		rel := fmt.Sprintf("%s/f%02d.root", dir, i)
		srv.Put(rel, sample)
		ls = append(ls, sqlString(filepath.Join(srv.Dir, rel)))
		rs = append(rs, sqlString(srv.URL(rel)))
	}
	return "[" + strings.Join(ls, ", ") + "]", "[" + strings.Join(rs, ", ") + "]"
}

func setThreads(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	if _, err := db.Exec(fmt.Sprintf("SET threads = %d", n)); err != nil {
		t.Fatal(err)
	}
}

// TestLookAheadEqualsLocal reads every branch of a chain of remote files,
// which the scan opens and fetches ahead of its threads, and compares each
// row (file, entry and a hash of all its values) with the local read of
// the same files: at 1 and 2 threads with the default read-ahead, and with
// a budget that stops the look-ahead in the middle of a file's baskets.
func TestLookAheadEqualsLocal(t *testing.T) {
	sample := testfiles.CMSSample(t)
	srv := xrdtest.Start(t)
	const nfiles = 4
	local, remote := chainOf(t, srv, sample, "chain", nfiles)
	db := openDB(t, "")
	db.SetMaxOpenConns(1)
	cols := strings.Join(supportedColumns(t, db, sample), ", ")
	for _, c := range []struct {
		threads int
		ra      string
	}{{1, "32MB"}, {2, "32MB"}, {1, "300KB"}} {
		setThreads(t, db, c.threads)
		rows := func(src string) string {
			return fmt.Sprintf(`SELECT parse_filename(_file) AS f, _entry, hash(%s) AS h FROM read_root(%s, readahead := '%s')`, cols, src, c.ra)
		}
		q := fmt.Sprintf(`WITH l AS MATERIALIZED (%s), r AS MATERIALIZED (%s)
			SELECT (SELECT count(*) FROM (FROM l EXCEPT ALL FROM r)) + (SELECT count(*) FROM (FROM r EXCEPT ALL FROM l)), (SELECT count(*) FROM r)`,
			rows(local), rows(remote))
		var diff, n int64
		if err := db.QueryRow(q).Scan(&diff, &n); err != nil {
			t.Fatalf("threads %d, readahead %s: %v", c.threads, c.ra, err)
		}
		if diff != 0 || n != nfiles*10000 {
			t.Errorf("threads %d, readahead %s: %d rows differ between local and remote; %d remote rows, want %d", c.threads, c.ra, diff, n, nfiles*10000)
		}
	}
}

// settles waits until no remote file is open, no connection is up, and
// the goroutines are back to base; it reports what is left otherwise.
func settles(base int) error {
	var files int64
	var conns, gs int
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		files, conns, gs = xrootd.OpenFiles(), xrootd.LiveConns(), runtime.NumGoroutine()
		if files == 0 && conns == 0 && gs <= base {
			return nil
		}
	}
	buf := make([]byte, 1<<20)
	return fmt.Errorf("after 20s: %d remote files open, %d connections up, %d goroutines (%d before); goroutines:\n%s",
		files, conns, gs, base, buf[:runtime.Stack(buf, true)])
}

// TestCancelMidChainReleasesEverything cancels a one-thread query over a
// chain of remote files while the scan holds files opened ahead: the query
// stops with the cancellation, and once DuckDB has released the scan every
// remote file is closed, the connection closes when idle, and the number of
// goroutines returns to what it was before the query.
func TestCancelMidChainReleasesEverything(t *testing.T) {
	sample := testfiles.CMSSample(t)
	srv := xrdtest.Start(t)
	defer xrootd.SetIdleLinger(100 * time.Millisecond)()
	const nfiles = 60
	_, remote := chainOf(t, srv, sample, "long", nfiles)
	db := openDB(t, "")
	db.SetMaxOpenConns(1) // DuckDB releases the scan when this connection runs its next statement
	setThreads(t, db, 1)
	branches := `'MET_pt', 'Jet_pt', 'Muon_pt', 'Electron_pt'`
	q := `SELECT sum(MET_pt), sum(list_sum(Jet_pt)), sum(list_sum(Muon_pt)), sum(list_sum(Electron_pt)) FROM read_root(` + remote + `)`
	perFile := query1[int64](t, db, fmt.Sprintf(`SELECT sum(compressed_bytes) FROM root_branches(%s) WHERE name IN (%s)`, sqlString(sample), branches))
	run := func(ctx context.Context) error {
		var a, b, c, d float64
		err := db.QueryRowContext(ctx, q).Scan(&a, &b, &c, &d)
		if err == nil || ctx.Err() != nil {
			// The next statement makes DuckDB release the scan.
			if _, err := db.Exec(`SELECT 1`); err != nil {
				t.Fatal(err)
			}
		}
		return err
	}

	// A whole query first: it warms the metadata cache, and shows that
	// the goroutines do settle back once the connection is closed.
	if _, err := db.Exec(`SELECT 1`); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := settles(base); err != nil {
		t.Fatalf("after a complete query: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := xrootd.WireBytes()
	openAtCancel := make(chan int64, 1)
	go func() {
		// Twenty files' baskets: the scan is past the first files and
		// holds the next ones opened ahead.
		for xrootd.WireBytes()-start < 20*perFile && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		openAtCancel <- xrootd.OpenFiles()
		cancel()
	}()
	err := run(ctx)
	if err == nil {
		t.Fatal("the query ended before it was cancelled: make the chain longer")
	}
	if !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "nterrupt") {
		t.Fatalf("cancelled query: %v", err)
	}
	if n := <-openAtCancel; n < 2 {
		t.Errorf("%d remote file(s) open when the query was cancelled; the scan should hold files opened ahead", n)
	}
	if err := settles(base); err != nil {
		t.Errorf("after the cancelled query: %v", err)
	}
}

// TestLaterFileErrors: a missing or corrupt file further down a remote
// chain, which the scan opens ahead, still fails the query with an error
// naming it when the scan reaches it, at 1 and 2 threads; a query that
// stops before it never sees its error.
func TestLaterFileErrors(t *testing.T) {
	sample := testfiles.CMSSample(t)
	srv := xrdtest.Start(t)
	srv.Put("ok/a.root", sample)
	srv.Put("ok/b.root", sample)
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	// The first half: its directory and tree metadata, at the end, are gone.
	if err := os.MkdirAll(filepath.Join(srv.Dir, "bad"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(srv.Dir, "bad", "half.root"), data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	a, b := sqlString(srv.URL("ok/a.root")), sqlString(srv.URL("ok/b.root"))
	missing, corrupt := srv.URL("ok/nope.root"), srv.URL("bad/half.root")
	db := openDB(t, "")
	db.SetMaxOpenConns(1)
	for _, threads := range []int{1, 2} {
		setThreads(t, db, threads)
		for _, c := range []struct {
			bad   string
			wants []string
		}{
			{missing, []string{missing, "no such file"}},
			{corrupt, []string{corrupt}},
		} {
			list := fmt.Sprintf("[%s, %s, %s, %s]", a, b, sqlString(c.bad), a)
			err := queryErr(t, db, `SELECT sum(MET_pt), sum(list_sum(Jet_pt)) FROM read_root(`+list+`)`)
			for _, w := range c.wants {
				if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
					t.Errorf("threads %d: error %q does not mention %q", threads, err, w)
				}
			}
			if v := query1[int64](t, db, `SELECT 41 + 1`); v != 42 {
				t.Fatalf("connection unusable after the error")
			}
		}
	}
	// One thread reading the first file's first rows stops there: the
	// missing file, opened ahead, must not fail the query.
	setThreads(t, db, 1)
	if n := query1[int64](t, db, fmt.Sprintf(`SELECT count(*) FROM (SELECT MET_pt FROM read_root([%s, %s, %s]) LIMIT 3)`, a, sqlString(missing), b)); n != 3 {
		t.Errorf("LIMIT 3 over a chain with a missing later file: %d rows", n)
	}
}

// TestServerGoneWhileIdle kills the server while the process holds idle
// connections to it: every socket then fails at once, with no request
// awaiting a response, and the process must take it quietly (a reader
// goroutine ends, the connection drops out of the pool), many times over.
func TestServerGoneWhileIdle(t *testing.T) {
	sample := testfiles.CMSSample(t)
	srv := xrdtest.Start(t)
	_, remote := chainOf(t, srv, sample, "idle", 6)
	db := openDB(t, "")
	q := `SELECT count(*) FROM read_root(` + remote + `) WHERE MET_pt > 0 AND len(Jet_pt) >= 0 AND len(Muon_pt) >= 0`
	for i := range 10 {
		if n := query1[int64](t, db, q); n == 0 {
			t.Fatal("no rows")
		}
		srv.Kill()
		if !waitUntil(10*time.Second, func() bool { return xrootd.LiveConns() == 0 }) {
			t.Fatalf("round %d: %d connections still up after the server was killed", i, xrootd.LiveConns())
		}
		srv.Restart()
	}
}

// waitUntil polls cond for up to d.
func waitUntil(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
