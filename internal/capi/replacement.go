package capi

/*
void hepsqlReplacementScan(void *info, char *tableName, void *data);
void hepsqlDeleteHandle(void *cell);
*/
import "C"

import (
	"unsafe"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

// ReplacementScan maps a table name that is not in the catalog (such as
// 'data/f.root') to a table function call. It returns ok=false to let DuckDB
// try its other replacement scans.
type ReplacementScan func(table string) (function string, args []string, ok bool)

// AddReplacementScan installs scan on the database; it applies to every
// connection.
func AddReplacementScan(db ddb.Database, scan ReplacementScan) {
	ddb.AddReplacementScan(db, unsafe.Pointer(C.hepsqlReplacementScan), newHandleCell(scan), unsafe.Pointer(C.hepsqlDeleteHandle))
}

//export hepsqlReplacementScan
func hepsqlReplacementScan(info unsafe.Pointer, tableName *C.char, data unsafe.Pointer) {
	ri := ddb.ReplacementScanInfo{Ptr: info}
	defer func() {
		if r := recover(); r != nil {
			ddb.ReplacementScanSetError(ri, recovered("replacement scan", r))
		}
	}()
	scan := handleValue(data).(ReplacementScan)
	fn, args, ok := scan(C.GoString(tableName))
	if !ok {
		return
	}
	ddb.ReplacementScanSetFunctionName(ri, fn)
	for _, a := range args {
		v := ddb.CreateVarchar(a)
		ddb.ReplacementScanAddParameter(ri, v)
		ddb.DestroyValue(&v)
	}
}
