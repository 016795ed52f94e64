package capi

import (
	"errors"
	"fmt"
	"unsafe"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

// Running queries from Go on a raw connection, reading results chunk by
// chunk. The ML functions use it to read a training query's rows from
// inside a table function's callbacks: a Conn of its own (Connect on the
// same Database) has its own client context, so it neither waits on nor
// disturbs the connection whose query is calling back into Go.
//
// Ownership: a Stmt owns its prepared statement until Close; a Result owns
// its C result and the chunk it last fetched. A Chunk from Result.Next, and
// every Vector or slice taken from it, is valid until the next call to Next
// or Close.

// Stmt is a prepared statement on a Conn. It is not safe for concurrent use.
type Stmt struct {
	s     ddb.PreparedStatement
	cols  []Column
	names []string // DuckDB's spelling of each column type
}

// Prepare parses and plans query. The result's columns are known at once,
// which lets a table function declare its output at bind time.
func (c *Conn) Prepare(query string) (*Stmt, error) {
	var s ddb.PreparedStatement
	if ddb.Prepare(c.c, query, &s) == ddb.StateError {
		msg := ddb.PrepareError(s)
		ddb.DestroyPrepare(&s)
		return nil, errors.New(msg)
	}
	st := &Stmt{s: s}
	n := int(ddb.PreparedStatementColumnCount(s))
	for i := range n {
		lt := ddb.PreparedStatementColumnLogicalType(s, ddb.IdxT(i))
		t, name := typeFromLogical(lt)
		ddb.DestroyLogicalType(&lt)
		st.cols = append(st.cols, Column{Name: ddb.PreparedStatementColumnName(s, ddb.IdxT(i)), Type: t})
		st.names = append(st.names, name)
	}
	return st, nil
}

// Columns describes the result. A column whose type capi cannot describe
// (DATE, DECIMAL, ...) has Type.ID Invalid; TypeName still names it.
func (s *Stmt) Columns() []Column { return s.cols }

// TypeName is DuckDB's name of column i's type, for error messages.
func (s *Stmt) TypeName(i int) string { return s.names[i] }

// Bind sets parameter i (1-based, as in SQL's $1) to v: nil, string, []byte
// (BLOB), int64, float64 or bool.
func (s *Stmt) Bind(i int, v any) error { return bindParam(s.s, i, v) }

// bindParam sets parameter i (1-based) of st to v: nil, string, []byte,
// bool, a sized integer or float.
func bindParam(st ddb.PreparedStatement, i int, v any) error {
	idx := ddb.IdxT(i)
	var state ddb.State
	switch x := v.(type) {
	case nil:
		state = ddb.BindNull(st, idx)
	case string:
		state = ddb.BindVarchar(st, idx, x)
	case []byte:
		state = ddb.BindBlob(st, idx, x)
	case int64:
		state = ddb.BindInt64(st, idx, x)
	case int:
		state = ddb.BindInt64(st, idx, int64(x))
	case int32:
		state = ddb.BindInt32(st, idx, x)
	case int16:
		state = ddb.BindInt64(st, idx, int64(x))
	case int8:
		state = ddb.BindInt64(st, idx, int64(x))
	case uint32:
		state = ddb.BindInt64(st, idx, int64(x))
	case uint16:
		state = ddb.BindInt64(st, idx, int64(x))
	case uint8:
		state = ddb.BindInt64(st, idx, int64(x))
	case float64:
		state = ddb.BindDouble(st, idx, x)
	case float32:
		state = ddb.BindFloat(st, idx, x)
	case bool:
		state = ddb.BindBoolean(st, idx, x)
	default:
		return fmt.Errorf("capi: cannot bind %T to parameter %d", v, i)
	}
	if state == ddb.StateError {
		return fmt.Errorf("capi: binding parameter %d: %s", i, ddb.PrepareError(st))
	}
	return nil
}

// Exec runs the statement to completion, discarding any rows.
func (s *Stmt) Exec() error {
	var r ddb.Result
	defer ddb.DestroyResult(&r)
	if ddb.ExecutePrepared(s.s, &r) == ddb.StateError {
		return errors.New(ddb.ResultError(&r))
	}
	return nil
}

// Stream starts the statement and returns its rows as a stream of chunks:
// DuckDB computes them as they are fetched, so memory stays at a few chunks
// whatever the size of the result.
func (s *Stmt) Stream() (*Result, error) {
	r := &Result{}
	if ddb.ExecutePreparedStreaming(s.s, &r.r) == ddb.StateError {
		msg := ddb.ResultError(&r.r)
		ddb.DestroyResult(&r.r)
		return nil, errors.New(msg)
	}
	return r, nil
}

// Close releases the statement.
func (s *Stmt) Close() { ddb.DestroyPrepare(&s.s) }

// Exec runs query (one or more statements) on c, discarding rows.
func (c *Conn) Exec(query string) error {
	var r ddb.Result
	defer ddb.DestroyResult(&r)
	if ddb.Query(c.c, query, &r) == ddb.StateError {
		return errors.New(ddb.ResultError(&r))
	}
	return nil
}

// Interrupt asks c's running query to stop; its next fetch fails.
func (c *Conn) Interrupt() { ddb.Interrupt(c.c) }

// Result is a query's result, fetched chunk by chunk.
type Result struct {
	r     ddb.Result
	chunk ddb.DataChunk
}

// Next fetches the next chunk and its row count; 0 rows means the result
// is exhausted. The previous chunk is released.
func (r *Result) Next() (Chunk, int, error) {
	r.release()
	c := ddb.FetchChunk(r.r)
	if c.Ptr == nil {
		if msg := ddb.ResultError(&r.r); msg != "" {
			return Chunk{}, 0, errors.New(msg)
		}
		return Chunk{}, 0, nil
	}
	r.chunk = c
	return Chunk{c: c}, int(ddb.DataChunkGetSize(c)), nil
}

func (r *Result) release() {
	if r.chunk.Ptr != nil {
		ddb.DestroyDataChunk(&r.chunk)
		r.chunk = ddb.DataChunk{}
	}
}

// Close releases the result and its last chunk.
func (r *Result) Close() {
	r.release()
	ddb.DestroyResult(&r.r)
}

// Bytes returns row r of a VARCHAR or BLOB vector, copied into Go memory.
func (v Vector) Bytes(r int) []byte {
	s := (*ddb.StringT)(unsafe.Add(ddb.VectorGetData(v.v), r*int(unsafe.Sizeof(ddb.StringT{}))))
	return []byte(ddb.StringTData(s))
}

// Reference makes v share src's data (no copy): a table function passes an
// input column through to its output this way. The types must match.
func (v Vector) Reference(src Vector) { ddb.VectorReferenceVector(v.v, src.v) }

// Size is the number of rows in the chunk.
func (c Chunk) Size() int { return int(ddb.DataChunkGetSize(c.c)) }

var logicalIDs = func() map[ddb.Type]TypeID {
	m := map[ddb.Type]TypeID{}
	for id, t := range primitiveIDs {
		if id != Any {
			m[t] = id
		}
	}
	return m
}()

// typeFromLogical describes lt as a Type, and names it in DuckDB's words.
func typeFromLogical(lt ddb.LogicalType) (Type, string) {
	switch id := ddb.GetTypeId(lt); id {
	case ddb.TypeList:
		child := ddb.ListTypeChildType(lt)
		defer ddb.DestroyLogicalType(&child)
		e, name := typeFromLogical(child)
		if e.ID == Invalid {
			return Type{}, name + "[]"
		}
		return ListOf(e), name + "[]"
	case ddb.TypeArray:
		child := ddb.ArrayTypeChildType(lt)
		defer ddb.DestroyLogicalType(&child)
		size := int(ddb.ArrayTypeArraySize(lt))
		e, name := typeFromLogical(child)
		name = fmt.Sprintf("%s[%d]", name, size)
		if e.ID == Invalid {
			return Type{}, name
		}
		return ArrayOf(e, size), name
	case ddb.TypeStruct:
		t := Type{ID: Struct}
		for i := range int(ddb.StructTypeChildCount(lt)) {
			child := ddb.StructTypeChildType(lt, ddb.IdxT(i))
			ft, _ := typeFromLogical(child)
			ddb.DestroyLogicalType(&child)
			if ft.ID == Invalid {
				return Type{}, "STRUCT"
			}
			t.Fields = append(t.Fields, Field{Name: ddb.StructTypeChildName(lt, ddb.IdxT(i)), Type: ft})
		}
		return t, t.String()
	default:
		if tid, ok := logicalIDs[id]; ok {
			return Type{ID: tid}, Type{ID: tid}.String()
		}
		if id == ddb.TypeDecimal {
			return Type{}, fmt.Sprintf("DECIMAL(%d,%d)", ddb.DecimalWidth(lt), ddb.DecimalScale(lt))
		}
		if name, ok := otherTypeNames[id]; ok {
			return Type{}, name
		}
		return Type{}, fmt.Sprintf("type #%d", id)
	}
}

// otherTypeNames names, as DuckDB does, the types that Type does not
// describe, for messages.
var otherTypeNames = map[ddb.Type]string{
	ddb.TypeTimestamp: "TIMESTAMP", ddb.TypeDate: "DATE", ddb.TypeTime: "TIME", ddb.TypeInterval: "INTERVAL",
	ddb.TypeHugeInt: "HUGEINT", ddb.TypeUHugeInt: "UHUGEINT", ddb.TypeBlob: "BLOB",
	ddb.TypeTimestampS: "TIMESTAMP_S", ddb.TypeTimestampMS: "TIMESTAMP_MS", ddb.TypeTimestampNS: "TIMESTAMP_NS",
	ddb.TypeEnum: "ENUM", ddb.TypeMap: "MAP", ddb.TypeUUID: "UUID", ddb.TypeUnion: "UNION", ddb.TypeBit: "BIT",
	ddb.TypeTimeTZ: "TIME WITH TIME ZONE", ddb.TypeTimestampTZ: "TIMESTAMP WITH TIME ZONE", ddb.TypeBigNum: "BIGNUM",
	ddb.TypeSQLNull: `"NULL"`, ddb.TypeTimeNS: "TIME_NS", ddb.TypeGeometry: "GEOMETRY",
}
