package capi

/*
#include <stdint.h>
#include <stdlib.h>

// Declared here rather than through duckdb.h: the bindings module links the
// library, and this one prototype is all the string path needs. The vector
// argument is DuckDB's opaque duckdb_vector handle.
void duckdb_vector_assign_string_element_len(void *vector, uint64_t index, const char *str, uint64_t str_len);

// Assigns n strings in one cgo call. String i is data[ends[i-1]:ends[i]]
// (ends[-1] = 0) and lands in row first+i. DuckDB copies the bytes into the
// vector's own string heap, so data may be Go memory pinned for the call.
static void hepsql_assign_strings(void *vec, uint64_t first, const char *data, const uint64_t *ends, uint64_t n) {
	uint64_t begin = 0;
	for (uint64_t i = 0; i < n; i++) {
		duckdb_vector_assign_string_element_len(vec, first + i, data + begin, ends[i] - begin);
		begin = ends[i];
	}
}
*/
import "C"

import (
	"unsafe"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

// VectorSize is DuckDB's standard vector capacity: 2048 rows in every
// build DuckDB publishes. It is a constant, not ddb.VectorSize(), so that no
// DuckDB call runs when the package is initialised (inside a loadable
// extension none may run before the entry point); Connect checks it against
// the running DuckDB.
const VectorSize = 2048

// Chunk is an output DataChunk handed to a table function's Fill. It belongs
// to DuckDB and is valid only during that call.
type Chunk struct {
	c ddb.DataChunk
}

// Vector returns the chunk's vector for output column col (in projected order).
func (c Chunk) Vector(col int) Vector {
	return Vector{v: ddb.DataChunkGetVector(c.c, ddb.IdxT(col))}
}

// Columns is the number of columns in the chunk.
func (c Chunk) Columns() int { return int(ddb.DataChunkGetColumnCount(c.c)) }

// Vector is a DuckDB vector; valid only inside the callback that produced it.
type Vector struct {
	v ddb.Vector
}

// ListEntry is DuckDB's duckdb_list_entry: the child rows of one list value.
type ListEntry struct {
	Offset uint64
	Length uint64
}

// Slice views the first n elements of v's data buffer as []T. T must match
// the vector's physical type (float32 for FLOAT, ListEntry for LIST, ...).
func Slice[T any](v Vector, n int) []T {
	if n == 0 {
		return nil
	}
	p := ddb.VectorGetData(v.v)
	return unsafe.Slice((*T)(p), n)
}

// SetNull marks row as NULL.
func (v Vector) SetNull(row int) {
	ddb.VectorEnsureValidityWritable(v.v)
	mask := ddb.VectorGetValidity(v.v)
	ddb.ValiditySetRowInvalid(mask, ddb.IdxT(row))
}

// Validity returns the vector's validity mask as 64-bit words, made writable;
// bit r of word r/64 is 1 when row r is valid.
func (v Vector) Validity(n int) []uint64 {
	ddb.VectorEnsureValidityWritable(v.v)
	p := ddb.VectorGetValidity(v.v)
	return unsafe.Slice((*uint64)(p), (n+63)/64)
}

// ListChild returns the child vector of a LIST vector.
func (v Vector) ListChild() Vector { return Vector{v: ddb.ListVectorGetChild(v.v)} }

// ListReserve makes room for n child rows in a LIST vector. It may move the
// child's data: take slices of the child only after reserving.
func (v Vector) ListReserve(n int) error {
	if ddb.ListVectorReserve(v.v, ddb.IdxT(n)) == ddb.StateError {
		return errListReserve
	}
	return nil
}

// ListSetSize sets the number of child rows in use.
func (v Vector) ListSetSize(n int) error {
	if ddb.ListVectorSetSize(v.v, ddb.IdxT(n)) == ddb.StateError {
		return errListReserve
	}
	return nil
}

// ListSize is the number of child rows in use.
func (v Vector) ListSize() int { return int(ddb.ListVectorGetSize(v.v)) }

// ArrayChild returns the child vector of an ARRAY vector; row r's elements
// are child rows [r*size, (r+1)*size).
func (v Vector) ArrayChild() Vector { return Vector{v: ddb.ArrayVectorGetChild(v.v)} }

// StructChild returns field i of a STRUCT vector.
func (v Vector) StructChild(i int) Vector {
	return Vector{v: ddb.StructVectorGetChild(v.v, ddb.IdxT(i))}
}

// AssignStrings stores len(ends) strings into rows first, first+1, ... of a
// VARCHAR vector in one cgo call; string i is data[ends[i-1]:ends[i]].
func (v Vector) AssignStrings(first int, data []byte, ends []uint64) {
	if len(ends) == 0 {
		return
	}
	var dp *C.char
	if len(data) > 0 {
		dp = (*C.char)(unsafe.Pointer(&data[0]))
	}
	C.hepsql_assign_strings(v.v.Ptr, C.uint64_t(first), dp, (*C.uint64_t)(unsafe.Pointer(&ends[0])), C.uint64_t(len(ends)))
}

// SetConstantString makes v a constant vector holding s in every row.
func (v Vector) SetConstantString(s string) {
	val := ddb.CreateVarchar(s)
	ddb.VectorReferenceValue(v.v, val)
	ddb.DestroyValue(&val)
}

// StringAt returns row's value of a VARCHAR vector, copied into Go memory.
// DuckDB's duckdb_string_t is 16 bytes: a uint32 length, then up to 12
// bytes inline, or (longer strings) a 4-byte prefix and a pointer to the
// bytes. Meant for a few values per chunk (names, options), not columns.
func (v Vector) StringAt(row int) string {
	p := unsafe.Add(ddb.VectorGetData(v.v), row*16)
	n := *(*uint32)(p)
	if n <= 12 {
		return string(unsafe.Slice((*byte)(unsafe.Add(p, 4)), n))
	}
	return string(unsafe.Slice(*(**byte)(unsafe.Add(p, 8)), n))
}
