package capi

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"time"
	"unsafe"

	ddb "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Streaming a statement's rows on a database/sql connection, for the shell
// and pipeline runner. duckdb-go's QueryContext materialises the whole
// result inside DuckDB before the first row is read (20 M rows of two
// numbers: 500 MB), and it cannot describe a STRUCT with unnamed fields
// (row(1, 2) fails with "empty name"). Query executes a statement with
// DuckDB's streaming result on the connection's own native handle, so that
// the session (SET, temporary tables) is the same, and converts each chunk
// to Go values as it arrives: memory stays at a chunk whatever the size of
// the result.
//
// Values are those duckdb-go would return (int32, float64, string, []any,
// map[string]any, *big.Int, duckdb.Decimal, time.Time, duckdb.Interval,
// duckdb.OrderedMap, duckdb.Union, []byte for BLOB and UUID), except that a
// STRUCT with an unnamed field comes as []any, in field order.

// ConnHandle returns the native connection behind a duckdb-go connection
// (the driver connection that (*sql.Conn).Raw hands out). duckdb-go keeps it
// in the unexported field `conn`; like DatabaseOf, this is the one audited
// place that reads it, pinned by TestConnHandleLayout. The handle stays
// owned by dc: use it only while holding dc (inside Raw).
func ConnHandle(dc any) (Handle, error) {
	c, ok := dc.(*duckdb.Conn)
	if !ok || c == nil {
		return ddb.Connection{}, fmt.Errorf("capi: %T is not a duckdb-go connection", dc)
	}
	f := reflect.ValueOf(c).Elem().FieldByName("conn")
	if !f.IsValid() || f.Type() != reflect.TypeFor[ddb.Connection]() {
		return ddb.Connection{}, errors.New("capi: duckdb-go's Conn layout changed; update capi.ConnHandle")
	}
	h := *(*ddb.Connection)(unsafe.Pointer(f.UnsafeAddr()))
	if h.Ptr == nil {
		return ddb.Connection{}, errors.New("capi: connection is closed")
	}
	return h, nil
}

// Handle is a native DuckDB connection.
type Handle = ddb.Connection

// ErrUnsupportedType is returned (wrapped) by Query, before the statement
// runs, when a result column has a type the reader does not convert; the
// caller may then run it another way.
var ErrUnsupportedType = errors.New("capi: result type not readable by the streaming reader")

// Progress is DuckDB's estimate of a running query's progress.
type Progress struct {
	Percent   float64 // 0..100; negative when unknown
	Rows      uint64  // rows processed
	TotalRows uint64  // rows to process, estimated
}

// QueryProgress returns the progress of the query running on conn. It may
// be called from another goroutine while the query runs.
func QueryProgress(conn Handle) Progress {
	p := ddb.QueryProgress(conn)
	pct, rows, total := ddb.QueryProgressTypeMembers(&p)
	return Progress{Percent: pct, Rows: rows, TotalRows: total}
}

// Rows is a streaming result. Not safe for concurrent use.
type Rows struct {
	conn     ddb.Connection
	res      ddb.Result
	chunk    ddb.DataChunk
	names    []string
	types    []string
	decs     []*decoder
	readers  []func(int) any
	size, at int
	done     bool
	ctx      context.Context
	stop     func() bool // ends the interrupt watcher

	// BeforeFetch, if set, is called before each fetch of a chunk, which
	// may block while DuckDB computes: a writer flushes its buffer there.
	BeforeFetch func()
}

// Query prepares and starts query (one statement) on conn, streaming. ctx
// interrupts it. The statement runs when Query returns; its rows are read
// with Next. A statement without rows (DDL) gives a Rows with the status
// column DuckDB returns for it.
func Query(ctx context.Context, conn Handle, query string) (_ *Rows, err error) {
	// Table functions blocked in a wait (a remote read, from binding on)
	// learn of the cancellation from ctx, found by the connection's id
	// (QueryDone); Rows.Close forgets it.
	forget := runStatement(conn, ctx)
	defer func() {
		if err != nil {
			forget()
		}
	}()
	var st ddb.PreparedStatement
	if ddb.Prepare(conn, query, &st) == ddb.StateError {
		msg := ddb.PrepareError(st)
		ddb.DestroyPrepare(&st)
		return nil, errors.Join(ctx.Err(), errors.New(msg))
	}
	defer ddb.DestroyPrepare(&st)
	// Refuse types the reader cannot convert before anything runs.
	for i := range int(ddb.PreparedStatementColumnCount(st)) {
		lt := ddb.PreparedStatementColumnLogicalType(st, ddb.IdxT(i))
		_, err := newDecoder(lt)
		ddb.DestroyLogicalType(&lt)
		if err != nil {
			return nil, err
		}
	}
	r := &Rows{conn: conn, ctx: ctx}
	res, stop, err := execStreaming(ctx, conn, st, forget)
	if err != nil {
		return nil, err
	}
	r.res, r.stop = res, stop
	n := int(ddb.ColumnCount(&r.res))
	for i := range n {
		lt := ddb.ColumnLogicalType(&r.res, ddb.IdxT(i))
		d, err := newDecoder(lt)
		ddb.DestroyLogicalType(&lt)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.names = append(r.names, ddb.ColumnName(&r.res, ddb.IdxT(i)))
		r.types = append(r.types, d.name)
		r.decs = append(r.decs, d)
	}
	r.readers = make([]func(int) any, n)
	return r, nil
}

// execStreaming starts the prepared statement st on conn with DuckDB's
// streaming result; ctx interrupts it (duckdb_interrupt) until the returned
// stop is called, which also calls forget. On error, stop has been called.
func execStreaming(ctx context.Context, conn Handle, st ddb.PreparedStatement, forget func()) (res ddb.Result, stop func() bool, err error) {
	var pending ddb.PendingResult
	if ddb.PendingPreparedStreaming(st, &pending) == ddb.StateError {
		msg := ddb.PendingError(pending)
		ddb.DestroyPending(&pending)
		forget()
		return res, nil, errors.New(msg)
	}
	defer ddb.DestroyPending(&pending)
	stopInterrupt := context.AfterFunc(ctx, func() { ddb.Interrupt(conn) })
	stop = func() bool { forget(); return stopInterrupt() }
	joinCtx := func(err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return errors.Join(cerr, err)
		}
		return err
	}
	// Run DuckDB's tasks on this thread, a part of a task per call, until
	// the first rows are ready (a streaming result) or the statement is
	// done. Each call updates DuckDB's progress estimate (QueryProgress),
	// which ExecutePending alone would not while this thread waits for the
	// other threads' tasks. When every task is on another thread, wait a
	// little rather than spin.
	for {
		if err := ctx.Err(); err != nil {
			stop()
			return res, nil, err
		}
		state := ddb.PendingExecuteTask(pending)
		if state == ddb.PendingStateError {
			stop()
			return res, nil, joinCtx(errors.New(ddb.PendingError(pending)))
		}
		if ddb.PendingExecutionIsFinished(state) {
			break
		}
		if state == ddb.PendingStateNoTasksAvailable {
			time.Sleep(time.Millisecond)
		}
	}
	if ddb.ExecutePending(pending, &res) == ddb.StateError {
		msg := ddb.ResultError(&res)
		ddb.DestroyResult(&res)
		stop()
		return res, nil, joinCtx(errors.New(msg))
	}
	return res, stop, nil
}

func (r *Rows) joinCtx(err error) error {
	if cerr := r.ctx.Err(); cerr != nil {
		return errors.Join(cerr, err)
	}
	return err
}

// Columns are the result's column names.
func (r *Rows) Columns() []string { return r.names }

// Types are DuckDB's names of the column types: INTEGER, DOUBLE[],
// STRUCT("a" INTEGER), STRUCT(INTEGER, INTEGER) for unnamed fields, JSON.
func (r *Rows) Types() []string { return r.types }

// Next returns the next row in dst (len(dst) == len(Columns())), or false
// at the end or on error (see Err).
func (r *Rows) Next(dst []any) (bool, error) {
	for r.at >= r.size {
		if r.done {
			return false, nil
		}
		if r.BeforeFetch != nil {
			r.BeforeFetch()
		}
		r.release()
		c := ddb.FetchChunk(r.res)
		if c.Ptr == nil {
			r.done = true
			if msg := ddb.ResultError(&r.res); msg != "" {
				return false, r.joinCtx(errors.New(msg))
			}
			if err := r.ctx.Err(); err != nil {
				return false, err
			}
			return false, nil
		}
		r.chunk = c
		r.size, r.at = int(ddb.DataChunkGetSize(c)), 0
		for i, d := range r.decs {
			r.readers[i] = d.bind(ddb.DataChunkGetVector(c, ddb.IdxT(i)), r.size)
		}
	}
	for i, read := range r.readers {
		dst[i] = read(r.at)
	}
	r.at++
	return true, nil
}

func (r *Rows) release() {
	if r.chunk.Ptr != nil {
		ddb.DestroyDataChunk(&r.chunk)
		r.chunk = ddb.DataChunk{}
	}
}

// Close releases the result; an unfinished query stops.
func (r *Rows) Close() {
	r.release()
	ddb.DestroyResult(&r.res)
	r.stop()
}

// ---- decoding vectors ------------------------------------------------------

// decoder converts one column type's vectors to Go values.
type decoder struct {
	id     ddb.Type
	name   string
	phys   ddb.Type // DECIMAL and ENUM storage
	scale  uint8
	width  uint8
	dict   []string   // ENUM
	elem   *decoder   // LIST, ARRAY, MAP (a STRUCT of key and value)
	size   int        // ARRAY
	fields []*decoder // STRUCT; UNION members
	names  []string   // STRUCT field names; UNION tags
	tuple  bool       // STRUCT with an unnamed field: values as []any
}

var simpleNames = map[ddb.Type]string{
	ddb.TypeBoolean: "BOOLEAN", ddb.TypeTinyInt: "TINYINT", ddb.TypeSmallInt: "SMALLINT",
	ddb.TypeInteger: "INTEGER", ddb.TypeBigInt: "BIGINT", ddb.TypeUTinyInt: "UTINYINT",
	ddb.TypeUSmallInt: "USMALLINT", ddb.TypeUInteger: "UINTEGER", ddb.TypeUBigInt: "UBIGINT",
	ddb.TypeHugeInt: "HUGEINT", ddb.TypeUHugeInt: "UHUGEINT", ddb.TypeFloat: "FLOAT",
	ddb.TypeDouble: "DOUBLE", ddb.TypeVarchar: "VARCHAR", ddb.TypeBlob: "BLOB",
	ddb.TypeDate: "DATE", ddb.TypeTime: "TIME", ddb.TypeTimestamp: "TIMESTAMP",
	ddb.TypeTimestampS: "TIMESTAMP_S", ddb.TypeTimestampMS: "TIMESTAMP_MS",
	ddb.TypeTimestampNS: "TIMESTAMP_NS", ddb.TypeTimestampTZ: "TIMESTAMP WITH TIME ZONE",
	ddb.TypeInterval: "INTERVAL", ddb.TypeUUID: "UUID",
}

// quoteField spells a STRUCT field name as DuckDB does in type names.
func quoteField(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func newDecoder(lt ddb.LogicalType) (*decoder, error) {
	id := ddb.GetTypeId(lt)
	d := &decoder{id: id, name: simpleNames[id]}
	switch id {
	case ddb.TypeVarchar:
		if alias := ddb.LogicalTypeGetAlias(lt); alias != "" {
			d.name = alias // JSON
		}
	case ddb.TypeDecimal:
		d.width, d.scale, d.phys = ddb.DecimalWidth(lt), ddb.DecimalScale(lt), ddb.DecimalInternalType(lt)
		d.name = fmt.Sprintf("DECIMAL(%d,%d)", d.width, d.scale)
	case ddb.TypeEnum:
		d.phys, d.name = ddb.EnumInternalType(lt), "ENUM"
		for i := range ddb.EnumDictionarySize(lt) {
			d.dict = append(d.dict, ddb.EnumDictionaryValue(lt, ddb.IdxT(i)))
		}
	case ddb.TypeList, ddb.TypeArray:
		var child ddb.LogicalType
		if id == ddb.TypeList {
			child = ddb.ListTypeChildType(lt)
		} else {
			child = ddb.ArrayTypeChildType(lt)
			d.size = int(ddb.ArrayTypeArraySize(lt))
		}
		e, err := newDecoder(child)
		ddb.DestroyLogicalType(&child)
		if err != nil {
			return nil, err
		}
		d.elem = e
		if id == ddb.TypeList {
			d.name = e.name + "[]"
		} else {
			d.name = fmt.Sprintf("%s[%d]", e.name, d.size)
		}
	case ddb.TypeMap:
		k, v := ddb.MapTypeKeyType(lt), ddb.MapTypeValueType(lt)
		kd, err1 := newDecoder(k)
		vd, err2 := newDecoder(v)
		ddb.DestroyLogicalType(&k)
		ddb.DestroyLogicalType(&v)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		d.elem = &decoder{id: ddb.TypeStruct, fields: []*decoder{kd, vd}, names: []string{"key", "value"}}
		d.name = fmt.Sprintf("MAP(%s, %s)", kd.name, vd.name)
	case ddb.TypeStruct, ddb.TypeUnion:
		var parts []string
		n := int(ddb.StructTypeChildCount(lt))
		if id == ddb.TypeUnion {
			n = int(ddb.UnionTypeMemberCount(lt))
		}
		for i := range n {
			var child ddb.LogicalType
			var name string
			if id == ddb.TypeUnion {
				child, name = ddb.UnionTypeMemberType(lt, ddb.IdxT(i)), ddb.UnionTypeMemberName(lt, ddb.IdxT(i))
			} else {
				child, name = ddb.StructTypeChildType(lt, ddb.IdxT(i)), ddb.StructTypeChildName(lt, ddb.IdxT(i))
			}
			f, err := newDecoder(child)
			ddb.DestroyLogicalType(&child)
			if err != nil {
				return nil, err
			}
			d.fields, d.names = append(d.fields, f), append(d.names, name)
			if name == "" {
				d.tuple = true
				parts = append(parts, f.name)
			} else {
				parts = append(parts, quoteField(name)+" "+f.name)
			}
		}
		kw := "STRUCT"
		if id == ddb.TypeUnion {
			kw = "UNION"
		}
		d.name = kw + "(" + strings.Join(parts, ", ") + ")"
	default:
		if d.name == "" {
			return nil, fmt.Errorf("%w: type #%d", ErrUnsupportedType, id)
		}
	}
	return d, nil
}

// validity returns a function telling whether row i of v is not NULL.
func validity(v ddb.Vector, n int) func(int) bool {
	p := ddb.VectorGetValidity(v)
	if p == nil || n == 0 {
		return func(int) bool { return true }
	}
	mask := unsafe.Slice((*uint64)(p), (n+63)/64)
	return func(i int) bool { return mask[i/64]>>(i%64)&1 != 0 }
}

func data[T any](v ddb.Vector, n int) []T {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(ddb.VectorGetData(v)), n)
}

// numeric reads a vector of a fixed-size type T as values of type T.
func numeric[T any](v ddb.Vector, n int, conv func(T) any) func(int) any {
	xs, ok := data[T](v, n), validity(v, n)
	return func(i int) any {
		if !ok(i) {
			return nil
		}
		return conv(xs[i])
	}
}

func same[T any](x T) any { return x }

type hugeint struct {
	lower uint64
	upper int64
}

func (h hugeint) big() *big.Int {
	b := new(big.Int).SetInt64(h.upper)
	b.Lsh(b, 64)
	return b.Add(b, new(big.Int).SetUint64(h.lower))
}

type uhugeint struct{ lower, upper uint64 }

type interval struct {
	months, days int32
	micros       int64
}

// stringT is duckdb_string_t: a length, then up to 12 inlined bytes, or a
// 4-byte prefix and a pointer to the bytes.
type stringT struct {
	length uint32
	prefix [4]byte
	ptr    *byte
}

func (s *stringT) bytes() []byte {
	if s.length <= 12 {
		return unsafe.Slice((*byte)(unsafe.Pointer(&s.prefix)), s.length)
	}
	return unsafe.Slice(s.ptr, s.length)
}

// intsAsInt64 reads the integer storage of DECIMAL and ENUM values.
func intsAsInt64(t ddb.Type, v ddb.Vector, n int) func(i int) int64 {
	switch t {
	case ddb.TypeSmallInt:
		xs := data[int16](v, n)
		return func(i int) int64 { return int64(xs[i]) }
	case ddb.TypeInteger:
		xs := data[int32](v, n)
		return func(i int) int64 { return int64(xs[i]) }
	case ddb.TypeBigInt:
		xs := data[int64](v, n)
		return func(i int) int64 { return xs[i] }
	case ddb.TypeUTinyInt:
		xs := data[uint8](v, n)
		return func(i int) int64 { return int64(xs[i]) }
	case ddb.TypeUSmallInt:
		xs := data[uint16](v, n)
		return func(i int) int64 { return int64(xs[i]) }
	case ddb.TypeUInteger:
		xs := data[uint32](v, n)
		return func(i int) int64 { return int64(xs[i]) }
	}
	return nil
}

var epoch = time.Unix(0, 0).UTC()

// bind returns the reader of rows 0..n-1 of vector v.
func (d *decoder) bind(v ddb.Vector, n int) func(int) any {
	switch d.id {
	case ddb.TypeBoolean:
		return numeric(v, n, func(x bool) any { return x })
	case ddb.TypeTinyInt:
		return numeric(v, n, same[int8])
	case ddb.TypeSmallInt:
		return numeric(v, n, same[int16])
	case ddb.TypeInteger:
		return numeric(v, n, same[int32])
	case ddb.TypeBigInt:
		return numeric(v, n, same[int64])
	case ddb.TypeUTinyInt:
		return numeric(v, n, same[uint8])
	case ddb.TypeUSmallInt:
		return numeric(v, n, same[uint16])
	case ddb.TypeUInteger:
		return numeric(v, n, same[uint32])
	case ddb.TypeUBigInt:
		return numeric(v, n, same[uint64])
	case ddb.TypeFloat:
		return numeric(v, n, same[float32])
	case ddb.TypeDouble:
		return numeric(v, n, same[float64])
	case ddb.TypeHugeInt:
		return numeric(v, n, func(h hugeint) any { return h.big() })
	case ddb.TypeUHugeInt:
		return numeric(v, n, func(h uhugeint) any {
			b := new(big.Int).SetUint64(h.upper)
			b.Lsh(b, 64)
			return b.Add(b, new(big.Int).SetUint64(h.lower))
		})
	case ddb.TypeUUID:
		return numeric(v, n, func(h hugeint) any {
			b := make([]byte, 16)
			binary.BigEndian.PutUint64(b, uint64(h.upper)^(1<<63))
			binary.BigEndian.PutUint64(b[8:], h.lower)
			return b
		})
	case ddb.TypeVarchar:
		return numeric(v, n, func(s stringT) any { return string(s.bytes()) })
	case ddb.TypeBlob:
		return numeric(v, n, func(s stringT) any { return append([]byte(nil), s.bytes()...) })
	case ddb.TypeDate:
		return numeric(v, n, func(x int32) any { return epoch.AddDate(0, 0, int(x)) })
	case ddb.TypeTime:
		return numeric(v, n, func(x int64) any { return time.UnixMicro(x).UTC() })
	case ddb.TypeTimestamp, ddb.TypeTimestampTZ:
		return numeric(v, n, func(x int64) any { return time.UnixMicro(x).UTC() })
	case ddb.TypeTimestampS:
		return numeric(v, n, func(x int64) any { return time.Unix(x, 0).UTC() })
	case ddb.TypeTimestampMS:
		return numeric(v, n, func(x int64) any { return time.UnixMilli(x).UTC() })
	case ddb.TypeTimestampNS:
		return numeric(v, n, func(x int64) any { return time.Unix(0, x).UTC() })
	case ddb.TypeInterval:
		return numeric(v, n, func(x interval) any {
			return duckdb.Interval{Months: x.months, Days: x.days, Micros: x.micros}
		})
	case ddb.TypeDecimal:
		ok := validity(v, n)
		if d.phys == ddb.TypeHugeInt {
			xs := data[hugeint](v, n)
			return func(i int) any {
				if !ok(i) {
					return nil
				}
				return duckdb.Decimal{Width: d.width, Scale: d.scale, Value: xs[i].big()}
			}
		}
		get := intsAsInt64(d.phys, v, n)
		return func(i int) any {
			if !ok(i) {
				return nil
			}
			return duckdb.Decimal{Width: d.width, Scale: d.scale, Value: big.NewInt(get(i))}
		}
	case ddb.TypeEnum:
		ok, get := validity(v, n), intsAsInt64(d.phys, v, n)
		return func(i int) any {
			if !ok(i) {
				return nil
			}
			if k := get(i); k >= 0 && int(k) < len(d.dict) {
				return d.dict[k]
			}
			return nil
		}
	case ddb.TypeList, ddb.TypeMap:
		ok := validity(v, n)
		entries := data[ListEntry](v, n)
		child := ddb.ListVectorGetChild(v)
		elem := d.elem.bind(child, int(ddb.ListVectorGetSize(v)))
		return func(i int) any {
			if !ok(i) {
				return nil
			}
			e := entries[i]
			if d.id == ddb.TypeMap {
				var m duckdb.OrderedMap
				for j := range e.Length {
					kv := elem(int(e.Offset + j)).(map[string]any)
					m.Set(kv["key"], kv["value"])
				}
				return m
			}
			out := make([]any, e.Length)
			for j := range out {
				out[j] = elem(int(e.Offset) + j)
			}
			return out
		}
	case ddb.TypeArray:
		ok := validity(v, n)
		elem := d.elem.bind(ddb.ArrayVectorGetChild(v), n*d.size)
		return func(i int) any {
			if !ok(i) {
				return nil
			}
			out := make([]any, d.size)
			for j := range out {
				out[j] = elem(i*d.size + j)
			}
			return out
		}
	case ddb.TypeStruct:
		ok := validity(v, n)
		fields := make([]func(int) any, len(d.fields))
		for k, f := range d.fields {
			fields[k] = f.bind(ddb.StructVectorGetChild(v, ddb.IdxT(k)), n)
		}
		return func(i int) any {
			if !ok(i) {
				return nil
			}
			if d.tuple {
				out := make([]any, len(fields))
				for k, f := range fields {
					out[k] = f(i)
				}
				return out
			}
			out := make(map[string]any, len(fields))
			for k, f := range fields {
				out[d.names[k]] = f(i)
			}
			return out
		}
	case ddb.TypeUnion:
		// A UNION vector is a STRUCT vector: the tag, then one child per member.
		ok := validity(v, n)
		tags := data[uint8](ddb.StructVectorGetChild(v, 0), n)
		members := make([]func(int) any, len(d.fields))
		var once sync.Once
		bindMembers := func() {
			for k, f := range d.fields {
				members[k] = f.bind(ddb.StructVectorGetChild(v, ddb.IdxT(k+1)), n)
			}
		}
		return func(i int) any {
			if !ok(i) {
				return nil
			}
			once.Do(bindMembers)
			t := int(tags[i])
			if t >= len(members) {
				return nil
			}
			return duckdb.Union{Tag: d.names[t], Value: members[t](i)}
		}
	}
	return func(int) any { return nil }
}
