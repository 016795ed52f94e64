package capi

import (
	"database/sql"
	"fmt"
	"sync"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// countTable yields rows 0..n-1 as (i BIGINT, x FLOAT[] with i%4 elements,
// s VARCHAR, a INTEGER[2]) split into units handed out to workers.
type countTable struct{ n int }

func (t *countTable) Columns() []Column {
	return []Column{
		{"i", Scalar(BigInt)},
		{"x", ListOf(Scalar(Float))},
		{"s", Scalar(Varchar)},
		{"a", ArrayOf(Scalar(Integer), 2)},
	}
}
func (t *countTable) Cardinality() (int64, bool) { return int64(t.n), true }
func (t *countTable) Start(proj []int) (Scan, error) {
	return &countScan{n: t.n, proj: proj}, nil
}

type countScan struct {
	mu   sync.Mutex
	next int
	n    int
	proj []int
}

func (s *countScan) MaxThreads() int { return 4 }
func (s *countScan) NewWorker() (Worker, error) {
	return &countWorker{s: s}, nil
}

type countWorker struct{ s *countScan }

func (w *countWorker) Fill(out Chunk) (int, error) {
	w.s.mu.Lock()
	start := w.s.next
	n := min(VectorSize, w.s.n-start)
	w.s.next += max(n, 0)
	w.s.mu.Unlock()
	if n <= 0 {
		return 0, nil
	}
	for c, col := range w.s.proj {
		v := out.Vector(c)
		switch col {
		case 0:
			d := Slice[int64](v, n)
			for r := range d {
				d[r] = int64(start + r)
			}
		case 1:
			total := 0
			for r := range n {
				total += (start + r) % 4
			}
			if err := v.ListReserve(total); err != nil {
				return 0, err
			}
			ent := Slice[ListEntry](v, n)
			child := Slice[float32](v.ListChild(), total)
			off := 0
			for r := range n {
				k := (start + r) % 4
				ent[r] = ListEntry{Offset: uint64(off), Length: uint64(k)}
				for j := range k {
					child[off+j] = float32(j) + 0.5
				}
				off += k
			}
			if err := v.ListSetSize(total); err != nil {
				return 0, err
			}
			if start == 0 {
				v.SetNull(3)
			}
		case 2:
			var data []byte
			ends := make([]uint64, n)
			for r := range n {
				data = fmt.Appendf(data, "row-%d-with-a-long-suffix", start+r)
				ends[r] = uint64(len(data))
			}
			v.AssignStrings(0, data, ends)
		case 3:
			d := Slice[int32](v.ArrayChild(), 2*n)
			for r := range n {
				d[2*r], d[2*r+1] = int32(start+r), -int32(start+r)
			}
		}
	}
	return n, nil
}

func openTest(t *testing.T) *sql.DB {
	t.Helper()
	c, err := duckdb.NewConnector("", nil)
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
	err = conn.RegisterTableFunction(&TableFunction{
		Name:   "count_table",
		Params: []Type{Scalar(BigInt)},
		Bind: func(a *BindArgs) (Table, error) {
			v, err := a.Arg(0)
			if err != nil {
				return nil, err
			}
			if v.(int64) < 0 {
				return nil, fmt.Errorf("count_table: negative count %d", v)
			}
			return &countTable{n: int(v.(int64))}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	AddReplacementScan(db, func(name string) (string, []string, bool) {
		if name == "seven.count" {
			return "count_table", nil, false
		}
		return "", nil, false
	})
	sdb := sql.OpenDB(c)
	t.Cleanup(func() { sdb.Close() })
	return sdb
}

func TestTableFunction(t *testing.T) {
	db := openTest(t)
	const n = 10000
	var cnt, sumI int64
	var sumX float64
	var nulls int64
	err := db.QueryRow(`SELECT count(*), sum(i), sum(list_sum(x)), count(*) FILTER (x IS NULL) FROM count_table(10000)`).Scan(&cnt, &sumI, &sumX, &nulls)
	if err != nil {
		t.Fatal(err)
	}
	if cnt != n || sumI != n*(n-1)/2 || nulls != 1 {
		t.Fatalf("count=%d sum=%d nulls=%d", cnt, sumI, nulls)
	}
	var s string
	var a0, a1 int32
	if err := db.QueryRow(`SELECT s, a[1], a[2] FROM count_table(10000) WHERE i = 4097`).Scan(&s, &a0, &a1); err != nil {
		t.Fatal(err)
	}
	if s != "row-4097-with-a-long-suffix" || a0 != 4097 || a1 != -4097 {
		t.Fatalf("got %q %d %d", s, a0, a1)
	}
	// Projection: only column a requested.
	if err := db.QueryRow(`SELECT sum(a[1]) FROM count_table(100)`).Scan(&sumI); err != nil || sumI != 4950 {
		t.Fatalf("projection: %v %d", err, sumI)
	}
	// Bind errors reach the caller.
	if _, err := db.Exec(`SELECT * FROM count_table(-1)`); err == nil {
		t.Fatal("expected bind error")
	}
	// Visible on another pooled connection.
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		conns[i], err = db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := conns[i].QueryRowContext(t.Context(), `SELECT count(*) FROM count_table(5)`).Scan(&cnt); err != nil || cnt != 5 {
			t.Fatalf("conn %d: %v %d", i, err, cnt)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

func TestDatabaseOfLayout(t *testing.T) {
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := DatabaseOf(c); err != nil {
		t.Fatal(err)
	}
}

func TestQueryContextsLayout(t *testing.T) {
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q, err := QueryContextsOf(c)
	if err != nil {
		t.Fatal(err)
	}
	if q(12345) == nil {
		t.Fatal("nil context for an idle connection")
	}
}
