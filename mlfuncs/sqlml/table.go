package sqlml

import (
	"fmt"
	"math"
	"sync"

	"github.com/hepsql/hepsql/internal/capi"
)

// Small results (models(), evaluate, roc, training epochs) are rows of Go
// values written into DuckDB's vectors column by column. Cells are int64
// (BIGINT), float64 (DOUBLE; NaN becomes NULL: "not measured"), string
// (VARCHAR), bool (BOOLEAN), []float64 (DOUBLE[]), []int64 (BIGINT[]) or [][]int64
// (BIGINT[][]); nil is NULL.

var (
	tBigInt  = capi.Scalar(capi.BigInt)
	tDouble  = capi.Scalar(capi.Double)
	tBoolean = capi.Scalar(capi.Boolean)
	tVarchar = capi.Scalar(capi.Varchar)
	tDoubles = capi.ListOf(tDouble)
	tBigInts = capi.ListOf(tBigInt)
)

// valuesTable is a materialised result. When compute is set, the rows are
// computed at Start rather than at bind, so that preparing a statement
// (which binds it) does not run the work.
type valuesTable struct {
	cols    []capi.Column
	rows    [][]any
	compute func() ([][]any, error)
}

func (t *valuesTable) Columns() []capi.Column { return t.cols }
func (t *valuesTable) Cardinality() (int64, bool) {
	if t.compute != nil {
		return -1, false
	}
	return int64(len(t.rows)), true
}

func (t *valuesTable) Start(proj []int) (capi.Scan, error) {
	rows := t.rows
	if t.compute != nil {
		var err error
		if rows, err = t.compute(); err != nil {
			return nil, err
		}
	}
	return &valuesScan{t: &valuesTable{cols: t.cols, rows: rows}, proj: proj}, nil
}

type valuesScan struct {
	t    *valuesTable
	proj []int
	mu   sync.Mutex
	next int
}

func (s *valuesScan) MaxThreads() int                 { return 1 }
func (s *valuesScan) NewWorker() (capi.Worker, error) { return s, nil }

func (s *valuesScan) Fill(out capi.Chunk) (int, error) {
	s.mu.Lock()
	start := s.next
	end := min(start+capi.VectorSize, len(s.t.rows))
	s.next = end
	s.mu.Unlock()
	if start >= end {
		return 0, nil
	}
	return end - start, writeRows(out, s.proj, s.t.cols, s.t.rows[start:end])
}

// writeRows writes rows (at most a vector's worth) into out's projected
// columns.
func writeRows(out capi.Chunk, proj []int, cols []capi.Column, rows [][]any) error {
	for i, col := range proj {
		if col < 0 || col >= len(cols) {
			continue
		}
		if err := writeColumn(out.Vector(i), cols[col], rows, col); err != nil {
			return err
		}
	}
	return nil
}

func writeColumn(v capi.Vector, c capi.Column, rows [][]any, col int) error {
	n := len(rows)
	switch c.Type.String() {
	case "BIGINT":
		d := capi.Slice[int64](v, n)
		for r, row := range rows {
			if x, ok := row[col].(int64); ok {
				d[r] = x
			} else {
				v.SetNull(r)
			}
		}
	case "BOOLEAN":
		d := capi.Slice[bool](v, n)
		for r, row := range rows {
			if x, ok := row[col].(bool); ok {
				d[r] = x
			} else {
				v.SetNull(r)
			}
		}
	case "DOUBLE":
		d := capi.Slice[float64](v, n)
		for r, row := range rows {
			if x, ok := row[col].(float64); ok && !math.IsNaN(x) {
				d[r] = x
			} else {
				v.SetNull(r)
			}
		}
	case "VARCHAR":
		var data []byte
		ends := make([]uint64, n)
		for r, row := range rows {
			s, ok := row[col].(string)
			if !ok {
				v.SetNull(r)
			}
			data = append(data, s...)
			ends[r] = uint64(len(data))
		}
		v.AssignStrings(0, data, ends)
	case "VARCHAR[]":
		total := 0
		for _, row := range rows {
			l, _ := row[col].([]string)
			total += len(l)
		}
		if err := v.ListReserve(total); err != nil {
			return err
		}
		entries := capi.Slice[capi.ListEntry](v, n)
		var data []byte
		ends := make([]uint64, 0, total)
		for r, row := range rows {
			l, _ := row[col].([]string)
			entries[r] = capi.ListEntry{Offset: uint64(len(ends)), Length: uint64(len(l))}
			for _, s := range l {
				data = append(data, s...)
				ends = append(ends, uint64(len(data)))
			}
		}
		v.ListChild().AssignStrings(0, data, ends)
		return v.ListSetSize(total)
	case "DOUBLE[]":
		return writeLists(v, rows, col, func(x any) []float64 { s, _ := x.([]float64); return s })
	case "BIGINT[]":
		return writeLists(v, rows, col, func(x any) []int64 { s, _ := x.([]int64); return s })
	case "BIGINT[][]":
		// Each row's inner lists are written as one flat list per row,
		// then split: the child LIST vector gets its own entries.
		total := 0
		for _, row := range rows {
			m, _ := row[col].([][]int64)
			total += len(m)
		}
		if err := v.ListReserve(total); err != nil {
			return err
		}
		entries := capi.Slice[capi.ListEntry](v, n)
		var inner [][]any
		at := 0
		for r, row := range rows {
			m, ok := row[col].([][]int64)
			if !ok {
				v.SetNull(r)
			}
			entries[r] = capi.ListEntry{Offset: uint64(at), Length: uint64(len(m))}
			at += len(m)
			for _, x := range m {
				inner = append(inner, []any{x})
			}
		}
		if err := v.ListSetSize(total); err != nil {
			return err
		}
		return writeColumn(v.ListChild(), capi.Column{Type: tBigInts}, inner, 0)
	default:
		return fmt.Errorf("sqlml: internal error: no writer for %s", c.Type)
	}
	return nil
}

func writeLists[T int64 | float64](v capi.Vector, rows [][]any, col int, get func(any) []T) error {
	total := 0
	for _, row := range rows {
		total += len(get(row[col]))
	}
	if err := v.ListReserve(total); err != nil {
		return err
	}
	entries := capi.Slice[capi.ListEntry](v, len(rows))
	child := capi.Slice[T](v.ListChild(), total)
	at := 0
	for r, row := range rows {
		s := get(row[col])
		if row[col] == nil {
			v.SetNull(r)
		}
		entries[r] = capi.ListEntry{Offset: uint64(at), Length: uint64(len(s))}
		at += copy(child[at:], s)
	}
	return v.ListSetSize(total)
}
