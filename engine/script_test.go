package engine

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func sqls(stmts []Statement) []string {
	out := []string{}
	for _, s := range stmts {
		out = append(out, s.SQL)
	}
	return out
}

func TestSplitSQL(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
		rest      string
		pending   bool
	}{
		{"plain", "SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}, "", false},
		{"trailing", "SELECT 1; SELECT 2", []string{"SELECT 1"}, " SELECT 2", true},
		{"string", "SELECT ';' AS a, 'it''s; ok';", []string{"SELECT ';' AS a, 'it''s; ok'"}, "", false},
		{"identifier", `SELECT "a;""b" FROM t;`, []string{`SELECT "a;""b" FROM t`}, "", false},
		{"line comment", "SELECT 1 -- c;omment\n; SELECT 2;", []string{"SELECT 1 -- c;omment", "SELECT 2"}, "", false},
		{"nested block comment", "/* a; /* b; */ c; */ SELECT 1;", []string{"SELECT 1"}, "", false},
		{"dollar quotes", "SELECT $$a;b$$, $fn$ x; $$ y $fn$;", []string{"SELECT $$a;b$$, $fn$ x; $$ y $fn$"}, "", false},
		{"escape string", `SELECT E'it\'s; here';`, []string{`SELECT E'it\'s; here'`}, "", false},
		{"dollar not quote", "SELECT a$b$c; SELECT $1; SELECT '${x}';", []string{"SELECT a$b$c", "SELECT $1", "SELECT '${x}'"}, "", false},
		{"empty statements", ";;  ; -- only a comment\n; /* x */ ;", nil, "", false},
		{"open string", "SELECT 'open;", nil, "SELECT 'open;", true},
		{"open comment", "/* still; open", nil, "/* still; open", true},
		{"comment after last", "SELECT 1; -- done\n", []string{"SELECT 1"}, " -- done\n", false},
		{"multi line", "SELECT\n  1\n  ;", []string{"SELECT\n  1"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stmts, rest, pending := SplitSQL(tc.src)
			if got := sqls(stmts); len(got)+len(tc.want) > 0 && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("statements = %q, want %q", got, tc.want)
			}
			if rest != tc.rest || pending != tc.pending {
				t.Errorf("rest, pending = %q, %v; want %q, %v", rest, pending, tc.rest, tc.pending)
			}
		})
	}
}

func TestParseScriptPositions(t *testing.T) {
	src := "-- header\n\n  SELECT 1;   /* c */ SELECT\n    2\n  ;\nSELECT 'é'; SELECT 3"
	stmts, err := ParseScript("p.sql", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	type pos struct {
		SQL       string
		Line, Col int
	}
	var got []pos
	for _, s := range stmts {
		got = append(got, pos{s.SQL, s.Line, s.Col})
	}
	want := []pos{{"SELECT 1", 3, 3}, {"SELECT\n    2", 3, 23}, {"SELECT 'é'", 6, 1}, {"SELECT 3", 6, 13}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

const paramScript = `-- @param input = data/events.root
-- @param dir = '/tmp/out dir'
-- @param out = ${dir}/hist.parquet
-- @param cut   =   25
-- A comment may mention ${undeclared} freely.
SELECT * FROM read_root('${input}') WHERE pt > ${cut};
COPY t TO '${out}';
`

func TestParseScriptParams(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		want      []string
	}{
		{"defaults", nil, []string{
			"SELECT * FROM read_root('data/events.root') WHERE pt > 25",
			"COPY t TO '/tmp/out dir/hist.parquet'",
		}},
		{"overrides", map[string]string{"input": "x.root", "dir": "/o", "cut": "${literal}"}, []string{
			"SELECT * FROM read_root('x.root') WHERE pt > ${literal}",
			"COPY t TO '/o/hist.parquet'",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stmts, err := ParseScript("p.sql", paramScript, tc.overrides)
			if err != nil {
				t.Fatal(err)
			}
			if got := sqls(stmts); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestParseScriptErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		overrides map[string]string
		want      string
	}{
		{"unknown reference", "-- @param a = 1\nSELECT ${a},\n  ${x};", nil, "f.sql:3:3: unknown parameter ${x}"},
		{"unknown in string", "SELECT 1;\nSELECT read_root('${input}');", nil, "f.sql:2:19: unknown parameter ${input}"},
		{"unknown in default", "-- @param a = ${b}/x\nSELECT 1;", nil, "f.sql:1:15: unknown parameter ${b}"},
		{"override undeclared", "-- @param a = 1\n-- @param b = 2\nSELECT ${a};", map[string]string{"c": "3", "a": "x"},
			"f.sql: --set c: no such parameter (declared: a, b)"},
		{"override without declarations", "SELECT 1;", map[string]string{"c": "3"},
			"f.sql: --set c: no such parameter (the file declares none)"},
		{"malformed declaration", "SELECT 1;\n  -- @param 9a = 1\n", nil,
			"f.sql:2:3: malformed parameter declaration, want -- @param NAME = VALUE"},
		{"duplicate declaration", "-- @param a = 1\n-- @param a = 2\n", nil, "f.sql:2:1: parameter a already declared on line 1"},
		{"unterminated string", "SELECT 1;\nSELECT 'abc;\nSELECT 2;", nil, "f.sql:2:8: unterminated string literal"},
		{"unterminated comment", "SELECT 1; /* x", nil, "f.sql:1:11: unterminated block comment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScript("f.sql", tc.src, tc.overrides)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func runFile(t *testing.T, db *sql.DB, src string, overrides map[string]string) ([]Result, error) {
	t.Helper()
	stmts, err := ParseScript("bad.sql", src, overrides)
	if err != nil {
		t.Fatal(err)
	}
	var results []Result
	err = RunScript(context.Background(), db, stmts, "bad.sql", func(r Result) error {
		results = append(results, r)
		return nil
	})
	return results, err
}

func TestRunScriptSession(t *testing.T) {
	// SET and a temporary table only exist on one connection: the file must
	// run on one. Status-only statements produce no result.
	src := `SET threads = 1;
CREATE TEMP TABLE t AS SELECT range AS x FROM range(3);
INSERT INTO t VALUES (10);
SELECT current_setting('threads') AS n, count(*) AS c FROM t;
INSERT INTO t VALUES (11) RETURNING x;
SELECT count(*) AS "Count" FROM t WHERE false;
`
	results, err := runFile(t, openDB(t), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("got %d results, want 3", len(results))
	}
	r := results[0]
	if !reflect.DeepEqual(r.Columns, []string{"n", "c"}) || !reflect.DeepEqual(r.Types, []string{"BIGINT", "BIGINT"}) ||
		!reflect.DeepEqual(r.Rows, [][]any{{int64(1), int64(4)}}) || r.Stmt.Line != 4 {
		t.Errorf("first result = %+v", r)
	}
	if !reflect.DeepEqual(results[1].Rows, [][]any{{int64(11)}}) {
		t.Errorf("RETURNING result = %+v", results[1].Rows)
	}
	if !reflect.DeepEqual(results[2].Rows, [][]any{{int64(0)}}) {
		t.Errorf("count result = %+v", results[2].Rows)
	}
}

func TestRunScriptErrorPositions(t *testing.T) {
	const head = `-- @param n = 3
-- a pipeline whose seventh line is broken

CREATE TABLE t AS SELECT range AS x FROM range(${n});
SELECT count(*) FROM t;

SELECT x, nosuch FROM t;
SELECT 1;
`
	for _, tc := range []struct{ name, src, want string }{
		{"binder error on line 7", head,
			"bad.sql:7:11: Binder Error: Referenced column \"nosuch\" not found in FROM clause!\n" +
				"Candidate bindings: \"x\"\n\nLINE 7: SELECT x, nosuch FROM t\n                  ^"},
		{"statement spanning lines", "SELECT 1;\nSELECT\n  x,\n\t  y\nFROM (SELECT 1 AS x);",
			"bad.sql:4:4: Binder Error: Referenced column \"y\" not found in FROM clause!\n" +
				"Candidate bindings: \"x\"\n\nLINE 4: \t  y\n          ^"},
		{"after substitution", "-- @param long = \"'a very long value'\"\nSELECT ${long} || ${long}, nosuch;",
			"bad.sql:2:28: Binder Error: Referenced column \"nosuch\" was not found because the FROM clause is missing\n\n" +
				"LINE 2: SELECT 'a very long value' || 'a very long value', nosuch\n" +
				strings.Repeat(" ", len("LINE 2: SELECT 'a very long value' || 'a very long value', ")) + "^"},
		{"inside substituted value", "-- @param col = nosuch\nSELECT 1,\n  ${col};", "bad.sql:3:3: Binder Error"},
		{"long line cut by DuckDB", "SELECT 1;\nSELECT " + strings.Repeat("1 + ", 40) + "nosuch + 2;",
			"bad.sql:2:168: Binder Error"},
		// DuckDB cuts this line to "..._range(...) WHERE nosuch ... AND...",
		// dots without blanks; the column is counted in the file, where
		// ${input} is 8 characters.
		{"after substitution, line cut", "-- @param input = " + strings.Repeat("x", 60) + "\nSELECT count(*) FROM (SELECT '${input}' AS s) WHERE nosuch > 1 AND " + strings.Repeat("s > 'a' AND ", 8) + "true;",
			"bad.sql:2:53: Binder Error"},
		{"no position", "SELECT 1;\n  SELECT error('boom');", "bad.sql:2:3: Invalid Input Error: boom"},
		{"parser error", "SELECT 1;\nSELECT * FROM FROM;", "bad.sql:2:15: Parser Error: syntax error at or near \"FROM\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runFile(t, openDB(t), tc.src, nil)
			var se *ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a *ScriptError", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error =\n%s\nwant prefix\n%s", err, tc.want)
			}
		})
	}
}

func TestRunScriptCancel(t *testing.T) {
	db := openDB(t)
	stmts, err := ParseScript("slow.sql", "SELECT 1;\n  SELECT count(*) FROM range(10000000000);", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = RunScript(ctx, db, stmts, "slow.sql", func(Result) error { return nil })
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("cancellation took %v", took)
	}
	if err == nil || err.Error() != "slow.sql:2:3: interrupted: deadline exceeded" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v", err)
	}
	// The database stays usable after an interrupted query.
	results, err := runFile(t, db, "SELECT 42 AS x;", nil)
	if err != nil || len(results) != 1 || results[0].Rows[0][0] != int32(42) {
		t.Fatalf("after cancel: %v %+v", err, results)
	}
}

func TestStatementPositionWithoutOrigin(t *testing.T) {
	st := Statement{SQL: "SELECT\n  nosuch", Line: 10, Col: 5}
	_, _, err := RunStatement(context.Background(), mustConn(t), st)
	got := locateError("x.sql", st, err)
	if !strings.HasPrefix(got.Error(), "x.sql:11:3: Binder Error") {
		t.Errorf("error = %v", got)
	}
}

func mustConn(t *testing.T) *sql.Conn {
	t.Helper()
	conn, err := openDB(t).Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
