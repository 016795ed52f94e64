package capi

/*
#include <stdlib.h>
#include <stdint.h>

void hepsqlTableBind(void *info);
void hepsqlTableInit(void *info);
void hepsqlTableLocalInit(void *info);
void hepsqlTableFunction(void *info, void *output);
void hepsqlDeleteHandle(void *cell);
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"runtime/cgo"
	"unsafe"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

var errListReserve = errors.New("capi: could not reserve list child rows")

// TableFunction describes a table function: its SQL name, its arguments and
// the Go code that binds a call to a Table.
type TableFunction struct {
	Name   string
	Params []Type
	Named  []NamedParam
	// Bind validates the arguments and describes the result. It runs once per
	// query, at planning time.
	Bind func(args *BindArgs) (Table, error)

	queries QueryContexts // set by Conn.RegisterTableFunction; see BindArgs.QueryDone
}

// NamedParam is one `name := value` parameter.
type NamedParam struct {
	Name string
	Type Type
}

// Column is one result column of a Table.
type Column struct {
	Name string
	Type Type
}

// Table is a bound call of a table function.
type Table interface {
	Columns() []Column
	// Cardinality is the estimated number of rows; exact when known.
	Cardinality() (rows int64, exact bool)
	// Start begins a scan producing only the columns at the given indices
	// (into Columns(), in output order): projection pushdown.
	Start(projected []int) (Scan, error)
}

// Scan is the shared state of one scan. DuckDB calls NewWorker once per
// thread, up to MaxThreads, and Fill concurrently on different workers.
type Scan interface {
	MaxThreads() int
	NewWorker() (Worker, error)
}

// Worker fills output chunks on one thread. Fill writes up to
// capi.VectorSize rows into out's vectors (in projected order) and returns
// the row count; 0 ends this worker's share of the scan.
type Worker interface {
	Fill(out Chunk) (int, error)
}

// RegisterTableFunction registers f on conn. Functions go to DuckDB's system
// catalog, so every connection of the database sees them.
func RegisterTableFunction(conn ddb.Connection, f *TableFunction) error {
	tf := ddb.CreateTableFunction()
	defer ddb.DestroyTableFunction(&tf)
	ddb.TableFunctionSetName(tf, f.Name)
	for _, p := range f.Params {
		lt, err := newLogicalType(p)
		if err != nil {
			return fmt.Errorf("capi: register %s: %w", f.Name, err)
		}
		ddb.TableFunctionAddParameter(tf, lt)
		ddb.DestroyLogicalType(&lt)
	}
	for _, p := range f.Named {
		lt, err := newLogicalType(p.Type)
		if err != nil {
			return fmt.Errorf("capi: register %s: %w", f.Name, err)
		}
		ddb.TableFunctionAddNamedParameter(tf, p.Name, lt)
		ddb.DestroyLogicalType(&lt)
	}
	ddb.TableFunctionSetExtraInfo(tf, newHandleCell(f), unsafe.Pointer(C.hepsqlDeleteHandle))
	ddb.TableFunctionSetBind(tf, unsafe.Pointer(C.hepsqlTableBind))
	ddb.TableFunctionSetInit(tf, unsafe.Pointer(C.hepsqlTableInit))
	ddb.TableFunctionSetLocalInit(tf, unsafe.Pointer(C.hepsqlTableLocalInit))
	ddb.TableFunctionSetFunction(tf, unsafe.Pointer(C.hepsqlTableFunction))
	ddb.TableFunctionSupportsProjectionPushdown(tf, true)
	if ddb.RegisterTableFunction(conn, tf) == ddb.StateError {
		return fmt.Errorf("capi: could not register table function %s", f.Name)
	}
	return nil
}

// newHandleCell stores a handle to v in C memory that DuckDB will own; see
// the package doc for the ownership rules.
func newHandleCell(v any) unsafe.Pointer {
	cell := (*C.uintptr_t)(C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0)))))
	*cell = C.uintptr_t(cgo.NewHandle(v))
	return unsafe.Pointer(cell)
}

func handleValue(cell unsafe.Pointer) any {
	return cgo.Handle(*(*C.uintptr_t)(cell)).Value()
}

//export hepsqlDeleteHandle
func hepsqlDeleteHandle(cell unsafe.Pointer) {
	if cell == nil {
		return
	}
	h := cgo.Handle(*(*C.uintptr_t)(cell))
	if c, ok := h.Value().(io.Closer); ok {
		_ = c.Close() // DuckDB has no channel for errors on destruction
	}
	h.Delete()
	C.free(cell)
}

// boundTable is what DuckDB keeps as bind data.
type boundTable struct {
	fn    *TableFunction
	table Table
}

func (b *boundTable) Close() error {
	if c, ok := b.table.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// scanState is what DuckDB keeps as global init data.
type scanState struct {
	fn   *TableFunction
	scan Scan
}

func (s *scanState) Close() error {
	if c, ok := s.scan.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

type workerState struct {
	fn     *TableFunction
	worker Worker
}

func (w *workerState) Close() error {
	if c, ok := w.worker.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func recovered(name string, r any) string {
	return fmt.Sprintf("%s: internal error: %v", name, r)
}

//export hepsqlTableBind
func hepsqlTableBind(info unsafe.Pointer) {
	bi := ddb.BindInfo{Ptr: info}
	f := handleValue(ddb.BindGetExtraInfo(bi)).(*TableFunction)
	defer func() {
		if r := recover(); r != nil {
			ddb.BindSetError(bi, recovered(f.Name, r))
		}
	}()
	table, err := f.Bind(&BindArgs{info: bi, fn: f})
	if err != nil {
		ddb.BindSetError(bi, err.Error())
		return
	}
	for _, c := range table.Columns() {
		lt, err := newLogicalType(c.Type)
		if err != nil {
			ddb.BindSetError(bi, err.Error())
			return
		}
		ddb.BindAddResultColumn(bi, c.Name, lt)
		ddb.DestroyLogicalType(&lt)
	}
	rows, exact := table.Cardinality()
	if rows >= 0 {
		ddb.BindSetCardinality(bi, ddb.IdxT(rows), exact)
	}
	ddb.BindSetBindData(bi, newHandleCell(&boundTable{fn: f, table: table}), unsafe.Pointer(C.hepsqlDeleteHandle))
}

//export hepsqlTableInit
func hepsqlTableInit(info unsafe.Pointer) {
	ii := ddb.InitInfo{Ptr: info}
	bt := handleValue(ddb.InitGetBindData(ii)).(*boundTable)
	defer func() {
		if r := recover(); r != nil {
			ddb.InitSetError(ii, recovered(bt.fn.Name, r))
		}
	}()
	n := int(ddb.InitGetColumnCount(ii))
	projected := make([]int, n)
	for i := range projected {
		projected[i] = int(ddb.InitGetColumnIndex(ii, ddb.IdxT(i)))
	}
	scan, err := bt.table.Start(projected)
	if err != nil {
		ddb.InitSetError(ii, err.Error())
		return
	}
	if t := scan.MaxThreads(); t > 1 {
		ddb.InitSetMaxThreads(ii, ddb.IdxT(t))
	}
	ddb.InitSetInitData(ii, newHandleCell(&scanState{fn: bt.fn, scan: scan}), unsafe.Pointer(C.hepsqlDeleteHandle))
}

//export hepsqlTableLocalInit
func hepsqlTableLocalInit(info unsafe.Pointer) {
	ii := ddb.InitInfo{Ptr: info}
	bt := handleValue(ddb.InitGetBindData(ii)).(*boundTable)
	// The C API's local init cannot see the global init data, so the worker
	// is created on the thread's first Fill, where both are reachable.
	ddb.InitSetInitData(ii, newHandleCell(&workerState{fn: bt.fn}), unsafe.Pointer(C.hepsqlDeleteHandle))
}

//export hepsqlTableFunction
func hepsqlTableFunction(info unsafe.Pointer, output unsafe.Pointer) {
	fi := ddb.FunctionInfo{Ptr: info}
	chunk := ddb.DataChunk{Ptr: output}
	ws := handleValue(ddb.FunctionGetLocalInitData(fi)).(*workerState)
	defer func() {
		if r := recover(); r != nil {
			ddb.DataChunkSetSize(chunk, 0)
			ddb.FunctionSetError(fi, recovered(ws.fn.Name, r))
		}
	}()
	if ws.worker == nil {
		ss := handleValue(ddb.FunctionGetInitData(fi)).(*scanState)
		w, err := ss.scan.NewWorker()
		if err != nil {
			ddb.DataChunkSetSize(chunk, 0)
			ddb.FunctionSetError(fi, err.Error())
			return
		}
		ws.worker = w
	}
	n, err := ws.worker.Fill(Chunk{c: chunk})
	if err != nil {
		ddb.DataChunkSetSize(chunk, 0)
		ddb.FunctionSetError(fi, err.Error())
		return
	}
	ddb.DataChunkSetSize(chunk, ddb.IdxT(n))
}
