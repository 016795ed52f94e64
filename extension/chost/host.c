// A minimal stock DuckDB host, linked against the static DuckDB of a
// duckdb-go-bindings lib module (any version), for package extension's
// tests: it loads hepsql.duckdb_extension into a DuckDB that npm does not
// ship (2.0) and runs queries, the way the DuckDB CLI would.
//
// Usage: host EXTENSION THREADS < script
// The script is queries: a line "--- NAME" starts one, then its statements,
// each ending with a line ";;". For each query the output is a line
// "=== NAME", then the rows of its last statement that returned any, one
// line each, values separated by tabs (DuckDB's text of each value, NULL as
// \N), or a line "!!! MESSAGE" when a statement failed. The first line of
// the output is "version VERSION". A failed LOAD prints "!!! MESSAGE" and
// exits with status 3.
#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// DuckDB 2.0's static library registers its built-in extensions (among
// them loadable_extensions, without which LOAD of a file is refused) through
// the lib module's static_extension_loader.c; DuckDB 1.5 has no such step.
#ifdef HOST_STATIC_EXTENSIONS
int32_t duckdb_register_static_extensions(void);
#endif

static int run(duckdb_connection con, const char *sql, char **rows) {
	duckdb_result res;
	if (duckdb_query(con, sql, &res) == DuckDBError) {
		printf("!!! %s\n", duckdb_result_error(&res));
		duckdb_destroy_result(&res);
		return 0;
	}
	idx_t cols = duckdb_column_count(&res);
	idx_t nrows = duckdb_row_count(&res);
	if (cols > 0 && duckdb_result_return_type(res) == DUCKDB_RESULT_TYPE_QUERY_RESULT) {
		size_t cap = 1024, len = 0;
		char *buf = malloc(cap);
		buf[0] = 0;
		for (idx_t r = 0; r < nrows; r++) {
			for (idx_t c = 0; c < cols; c++) {
				char *v = duckdb_value_is_null(&res, c, r) ? NULL : duckdb_value_varchar(&res, c, r);
				const char *s = v ? v : "\\N";
				size_t need = len + strlen(s) + 2;
				if (need + 1 > cap) {
					while (need + 1 > cap) cap *= 2;
					buf = realloc(buf, cap);
				}
				len += sprintf(buf + len, "%s%s", s, c + 1 < cols ? "\t" : "\n");
				if (v) duckdb_free(v);
			}
		}
		free(*rows);
		*rows = buf;
	}
	duckdb_destroy_result(&res);
	return 1;
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: host EXTENSION THREADS < script\n");
		return 2;
	}
#ifdef HOST_STATIC_EXTENSIONS
	duckdb_register_static_extensions();
#endif
	duckdb_config config;
	duckdb_create_config(&config);
	duckdb_set_config(config, "allow_unsigned_extensions", "true");
	duckdb_set_config(config, "threads", argv[2]);
	duckdb_database db;
	char *err = NULL;
	if (duckdb_open_ext(NULL, &db, config, &err) == DuckDBError) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	duckdb_destroy_config(&config);
	duckdb_connection con;
	duckdb_connect(db, &con);
	printf("version %s\n", duckdb_library_version());
	char *load = malloc(strlen(argv[1]) * 2 + 16);
	char *p = load + sprintf(load, "LOAD '");
	for (const char *s = argv[1]; *s; s++) {
		if (*s == '\'') *p++ = '\'';
		*p++ = *s;
	}
	strcpy(p, "'");
	duckdb_result res;
	if (duckdb_query(con, load, &res) == DuckDBError) {
		printf("!!! %s\n", duckdb_result_error(&res));
		return 3;
	}
	duckdb_destroy_result(&res);

	size_t cap = 1 << 16, len = 0;
	char *sql = malloc(cap), *rows = NULL, line[65536];
	int ok = 1, started = 0;
	sql[0] = 0;
	while (fgets(line, sizeof line, stdin)) {
		if (strncmp(line, "--- ", 4) == 0) {
			if (started && ok) fputs(rows ? rows : "", stdout);
			free(rows);
			rows = NULL;
			ok = 1;
			started = 1;
			printf("=== %s", line + 4);
			continue;
		}
		if (strcmp(line, ";;\n") == 0) {
			if (ok) ok = run(con, sql, &rows);
			len = 0;
			sql[0] = 0;
			continue;
		}
		size_t n = strlen(line);
		if (len + n + 1 > cap) {
			while (len + n + 1 > cap) cap *= 2;
			sql = realloc(sql, cap);
		}
		memcpy(sql + len, line, n + 1);
		len += n;
	}
	if (started && ok) fputs(rows ? rows : "", stdout);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	return 0;
}
