//go:build !hepsql_extension

package capi

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// probe is a COPY format that records what DuckDB hands it.
type probe struct {
	mu       sync.Mutex
	cols     []CopyColumn
	opts     map[string]any
	path     string
	rows     int
	sum      int64
	chunks   int
	inFlight atomic.Int32
	overlap  bool
	finished bool
	closed   int
	opens    int
}

type probeWriter struct{ p *probe }

func (w probeWriter) Write(in Args) error {
	p := w.p
	if p.inFlight.Add(1) > 1 {
		p.overlap = true
	}
	defer p.inFlight.Add(-1)
	if _, ok := p.opts["PANIC"]; ok {
		panic("probe panics")
	}
	n := in.Rows()
	for _, x := range Slice[int64](in.Arg(0), n) {
		p.sum += x
	}
	p.rows += n
	p.chunks++
	if p.opts["FAIL_AT"] != nil && int64(p.rows) >= p.opts["FAIL_AT"].(int64) {
		return errors.New("probe: failing as asked")
	}
	return nil
}

func (w probeWriter) Finish() error { w.p.finished = true; return nil }
func (w probeWriter) Close() error  { w.p.closed++; return nil }

func (p *probe) Open(path string) (CopyWriter, error) {
	p.path = path
	p.opens++
	p.rows, p.sum, p.finished = 0, 0, false
	return probeWriter{p}, nil
}

func openCopyTest(t *testing.T, p *probe) *sql.DB {
	t.Helper()
	c, err := duckdb.NewConnector("?threads=4", nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := DatabaseOf(c)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := Connect(db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ReserveCallbackProcs(4)
	err = conn.RegisterCopyFunction(&CopyFunction{Name: "probe", Bind: func(b *CopyBind) (CopyTarget, error) {
		if _, ok := b.Options["REFUSE"]; ok {
			return nil, errors.New("probe: refused as asked")
		}
		*p = probe{cols: b.Columns, opts: b.Options}
		return p, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	sdb := sql.OpenDB(c)
	t.Cleanup(func() { sdb.Close() })
	return sdb
}

// TestCopyFunction checks the contract copy.go documents: names and types
// reach Bind, options arrive upper-cased and typed, the path reaches Open,
// Write sees every row in whole chunks and never concurrently, Finish
// runs on success only, Close once in every case, and errors and panics
// come back as SQL errors.
func TestCopyFunction(t *testing.T) {
	var p probe
	db := openCopyTest(t, &p)
	dir := t.TempDir()
	out := filepath.Join(dir, "a.bin")
	const n = 3_000_000
	// A table scan runs on every thread: the sink still sees one chunk at a time.
	if _, err := db.Exec(`CREATE TABLE t AS SELECT range AS r FROM range(3000000)`); err != nil {
		t.Fatal(err)
	}
	_, err := db.Exec(`COPY (SELECT r AS "Id", [r::FLOAT] AS "Jet_pt", 'x' AS s, DATE '2020-01-01' AS d
		FROM t WHERE r % 7 <> 0 OR true) TO '` + out + `' (FORMAT probe, TREE 'Events', LEVEL 5, STACKED true, XS 1.5, FLAG)`)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"Id", "Jet_pt", "s", "d"}
	types := []string{"BIGINT", "FLOAT[]", "VARCHAR", "DATE"}
	if len(p.cols) != len(names) {
		t.Fatalf("columns %+v", p.cols)
	}
	for i, c := range p.cols {
		if c.Name != names[i] || c.TypeName != types[i] {
			t.Errorf("column %d: %q %s, want %q %s", i, c.Name, c.TypeName, names[i], types[i])
		}
	}
	if p.cols[3].Type.ID != Invalid {
		t.Errorf("DATE column described as %v", p.cols[3].Type)
	}
	want := map[string]any{"TREE": "Events", "LEVEL": int64(5), "STACKED": true, "XS": 1.5, "FLAG": nil}
	for k, v := range want {
		if got, ok := p.opts[k]; !ok || got != v {
			t.Errorf("option %s = %#v (present %v), want %#v", k, got, ok, v)
		}
	}
	if len(p.opts) != len(want) {
		t.Errorf("options %v, want %v", p.opts, want)
	}
	if p.rows != n || p.sum != int64(n)*(n-1)/2 {
		t.Errorf("rows %d sum %d", p.rows, p.sum)
	}
	if p.overlap {
		t.Error("Write calls overlapped")
	}
	if !p.finished || p.closed != 1 {
		t.Errorf("finished %v closed %d", p.finished, p.closed)
	}
	t.Logf("path %q, %d chunks", p.path, p.chunks)
	if !strings.HasSuffix(p.path, "a.bin") {
		t.Errorf("path %q", p.path)
	}

	// Without insertion order to keep, DuckDB still runs this sink alone.
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "SET preserve_insertion_order = false"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `COPY (SELECT r FROM t WHERE r % 3 = 0) TO '`+out+`' (FORMAT probe)`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if p.overlap || p.rows != n/3 {
		t.Errorf("unordered COPY: overlap %v, rows %d", p.overlap, p.rows)
	}

	// A file named after the format's name picks it without FORMAT.
	if _, err := db.Exec(`COPY (SELECT 1::BIGINT) TO '` + filepath.Join(dir, "b.probe") + `'`); err != nil {
		t.Fatal(err)
	}
	if p.rows != 1 || !strings.HasSuffix(p.path, "b.probe") {
		t.Errorf("COPY TO b.probe without FORMAT: rows %d path %q", p.rows, p.path)
	}

	// A prepared COPY binds once and opens once per execution.
	stmt, err := db.Prepare(`COPY (SELECT range FROM range(5000)) TO '` + out + `' (FORMAT probe)`)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := stmt.Exec(); err != nil {
			t.Fatal(err)
		}
		if p.rows != 5000 || !p.finished {
			t.Errorf("prepared COPY: rows %d finished %v", p.rows, p.finished)
		}
	}
	stmt.Close()
	if p.opens != 2 {
		t.Errorf("a prepared COPY executed twice after one Bind: %d Opens, want 2", p.opens)
	}

	// Errors from Bind, Write; panics.
	_, err = db.Exec(`COPY (SELECT 1::BIGINT) TO '` + out + `' (FORMAT probe, REFUSE)`)
	if err == nil || !strings.Contains(err.Error(), "probe: refused as asked") {
		t.Errorf("bind error: %v", err)
	}
	_, err = db.Exec(`COPY (SELECT range FROM range(10000)) TO '` + out + `' (FORMAT probe, FAIL_AT 4096)`)
	if err == nil || !strings.Contains(err.Error(), "probe: failing as asked") {
		t.Errorf("write error: %v", err)
	}
	if p.finished || p.closed != 1 {
		t.Errorf("after a failed write: finished %v closed %d", p.finished, p.closed)
	}
	_, err = db.Exec(`COPY (SELECT range FROM range(10)) TO '` + out + `' (FORMAT probe, PANIC)`)
	if err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("panic: %v", err)
	}
}
