package capi

/*
#include <stdlib.h>
#include <stdint.h>

void hepsqlScalarFunction(void *info, void *input, void *output);
void hepsqlDeleteHandle(void *cell);
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

// ScalarFunction is one overload of a vectorised scalar function. Exec
// receives a whole input chunk (up to VectorSize rows) and writes the whole
// result vector: one cgo round trip per chunk, never per value.
//
// DuckDB flattens constant and dictionary inputs before calling Exec (its
// C-API wrapper calls DataChunk::Flatten), so every input vector is flat:
// data[row] is row's value. LIST children are flat too, but list entries may
// point anywhere in the child (shared, overlapping or out of order after a
// dictionary flatten): always address elements through the entries.
type ScalarFunction struct {
	Name    string
	Params  []Type
	Returns Type
	// Volatile functions are never constant-folded (random numbers).
	Volatile bool
	// NullArgs: Exec sees NULL inputs and decides itself; without it DuckDB
	// still calls Exec on chunks holding NULLs, and Exec must propagate them
	// (Args.AnyNull helps). The flag only stops DuckDB from folding a call
	// with a literal NULL argument to NULL at plan time.
	NullArgs bool
	Exec     func(in Args, out Vector) error
}

// Args is the input of one Exec call; valid only during it.
type Args struct {
	c ddb.DataChunk
	n int
}

// Rows is the number of rows in this chunk.
func (a Args) Rows() int { return a.n }

// Len is the number of arguments.
func (a Args) Len() int { return int(ddb.DataChunkGetColumnCount(a.c)) }

// Arg returns argument i's vector.
func (a Args) Arg(i int) Vector {
	return Vector{v: ddb.DataChunkGetVector(a.c, ddb.IdxT(i))}
}

// ReadValidity returns v's validity mask as read-only 64-bit words (bit r of
// word r/64 set when row r is valid), or nil when every row is valid: the
// "maybe has nulls" fast path. It never allocates a mask.
func (v Vector) ReadValidity(n int) []uint64 {
	p := ddb.VectorGetValidity(v.v)
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*uint64)(p), (n+63)/64)
}

// IsValid reports whether row r is valid in a mask from ReadValidity.
func IsValid(mask []uint64, r int) bool {
	return mask == nil || mask[r>>6]&(1<<(uint(r)&63)) != 0
}

// RegisterScalarFunctions registers overloads under one name, as a DuckDB
// function set: DuckDB picks the overload by argument types, casting
// implicitly where needed. All overloads must share f.Name.
func RegisterScalarFunctions(conn ddb.Connection, overloads []*ScalarFunction) error {
	if len(overloads) == 0 {
		return errors.New("capi: no overloads to register")
	}
	name := overloads[0].Name
	set := ddb.CreateScalarFunctionSet(name)
	defer ddb.DestroyScalarFunctionSet(&set)
	for _, f := range overloads {
		if f.Name != name {
			return fmt.Errorf("capi: overload %q registered under %q", f.Name, name)
		}
		sf, err := newScalarFunction(f)
		if err != nil {
			return fmt.Errorf("capi: register %s: %w", name, err)
		}
		state := ddb.AddScalarFunctionToSet(set, sf)
		ddb.DestroyScalarFunction(&sf)
		if state == ddb.StateError {
			return fmt.Errorf("capi: register %s: overload (%v) clashes with another", name, f.Params)
		}
	}
	if ddb.RegisterScalarFunctionSet(conn, set) == ddb.StateError {
		return fmt.Errorf("capi: could not register scalar function %s", name)
	}
	return nil
}

func newScalarFunction(f *ScalarFunction) (ddb.ScalarFunction, error) {
	sf := ddb.CreateScalarFunction()
	ddb.ScalarFunctionSetName(sf, f.Name)
	for _, p := range f.Params {
		lt, err := newLogicalType(p)
		if err != nil {
			ddb.DestroyScalarFunction(&sf)
			return sf, err
		}
		ddb.ScalarFunctionAddParameter(sf, lt)
		ddb.DestroyLogicalType(&lt)
	}
	rt, err := newLogicalType(f.Returns)
	if err != nil {
		ddb.DestroyScalarFunction(&sf)
		return sf, err
	}
	ddb.ScalarFunctionSetReturnType(sf, rt)
	ddb.DestroyLogicalType(&rt)
	if f.Volatile {
		ddb.ScalarFunctionSetVolatile(sf)
	}
	if f.NullArgs {
		ddb.ScalarFunctionSetSpecialHandling(sf)
	}
	ddb.ScalarFunctionSetExtraInfo(sf, newHandleCell(f), unsafe.Pointer(C.hepsqlDeleteHandle))
	ddb.ScalarFunctionSetFunction(sf, unsafe.Pointer(C.hepsqlScalarFunction))
	return sf, nil
}

// RegisterScalarFunctions registers overloads through this connection.
func (c *Conn) RegisterScalarFunctions(overloads []*ScalarFunction) error {
	return RegisterScalarFunctions(c.c, overloads)
}

//export hepsqlScalarFunction
func hepsqlScalarFunction(info, input, output unsafe.Pointer) {
	fi := ddb.FunctionInfo{Ptr: info}
	f := handleValue(ddb.ScalarFunctionGetExtraInfo(fi)).(*ScalarFunction)
	defer func() {
		if r := recover(); r != nil {
			ddb.ScalarFunctionSetError(fi, recovered(f.Name, r))
		}
	}()
	chunk := ddb.DataChunk{Ptr: input}
	args := Args{c: chunk, n: int(ddb.DataChunkGetSize(chunk))}
	if err := f.Exec(args, Vector{v: ddb.Vector{Ptr: output}}); err != nil {
		ddb.ScalarFunctionSetError(fi, f.Name+": "+err.Error())
	}
}
