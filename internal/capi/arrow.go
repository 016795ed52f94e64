package capi

/*
#include <stdint.h>
#include <stdlib.h>

// The Arrow C data interface's two structs, declared here only for their
// sizes: the buffers are filled by DuckDB and imported by arrow-go's cdata
// package, which declares the same layout.
struct hepsqlArrowSchema {
	const char *format; const char *name; const char *metadata;
	int64_t flags; int64_t n_children;
	void **children; void *dictionary;
	void (*release)(void *); void *private_data;
};
struct hepsqlArrowArray {
	int64_t length; int64_t null_count; int64_t offset;
	int64_t n_buffers; int64_t n_children;
	const void **buffers; void **children; void *dictionary;
	void (*release)(void *); void *private_data;
};

// DuckDB's Arrow conversion functions (duckdb.h, "Arrow Interface"), which
// duckdb-go-bindings wraps only under its duckdb_arrow build tag: declared
// here with opaque pointers; the bindings module links the library. Each
// returns a duckdb_error_data (NULL or an error to destroy).
void *duckdb_to_arrow_schema(void *arrow_options, void **types, const char **names, uint64_t column_count, void *out_schema);
void *duckdb_data_chunk_to_arrow(void *arrow_options, void *chunk, void *out_arrow_array);
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	ddb "github.com/duckdb/duckdb-go-bindings"
)

// Streaming a statement's result as Arrow record batches, for the Flight
// SQL server: DuckDB converts each result chunk to an Arrow array itself
// (duckdb_data_chunk_to_arrow), so no value passes through Go one at a
// time.
//
// Ownership: DuckDB fills a C-allocated ArrowArray (or ArrowSchema) whose
// release callback frees DuckDB's buffers; cdata's import moves it into a
// Go arrow.RecordBatch that calls release when the batch's reference count
// reaches zero. The C struct itself is freed here once imported. An
// ArrowRows owns its C result and its arrow options until Close.

// ArrowRows is a streaming result read as Arrow record batches. Not safe
// for concurrent use.
type ArrowRows struct {
	res    ddb.Result
	opts   ddb.ArrowOptions
	schema *arrow.Schema
	ctx    context.Context
	stop   func() bool
	closed bool
}

// QueryArrow prepares query (one statement) on conn, binds args to its
// parameters ($1, ?) in order, and starts it with a streaming result. ctx
// interrupts it, as for Query. Read its batches with Next; Close it.
func QueryArrow(ctx context.Context, conn Handle, query string, args []any) (_ *ArrowRows, err error) {
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
	if n := int(ddb.NParams(st)); n != len(args) {
		return nil, fmt.Errorf("the statement has %d parameters; %d values were given", n, len(args))
	}
	for i, v := range args {
		if err := bindParam(st, i+1, v); err != nil {
			return nil, err
		}
	}
	res, stop, err := execStreaming(ctx, conn, st, func() {})
	if err != nil {
		return nil, err
	}
	r := &ArrowRows{res: res, ctx: ctx, stop: func() bool { forget(); return stop() }}
	r.opts = ddb.ResultGetArrowOptions(&r.res)
	n := int(ddb.ColumnCount(&r.res))
	types := make([]ddb.LogicalType, n)
	names := make([]string, n)
	for i := range n {
		types[i] = ddb.ColumnLogicalType(&r.res, ddb.IdxT(i))
		names[i] = ddb.ColumnName(&r.res, ddb.IdxT(i))
	}
	r.schema, err = arrowSchema(r.opts, types, names)
	for i := range types {
		ddb.DestroyLogicalType(&types[i])
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// ArrowSchemaOf prepares query on conn without running it and returns
// the Arrow schema of its result and its number of parameters. The schema
// is nil when it depends on the parameters' types (SELECT $1 + 1).
func ArrowSchemaOf(conn Handle, query string) (*arrow.Schema, int, error) {
	var st ddb.PreparedStatement
	if ddb.Prepare(conn, query, &st) == ddb.StateError {
		msg := ddb.PrepareError(st)
		ddb.DestroyPrepare(&st)
		return nil, 0, errors.New(msg)
	}
	defer ddb.DestroyPrepare(&st)
	n := int(ddb.PreparedStatementColumnCount(st))
	types := make([]ddb.LogicalType, n)
	names := make([]string, n)
	for i := range n {
		types[i] = ddb.PreparedStatementColumnLogicalType(st, ddb.IdxT(i))
		names[i] = ddb.PreparedStatementColumnName(st, ddb.IdxT(i))
	}
	defer func() {
		for i := range types {
			ddb.DestroyLogicalType(&types[i])
		}
	}()
	var opts ddb.ArrowOptions
	ddb.ConnectionGetArrowOptions(conn, &opts)
	defer ddb.DestroyArrowOptions(&opts)
	s, err := arrowSchema(opts, types, names)
	nparams := int(ddb.NParams(st))
	if err != nil && nparams > 0 {
		return nil, nparams, nil
	}
	return s, nparams, err
}

// arrowSchema converts column types to an Arrow schema, as DuckDB would
// for its result.
func arrowSchema(opts ddb.ArrowOptions, types []ddb.LogicalType, names []string) (*arrow.Schema, error) {
	n := len(types)
	cTypes := (*[1 << 20]unsafe.Pointer)(C.calloc(C.size_t(max(n, 1)), C.size_t(unsafe.Sizeof(unsafe.Pointer(nil)))))
	cNames := (*[1 << 20]*C.char)(C.calloc(C.size_t(max(n, 1)), C.size_t(unsafe.Sizeof(unsafe.Pointer(nil)))))
	defer C.free(unsafe.Pointer(cTypes))
	defer C.free(unsafe.Pointer(cNames))
	for i := range n {
		cTypes[i] = types[i].Ptr
		cNames[i] = C.CString(names[i])
	}
	defer func() {
		for i := range n {
			C.free(unsafe.Pointer(cNames[i]))
		}
	}()
	out := C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_hepsqlArrowSchema{})))
	defer func() {
		cdata.ReleaseCArrowSchema((*cdata.CArrowSchema)(out))
		C.free(out)
	}()
	ed := C.duckdb_to_arrow_schema(opts.Ptr, (*unsafe.Pointer)(unsafe.Pointer(cTypes)), (**C.char)(unsafe.Pointer(cNames)), C.uint64_t(n), out)
	if err := errorData(ed); err != nil {
		return nil, fmt.Errorf("capi: converting the result's types to Arrow: %w", err)
	}
	return cdata.ImportCArrowSchema((*cdata.CArrowSchema)(out))
}

// errorData turns a duckdb_error_data into an error, destroying it.
func errorData(p unsafe.Pointer) error {
	if p == nil {
		return nil
	}
	ed := ddb.ErrorData{Ptr: p}
	defer ddb.DestroyErrorData(&ed)
	if !ddb.ErrorDataHasError(ed) {
		return nil
	}
	return errors.New(ddb.ErrorDataMessage(ed))
}

// Schema is the result's Arrow schema.
func (r *ArrowRows) Schema() *arrow.Schema { return r.schema }

// Next returns the next batch (one DuckDB chunk, up to 2048 rows), nil at
// the end. The caller owns the batch and releases it.
func (r *ArrowRows) Next() (arrow.RecordBatch, error) {
	if r.closed {
		return nil, errors.New("capi: arrow rows closed")
	}
	c := ddb.FetchChunk(r.res)
	if c.Ptr == nil {
		if msg := ddb.ResultError(&r.res); msg != "" {
			if cerr := r.ctx.Err(); cerr != nil {
				return nil, errors.Join(cerr, errors.New(msg))
			}
			return nil, errors.New(msg)
		}
		return nil, r.ctx.Err()
	}
	defer ddb.DestroyDataChunk(&c)
	out := C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_hepsqlArrowArray{})))
	defer func() {
		cdata.ReleaseCArrowArray((*cdata.CArrowArray)(out))
		C.free(out)
	}()
	if err := errorData(C.duckdb_data_chunk_to_arrow(r.opts.Ptr, c.Ptr, out)); err != nil {
		return nil, fmt.Errorf("capi: converting a result chunk to Arrow: %w", err)
	}
	return cdata.ImportCRecordBatchWithSchema((*cdata.CArrowArray)(out), r.schema)
}

// Close releases the result; an unfinished query stops.
func (r *ArrowRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	ddb.DestroyArrowOptions(&r.opts)
	ddb.DestroyResult(&r.res)
	r.stop()
}
