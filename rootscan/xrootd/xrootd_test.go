package xrootd_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/internal/xrdtest"
	"github.com/hepsql/hepsql/rootio/xrootd"
)

// hangGuard bounds every query: a query that outlives it has hung, which
// the remote reader must never do.
const hangGuard = 2 * time.Minute

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := hepsql.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func query1[T any](t *testing.T, db *sql.DB, q string, args ...any) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	var v T
	if err := db.QueryRowContext(ctx, q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// queryErr runs q and returns its error, failing the test if it succeeds.
func queryErr(t *testing.T, db *sql.DB, q string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	rows, err := db.QueryContext(ctx, q)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil {
		t.Fatalf("%s: succeeded, want an error", q)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s: hung for %s", q, hangGuard)
	}
	return err
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// supportedColumns lists the columns of the sample that read_root reads.
func supportedColumns(t *testing.T, db *sql.DB, src string) []string {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf(`SELECT name FROM root_branches(%s) WHERE supported ORDER BY name`, sqlString(src)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, `"`+c+`"`)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cols) < 50 {
		t.Fatalf("only %d supported columns in the sample", len(cols))
	}
	return cols
}

// TestEveryBranchEqualsLocal reads every branch of the CMS sample from the
// server and from disk: the two tables must hold the same rows, value for
// value (EXCEPT ALL both ways, keyed by entry number).
func TestEveryBranchEqualsLocal(t *testing.T) {
	sample := testfiles.CMSSample(t)
	srv := xrdtest.Start(t)
	srv.Put("cms/sample.root", sample)
	db := openDB(t, "")
	remote := srv.URL("cms/sample.root")

	cols := strings.Join(supportedColumns(t, db, sample), ", ")
	if got := strings.Join(supportedColumns(t, db, remote), ", "); got != cols {
		t.Fatalf("remote columns differ:\n%s\nlocal:\n%s", got, cols)
	}
	for _, ra := range []string{"0", "32MB"} {
		t.Run("readahead="+ra, func(t *testing.T) {
			for _, dir := range [][2]string{{sample, remote}, {remote, sample}} {
				q := fmt.Sprintf(`SELECT count(*) FROM (
					SELECT _entry, %[1]s FROM read_root(%[2]s, readahead := '%[4]s')
					EXCEPT ALL
					SELECT _entry, %[1]s FROM read_root(%[3]s, readahead := '%[4]s'))`,
					cols, sqlString(dir[0]), sqlString(dir[1]), ra)
				if n := query1[int64](t, db, q); n != 0 {
					t.Errorf("%d rows of %s are not in %s", n, dir[0], dir[1])
				}
			}
			n := query1[int64](t, db, fmt.Sprintf(`SELECT count(*) FROM read_root(%s, readahead := '%s')`, sqlString(remote), ra))
			if n != 10000 {
				t.Errorf("remote entries = %d, want 10000", n)
			}
		})
	}
}

// TestChainGlobAndMetadata reads a chain of remote files named by a remote
// glob (expanded with the server's directory listing), a list mixing local
// and remote files, and root_trees/root_branches on a remote file.
func TestChainGlobAndMetadata(t *testing.T) {
	sample := testfiles.CMSSample(t)
	srv := xrdtest.Start(t)
	for _, p := range []string{"run1/a.root", "run1/b.root", "run2/c.root", "other/d.root"} {
		srv.Put(p, sample)
	}
	db := openDB(t, "")
	local := query1[float64](t, db, fmt.Sprintf(`SELECT sum(MET_pt) + sum(list_sum(Jet_pt)) FROM read_root(%s)`, sqlString(sample)))

	glob := "root://" + srv.Addr + "//run*/*.root"
	rows, err := db.Query(fmt.Sprintf(`SELECT _file, count(*), sum(MET_pt) + sum(list_sum(Jet_pt)) FROM read_root(%s) GROUP BY _file ORDER BY _file`, sqlString(glob)))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for rows.Next() {
		var f string
		var n int64
		var s float64
		if err := rows.Scan(&f, &n, &s); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		if n != 10000 || s != local {
			t.Errorf("%s: %d entries, sum %v; want 10000 and %v", f, n, s, local)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	want := []string{srv.URL("run1/a.root"), srv.URL("run1/b.root"), srv.URL("run2/c.root")}
	if fmt.Sprint(files) != fmt.Sprint(want) {
		t.Errorf("glob %s gave %v, want %v", glob, files, want)
	}

	mixed := fmt.Sprintf(`[%s, %s]`, sqlString(sample), sqlString(srv.URL("other/d.root")))
	if n := query1[int64](t, db, `SELECT count(DISTINCT _file) * 100000 + count(*) FROM read_root(`+mixed+`)`); n != 2*100000+20000 {
		t.Errorf("mixed list: got %d, want 2 files and 20000 entries", n)
	}

	for _, q := range []string{
		`SELECT tree, title, entries, branches FROM root_trees(%s)`,
		`SELECT name, branch, root_type, sql_type, compressed_bytes, uncompressed_bytes, baskets, supported FROM root_branches(%s)`,
	} {
		diff := fmt.Sprintf(`SELECT count(*) FROM ((%s) EXCEPT ALL (%s))`, fmt.Sprintf(q, sqlString(sample)), fmt.Sprintf(q, sqlString(srv.URL("run1/a.root"))))
		if n := query1[int64](t, db, diff); n != 0 {
			t.Errorf("%s: %d rows differ between local and remote", q, n)
		}
	}

	if err := queryErr(t, db, fmt.Sprintf(`SELECT count(*) FROM read_root(%s)`, sqlString("root://"+srv.Addr+"//nothing*/*.root"))); !strings.Contains(err.Error(), "no file matches") {
		t.Errorf("empty remote glob: %v", err)
	}
}

// TestOnlyReferencedBasketsCrossTheWire measures, on the client, the bytes
// received for a one-branch query beyond those of opening the file (a
// query reading no branch): they must be the branch's compressed size
// (root_branches) give or take the protocol's framing.
func TestOnlyReferencedBasketsCrossTheWire(t *testing.T) {
	sample := testfiles.CMSSample(t)
	srv := xrdtest.Start(t)
	srv.Put("sample.root", sample)
	db := openDB(t, "")
	remote := sqlString(srv.URL("sample.root"))
	for _, branch := range []string{"MET_pt", "Jet_pt", "Muon_eta"} {
		zipped := query1[int64](t, db, fmt.Sprintf(`SELECT compressed_bytes FROM root_branches(%s) WHERE name = '%s'`, sqlString(sample), branch))
		for _, ra := range []string{"0", "32MB"} {
			// The second run of each query: the file's metadata is then
			// cached by rootscan and the connection is up, for both.
			wire := func(q string) int64 {
				query1[float64](t, db, q)
				before := xrootd.WireBytes()
				query1[float64](t, db, q)
				return xrootd.WireBytes() - before
			}
			open := wire(fmt.Sprintf(`SELECT count(*)::DOUBLE FROM read_root(%s, readahead := '%s')`, remote, ra))
			one := wire(fmt.Sprintf(`SELECT sum(len(list_value(%s)))::DOUBLE FROM read_root(%s, readahead := '%s')`, branch, remote, ra))
			got := one - open
			t.Logf("%s, readahead %s: %d bytes on the wire beyond opening (%d), branch compressed %d", branch, ra, got, open, zipped)
			// Framing: an 8-byte response header per request and per chunk.
			if d := got - zipped; d < -zipped/100-1024 || d > zipped/100+4096 {
				t.Errorf("%s, readahead %s: %d bytes on the wire for a %d-byte branch", branch, ra, got, zipped)
			}
		}
	}
}

// TestFaults: every failure of the server or the network ends the query
// with an error that names what failed, and the database stays usable.
func TestFaults(t *testing.T) {
	sample := testfiles.CMSSample(t)
	srv := xrdtest.Start(t)
	for i := range 12 {
		srv.Put(fmt.Sprintf("many/f%02d.root", i), sample)
	}
	db := openDB(t, "")
	db.SetMaxOpenConns(1) // one connection: its survival is the point
	alive := func() {
		t.Helper()
		if v := query1[int64](t, db, `SELECT 41 + 1`); v != 42 {
			t.Fatalf("connection unusable: got %d", v)
		}
	}

	t.Run("missing file", func(t *testing.T) {
		url := srv.URL("many/nope.root")
		err := queryErr(t, db, fmt.Sprintf(`SELECT count(*) FROM read_root(%s)`, sqlString(url)))
		if !strings.Contains(err.Error(), url) || !strings.Contains(strings.ToLower(err.Error()), "no such file") {
			t.Errorf("error does not name the URL and the cause: %v", err)
		}
		alive()
	})

	t.Run("wrong host", func(t *testing.T) {
		err := queryErr(t, db, `SELECT count(*) FROM read_root('root://no-such-host.invalid//f.root', timeout := '5s', retries := 0)`)
		if !strings.Contains(err.Error(), "no-such-host.invalid") || !strings.Contains(err.Error(), "cannot connect") {
			t.Errorf("error does not name the host: %v", err)
		}
		alive()
	})

	t.Run("no reply", func(t *testing.T) {
		// A peer that accepts connections and never answers: the timeout
		// must end the wait.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				go io.Copy(io.Discard, c)
			}
		}()
		err = queryErr(t, db, fmt.Sprintf(`SELECT count(*) FROM read_root('root://%s//f.root', timeout := '1s', retries := 0)`, l.Addr()))
		if !strings.Contains(err.Error(), "no reply") || !strings.Contains(err.Error(), "within 1s") {
			t.Errorf("error does not say the server did not reply in time: %v", err)
		}
		alive()
	})

	many := sqlString("root://" + srv.Addr + "//many/*.root")
	wantRows := query1[int64](t, db, fmt.Sprintf(`SELECT count(*) FROM read_root(%s)`, sqlString(sample))) * 12
	// A query reading every branch of the 12 files, without read-ahead so
	// that it keeps asking the server until the end.
	scan := func(opts string) (int64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		var n int64
		err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM (SELECT * EXCLUDE (_file) FROM read_root(%s, readahead := '0', %s) ORDER BY ALL)`, many, opts)).Scan(&n)
		if ctx.Err() != nil {
			t.Fatalf("query hung for %s", hangGuard)
		}
		return n, err
	}
	// killDuring kills the server once the query has received some data.
	killDuring := func(after func()) <-chan struct{} {
		start := xrootd.WireBytes()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for xrootd.WireBytes()-start < 4<<20 {
				time.Sleep(time.Millisecond)
			}
			srv.Kill()
			after()
		}()
		return done
	}

	t.Run("server killed", func(t *testing.T) {
		killed := killDuring(func() {})
		_, err := scan(`timeout := '5s', retries := 0`)
		<-killed
		if err == nil {
			t.Fatal("query succeeded though the server was killed")
		}
		if !strings.Contains(err.Error(), srv.Addr) || !strings.Contains(err.Error(), "lost") && !strings.Contains(err.Error(), "cannot connect") {
			t.Errorf("error does not say the connection to the server was lost: %v", err)
		}
		alive()
		srv.Restart()
	})

	t.Run("server back", func(t *testing.T) {
		back := killDuring(func() {
			time.Sleep(300 * time.Millisecond)
			srv.Restart()
		})
		n, err := scan(`timeout := '5s', retries := 5`)
		<-back
		if err != nil {
			t.Fatalf("query failed though the server came back: %v", err)
		}
		if n != wantRows {
			t.Errorf("got %d rows, want %d", n, wantRows)
		}
		alive()
	})

	t.Run("server not running", func(t *testing.T) {
		srv.Terminate()
		defer srv.Restart()
		err := queryErr(t, db, fmt.Sprintf(`SELECT count(*) FROM read_root(%s, timeout := '2s', retries := 1)`, sqlString(srv.URL("many/f00.root"))))
		if !strings.Contains(err.Error(), "cannot connect to "+srv.Addr) || !strings.Contains(err.Error(), "refused") {
			t.Errorf("error does not say the server refused: %v", err)
		}
		alive()
	})
}
