//go:build hepsql_extension

package extapi

/*
#include <stdbool.h>
#include <stdlib.h>
#include <duckdb.h>

extern const unsigned long hepsql_ext_api_slots;
void hepsql_ext_set_api(const void *p);
void hepsql_ext_keep_api(void);

static const void *hepsql_get_api(struct duckdb_extension_access *a, duckdb_extension_info info, const char *v) {
	return a->get_api(info, v);
}
static duckdb_database *hepsql_get_database(struct duckdb_extension_access *a, duckdb_extension_info info) {
	return a->get_database(info);
}
static void hepsql_set_error(struct duckdb_extension_access *a, duckdb_extension_info info, const char *msg) {
	a->set_error(info, msg);
}
// Called only after hepsql_ext_set_api: the forwarder reaches the host.
static const char *hepsql_host_version(void) { return duckdb_library_version(); }
*/
import "C"

import (
	"fmt"
	"runtime/debug"
	"unsafe"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

// CAPIVersion is the C API version hepsql asks the host for, and the
// minimum written into the extension's footer.
const CAPIVersion = "v1.2.0"

// OnLoad registers hepsql on the host's database. It runs once, inside
// hepsql_init_c_api, after the host's version was checked; the database
// handle is valid only during the call (connections opened from it stay
// valid).
var OnLoad func(db ddb.Database) error

// hepsql_init_c_api is the entry point DuckDB calls when it loads
// hepsql.duckdb_extension (the name is the file's basename + _init_c_api).
// It returns false, with the reason in the host's error, rather than
// letting anything fail inside the host.
//
//export hepsql_init_c_api
func hepsql_init_c_api(info C.duckdb_extension_info, access *C.struct_duckdb_extension_access) (ok C.bool) {
	fail := func(msg string) C.bool {
		cs := C.CString("hepsql: " + msg)
		defer C.free(unsafe.Pointer(cs))
		C.hepsql_set_error(access, info, cs)
		return false
	}
	defer func() {
		if r := recover(); r != nil {
			ok = fail(fmt.Sprintf("panic while loading: %v\n%s", r, debug.Stack()))
		}
	}()
	cv := C.CString(CAPIVersion)
	defer C.free(unsafe.Pointer(cv))
	api := C.hepsql_get_api(access, info, cv)
	if api == nil {
		return fail("this DuckDB does not offer C API " + CAPIVersion + "; hepsql needs DuckDB v1.5.2 to v2.0.x")
	}
	C.hepsql_ext_set_api(api)
	host := C.GoString(C.hepsql_host_version())
	if !Supported(host) {
		return fail(fmt.Sprintf("DuckDB %s is not supported: this build of hepsql loads into DuckDB v1.5.2 to v2.0.x (its calls use the layout of their C API function table)", host))
	}
	C.hepsql_ext_keep_api()
	db := C.hepsql_get_database(access, info)
	if db == nil || OnLoad == nil {
		return fail("no database to register on")
	}
	if err := OnLoad(ddb.Database{Ptr: unsafe.Pointer(*db)}); err != nil {
		return fail(err.Error())
	}
	return true
}
