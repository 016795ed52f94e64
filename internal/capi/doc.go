// Package capi is hepsql's only cgo: it reaches DuckDB's C API (through
// github.com/duckdb/duckdb-go-bindings) to register table, scalar,
// aggregate and COPY functions and replacement scans whose callbacks read and write DuckDB's vectors as Go
// slices over DuckDB-owned memory. It also holds the one other C library
// call, zlib inflation through libdeflate loaded at run time (inflate.go),
// so that cgo stays in this package. copynames.cpp is its one C++ file: it
// reads a COPY's column names, which DuckDB 1.5's C API does not expose,
// from the bind info (see copy.go for the COPY callbacks' contract); both are
// left out of the loadable extension (build tag hepsql_extension), which runs
// in DuckDBs whose internals differ.
//
// Why not duckdb-go's UDF API: duckdb-go's table and scalar UDFs move every
// value through an `any` (DataChunk.SetValue), one cgo call and one
// allocation per value. Here a callback receives the whole output chunk and
// writes each column with a handful of cgo calls per 2048-row vector; the
// values themselves are stored with plain Go stores into DuckDB's buffers.
//
// # Memory ownership
//
//   - Vectors, chunks and their data pointers belong to DuckDB. A Vector or a
//     slice obtained from it is valid only inside the callback that received
//     the chunk, and only until the next call that may reallocate it
//     (ListReserve invalidates the list child's data). Nothing here frees them.
//   - Logical types are created in typeToLogical and destroyed by the same
//     function's caller right after DuckDB has copied them (bind, registration).
//   - Go objects handed to DuckDB (a TableFunction, bound tables, scanners,
//     workers) travel as cgo.Handle values stored in C.malloc'ed cells. DuckDB
//     owns the cell and calls hepsqlDeleteHandle when it drops the object; that
//     callback deletes the handle, frees the cell, and calls Close on the Go
//     object when it has one. The Go object is therefore kept alive by the
//     handle table, never by a C pointer into Go memory.
//   - Error strings passed to DuckDB are copied by the bindings (C.CString +
//     free) before returning.
//
// # Callbacks
//
// Every exported callback recovers panics and reports them through the C API
// as an error of the function being run: a panic must never unwind into C.
//
// A callback runs Go code on a DuckDB thread and needs one of Go's Ps for
// it; ReserveCallbackProcs (procs.go) raises GOMAXPROCS so that every
// DuckDB thread can find one without waiting.
package capi
