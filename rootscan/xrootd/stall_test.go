package xrootd_test

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/internal/xrdtest"
	"github.com/hepsql/hepsql/rootio/xrootd"
)

// run runs q to its end and returns its error.
func run(ctx context.Context, db *sql.DB, q string) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	err = rows.Err()
	rows.Close()
	return err
}

// stopAfterWire stops the server once the process has received n more
// bytes from servers, and records when.
func stopAfterWire(srv *xrdtest.Server, n int64, stoppedAt *atomic.Int64, quit <-chan struct{}) {
	start := xrootd.WireBytes()
	go func() {
		for xrootd.WireBytes()-start < n {
			select {
			case <-quit:
				return
			case <-time.After(time.Millisecond):
			}
		}
		srv.Stop()
		stoppedAt.Store(time.Now().UnixNano())
	}()
}

// TestStalledServer freezes the server (SIGSTOP: it accepts connections
// and answers nothing) in each phase of a remote query. With timeout '2s'
// the query must fail within 2 × timeout + 1 s of the stall with an error
// naming the URL; with a long timeout, cancelling the query's context must
// end it within 1 s. A server killed and restarted 1.5 s later must be
// waited for by the retries, and the query complete with the right values.
// Afterwards, and once the database is closed, the goroutines and file
// descriptors of the process are back to what they were before.
func TestStalledServer(t *testing.T) {
	sample := testfiles.CMSSample(t)
	srv := xrdtest.Start(t)
	const nfiles = 8
	_, chain := chainOf(t, srv, sample, "stall", nfiles)
	srv.Put("one.root", sample)
	one := srv.URL("one.root")
	glob := "root://" + srv.Addr + "//stall/f0*.root"
	defer xrootd.SetIdleLinger(10 * time.Second)()

	runtime.GC()
	baseG, baseFD := runtime.NumGoroutine(), xrdtest.OpenFDs(t)

	db, err := sql.Open("hepsql", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	setThreads(t, db, 1)
	sumOf := func(src, opts string) string {
		return fmt.Sprintf(`SELECT sum(MET_pt) + sum(list_sum(Jet_pt)) + sum(list_sum(Muon_pt)) FROM read_root(%s%s)`, src, opts)
	}
	local := query1[float64](t, db, sumOf(sqlString(sample), ""))
	// The stalls mid-scan come after two files' worth of the branches read.
	mid := 2 * query1[int64](t, db, fmt.Sprintf(`SELECT sum(compressed_bytes) FROM root_branches(%s) WHERE name IN ('MET_pt', 'Jet_pt', 'Muon_pt')`, sqlString(sample)))

	// noConns waits until no connection to the server is up.
	noConns := func() {
		t.Helper()
		xrootd.DropIdle()
		if !waitUntil(10*time.Second, func() bool { return xrootd.LiveConns() == 0 && xrootd.OpenFiles() == 0 }) {
			t.Fatalf("%d connections, %d files still up", xrootd.LiveConns(), xrootd.OpenFiles())
		}
	}
	// warm leaves a connection to the server up and idle.
	warm := func() {
		t.Helper()
		if n := query1[int64](t, db, `SELECT count(*) FROM read_root(`+sqlString(one)+`)`); n != 10000 {
			t.Fatalf("warm-up: %d rows", n)
		}
		if xrootd.LiveConns() != 1 {
			t.Fatalf("%d connections up after the warm-up, want 1", xrootd.LiveConns())
		}
	}

	const timeout = 2 * time.Second
	const opts = `, timeout := '2s', retries := 1`
	type phase struct {
		name  string
		q     string
		setup func(stoppedAt *atomic.Int64, quit <-chan struct{}) // stops the server, now or later
	}
	stopNow := func(at *atomic.Int64, _ <-chan struct{}) {
		srv.Stop()
		at.Store(time.Now().UnixNano())
	}
	phases := []phase{
		{"login", sumOf(sqlString(one), opts), func(at *atomic.Int64, q <-chan struct{}) {
			noConns()
			stopNow(at, q)
		}},
		{"open", sumOf(sqlString(one), opts), func(at *atomic.Int64, q <-chan struct{}) {
			warm()
			stopNow(at, q)
		}},
		{"metadata", sumOf(sqlString(srv.URL("stall/f07.root")), opts), func(at *atomic.Int64, q <-chan struct{}) {
			warm()
			// Opened, then stopped before any byte of it is read: the
			// file was never read, so its metadata is not cached.
			var once atomic.Bool
			restore := xrootd.SetAfterOpen(func(url string) {
				if strings.HasSuffix(url, "f07.root") && once.CompareAndSwap(false, true) {
					stopNow(at, q)
				}
			})
			go func() { <-q; restore() }()
		}},
		{"glob listing", sumOf(sqlString(glob), opts), func(at *atomic.Int64, q <-chan struct{}) {
			warm()
			stopNow(at, q)
		}},
		{"baskets", sumOf(chain, `, readahead := '0'`+opts), func(at *atomic.Int64, q <-chan struct{}) {
			stopAfterWire(srv, mid, at, q)
		}},
		// A budget small enough that fetching ahead keeps pace with the
		// scan, rather than asking for the whole chain at once.
		{"readahead and look-ahead", sumOf(chain, `, readahead := '256KB'`+opts), func(at *atomic.Int64, q <-chan struct{}) {
			stopAfterWire(srv, mid, at, q)
		}},
	}

	for _, p := range phases {
		t.Run("stall/"+p.name, func(t *testing.T) {
			defer srv.Cont()
			var at atomic.Int64
			quit := make(chan struct{})
			defer close(quit)
			p.setup(&at, quit)
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			err := run(ctx, db, p.q)
			end := time.Now()
			if err == nil {
				t.Fatal("the query succeeded: the stall came too late")
			}
			if at.Load() == 0 {
				t.Fatalf("the query failed before the stall: %v", err)
			}
			took := end.Sub(time.Unix(0, at.Load()))
			t.Logf("stall → error: %.2fs: %v", took.Seconds(), err)
			if took > 2*timeout+time.Second {
				t.Errorf("error %.2fs after the stall, want within %s", took.Seconds(), 2*timeout+time.Second)
			}
			if !strings.Contains(err.Error(), "root://"+srv.Addr) {
				t.Errorf("error does not name the URL: %v", err)
			}
		})
	}

	// Cancelling: the timeout is long, only the cancellation ends the wait.
	const long = `, timeout := '60s', retries := 1`
	cancels := []phase{
		{"login", sumOf(sqlString(one), long), phases[0].setup},
		{"open", sumOf(sqlString(one), long), phases[1].setup},
		{"metadata", sumOf(sqlString(srv.URL("stall/f06.root")), long), func(at *atomic.Int64, q <-chan struct{}) {
			warm()
			var once atomic.Bool
			restore := xrootd.SetAfterOpen(func(url string) {
				if strings.HasSuffix(url, "f06.root") && once.CompareAndSwap(false, true) {
					stopNow(at, q)
				}
			})
			go func() { <-q; restore() }()
		}},
		{"glob listing", sumOf(sqlString(glob), long), phases[3].setup},
		{"baskets", sumOf(chain, `, readahead := '0'`+long), phases[4].setup},
		{"readahead and look-ahead", sumOf(chain, `, readahead := '256KB'`+long), phases[5].setup},
		// root_branches takes no timeout (30 s by default): only the
		// cancellation ends its wait.
		{"root_branches", `SELECT count(*) FROM root_branches(` + sqlString(srv.URL("stall/f05.root")) + `)`, phases[1].setup},
	}
	for _, p := range cancels {
		t.Run("cancel/"+p.name, func(t *testing.T) {
			defer srv.Cont()
			var at atomic.Int64
			quit := make(chan struct{})
			defer close(quit)
			p.setup(&at, quit)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var cancelledAt atomic.Int64
			go func() {
				for at.Load() == 0 {
					select {
					case <-quit:
						return
					case <-time.After(time.Millisecond):
					}
				}
				time.Sleep(300 * time.Millisecond) // well into the wait
				cancelledAt.Store(time.Now().UnixNano())
				cancel()
			}()
			guard := time.AfterFunc(hangGuard, func() { t.Errorf("query hung for %s", hangGuard) })
			defer guard.Stop()
			err := run(ctx, db, p.q)
			end := time.Now()
			if err == nil {
				t.Fatal("the query succeeded: the stall came too late")
			}
			if cancelledAt.Load() == 0 {
				t.Fatalf("the query failed before it was cancelled: %v", err)
			}
			took := end.Sub(time.Unix(0, cancelledAt.Load()))
			t.Logf("cancel → return: %.3fs: %v", took.Seconds(), err)
			if took > time.Second {
				t.Errorf("returned %.2fs after the cancellation, want within 1s", took.Seconds())
			}
		})
	}

	t.Run("server back", func(t *testing.T) {
		// Killed mid-query, back 1.5 s later on the same port: the retries'
		// back-off (0.5 s, 1 s, 2 s) waits for it.
		start := xrootd.WireBytes()
		back := make(chan struct{})
		var finished atomic.Bool
		var killedAt time.Time
		go func() {
			defer close(back)
			for xrootd.WireBytes()-start < mid {
				if finished.Load() {
					return
				}
				time.Sleep(time.Millisecond)
			}
			srv.Kill()
			killedAt = time.Now()
			time.Sleep(1500 * time.Millisecond)
			srv.Restart()
		}()
		began := time.Now()
		got := query1[float64](t, db, sumOf(chain, `, readahead := '0', timeout := '5s', retries := 4`))
		finished.Store(true)
		<-back
		if killedAt.IsZero() {
			t.Fatal("the query ended before the server was killed")
		}
		t.Logf("query took %.2fs, server killed %.2fs in and back 1.5s later", time.Since(began).Seconds(), killedAt.Sub(began).Seconds())
		if got != nfiles*local {
			t.Errorf("sum %v, want %v", got, nfiles*local)
		}
	})

	t.Run("nothing left", func(t *testing.T) {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		srv.Stop() // a stalled server must not hold anything either
		defer srv.Cont()
		var g, fds int
		ok := waitUntil(15*time.Second, func() bool {
			xrootd.DropIdle()
			runtime.GC()
			g, fds = runtime.NumGoroutine(), xrdtest.OpenFDs(t)
			// baseG+1: this subtest's own goroutine. Nothing else may be
			// left: no reader, no timer, no socket.
			return g <= baseG+1 && fds <= baseFD && xrootd.LiveConns() == 0 && xrootd.OpenFiles() == 0
		})
		t.Logf("goroutines %d → %d (this subtest's included), descriptors %d → %d", baseG, g, baseFD, fds)
		if !ok {
			buf := make([]byte, 1<<20)
			t.Errorf("after db.Close: %d goroutines (%d before), %d descriptors (%d before), %d connections, %d files; goroutines:\n%s",
				g, baseG, fds, baseFD, xrootd.LiveConns(), xrootd.OpenFiles(), buf[:runtime.Stack(buf, true)])
		}
	})
}
