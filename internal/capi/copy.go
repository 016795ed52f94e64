//go:build !hepsql_extension

package capi

/*
#include <stdlib.h>
#include <stdint.h>

// DuckDB's COPY-function C API (duckdb.h, "Copy Functions"), which
// duckdb-go-bindings does not wrap: declared here with opaque pointers; the
// bindings module links the library.
void *duckdb_create_copy_function();
void duckdb_destroy_copy_function(void **copy_function);
void duckdb_copy_function_set_name(void *copy_function, const char *name);
void duckdb_copy_function_set_extra_info(void *copy_function, void *extra_info, void *destructor);
int duckdb_register_copy_function(void *connection, void *copy_function);
void duckdb_copy_function_set_bind(void *copy_function, void *bind);
void duckdb_copy_function_set_global_init(void *copy_function, void *init);
void duckdb_copy_function_set_sink(void *copy_function, void *sink);
void duckdb_copy_function_set_finalize(void *copy_function, void *finalize);

void duckdb_copy_function_bind_set_error(void *info, const char *error);
void *duckdb_copy_function_bind_get_extra_info(void *info);
uint64_t duckdb_copy_function_bind_get_column_count(void *info);
void *duckdb_copy_function_bind_get_column_type(void *info, uint64_t col);
void *duckdb_copy_function_bind_get_options(void *info);
void duckdb_copy_function_bind_set_bind_data(void *info, void *bind_data, void *destructor);

void duckdb_copy_function_global_init_set_error(void *info, const char *error);
void *duckdb_copy_function_global_init_get_bind_data(void *info);
const char *duckdb_copy_function_global_init_get_file_path(void *info);
void duckdb_copy_function_global_init_set_global_state(void *info, void *state, void *destructor);

void duckdb_copy_function_sink_set_error(void *info, const char *error);
void *duckdb_copy_function_sink_get_bind_data(void *info);
void *duckdb_copy_function_sink_get_global_state(void *info);

void duckdb_copy_function_finalize_set_error(void *info, const char *error);
void *duckdb_copy_function_finalize_get_bind_data(void *info);
void *duckdb_copy_function_finalize_get_global_state(void *info);

// copynames.cpp
uint64_t hepsql_copy_bind_name_count(void *info);
const char *hepsql_copy_bind_name(void *info, uint64_t i, uint64_t *len);

void hepsqlCopyBind(void *info);
void hepsqlCopyInit(void *info);
void hepsqlCopySink(void *info, void *input);
void hepsqlCopyFinalize(void *info);
void hepsqlDeleteHandle(void *cell);
*/
import "C"

import (
	"fmt"
	"io"
	"strings"
	"unsafe"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

// CopyFunction is a `COPY ... TO 'path' (FORMAT name, ...)` format.
//
// The life of one COPY statement, and the contract the callbacks rely on
// (DuckDB 1.5.5's C-API copy function, src/main/capi/copy_function-c.cpp,
// checked by TestCopyFunction):
//
//   - Bind runs once, at planning, with the options and the columns (names
//     and types). It returns the CopyTarget, or an error that DuckDB reports
//     as a Binder Error before anything is written.
//   - CopyTarget.Open runs when execution starts, with the file path as
//     written in the statement (relative to the working directory). Its
//     error is reported as an Invalid Input Error. A prepared COPY is bound
//     once and calls Open again at each execution (never two at a time on
//     one connection), so a CopyTarget keeps no per-file state of its own.
//   - CopyWriter.Write receives the query's result a whole DataChunk at a
//     time (up to VectorSize rows, every vector flat: DuckDB flattens the
//     chunk before the call). The C API registers no local state and no
//     parallel mode, so DuckDB runs the COPY's sink single-threaded: calls
//     never overlap (tested with a parallel table scan, with and without
//     preserve_insertion_order), though consecutive calls may come from
//     different DuckDB threads. The writer therefore needs no lock.
//   - CopyWriter.Finish runs once after the last Write, on success only.
//   - When DuckDB drops the statement (after Finish, or after an error or an
//     interrupt at any step) it destroys the global state: if the
//     CopyWriter implements io.Closer, Close runs then, exactly once, and
//     may remove a partial file when Finish was not reached. A CopyTarget
//     that implements io.Closer is closed when DuckDB drops the bind data.
type CopyFunction struct {
	Name string
	Bind func(b *CopyBind) (CopyTarget, error)
}

// CopyBind is what a COPY statement gives Bind.
type CopyBind struct {
	// Options are the statement's options but FORMAT, keyed by their
	// upper-cased names: VARCHAR → string, BOOLEAN → bool, integers → int64,
	// FLOAT/DOUBLE/DECIMAL → float64, lists → []any, an option written
	// without a value → nil.
	Options map[string]any
	Columns []CopyColumn
}

// CopyColumn is one column of the query being copied.
type CopyColumn struct {
	Name string
	// Type is the column's type; Type.ID is Invalid for a type capi does
	// not describe (DATE, DECIMAL, MAP, ...), whose DuckDB name is TypeName.
	Type     Type
	TypeName string
}

// CopyTarget is a bound COPY: what Bind decided.
type CopyTarget interface {
	Open(path string) (CopyWriter, error)
}

// CopyWriter receives the rows of one COPY.
type CopyWriter interface {
	// Write consumes one chunk; in.Arg(i) is column i. The vectors are
	// valid only during the call.
	Write(in Args) error
	// Finish completes the output after the last chunk.
	Finish() error
}

// RegisterCopyFunction registers f on conn, in the system catalog: every
// connection of the database sees it. A function named like a file
// extension is also what DuckDB picks for `COPY ... TO 'x.<name>'` written
// without FORMAT.
func RegisterCopyFunction(conn ddb.Connection, f *CopyFunction) error {
	name := C.CString(f.Name)
	defer C.free(unsafe.Pointer(name))
	cf := C.duckdb_create_copy_function()
	defer C.duckdb_destroy_copy_function(&cf)
	C.duckdb_copy_function_set_name(cf, name)
	// DuckDB owns the cell from here: it calls hepsqlDeleteHandle when the
	// catalog entry goes (the database closes).
	C.duckdb_copy_function_set_extra_info(cf, newHandleCell(f), unsafe.Pointer(C.hepsqlDeleteHandle))
	C.duckdb_copy_function_set_bind(cf, unsafe.Pointer(C.hepsqlCopyBind))
	C.duckdb_copy_function_set_global_init(cf, unsafe.Pointer(C.hepsqlCopyInit))
	C.duckdb_copy_function_set_sink(cf, unsafe.Pointer(C.hepsqlCopySink))
	C.duckdb_copy_function_set_finalize(cf, unsafe.Pointer(C.hepsqlCopyFinalize))
	if C.duckdb_register_copy_function(conn.Ptr, cf) != 0 {
		return fmt.Errorf("capi: could not register copy function %s", f.Name)
	}
	return nil
}

// RegisterCopyFunction registers f through this connection.
func (c *Conn) RegisterCopyFunction(f *CopyFunction) error {
	return RegisterCopyFunction(c.c, f)
}

// boundCopy is the bind data DuckDB keeps for one COPY.
type boundCopy struct {
	fn     *CopyFunction
	target CopyTarget
}

func (b *boundCopy) Close() error {
	if c, ok := b.target.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// copyState is the global state DuckDB keeps for one COPY.
type copyState struct {
	fn     *CopyFunction
	writer CopyWriter
}

func (s *copyState) Close() error {
	if c, ok := s.writer.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// cError hands msg to one of the C API's set_error functions; the C API
// copies it into a std::string before returning.
func cError(set func(*C.char), msg string) {
	c := C.CString(msg)
	defer C.free(unsafe.Pointer(c))
	set(c)
}

// copyBindColumns reads the columns' names and types from a bind info.
func copyBindColumns(info unsafe.Pointer) ([]CopyColumn, error) {
	n := int(C.duckdb_copy_function_bind_get_column_count(info))
	if got := int(C.hepsql_copy_bind_name_count(info)); got != n {
		return nil, fmt.Errorf("capi: copy bind: %d column names for %d columns: DuckDB's copy bind info layout changed (see copynames.cpp)", got, n)
	}
	cols := make([]CopyColumn, n)
	for i := range cols {
		var l C.uint64_t
		p := C.hepsql_copy_bind_name(info, C.uint64_t(i), &l)
		cols[i].Name = C.GoStringN(p, C.int(l))
		// The type is a new C object that this function owns.
		lt := ddb.LogicalType{Ptr: C.duckdb_copy_function_bind_get_column_type(info, C.uint64_t(i))}
		cols[i].Type, cols[i].TypeName = copyColumnType(lt)
		if cols[i].Type.ID == Invalid {
			// typeFromLogical names DuckDB's ids by number; the alias-free
			// SQL spelling is clearer in an error.
			cols[i].TypeName = logicalTypeName(lt)
		}
		ddb.DestroyLogicalType(&lt)
	}
	return cols, nil
}

// copyColumnType is typeFromLogical that also describes MAP and UNION
// types, at any depth (COPY writers can write them; query results keep
// them undescribed, as their readers expect).
func copyColumnType(lt ddb.LogicalType) (Type, string) {
	var t Type
	switch ddb.GetTypeId(lt) {
	case ddb.TypeList, ddb.TypeArray:
		var child ddb.LogicalType
		if ddb.GetTypeId(lt) == ddb.TypeList {
			child = ddb.ListTypeChildType(lt)
		} else {
			child = ddb.ArrayTypeChildType(lt)
		}
		e, name := copyColumnType(child)
		ddb.DestroyLogicalType(&child)
		if ddb.GetTypeId(lt) == ddb.TypeList {
			t, name = ListOf(e), name+"[]"
		} else {
			size := int(ddb.ArrayTypeArraySize(lt))
			t, name = ArrayOf(e, size), fmt.Sprintf("%s[%d]", name, size)
		}
		if e.ID == Invalid {
			return Type{}, name
		}
		return t, name
	case ddb.TypeStruct, ddb.TypeUnion:
		t.ID = Struct
		n := int(ddb.StructTypeChildCount(lt))
		member := func(i int) (string, ddb.LogicalType) {
			return ddb.StructTypeChildName(lt, ddb.IdxT(i)), ddb.StructTypeChildType(lt, ddb.IdxT(i))
		}
		if ddb.GetTypeId(lt) == ddb.TypeUnion {
			t.ID, n = Union, int(ddb.UnionTypeMemberCount(lt))
			member = func(i int) (string, ddb.LogicalType) {
				return ddb.UnionTypeMemberName(lt, ddb.IdxT(i)), ddb.UnionTypeMemberType(lt, ddb.IdxT(i))
			}
		}
		for i := range n {
			name, m := member(i)
			mt, _ := copyColumnType(m)
			ddb.DestroyLogicalType(&m)
			if mt.ID == Invalid {
				return Type{}, map[TypeID]string{Struct: "STRUCT", Union: "UNION"}[t.ID]
			}
			t.Fields = append(t.Fields, Field{Name: name, Type: mt})
		}
		return t, t.String()
	case ddb.TypeMap:
		k, v := ddb.MapTypeKeyType(lt), ddb.MapTypeValueType(lt)
		defer ddb.DestroyLogicalType(&k)
		defer ddb.DestroyLogicalType(&v)
		kt, _ := copyColumnType(k)
		vt, _ := copyColumnType(v)
		if kt.ID == Invalid || vt.ID == Invalid {
			return Type{}, "MAP"
		}
		t = MapOf(kt, vt)
		return t, t.String()
	}
	return typeFromLogical(lt)
}

// logicalTypeName spells lt as SQL, through a NULL value of that type.
func logicalTypeName(lt ddb.LogicalType) string {
	switch ddb.GetTypeId(lt) {
	case ddb.TypeDate:
		return "DATE"
	case ddb.TypeTimestamp, ddb.TypeTimestampS, ddb.TypeTimestampMS, ddb.TypeTimestampNS:
		return "TIMESTAMP"
	case ddb.TypeTimestampTZ:
		return "TIMESTAMP WITH TIME ZONE"
	case ddb.TypeTime, ddb.TypeTimeTZ:
		return "TIME"
	case ddb.TypeInterval:
		return "INTERVAL"
	case ddb.TypeHugeInt:
		return "HUGEINT"
	case ddb.TypeUHugeInt:
		return "UHUGEINT"
	case ddb.TypeBlob:
		return "BLOB"
	case ddb.TypeDecimal:
		return "DECIMAL"
	case ddb.TypeEnum:
		return "ENUM"
	case ddb.TypeMap:
		return "MAP"
	case ddb.TypeUnion:
		return "UNION"
	case ddb.TypeUUID:
		return "UUID"
	case ddb.TypeBit:
		return "BIT"
	case ddb.TypeList:
		child := ddb.ListTypeChildType(lt)
		defer ddb.DestroyLogicalType(&child)
		return logicalTypeName(child) + "[]"
	case ddb.TypeArray:
		child := ddb.ArrayTypeChildType(lt)
		defer ddb.DestroyLogicalType(&child)
		return fmt.Sprintf("%s[%d]", logicalTypeName(child), ddb.ArrayTypeArraySize(lt))
	case ddb.TypeStruct:
		parts := make([]string, int(ddb.StructTypeChildCount(lt)))
		for i := range parts {
			child := ddb.StructTypeChildType(lt, ddb.IdxT(i))
			parts[i] = fmt.Sprintf("%q %s", ddb.StructTypeChildName(lt, ddb.IdxT(i)), logicalTypeName(child))
			ddb.DestroyLogicalType(&child)
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	}
	if t, _ := typeFromLogical(lt); t.ID != Invalid {
		return t.String()
	}
	return fmt.Sprintf("type #%d", ddb.GetTypeId(lt))
}

// copyOptions converts the options STRUCT (NULL when there are none).
func copyOptions(info unsafe.Pointer) (map[string]any, error) {
	opts := map[string]any{}
	v := ddb.Value{Ptr: C.duckdb_copy_function_bind_get_options(info)}
	if v.Ptr == nil {
		return opts, nil
	}
	defer ddb.DestroyValue(&v) // the options value is ours to destroy
	if ddb.IsNullValue(v) {
		return opts, nil
	}
	lt := ddb.GetValueType(v) // owned by v
	if ddb.GetTypeId(lt) != ddb.TypeStruct {
		return nil, fmt.Errorf("capi: copy options are not a STRUCT: %s", ddb.ValueToString(v))
	}
	for i := range int(ddb.StructTypeChildCount(lt)) {
		name := strings.ToUpper(ddb.StructTypeChildName(lt, ddb.IdxT(i)))
		child := ddb.GetStructChild(v, ddb.IdxT(i))
		g, err := valueToGo(child)
		ddb.DestroyValue(&child)
		if err != nil {
			return nil, fmt.Errorf("option %s: %w", name, err)
		}
		opts[name] = g
	}
	return opts, nil
}

//export hepsqlCopyBind
func hepsqlCopyBind(info unsafe.Pointer) {
	f := handleValue(C.duckdb_copy_function_bind_get_extra_info(info)).(*CopyFunction)
	fail := func(msg string) {
		cError(func(c *C.char) { C.duckdb_copy_function_bind_set_error(info, c) }, msg)
	}
	defer func() {
		if r := recover(); r != nil {
			fail(recovered("COPY (FORMAT "+f.Name+")", r))
		}
	}()
	cols, err := copyBindColumns(info)
	if err != nil {
		fail(err.Error())
		return
	}
	opts, err := copyOptions(info)
	if err != nil {
		fail(fmt.Sprintf("COPY (FORMAT %s): %v", f.Name, err))
		return
	}
	target, err := f.Bind(&CopyBind{Options: opts, Columns: cols})
	if err != nil {
		fail(err.Error())
		return
	}
	C.duckdb_copy_function_bind_set_bind_data(info, newHandleCell(&boundCopy{fn: f, target: target}), unsafe.Pointer(C.hepsqlDeleteHandle))
}

//export hepsqlCopyInit
func hepsqlCopyInit(info unsafe.Pointer) {
	bc := handleValue(C.duckdb_copy_function_global_init_get_bind_data(info)).(*boundCopy)
	fail := func(msg string) {
		cError(func(c *C.char) { C.duckdb_copy_function_global_init_set_error(info, c) }, msg)
	}
	defer func() {
		if r := recover(); r != nil {
			fail(recovered("COPY (FORMAT "+bc.fn.Name+")", r))
		}
	}()
	// The path belongs to DuckDB and lives for this call: copied by GoString.
	path := C.GoString(C.duckdb_copy_function_global_init_get_file_path(info))
	w, err := bc.target.Open(path)
	if err != nil {
		fail(err.Error())
		return
	}
	C.duckdb_copy_function_global_init_set_global_state(info, newHandleCell(&copyState{fn: bc.fn, writer: w}), unsafe.Pointer(C.hepsqlDeleteHandle))
}

//export hepsqlCopySink
func hepsqlCopySink(info, input unsafe.Pointer) {
	st := handleValue(C.duckdb_copy_function_sink_get_global_state(info)).(*copyState)
	fail := func(msg string) {
		cError(func(c *C.char) { C.duckdb_copy_function_sink_set_error(info, c) }, msg)
	}
	defer func() {
		if r := recover(); r != nil {
			fail(recovered("COPY (FORMAT "+st.fn.Name+")", r))
		}
	}()
	chunk := ddb.DataChunk{Ptr: input}
	if err := st.writer.Write(Args{c: chunk, n: int(ddb.DataChunkGetSize(chunk))}); err != nil {
		fail(err.Error())
	}
}

//export hepsqlCopyFinalize
func hepsqlCopyFinalize(info unsafe.Pointer) {
	st := handleValue(C.duckdb_copy_function_finalize_get_global_state(info)).(*copyState)
	fail := func(msg string) {
		cError(func(c *C.char) { C.duckdb_copy_function_finalize_set_error(info, c) }, msg)
	}
	defer func() {
		if r := recover(); r != nil {
			fail(recovered("COPY (FORMAT "+st.fn.Name+")", r))
		}
	}()
	if err := st.writer.Finish(); err != nil {
		fail(err.Error())
	}
}
