//go:build !hepsql_extension

// Column names for a COPY ... TO bind callback.
//
// DuckDB 1.5's C API hands a copy function's bind the column types
// (duckdb_copy_function_bind_get_column_type) but not the column names,
// although its bind info holds them. This file reads them from that
// struct, duckdb::CCopyFunctionToInternalBindInfo in DuckDB's
// src/main/capi/copy_function-c.cpp, whose first members are references
// (stored as pointers): ClientContext &, CopyFunctionBindInput &,
// const vector<LogicalType> &sql_types, const vector<string> &names.
// duckdb::vector<T> derives from std::vector<T> and adds no member, and
// this file is compiled against the same C++ standard library DuckDB's
// static library was (it links -lstdc++ on Linux, libc++ on macOS), so
// std::vector<std::string> here is the type DuckDB wrote.
//
// The layout is pinned to the duckdb-go-bindings version in go.mod
// (DuckDB v1.5.5); hepsqlCopyBindNames cross-checks the names' count with
// duckdb_copy_function_bind_get_column_count before use, and
// TestCopyColumnNames fails if an upgrade moves the member.
#include <cstdint>
#include <string>
#include <vector>

namespace {
struct copy_bind_info_prefix {
	void *context;
	void *input;
	const void *sql_types;
	const std::vector<std::string> *names;
};
} // namespace

extern "C" {

// hepsql_copy_bind_name_count is the number of column names in info.
uint64_t hepsql_copy_bind_name_count(void *info) {
	auto p = static_cast<const copy_bind_info_prefix *>(info);
	if (!p || !p->names) {
		return 0;
	}
	return p->names->size();
}

// hepsql_copy_bind_name returns column i's name (not NUL-terminated
// necessarily; *len is its length). The bytes belong to DuckDB and live
// as long as the bind callback.
const char *hepsql_copy_bind_name(void *info, uint64_t i, uint64_t *len) {
	auto p = static_cast<const copy_bind_info_prefix *>(info);
	const std::string &s = (*p->names)[i];
	*len = s.size();
	return s.data();
}
}
