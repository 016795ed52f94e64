package capi

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// The measurement behind the choice of the C API (see the package doc):
// the same table, 4M rows of FLOAT and of FLOAT[] (3 elements), produced by
// a hepsql capi table function and by duckdb-go's chunk table UDF, whose
// SetChunkValue stores one value at a time. Run with:
//
//	go test -run '^$' -bench . ./internal/capi/

const benchRows = 4 << 20

type benchTable struct{ list bool }

func (t *benchTable) Columns() []Column {
	if t.list {
		return []Column{{"x", ListOf(Scalar(Float))}}
	}
	return []Column{{"x", Scalar(Float)}}
}
func (t *benchTable) Cardinality() (int64, bool)  { return benchRows, true }
func (t *benchTable) Start(p []int) (Scan, error) { return &benchScan{list: t.list}, nil }
func (s *benchScan) MaxThreads() int              { return 1 }
func (s *benchScan) NewWorker() (Worker, error)   { return s, nil }

type benchScan struct {
	mu   sync.Mutex
	next int
	list bool
}

func (s *benchScan) Fill(out Chunk) (int, error) {
	n := min(VectorSize, benchRows-s.next)
	if n <= 0 {
		return 0, nil
	}
	v := out.Vector(0)
	if s.list {
		if err := v.ListReserve(3 * n); err != nil {
			return 0, err
		}
		ents := Slice[ListEntry](v, n)
		child := Slice[float32](v.ListChild(), 3*n)
		for r := range n {
			ents[r] = ListEntry{Offset: uint64(3 * r), Length: 3}
			child[3*r], child[3*r+1], child[3*r+2] = 1, 2, 3
		}
		if err := v.ListSetSize(3 * n); err != nil {
			return 0, err
		}
	} else {
		d := Slice[float32](v, n)
		for r := range d {
			d[r] = 1
		}
	}
	s.next += n
	return n, nil
}

type goChunkSource struct {
	next int
	list bool
}

func (s *goChunkSource) ColumnInfos() []duckdb.ColumnInfo {
	f, _ := duckdb.NewTypeInfo(duckdb.TYPE_FLOAT)
	if s.list {
		f, _ = duckdb.NewListInfo(f)
	}
	return []duckdb.ColumnInfo{{Name: "x", T: f}}
}
func (s *goChunkSource) Cardinality() *duckdb.CardinalityInfo { return nil }
func (s *goChunkSource) Init()                                {}
func (s *goChunkSource) FillChunk(c duckdb.DataChunk) error {
	n := min(duckdb.GetDataChunkCapacity(), benchRows-s.next)
	if n <= 0 {
		return c.SetSize(0)
	}
	for r := range n {
		var err error
		if s.list {
			err = duckdb.SetChunkValue(c, 0, r, []float32{1, 2, 3})
		} else {
			err = duckdb.SetChunkValue(c, 0, r, float32(1))
		}
		if err != nil {
			return err
		}
	}
	s.next += n
	return c.SetSize(n)
}

func benchDB(b *testing.B, list bool) *sql.DB {
	c, err := duckdb.NewConnector("?threads=1", nil)
	if err != nil {
		b.Fatal(err)
	}
	db, err := DatabaseOf(c)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := Connect(db)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	err = conn.RegisterTableFunction(&TableFunction{Name: "capi_table", Bind: func(*BindArgs) (Table, error) { return &benchTable{list: list}, nil }})
	if err != nil {
		b.Fatal(err)
	}
	sdb := sql.OpenDB(c)
	sc, err := sdb.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer sc.Close()
	err = duckdb.RegisterTableUDF(sc, "go_chunk_table", duckdb.ChunkTableFunction{
		BindArguments: func(map[string]any, ...any) (duckdb.ChunkTableSource, error) {
			return &goChunkSource{list: list}, nil
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sdb.Close() })
	return sdb
}

func runBench(b *testing.B, list bool, table string) {
	db := benchDB(b, list)
	q := `SELECT sum(x) FROM ` + table + `()`
	if list {
		q = `SELECT sum(list_sum(x)) FROM ` + table + `()`
	}
	b.SetBytes(benchRows * 4)
	b.ReportAllocs()
	for b.Loop() {
		var s float64
		if err := db.QueryRow(q).Scan(&s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

func BenchmarkScalarCAPI(b *testing.B)          { runBench(b, false, "capi_table") }
func BenchmarkScalarDuckDBGoChunk(b *testing.B) { runBench(b, false, "go_chunk_table") }
func BenchmarkListCAPI(b *testing.B)            { runBench(b, true, "capi_table") }
func BenchmarkListDuckDBGoChunk(b *testing.B)   { runBench(b, true, "go_chunk_table") }
