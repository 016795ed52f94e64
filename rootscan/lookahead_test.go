package rootscan_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hepsql/hepsql/gen/adl"
	"github.com/hepsql/hepsql/rootio/rfile"
)

// remoteBackend serves local files under the scheme "ahead://" as if they
// were remote (it implements rfile.Remote, its files rfile.Prefetcher),
// and records what the scan asks of them.
type remoteBackend struct {
	mu       sync.Mutex
	budget   int64
	entered  int // calls of Open begun
	opens    map[string]int
	closes   int
	fetched  map[string]int64 // bytes asked by Prefetch, per file
	onFetch  func(name string, ranges []rfile.Range)
	openWait time.Duration // each open takes this long, as over a network
}

type remoteFile struct {
	*os.File
	name string
	b    *remoteBackend
}

func (f *remoteFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (f *remoteFile) Close() error {
	f.b.mu.Lock()
	f.b.closes++
	f.b.mu.Unlock()
	return f.File.Close()
}

func (f *remoteFile) Prefetch(ranges []rfile.Range) {
	var n int64
	for _, r := range ranges {
		n += r.Len
	}
	f.b.mu.Lock()
	f.b.fetched[f.name] += n
	hook := f.b.onFetch
	f.b.mu.Unlock()
	if hook != nil {
		hook(f.name, ranges)
	}
}

func (b *remoteBackend) Open(name string) (rfile.File, error) {
	b.mu.Lock()
	b.entered++
	wait := b.openWait
	b.mu.Unlock()
	time.Sleep(wait)
	f, err := os.Open(strings.TrimPrefix(name, "ahead://"))
	if err != nil {
		b.mu.Lock()
		b.entered--
		b.mu.Unlock()
		return nil, err
	}
	b.mu.Lock()
	b.opens[name]++
	b.mu.Unlock()
	return &remoteFile{f, name, b}, nil
}

func (b *remoteBackend) Glob(string) ([]string, error) {
	return nil, errors.New("ahead backend: no globs")
}

func (b *remoteBackend) LookAheadBytes(rfile.SourceOptions) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.budget
}

// reset forgets the counts and sets the budget, the hook and the time
// each open takes.
func (b *remoteBackend) reset(budget int64, onFetch func(string, []rfile.Range), openWait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.budget, b.onFetch, b.openWait = budget, onFetch, openWait
	b.entered, b.opens, b.closes, b.fetched = 0, map[string]int{}, 0, map[string]int64{}
}

// released says whether every file opened has been closed, no open being
// under way.
func (b *remoteBackend) released() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.entered == b.closes
}

// counts returns the files opened (each open counted), those closed, and
// the bytes prefetched in files other than first.
func (b *remoteBackend) counts(first string) (opens, closes int, others int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range b.opens {
		opens += n
	}
	for name, n := range b.fetched {
		if name != first {
			others += n
		}
	}
	return opens, b.closes, others
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestLookAheadOpensAheadWithinBudget: in a chain from a remote backend,
// the files after the first are opened, and their first baskets asked for,
// before the scan's only thread has read anything of the first file; the
// baskets asked for those files stay within the backend's budget; every
// file opened is closed; the values are those of the local files.
func TestLookAheadOpensAheadWithinBudget(t *testing.T) {
	dir := t.TempDir()
	gen, err := adl.Generate(adl.Options{Events: 1000, Seed: 8, OutDir: filepath.Join(dir, "gen")})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(gen[0])
	if err != nil {
		t.Fatal(err)
	}
	const nfiles = 6
	var local, remote []string
	for i := range nfiles {
		name := filepath.Join(dir, fmt.Sprintf("f%02d.root", i))
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		local = append(local, quote(name))
		remote = append(remote, quote("ahead://"+name))
	}
	first := "ahead://" + filepath.Join(dir, "f00.root")
	b := &remoteBackend{}
	b.reset(0, nil, 0)
	rfile.RegisterBackend("ahead", b)

	db := openDB(t)
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`SET threads = 1`); err != nil {
		t.Fatal(err)
	}
	const cols = `count(*), sum(MET_pt), sum(list_sum(Jet_pt))`
	var wantN int64
	var wantMET, wantJets float64
	if err := db.QueryRow(`SELECT `+cols+` FROM read_root([`+strings.Join(local, ", ")+`])`).Scan(&wantN, &wantMET, &wantJets); err != nil {
		t.Fatal(err)
	}
	query := `SELECT ` + cols + ` FROM read_root([` + strings.Join(remote, ", ") + `])`

	// The baskets one file's query reads: what the thread asks of the
	// first file (never opened ahead: the table opens it at bind).
	var perFile int64
	b.reset(1<<30, func(name string, ranges []rfile.Range) {
		if name == first {
			for _, r := range ranges {
				perFile += r.Len
			}
		}
	}, 0)
	var n int64
	var met, jets float64
	if err := db.QueryRow(query).Scan(&n, &met, &jets); err != nil {
		t.Fatal(err)
	}
	if perFile == 0 {
		t.Fatal("the scan asked no basket of the first file ahead of reading it")
	}

	for _, budget := range []int64{0, perFile * 5 / 2, 1 << 30} {
		t.Run(fmt.Sprintf("budget=%d", budget), func(t *testing.T) {
			// The thread asks the first file's baskets just before reading
			// them; it is held there until the files after have been
			// opened ahead and their baskets asked for, as far as the
			// budget goes.
			wantOthers := min(budget/perFile*perFile, (nfiles-1)*perFile)
			var once sync.Once
			b.reset(budget, func(name string, _ []rfile.Range) {
				if name != first {
					return
				}
				once.Do(func() {
					ok := waitFor(10*time.Second, func() bool {
						opens, _, others := b.counts(first)
						return opens == nfiles && others >= wantOthers
					})
					time.Sleep(50 * time.Millisecond) // a fetch beyond the budget would show by now
					opens, _, others := b.counts(first)
					if !ok {
						t.Errorf("before the first file was read: %d of %d files opened, %d bytes asked for the others; want every file and %d bytes", opens, nfiles, others, wantOthers)
					}
					if others > budget {
						t.Errorf("%d bytes asked for the files opened ahead, beyond the budget of %d", others, budget)
					}
				})
			}, 0)
			var n int64
			var met, jets float64
			if err := db.QueryRow(query).Scan(&n, &met, &jets); err != nil {
				t.Fatal(err)
			}
			if n != wantN || met != wantMET || jets != wantJets {
				t.Errorf("got %d, %v, %v; local files give %d, %v, %v", n, met, jets, wantN, wantMET, wantJets)
			}
			if opens, closes, _ := b.counts(first); opens != nfiles || closes != nfiles {
				t.Errorf("%d opens and %d closes, want %d each", opens, closes, nfiles)
			}
		})
	}

	// A query that stops early (LIMIT) closes the files it opened ahead,
	// and an error met opening one of them (a missing file) stays unseen.
	t.Run("limit", func(t *testing.T) {
		b.reset(1<<30, nil, 0)
		missing := quote("ahead://" + filepath.Join(dir, "gone.root"))
		rows, err := db.Query(`SELECT MET_pt FROM read_root([` + remote[0] + `, ` + missing + `, ` + strings.Join(remote[1:], ", ") + `]) LIMIT 3`)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for rows.Next() {
			k++
		}
		if err := rows.Err(); err != nil || k != 3 {
			t.Errorf("LIMIT 3 over a chain with a missing later file: %d rows, %v", k, err)
		}
		rows.Close()
		// DuckDB releases the scan when the connection runs its next
		// statement; the files still opening ahead close when they are done.
		if _, err := db.Exec(`SELECT 1`); err != nil {
			t.Fatal(err)
		}
		if !waitFor(10*time.Second, b.released) {
			o, c, _ := b.counts(first)
			t.Errorf("%d files opened, %d closed after a LIMIT query", o, c)
		}
		mustFail(t, db, `SELECT sum(MET_pt) FROM read_root([`+remote[0]+`, `+missing+`])`, "gone.root", "no such file")
	})

	// Cancelled while files are opening ahead (each open is slow): the
	// query stops, and every file opened is closed once the opens in
	// flight are done.
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		b.reset(1<<30, func(name string, _ []rfile.Range) {
			if name == first {
				cancel()
				time.Sleep(20 * time.Millisecond) // let the interrupt land
			}
		}, 30*time.Millisecond)
		var n int64
		var met, jets float64
		err := db.QueryRowContext(ctx, query).Scan(&n, &met, &jets)
		cancel()
		if err == nil {
			t.Fatal("cancelled query succeeded")
		}
		if _, err := db.Exec(`SELECT 1`); err != nil {
			t.Fatal(err)
		}
		if !waitFor(10*time.Second, b.released) {
			o, c, _ := b.counts(first)
			t.Errorf("%d files opened, %d closed after cancel", o, c)
		}
	})
}
