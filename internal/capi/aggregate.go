package capi

/*
#include <stdlib.h>
#include <stdint.h>

// DuckDB's aggregate-function C API, which duckdb-go-bindings does not wrap:
// declared here with opaque pointers; the bindings module links the library.
void *duckdb_create_aggregate_function_set(const char *name);
void duckdb_destroy_aggregate_function_set(void **set);
int duckdb_add_aggregate_function_to_set(void *set, void *function);
int duckdb_register_aggregate_function_set(void *con, void *set);
void *duckdb_create_aggregate_function();
void duckdb_destroy_aggregate_function(void **function);
void duckdb_aggregate_function_set_name(void *function, const char *name);
void duckdb_aggregate_function_add_parameter(void *function, void *type);
void duckdb_aggregate_function_set_return_type(void *function, void *type);
void duckdb_aggregate_function_set_functions(void *function, void *size, void *init, void *update, void *combine, void *finalize);
void duckdb_aggregate_function_set_destructor(void *function, void *destroy);
void duckdb_aggregate_function_set_extra_info(void *function, void *extra, void *destroy);
void *duckdb_aggregate_function_get_extra_info(void *info);
void duckdb_aggregate_function_set_error(void *info, const char *error);

uint64_t hepsqlAggStateSize(void *info);
void hepsqlAggInit(void *info, void *state);
void hepsqlAggUpdate(void *info, void *input, void **states);
void hepsqlAggCombine(void *info, void **source, void **target, uint64_t count);
void hepsqlAggFinalize(void *info, void **source, void *result, uint64_t count, uint64_t offset);
void hepsqlAggDestroy(void **states, uint64_t count);
void hepsqlDeleteHandle(void *cell);
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"unsafe"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

// AggregateFunction is one overload of a vectorised aggregate. DuckDB gives
// each group a state; New makes the Go value behind it.
type AggregateFunction struct {
	Name    string
	Params  []Type
	Returns Type
	New     func() AggregateState
}

// AggregateState accumulates one group.
type AggregateState interface {
	// Update enters rows [from, to) of the chunk, all of this group: the
	// bridge hands over runs of rows, so an ungrouped aggregate sees each
	// chunk in one call.
	Update(in Args, from, to int) error
	// Combine merges other (a state of the same overload) into this one.
	Combine(other AggregateState) error
	// Finalize writes the group's result into row of out.
	Finalize(out Vector, row int) error
}

// The state DuckDB allocates per group holds one cgo.Handle to the Go
// state; hepsqlAggDestroy deletes it. The Go state is kept alive by the
// handle table, never by a C pointer into Go memory.

// RegisterAggregateFunctions registers overloads under one name.
func RegisterAggregateFunctions(conn ddb.Connection, overloads []*AggregateFunction) error {
	if len(overloads) == 0 {
		return fmt.Errorf("capi: no aggregate overloads")
	}
	name := C.CString(overloads[0].Name)
	defer C.free(unsafe.Pointer(name))
	set := C.duckdb_create_aggregate_function_set(name)
	defer C.duckdb_destroy_aggregate_function_set(&set)
	for _, f := range overloads {
		fn := C.duckdb_create_aggregate_function()
		C.duckdb_aggregate_function_set_name(fn, name)
		for _, p := range f.Params {
			lt, err := newLogicalType(p)
			if err != nil {
				C.duckdb_destroy_aggregate_function(&fn)
				return fmt.Errorf("capi: register %s: %w", f.Name, err)
			}
			C.duckdb_aggregate_function_add_parameter(fn, lt.Ptr)
			ddb.DestroyLogicalType(&lt)
		}
		rt, err := newLogicalType(f.Returns)
		if err != nil {
			C.duckdb_destroy_aggregate_function(&fn)
			return fmt.Errorf("capi: register %s: %w", f.Name, err)
		}
		C.duckdb_aggregate_function_set_return_type(fn, rt.Ptr)
		ddb.DestroyLogicalType(&rt)
		C.duckdb_aggregate_function_set_functions(fn, unsafe.Pointer(C.hepsqlAggStateSize), unsafe.Pointer(C.hepsqlAggInit),
			unsafe.Pointer(C.hepsqlAggUpdate), unsafe.Pointer(C.hepsqlAggCombine), unsafe.Pointer(C.hepsqlAggFinalize))
		C.duckdb_aggregate_function_set_destructor(fn, unsafe.Pointer(C.hepsqlAggDestroy))
		C.duckdb_aggregate_function_set_extra_info(fn, newHandleCell(f), unsafe.Pointer(C.hepsqlDeleteHandle))
		state := C.duckdb_add_aggregate_function_to_set(set, fn)
		C.duckdb_destroy_aggregate_function(&fn)
		if state != 0 {
			return fmt.Errorf("capi: register %s: overload (%v) clashes with another", f.Name, f.Params)
		}
	}
	if C.duckdb_register_aggregate_function_set(conn.Ptr, set) != 0 {
		return fmt.Errorf("capi: could not register aggregate function %s", overloads[0].Name)
	}
	return nil
}

// RegisterAggregateFunctions registers overloads through this connection.
func (c *Conn) RegisterAggregateFunctions(overloads []*AggregateFunction) error {
	return RegisterAggregateFunctions(c.c, overloads)
}

func aggFunction(info unsafe.Pointer) *AggregateFunction {
	return handleValue(C.duckdb_aggregate_function_get_extra_info(info)).(*AggregateFunction)
}

func aggState(state unsafe.Pointer) AggregateState {
	h := *(*C.uintptr_t)(state)
	if h == 0 {
		return nil
	}
	return cgo.Handle(h).Value().(AggregateState)
}

func aggError(info unsafe.Pointer, name string, msg string) {
	c := C.CString(name + ": " + msg)
	defer C.free(unsafe.Pointer(c))
	C.duckdb_aggregate_function_set_error(info, c)
}

//export hepsqlAggStateSize
func hepsqlAggStateSize(unsafe.Pointer) C.uint64_t {
	return C.uint64_t(unsafe.Sizeof(C.uintptr_t(0)))
}

//export hepsqlAggInit
func hepsqlAggInit(info, state unsafe.Pointer) {
	f := aggFunction(info)
	*(*C.uintptr_t)(state) = C.uintptr_t(cgo.NewHandle(f.New()))
}

//export hepsqlAggUpdate
func hepsqlAggUpdate(info, input unsafe.Pointer, states *unsafe.Pointer) {
	f := aggFunction(info)
	defer func() {
		if r := recover(); r != nil {
			aggError(info, f.Name, fmt.Sprintf("internal error: %v", r))
		}
	}()
	chunk := ddb.DataChunk{Ptr: input}
	args := Args{c: chunk, n: int(ddb.DataChunkGetSize(chunk))}
	ptrs := unsafe.Slice(states, args.n)
	for from := 0; from < args.n; {
		to := from + 1
		for to < args.n && ptrs[to] == ptrs[from] {
			to++
		}
		if err := aggState(ptrs[from]).Update(args, from, to); err != nil {
			aggError(info, f.Name, err.Error())
			return
		}
		from = to
	}
}

//export hepsqlAggCombine
func hepsqlAggCombine(info unsafe.Pointer, source, target *unsafe.Pointer, count C.uint64_t) {
	f := aggFunction(info)
	defer func() {
		if r := recover(); r != nil {
			aggError(info, f.Name, fmt.Sprintf("internal error: %v", r))
		}
	}()
	src, dst := unsafe.Slice(source, int(count)), unsafe.Slice(target, int(count))
	for i := range src {
		if err := aggState(dst[i]).Combine(aggState(src[i])); err != nil {
			aggError(info, f.Name, err.Error())
			return
		}
	}
}

//export hepsqlAggFinalize
func hepsqlAggFinalize(info unsafe.Pointer, source *unsafe.Pointer, result unsafe.Pointer, count, offset C.uint64_t) {
	f := aggFunction(info)
	defer func() {
		if r := recover(); r != nil {
			aggError(info, f.Name, fmt.Sprintf("internal error: %v", r))
		}
	}()
	out := Vector{v: ddb.Vector{Ptr: result}}
	for i, s := range unsafe.Slice(source, int(count)) {
		if err := aggState(s).Finalize(out, int(offset)+i); err != nil {
			aggError(info, f.Name, err.Error())
			return
		}
	}
}

//export hepsqlAggDestroy
func hepsqlAggDestroy(states *unsafe.Pointer, count C.uint64_t) {
	for _, s := range unsafe.Slice(states, int(count)) {
		cell := (*C.uintptr_t)(s)
		if *cell != 0 {
			cgo.Handle(*cell).Delete()
			*cell = 0
		}
	}
}
