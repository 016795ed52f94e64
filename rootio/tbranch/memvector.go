package tbranch

import (
	"encoding/binary"
	"math"
)

// MemVector is a Vector in Go memory, laid out as DuckDB lays out one of
// Type: the decoder runs without a database (its tests, a caller reading
// ROOT into plain slices). Its buffers grow as the decoder asks for them.
type MemVector struct {
	Type    Type
	Data    []byte       // a primitive's values, native little-endian
	Entries []ListEntry  // a List's or a Map's rows
	Strings []string     // a Varchar's rows
	Child   *MemVector   // a List's or an Array's elements, a Map's STRUCT(key, value) entries
	Fields  []*MemVector // a Struct's fields
	size    int          // a List's child rows in use (ListSetSize)
}

// NewMemVector makes an empty vector of type t.
func NewMemVector(t Type) *MemVector {
	m := &MemVector{Type: t}
	switch t.Kind {
	case List, Array:
		m.Child = NewMemVector(*t.Elem)
	case Map:
		m.Child = NewMemVector(Type{Kind: Struct, Fields: []Field{{Name: "key", Type: *t.Key}, {Name: "value", Type: *t.Value}}})
	case Struct:
		for _, f := range t.Fields {
			m.Fields = append(m.Fields, NewMemVector(f.Type))
		}
	}
	return m
}

// elemSize is the bytes one row of a primitive kind takes.
func elemSize(k Kind) int {
	switch k {
	case Bool, Int8, UInt8:
		return 1
	case Int16, UInt16:
		return 2
	case Int32, UInt32, Float:
		return 4
	}
	return 8
}

// reserve makes room for rows rows.
func (m *MemVector) reserve(rows int) {
	switch m.Type.Kind {
	case List, Map:
		m.Entries = grow(m.Entries, rows)
	case Array:
		m.Child.reserve(rows * m.Type.Len)
	case Struct:
		for _, f := range m.Fields {
			f.reserve(rows)
		}
	case Varchar:
		m.Strings = grow(m.Strings, rows)
	default:
		m.Data = grow(m.Data, rows*elemSize(m.Type.Kind))
	}
}

func grow[T any](s []T, n int) []T {
	if len(s) < n {
		s = append(s, make([]T, n-len(s))...)
	}
	return s
}

func (m *MemVector) Bytes(n int) []byte {
	m.Data = grow(m.Data, n)
	return m.Data[:n]
}

func (m *MemVector) Lists(n int) []ListEntry {
	m.Entries = grow(m.Entries, n)
	return m.Entries[:n]
}

func (m *MemVector) ListSize() int { return m.size }

func (m *MemVector) ListReserve(n int) error {
	m.Child.reserve(n)
	return nil
}

func (m *MemVector) ListSetSize(n int) error {
	m.Child.reserve(n)
	m.size = n
	return nil
}

func (m *MemVector) ListChild() Vector        { return m.Child }
func (m *MemVector) ArrayChild() Vector       { return m.Child }
func (m *MemVector) StructChild(i int) Vector { return m.Fields[i] }

func (m *MemVector) AssignStrings(at int, data []byte, ends []uint64) {
	m.Strings = grow(m.Strings, at+len(ends))
	lo := uint64(0)
	for i, hi := range ends {
		m.Strings[at+i] = string(data[lo:hi])
		lo = hi
	}
}

// Value is row as a Go value: bool, int8 … uint64, float32, float64 or
// string for a primitive, []any for a List, an Array or a Struct (its
// fields in order), and []any of [2]any{key, value} for a Map.
func (m *MemVector) Value(row int) any {
	le := binary.LittleEndian
	d := m.Data
	switch m.Type.Kind {
	case Bool:
		return d[row] != 0
	case Int8:
		return int8(d[row])
	case UInt8:
		return d[row]
	case Int16:
		return int16(le.Uint16(d[2*row:]))
	case UInt16:
		return le.Uint16(d[2*row:])
	case Int32:
		return int32(le.Uint32(d[4*row:]))
	case UInt32:
		return le.Uint32(d[4*row:])
	case Int64:
		return int64(le.Uint64(d[8*row:]))
	case UInt64:
		return le.Uint64(d[8*row:])
	case Float:
		return math.Float32frombits(le.Uint32(d[4*row:]))
	case Double:
		return math.Float64frombits(le.Uint64(d[8*row:]))
	case Varchar:
		return m.Strings[row]
	case List:
		e := m.Entries[row]
		out := make([]any, e.Length)
		for i := range out {
			out[i] = m.Child.Value(int(e.Offset) + i)
		}
		return out
	case Array:
		out := make([]any, m.Type.Len)
		for i := range out {
			out[i] = m.Child.Value(row*m.Type.Len + i)
		}
		return out
	case Struct:
		out := make([]any, len(m.Fields))
		for i, f := range m.Fields {
			out[i] = f.Value(row)
		}
		return out
	case Map:
		e := m.Entries[row]
		out := make([]any, e.Length)
		for i := range out {
			r := int(e.Offset) + i
			out[i] = [2]any{m.Child.Fields[0].Value(r), m.Child.Fields[1].Value(r)}
		}
		return out
	}
	return nil
}
