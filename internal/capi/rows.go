package capi

import (
	"fmt"
	"sync/atomic"
)

// RowsTable is a small materialised result (metadata listings, function
// docs) that a table function returns from Bind. Cells are string, int64 or
// bool, matching the columns' VARCHAR, BIGINT and BOOLEAN types.
type RowsTable struct {
	Cols []Column
	Rows [][]any
}

func (t *RowsTable) Columns() []Column          { return t.Cols }
func (t *RowsTable) Cardinality() (int64, bool) { return int64(len(t.Rows)), true }

func (t *RowsTable) Start(projected []int) (Scan, error) {
	return &rowsScan{t: t, proj: projected}, nil
}

type rowsScan struct {
	t    *RowsTable
	proj []int
	next atomic.Int64
}

func (s *rowsScan) MaxThreads() int            { return 1 }
func (s *rowsScan) NewWorker() (Worker, error) { return s, nil }

func (s *rowsScan) Fill(out Chunk) (int, error) {
	start := int(s.next.Add(int64(VectorSize)) - int64(VectorSize))
	if start >= len(s.t.Rows) {
		return 0, nil
	}
	rows := s.t.Rows[start:min(start+VectorSize, len(s.t.Rows))]
	for i, col := range s.proj {
		if col < 0 || col >= len(s.t.Cols) {
			continue
		}
		v := out.Vector(i)
		switch s.t.Cols[col].Type.ID {
		case Varchar:
			var data []byte
			ends := make([]uint64, len(rows))
			for r, row := range rows {
				data = append(data, row[col].(string)...)
				ends[r] = uint64(len(data))
			}
			v.AssignStrings(0, data, ends)
		case BigInt:
			d := Slice[int64](v, len(rows))
			for r, row := range rows {
				d[r] = row[col].(int64)
			}
		case Boolean:
			d := Slice[bool](v, len(rows))
			for r, row := range rows {
				d[r] = row[col].(bool)
			}
		default:
			return 0, fmt.Errorf("capi: RowsTable: unsupported column type %s", s.t.Cols[col].Type)
		}
	}
	return len(rows), nil
}
