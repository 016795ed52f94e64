package repl

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// shell runs input through a non-interactive shell with the timer off.
func shell(t *testing.T, input string, opts Options) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	opts.In, opts.Out, opts.Err, opts.NoTimer = strings.NewReader(input), &out, &errOut, true
	err = New(openDB(t), opts).Run(context.Background())
	return out.String(), errOut.String(), err
}

func TestPipedStatements(t *testing.T) {
	input := `-- a comment line
SELECT 1 AS a,
  'x;y' AS b;
SELECT 2 AS n; SELECT
  3 AS n

;
SELECT 4 AS last`
	out, errOut, err := shell(t, input, Options{})
	if err != nil || errOut != "" {
		t.Fatalf("err = %v, stderr = %q", err, errOut)
	}
	want := `┌─────────┬─────────┐
│ a       │ b       │
│ INTEGER │ VARCHAR │
├─────────┼─────────┤
│       1 │ x;y     │
└─────────┴─────────┘
(1 row)
┌─────────┐
│ n       │
│ INTEGER │
├─────────┤
│       2 │
└─────────┘
(1 row)
┌─────────┐
│ n       │
│ INTEGER │
├─────────┤
│       3 │
└─────────┘
(1 row)
┌─────────┐
│ last    │
│ INTEGER │
├─────────┤
│       4 │
└─────────┘
(1 row)
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

const modeQuery = `CREATE TABLE t AS SELECT * FROM (VALUES
	(1, 'plain', 1.5::DOUBLE, [1, 2], {'z': 'last', 'a': NULL}),
	(22, 'has "quotes", commas | pipes', NULL, [], {'z': 'q', 'a': 7})) v(id, name, x, l, s);
SELECT * FROM t ORDER BY id;
`

func TestModes(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{
		{ModeBox, `┌─────────┬──────────────────────────────┬────────┬───────────┬──────────────────────────────────┐
│ id      │ name                         │ x      │ l         │ s                                │
│ INTEGER │ VARCHAR                      │ DOUBLE │ INTEGER[] │ STRUCT("z" VARCHAR, "a" INTEGER) │
├─────────┼──────────────────────────────┼────────┼───────────┼──────────────────────────────────┤
│       1 │ plain                        │    1.5 │ [1, 2]    │ {'z': last, 'a': NULL}           │
│      22 │ has "quotes", commas | pipes │   NULL │ []        │ {'z': q, 'a': 7}                 │
└─────────┴──────────────────────────────┴────────┴───────────┴──────────────────────────────────┘
(2 rows)
`},
		// Fitted to 80 columns (no terminal, no $COLUMNS): the widest
		// columns are cut, an ASCII drawing.
		{ModeTable, `+---------+-----------------------+--------+-----------+-----------------------+
| id      | name                  | x      | l         | s                     |
| INTEGER | VARCHAR               | DOUBLE | INTEGER[] | STRUCT("z" VARCHAR, … |
+---------+-----------------------+--------+-----------+-----------------------+
|       1 | plain                 |    1.5 | [1, 2]    | {'z': last, 'a': NUL… |
|      22 | has "quotes", commas… |   NULL | []        | {'z': q, 'a': 7}      |
+---------+-----------------------+--------+-----------+-----------------------+
(2 rows)
`},
		{ModeLine, `  id = 1
name = plain
   x = 1.5
   l = [1, 2]
   s = {'z': last, 'a': NULL}

  id = 22
name = has "quotes", commas | pipes
   x = NULL
   l = []
   s = {'z': q, 'a': 7}
`},
		{ModeList, `id|name|x|l|s
1|plain|1.5|[1, 2]|{'z': last, 'a': NULL}
22|has "quotes", commas | pipes|NULL|[]|{'z': q, 'a': 7}
`},
		{ModeCSV, `id,name,x,l,s
1,plain,1.5,"[1, 2]","{'z': last, 'a': NULL}"
22,"has ""quotes"", commas | pipes",,[],"{'z': q, 'a': 7}"
`},
		{ModeJSON, `[
{"id":1,"name":"plain","x":1.5,"l":[1,2],"s":{"z":"last","a":null}},
{"id":22,"name":"has \"quotes\", commas | pipes","x":null,"l":[],"s":{"z":"q","a":7}}
]
`},
		{ModeMarkdown, `| id | name | x | l | s |
| ---:| --- | ---:| --- | --- |
| 1 | plain | 1.5 | [1, 2] | {'z': last, 'a': NULL} |
| 22 | has "quotes", commas \| pipes | NULL | [] | {'z': q, 'a': 7} |
(2 rows)
`},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Setenv("COLUMNS", "")
			width := 0
			if tc.mode == ModeBox {
				width = 200
			}
			out, errOut, err := shell(t, modeQuery, Options{Mode: tc.mode, MaxWidth: width})
			if err != nil || errOut != "" {
				t.Fatalf("err = %v, stderr = %q", err, errOut)
			}
			if out != tc.want {
				t.Errorf("output:\n%s\nwant:\n%s", out, tc.want)
			}
		})
	}
}

func TestModeSwitchAndSeparators(t *testing.T) {
	// .mode switches mid-stream; consecutive CSV results are separated by a
	// blank line, JSON results are a stream of arrays.
	input := ".mode csv\nSELECT 1 AS a;\nSELECT 2 AS b WHERE false;\n.mode json\nSELECT 3 AS c;\nSELECT 4 AS d WHERE false;\n.mode\n"
	out, errOut, err := shell(t, input, Options{})
	if err != nil || errOut != "" {
		t.Fatalf("err = %v, stderr = %q", err, errOut)
	}
	want := "a\n1\n\nb\n[\n{\"c\":3}\n]\n[]\njson\n"
	if out != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

func TestValueFormats(t *testing.T) {
	input := `.mode json
SELECT 1.50::DECIMAL(4,2) AS d, 170141183460469231731687303715884105727::HUGEINT AS h,
  'nan'::DOUBLE AS n, '-inf'::FLOAT AS f, MAP {'k': [1]} AS m, '<a&b>' AS s,
  DATE '2020-01-02' AS dt, TIMESTAMP '2020-01-02 03:04:05.25' AS ts, INTERVAL 90 MINUTE AS i,
  'a'::UNION(a VARCHAR, b INT) AS u, '\x01z'::BLOB AS bl, 1e20::DOUBLE AS big, 1234567::DOUBLE AS whole, [12.777097::FLOAT] AS f32;
.mode csv
SELECT 1.50::DECIMAL(4,2) AS d, 'nan'::DOUBLE AS n, MAP {'k': [1]} AS m, TIMESTAMPTZ '2020-01-02 03:04:05' AS tz,
  INTERVAL '1 year 2 months 3 days 04:05:06.5' AS i, '\x01z'::BLOB AS bl, 1e20::DOUBLE AS big, 1234567::DOUBLE AS whole,
  0.1::FLOAT AS fl, [{'q': 1, 'p': 2}] AS ls;
`
	out, errOut, err := shell(t, input, Options{})
	if err != nil || errOut != "" {
		t.Fatalf("err = %v, stderr = %q", err, errOut)
	}
	want := `[
{"d":1.5,"h":170141183460469231731687303715884105727,"n":"NaN","f":"-Infinity","m":{"k":[1]},"s":"<a&b>","dt":"2020-01-02","ts":"2020-01-02 03:04:05.25","i":"01:30:00","u":"a","bl":"\\x01z","big":100000000000000000000,"whole":1234567,"f32":[12.777097]}
]

d,n,m,tz,i,bl,big,whole,fl,ls
1.5,nan,{k=[1]},2020-01-02 03:04:05+00,1 year 2 months 3 days 04:05:06.5,\x01z,1e+20,1234567.0,0.1,"[{'q': 1, 'p': 2}]"
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

func TestErrorsThenContinue(t *testing.T) {
	input := "SELECT nosuch;\n.bogus\nSELECT 'still here' AS s;\n"
	out, errOut, err := shell(t, input, Options{Mode: ModeCSV})
	if !errors.Is(err, ErrFailed) || err.Error() != "2 failed: statements failed" {
		t.Errorf("err = %v, want ErrFailed", err)
	}
	if out != "s\nstill here\n" {
		t.Errorf("stdout = %q", out)
	}
	wantErr := "Error: Binder Error: Referenced column \"nosuch\" was not found because the FROM clause is missing\n\n" +
		"LINE 1: SELECT nosuch\n               ^\n" +
		"Error: unknown command .bogus; .help lists the commands\n"
	if errOut != wantErr {
		t.Errorf("stderr = %q\nwant %q", errOut, wantErr)
	}

	// With Bail the shell stops at the first failure.
	out, _, err = shell(t, input, Options{Mode: ModeCSV, Bail: true})
	if !errors.Is(err, ErrFailed) || out != "" {
		t.Errorf("bail: err = %v, stdout = %q", err, out)
	}
}

func TestDotCommands(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "make.sql")
	if err := os.WriteFile(script, []byte("-- @param n = 2\nCREATE TABLE made AS SELECT range AS i FROM range(${n});\nSELECT count(*) AS c FROM made;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.sql")
	if err := os.WriteFile(bad, []byte("SELECT 1;\n\nSELECT nope;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	input := fmt.Sprintf(`.mode csv
CREATE TABLE hits (id BIGINT, e DOUBLE);
CREATE VIEW hv AS SELECT * FROM hits;
CREATE TEMP TABLE scratch (x INT);
.tables
.schema hits
.schema
.read '%s' n=3
SELECT i FROM made ORDER BY i DESC LIMIT 1;
.read %s
.read %s nosuch=1
.schema missing
.timer maybe
.help functions
.help nothing
.quit
SELECT 'not reached';
`, script, bad, script)
	var out, errOut bytes.Buffer
	r := New(openDB(t), Options{In: strings.NewReader(input), Out: &out, Err: &errOut,
		HelpTopics: map[string]func(io.Writer) error{"functions": func(w io.Writer) error {
			_, err := io.WriteString(w, "delta_r(eta1, phi1, eta2, phi2)\n")
			return err
		}}})
	if err := r.Run(context.Background()); !errors.Is(err, ErrFailed) {
		t.Errorf("Run = %v, want ErrFailed", err)
	}
	wantOut := `name,kind
hits,table
hv,view
temp.main.scratch,temporary table

column,type,null
id,BIGINT,YES
e,DOUBLE,YES

table,column,type,null
hits,id,BIGINT,YES
hits,e,DOUBLE,YES
hv,id,BIGINT,YES
hv,e,DOUBLE,YES
scratch,x,INTEGER,YES

c
3

i
2

1
1
delta_r(eta1, phi1, eta2, phi2)
`
	if out.String() != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), wantOut)
	}
	wantErr := []string{
		"Error: " + bad + ":3:8: Binder Error: Referenced column \"nope\" was not found",
		"Error: .read: " + script + ": --set nosuch: no such parameter (declared: n)",
		"Error: .schema: no such table: missing",
		"Error: .timer: want on or off",
		`Error: .help: no help on "nothing" (topics: functions)`,
	}
	for _, w := range wantErr {
		if !strings.Contains(errOut.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
		}
	}
}

func TestHelp(t *testing.T) {
	out, _, err := shell(t, ".help\n", Options{HelpTopics: map[string]func(io.Writer) error{"functions": nil}})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{".mode [MODE]", ".schema [TABLE]", ".read FILE [NAME=VALUE...]", ".quit", "Help topics: .help functions"} {
		if !strings.Contains(out, w) {
			t.Errorf("help lacks %q:\n%s", w, out)
		}
	}
}

func TestMaxRows(t *testing.T) {
	out, _, err := shell(t, ".maxrows 4\nSELECT range AS i FROM range(10);\n", Options{Mode: ModeMarkdown})
	if err != nil {
		t.Fatal(err)
	}
	want := "| i |\n| ---:|\n| 0 |\n| 1 |\n| … |\n| 8 |\n| 9 |\n(10 rows, 4 shown)\n"
	if out != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

const slowQuery = "SELECT count(*) FROM range(10000000000);\n"

// TestInterrupt plays an interactive session in which Ctrl-C arrives while a
// long query runs: the query stops, the shell reports it and goes on.
func TestInterrupt(t *testing.T) {
	inR, inW := io.Pipe()
	var out, errOut bytes.Buffer
	r := New(openDB(t), Options{In: inR, Out: &out, Err: &errOut, Interactive: true, NoTimer: true, Mode: ModeCSV})
	subscribed := make(chan chan<- os.Signal, 1)
	r.notify = func(c chan<- os.Signal) { subscribed <- c }
	r.stopNotify = func(chan<- os.Signal) {}

	done := make(chan error)
	go func() { done <- r.Run(context.Background()) }()
	fmt.Fprint(inW, slowQuery)
	sig := <-subscribed
	time.Sleep(200 * time.Millisecond) // let the query get going
	start := time.Now()
	sig <- os.Interrupt
	fmt.Fprint(inW, "SELECT 42 AS answer;\n")
	<-subscribed
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("interrupt took %v", took)
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if errOut.String() != "Error: interrupted\n" {
		t.Errorf("stderr = %q", errOut.String())
	}
	if want := "hepsql> hepsql> answer\n42\nhepsql> \n"; out.String() != want {
		t.Errorf("stdout = %q, want %q", out.String(), want)
	}
}

// TestCancelRun cancels the context of a whole non-interactive run.
func TestCancelRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	db := openDB(t)
	var out, errOut bytes.Buffer
	start := time.Now()
	err := New(db, Options{In: strings.NewReader(slowQuery + "SELECT 1;\n"), Out: &out, Err: &errOut}).Run(ctx)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("cancel took %v", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(errOut.String(), "Error: ") {
		t.Errorf("err = %v, stderr = %q", err, errOut.String())
	}
	// The database is still fine for the next session.
	out.Reset()
	if err := New(db, Options{In: strings.NewReader("SELECT 7 AS x;"), Out: &out, Mode: ModeCSV}).Run(context.Background()); err != nil || out.String() != "x\n7\n" {
		t.Errorf("after cancel: %v %q", err, out.String())
	}
}

func TestEmptyTable(t *testing.T) {
	out, _, err := shell(t, "SELECT 1 AS x WHERE false;\nCREATE TABLE t (a INT);\nINSERT INTO t VALUES (1);\nSET threads = 1;\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Status-only statements print nothing.
	want := "┌─────────┐\n│ x       │\n│ INTEGER │\n├─────────┤\n└─────────┘\n(0 rows)\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

// TestUnnamedStructs: STRUCTs without field names (row(), list_zip) print
// as DuckDB prints them, in every mode; duckdb-go alone fails on them with
// "empty name".
func TestUnnamedStructs(t *testing.T) {
	input := "SELECT list_zip([1,2],[3,4]) AS z, row(1, 'a') AS r;\n.mode json\nSELECT list_zip([1,2],[3,4]) AS z, row(1, 'a') AS r;\n.mode csv\nSELECT row(1, 2) AS r;\n"
	out, errOut, err := shell(t, input, Options{})
	if err != nil || errOut != "" {
		t.Fatalf("err = %v, stderr = %q", err, errOut)
	}
	want := `┌────────────────────────────┬──────────────────────────┐
│ z                          │ r                        │
│ STRUCT(INTEGER, INTEGER)[] │ STRUCT(INTEGER, VARCHAR) │
├────────────────────────────┼──────────────────────────┤
│ [(1, 3), (2, 4)]           │ (1, a)                   │
└────────────────────────────┴──────────────────────────┘
(1 row)
[
{"z":[[1,3],[2,4]],"r":[1,"a"]}
]

r
"(1, 2)"
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

// TestHeadAndTail: a table keeps the first and last rows, says how many it
// left out in the middle and counts them all in the footer.
func TestHeadAndTail(t *testing.T) {
	out, _, err := shell(t, ".maxrows 4\nSELECT range AS i FROM range(20000000);\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `┌──────────────────────────┐
│ i                        │
│ BIGINT                   │
├──────────────────────────┤
│                        0 │
│                        1 │
│ … 19,999,996 more rows … │
│                 19999998 │
│                 19999999 │
└──────────────────────────┘
(20,000,000 rows, 4 shown)
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}
