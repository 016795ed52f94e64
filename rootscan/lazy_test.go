package rootscan_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/gen/adl"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootscan"
)

// grootMETSum is the independent reference: entries and the sum of MET_pt
// of a file, read with groot's own event loop.
func grootMETSum(t *testing.T, name string) (int64, float64) {
	t.Helper()
	f, err := groot.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	obj, err := f.Get("Events")
	if err != nil {
		t.Fatal(err)
	}
	var met float32
	r, err := rtree.NewReader(obj.(rtree.Tree), []rtree.ReadVar{{Name: "MET_pt", Value: &met}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int64
	var sum float64
	if err := r.Read(func(rtree.RCtx) error { n++; sum += float64(met); return nil }); err != nil {
		t.Fatal(err)
	}
	return n, sum
}

// TestMetadataCache: a second query over an unchanged file takes its
// metadata from the cache; a file rewritten in place is parsed again and
// read with its new content.
func TestMetadataCache(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	gen := func(seed int64, events int) string {
		out := filepath.Join(dir, fmt.Sprintf("seed-%d", seed))
		files, err := adl.Generate(adl.Options{Events: events, Seed: seed, OutDir: out})
		if err != nil {
			t.Fatal(err)
		}
		return files[0]
	}
	name := filepath.Join(dir, "data.root")
	install := func(src string, mtime time.Time) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	query := func(wantParses int64) (int64, float64) {
		t.Helper()
		before := rootscan.MetadataParses()
		var n int64
		var sum float64
		if err := db.QueryRow(fmt.Sprintf(`SELECT count(*), sum(MET_pt) FROM read_root(%s)`, quote(name))).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		if got := rootscan.MetadataParses() - before; got != wantParses {
			t.Errorf("query parsed %d files' metadata, want %d", got, wantParses)
		}
		return n, sum
	}
	check := func(label string, n int64, sum float64, src string) {
		t.Helper()
		wn, wsum := grootMETSum(t, src)
		if n != wn || sum != wsum {
			t.Errorf("%s: %d events, sum %g; groot: %d, %g", label, n, sum, wn, wsum)
		}
	}

	a, b := gen(1, 300), gen(2, 500)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	install(a, t0)
	n, sum := query(1)
	check("first read", n, sum, a)
	n, sum = query(0) // cached
	check("cached read", n, sum, a)

	install(b, t0.Add(time.Second))
	n, sum = query(1)
	check("after rewrite", n, sum, b)

	// Same content, only a newer time: parsed again, same result.
	install(b, t0.Add(2*time.Second))
	n, sum = query(1)
	check("after touch", n, sum, b)
	if rootscan.CachedFiles() == 0 {
		t.Error("cache is empty after queries")
	}
}

// TestChainMembersReadLean: in a chain of NanoAOD-style files, groot parses
// none: the first file's schema and the other members' basket tables come
// from the lean reader, and the result equals groot's own event loop over
// every file.
func TestChainMembersReadLean(t *testing.T) {
	db := openDB(t)
	files, err := adl.Generate(adl.Options{Events: 3000, EventsPerFile: 1000, Seed: 6, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var wantN int64
	var wantSum float64
	names := make([]string, len(files))
	for i, f := range files {
		n, sum := grootMETSum(t, f)
		wantN += n
		wantSum += sum
		names[i] = quote(f)
	}
	parses, grootParses, lean := rootscan.MetadataParses(), rootscan.GrootParses(), rootscan.LeanParses()
	var n int64
	var sum float64
	if err := db.QueryRow(fmt.Sprintf(`SELECT count(*), sum(MET_pt) FROM read_root([%s])`, strings.Join(names, ", "))).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != wantN || math.Abs(sum-wantSum) > 1e-9*math.Abs(wantSum) {
		t.Errorf("chain: %d events, sum %g; groot: %d, %g", n, sum, wantN, wantSum)
	}
	if p, g, l := rootscan.MetadataParses()-parses, rootscan.GrootParses()-grootParses, rootscan.LeanParses()-lean; p != 1 || g != 0 || l != int64(len(files)-1) {
		t.Errorf("%d first-file schemas read, %d of them by groot, and %d members by the lean reader; want 1, 0 and %d", p, g, l, len(files)-1)
	}
}

// grootSums returns, over files, the number of events and the sums of a
// float branch and of every element of a jagged float branch, read by
// groot's event loop.
func grootSums(t *testing.T, files []string, scalar, jagged string) (n int64, sumScalar, sumJagged float64) {
	t.Helper()
	for _, name := range files {
		f, err := groot.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := f.Get("Events")
		if err != nil {
			t.Fatal(err)
		}
		var x float32
		var xs []float32
		r, err := rtree.NewReader(obj.(rtree.Tree), []rtree.ReadVar{{Name: scalar, Value: &x}, {Name: jagged, Value: &xs}})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Read(func(rtree.RCtx) error {
			n++
			sumScalar += float64(x)
			for _, v := range xs {
				sumJagged += float64(v)
			}
			return nil
		})
		r.Close()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return n, sumScalar, sumJagged
}

// TestMemberMetadataPerColumnSet: chain members' metadata is read and
// cached for the columns a query projects. Queries over other columns of
// the same chain read their own, and get the right values; repeating a
// query finds its members' metadata cached.
func TestMemberMetadataPerColumnSet(t *testing.T) {
	db := openDB(t)
	files, err := adl.Generate(adl.Options{Events: 3000, EventsPerFile: 1000, Seed: 8, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = quote(f)
	}
	src := fmt.Sprintf("read_root([%s])", strings.Join(names, ", "))
	wantN, wantMET, wantJets := grootSums(t, files, "MET_pt", "Jet_pt")
	members := int64(len(files) - 1)
	for i, q := range []struct {
		sql       string
		want      float64
		leanReads int64
	}{
		{"SELECT count(*), sum(MET_pt) FROM " + src, wantMET, members},
		{"SELECT count(*), sum(list_sum(Jet_pt)) FROM " + src, wantJets, members}, // other columns: read again
		{"SELECT count(*), sum(MET_pt) FROM " + src, wantMET, 0},                  // cached
		{"SELECT count(*), sum(list_sum(Jet_pt)) FROM " + src, wantJets, 0},       // cached
	} {
		before := rootscan.LeanParses()
		var n int64
		var sum float64
		if err := db.QueryRow(q.sql).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		if n != wantN || math.Abs(sum-q.want) > 1e-9*math.Abs(q.want) {
			t.Errorf("query %d: %d events, sum %g; groot: %d, %g", i+1, n, sum, wantN, q.want)
		}
		if got := rootscan.LeanParses() - before; got != q.leanReads {
			t.Errorf("query %d: the lean reader read %d members, want %d", i+1, got, q.leanReads)
		}
	}
}

// TestLazyChainErrors: files after the first are opened by the scan, not at
// bind; a member further down the chain that is missing, lacks a branch or
// types it differently still fails the query with its name and the
// branch's, at any thread count.
func TestLazyChainErrors(t *testing.T) {
	db := openDB(t)
	cms := cmsSample(t)
	dir := t.TempDir()
	gen, err := adl.Generate(adl.Options{Events: 100, Seed: 3, OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	other := writeTree(t, filepath.Join(dir, "double.root"))
	missing := filepath.Join(dir, "gone.root")
	list := func(names ...string) string {
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = quote(n)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	for _, threads := range []int{1, 2} {
		if _, err := db.Exec(fmt.Sprintf("SET threads = %d", threads)); err != nil {
			t.Fatal(err)
		}
		mustFail(t, db, fmt.Sprintf(`SELECT sum(len(Photon_pt)) FROM read_root(%s)`, list(cms, cms, gen[0], cms)),
			gen[0], `branch "Photon_pt"`, "is missing")
		mustFail(t, db, fmt.Sprintf(`SELECT sum(MET_pt) FROM read_root(%s)`, list(other, other, other, gen[0])),
			gen[0], `branch "MET_pt" is FLOAT`, "DOUBLE")
		mustFail(t, db, fmt.Sprintf(`SELECT sum(MET_pt) FROM read_root(%s)`, list(cms, cms, missing)),
			missing, "no such file")
		// Branches the query does not read may differ.
		var n int64
		if err := db.QueryRow(fmt.Sprintf(`SELECT count(MET_pt) FROM read_root(%s)`, list(cms, gen[0], cms))).Scan(&n); err != nil || n != 20100 {
			t.Errorf("threads %d: chain on common branches: %d rows, %v", threads, n, err)
		}
	}
}

// countingBackend serves local files under the scheme "counting://",
// counting opens and closes, and calls onOpen before each open.
type countingBackend struct {
	mu            sync.Mutex
	opens, closes int
	onOpen        func(n int)
}

type countedFile struct {
	*os.File
	b *countingBackend
}

func (f countedFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (f countedFile) Close() error {
	f.b.mu.Lock()
	f.b.closes++
	f.b.mu.Unlock()
	return f.File.Close()
}

func (b *countingBackend) Open(name string) (rfile.File, error) {
	b.mu.Lock()
	b.opens++
	n, hook := b.opens, b.onOpen
	b.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	f, err := os.Open(strings.TrimPrefix(name, "counting://"))
	if err != nil {
		b.mu.Lock()
		b.opens--
		b.mu.Unlock()
		return nil, err
	}
	return countedFile{f, b}, nil
}

func (b *countingBackend) Glob(pattern string) ([]string, error) {
	return nil, errors.New("counting backend: no globs")
}

func (b *countingBackend) counts() (int, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opens, b.closes
}

// TestCancelMidChain cancels a query while the scan is in the middle of a
// chain: the query stops with the context's error, the files after the
// cancellation are never opened, and every file opened is closed.
func TestCancelMidChain(t *testing.T) {
	dir := t.TempDir()
	// One chunk per file, and 80 of them. DuckDB's worker thread checks
	// for an interrupt only between task quanta of many chunks: relying on
	// it alone, one CI run in a few at 2 threads opened every file after
	// the cancel. The scan checks the query's context itself.
	const nfiles = 80
	files, err := adl.Generate(adl.Options{Events: nfiles * 1000, EventsPerFile: 1000, Seed: 4, OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != nfiles {
		t.Fatalf("generated %d files, want %d", len(files), nfiles)
	}
	b := &countingBackend{}
	rfile.RegisterBackend("counting", b)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = quote("counting://" + f)
	}
	q := fmt.Sprintf(`SELECT sum(MET_pt), sum(list_sum(Jet_pt)) FROM read_root([%s])`, strings.Join(names, ", "))

	db := openDB(t)
	db.SetMaxOpenConns(1)
	for _, threads := range []int{1, 2} {
		if _, err := db.Exec(fmt.Sprintf("SET threads = %d", threads)); err != nil {
			t.Fatal(err)
		}
		// The whole chain, for reference: every file opened once and closed.
		b.mu.Lock()
		b.opens, b.closes, b.onOpen = 0, 0, nil
		b.mu.Unlock()
		var met, jets float64
		if err := db.QueryRow(q).Scan(&met, &jets); err != nil {
			t.Fatal(err)
		}
		if o, c := b.counts(); o != nfiles || c != nfiles {
			t.Errorf("threads %d: full chain: %d opens, %d closes, want %d each", threads, o, c, nfiles)
		}

		ctx, cancel := context.WithCancel(context.Background())
		b.mu.Lock()
		b.opens, b.closes = 0, 0
		b.onOpen = func(n int) {
			switch {
			case n == 4:
				cancel()
			case n > 4:
				// Later opens are slow, as over a network: the interrupt
				// (delivered asynchronously by duckdb-go's context watcher)
				// must stop the scan long before the chain is through,
				// however loaded the machine.
				time.Sleep(20 * time.Millisecond)
			}
		}
		b.mu.Unlock()
		err := db.QueryRowContext(ctx, q).Scan(&met, &jets)
		cancel()
		if err == nil || !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "nterrupt") {
			t.Fatalf("threads %d: cancelled query: err = %v", threads, err)
		}
		// DuckDB releases an interrupted statement's scan state when its
		// connection runs the next statement (the pool has one connection),
		// and only then are the scan's files closed.
		var one int
		if err := db.QueryRow(`SELECT 1`).Scan(&one); err != nil {
			t.Fatal(err)
		}
		o, c := b.counts()
		if o != c {
			t.Errorf("threads %d: %d files opened, %d closed after cancel", threads, o, c)
		}
		// The scan checks the query's context before each file it opens, so
		// only files claimed while the 4th was opening may follow it.
		if o > 4+threads {
			t.Errorf("threads %d: %d files opened despite the cancellation at the 4th", threads, o)
		}
		t.Logf("threads %d: cancelled after %d of %d files opened", threads, o, nfiles)
	}
}
