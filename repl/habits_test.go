package repl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/engine"
)

// scripted is a lineReader that plays lines and records the history, and
// when each entry arrived relative to the statements run.
type scripted struct {
	lines   []string
	history []string
}

func (s *scripted) ReadLine(string) (string, error) {
	if len(s.lines) == 0 {
		return "", io.EOF
	}
	l := s.lines[0]
	s.lines = s.lines[1:]
	return l, nil
}
func (s *scripted) AddHistory(e string) { s.history = append(s.history, e) }
func (s *scripted) Close() error        { return nil }

// TestHistoryEntries: a statement over several lines is one history entry
// (its "--" comments dropped), added before it runs; dot-commands are
// entries too.
func TestHistoryEntries(t *testing.T) {
	var out, errOut bytes.Buffer
	r := New(openDB(t), Options{Out: &out, Err: &errOut, Mode: ModeCSV, Interactive: true, NoTimer: true})
	conn, err := r.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r.conn = conn
	defer conn.Close()
	in := &scripted{lines: []string{"SELECT 1 AS a, -- first", "  '--x' AS b;", ".mode csv", "SELECT 2 AS c;"}}
	if err := r.loop(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	want := []string{"SELECT 1 AS a, '--x' AS b;", ".mode csv", "SELECT 2 AS c;"}
	if !slices.Equal(in.history, want) {
		t.Errorf("history %q, want %q", in.history, want)
	}
	if !strings.Contains(out.String(), "a,b\n1,--x\n") {
		t.Errorf("stdout %q", out.String())
	}
}

// TestCtrlDMidStatement: end of input at the continuation prompt of an
// interactive shell discards the half statement, with a note; piped input
// still runs a last statement without ';'.
func TestCtrlDMidStatement(t *testing.T) {
	var out, errOut bytes.Buffer
	r := New(openDB(t), Options{In: strings.NewReader("SELECT 1 AS a;\nCREATE TABLE half AS\n  SELECT 2 AS b"), Out: &out, Err: &errOut,
		Interactive: true, NoTimer: true, Mode: ModeCSV, HistoryFile: historyOff})
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := "hepsql> a\n1\nhepsql>    ...>    ...> \n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
	if want := "Note: the unfinished statement was not run (end it with ';')\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
	out.Reset()
	if _, _, err := shell(t, "SELECT 3 AS c;\nSELECT 4\n  AS d", Options{Mode: ModeCSV}); err != nil {
		t.Fatal(err)
	}
}

// TestHistoryFile: entries are appended as they come, one line each, by
// two shells side by side, and read back at start.
func TestHistoryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	if err := os.WriteFile(path, []byte("SELECT 0;\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, loaded, err := openHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(loaded, []string{"SELECT 0;"}) {
		t.Errorf("loaded %q", loaded)
	}
	b, _, err := openHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	a.Append("SELECT 1;")
	b.Append("SELECT 2,\n  3;")
	a.Append("SELECT 4;")
	// Nothing is closed yet: what a SIGHUP would leave is already there.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "SELECT 0;\nSELECT 1;\nSELECT 2,   3;\nSELECT 4;\n"; string(data) != want {
		t.Errorf("file %q, want %q", data, want)
	}
	a.Close()
	b.Close()
	_, loaded, err = openHistory(path)
	if err != nil || len(loaded) != 4 || loaded[3] != "SELECT 4;" {
		t.Errorf("reloaded %q, %v", loaded, err)
	}
}

// TestComplete: keywords, functions, tables and columns by prefix, file
// paths inside quotes, dot-commands.
func TestComplete(t *testing.T) {
	r := New(openDB(t), Options{})
	conn, err := r.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r.conn = conn
	if _, err := conn.ExecContext(context.Background(), "CREATE TABLE events_tbl (met_pt DOUBLE)"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "run1.root"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "runs"), 0o755)
	for _, tc := range []struct {
		line       string
		head, tail string
		want       []string
	}{
		{"SEL", "", "", []string{"SELECT"}},
		{"select * from events_t", "select * from ", "", []string{"events_tbl"}},
		{"select met_p", "select ", "", []string{"met_pt"}},
		{"select list_zi", "select ", "", []string{"list_zip"}},
		{"FROM '" + dir + "/run", "FROM '", "", []string{dir + "/run1.root", dir + "/runs/"}},
		{".ma", "", "", []string{".maxrows ", ".maxwidth "}},
		{".import " + dir + "/run", ".import ", "", []string{dir + "/run1.root", dir + "/runs/"}},
		{".read  " + dir + "/run1", ".read  ", "", []string{dir + "/run1.root"}},
	} {
		head, got, tail := r.complete(tc.line, len(tc.line))
		if head != tc.head || tail != tc.tail || !slices.Equal(got, tc.want) {
			t.Errorf("complete(%q) = %q %q %q, want %q %q %q", tc.line, head, got, tail, tc.head, tc.want, tc.tail)
		}
	}
}

// TestOutputOnce: .once sends the next result to a file, .output all
// results until .output alone.
func TestOutputOnce(t *testing.T) {
	dir := t.TempDir()
	once, all := filepath.Join(dir, "once.csv"), filepath.Join(dir, "all.csv")
	input := ".mode csv\n.once " + once + "\nSELECT 1 AS a;\nSELECT 2 AS b;\n.output " + all + "\nSELECT 3 AS c;\nSELECT 4 AS d;\n.output\nSELECT 5 AS e;\n"
	out, errOut, err := shell(t, input, Options{})
	if err != nil || errOut != "" {
		t.Fatalf("err %v, stderr %q", err, errOut)
	}
	if out != "b\n2\n\ne\n5\n" {
		t.Errorf("stdout %q", out)
	}
	for file, want := range map[string]string{once: "a\n1\n", all: "c\n3\n\nd\n4\n"} {
		got, err := os.ReadFile(file)
		if err != nil || string(got) != want {
			t.Errorf("%s: %q (%v), want %q", file, got, err, want)
		}
	}
}

// TestProgressBar: the bar is drawn on one line, erased when done, and
// draws no more once rows print.
func TestProgressBar(t *testing.T) {
	var w bytes.Buffer
	b := &progressBar{w: &w}
	b.report(42, false)
	if want := "\r 42% ▕" + strings.Repeat("█", 21) + strings.Repeat(" ", 29) + "▏"; w.String() != want {
		t.Errorf("bar %q, want %q", w.String(), want)
	}
	b.report(100, true)
	if !strings.HasSuffix(w.String(), "\r\033[K") {
		t.Errorf("not erased: %q", w.String())
	}
	w.Reset()
	b.report(10, false)
	b.stop()
	b.report(20, false)
	if want := "\r 10% ▕" + strings.Repeat("█", 5) + strings.Repeat(" ", 45) + "▏\r\033[K"; w.String() != want {
		t.Errorf("after stop %q, want %q", w.String(), want)
	}
}

// TestCopyRowCount: COPY ... TO says how many rows it wrote: with the
// results in box mode, on stderr in csv mode (kept for data).
func TestCopyRowCount(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out.csv")
	stmt := "COPY (SELECT range FROM range(3)) TO '" + file + "';\n"
	out, errOut, err := shell(t, stmt, Options{})
	if err != nil || out != "3 rows written\n" || errOut != "" {
		t.Errorf("box: %q %q %v", out, errOut, err)
	}
	out, errOut, err = shell(t, stmt, Options{Mode: ModeCSV})
	if err != nil || out != "" || errOut != "3 rows written\n" {
		t.Errorf("csv: %q %q %v", out, errOut, err)
	}
}

// TestHelpDidYouMean: a misspelt name gets the nearest known ones.
func TestHelpDidYouMean(t *testing.T) {
	opts := Options{
		HelpNames:  func() []string { return []string{"read_root", "root_trees", "delta_r"} },
		HelpLookup: func(name string) (string, bool) { return "help on " + name, name == "read_root" },
	}
	out, errOut, _ := shell(t, ".help read_root\n.help read_rot\n.help delta_rr\n.help xyzzy\n.hlep\n", opts)
	if out != "help on read_root\n" {
		t.Errorf("stdout %q", out)
	}
	want := `Error: .help: no help on "read_rot"; did you mean read_root?
Error: .help: no help on "delta_rr"; did you mean delta_r?
Error: .help: no help on "xyzzy"
Error: unknown command .hlep; did you mean .help?
`
	if errOut != want {
		t.Errorf("stderr %q\nwant %q", errOut, want)
	}
}

// TestColumns: .columns shows each row as a column, the rows left out as a
// "…" column.
func TestColumns(t *testing.T) {
	out, _, err := shell(t, ".columns\n.maxrows 4\nSELECT range AS i, 'x' || range AS s FROM range(10);\n.columns off\nSELECT 1 AS one;\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `┌────────┬─────────┬────┬────┬───┬────┬────┐
│ column │ type    │ 1  │ 2  │ … │ 9  │ 10 │
├────────┼─────────┼────┼────┼───┼────┼────┤
│ i      │ BIGINT  │ 0  │ 1  │ … │ 8  │ 9  │
│ s      │ VARCHAR │ x0 │ x1 │ … │ x8 │ x9 │
└────────┴─────────┴────┴────┴───┴────┴────┘
(10 rows, 4 shown)
┌─────────┐
│ one     │
│ INTEGER │
├─────────┤
│       1 │
└─────────┘
(1 row)
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

// TestFitWidth: at any width, no line of a table is wider than the width:
// a 300,000-character value is cut, columns that cannot fit are hidden.
func TestFitWidth(t *testing.T) {
	query := "SELECT 1 AS a, repeat('x', 300000) AS particles, " +
		"'wide value number two' AS c, 'wide value number three' AS d, 2.5 AS e, [1, 2, 3] AS f;\n"
	for _, width := range []int{12, 30, 60, 100, 400} {
		for _, mode := range []string{ModeBox, ModeTable} {
			out, _, err := shell(t, query, Options{Mode: mode, MaxWidth: width})
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			for _, l := range lines[:len(lines)-1] { // the footer is not part of the table
				if w := runewidth.StringWidth(l); w > width {
					t.Errorf("%s at %d: line of width %d: %s", mode, width, w, l)
				}
			}
			if !strings.Contains(out, "…") {
				t.Errorf("%s at %d: nothing cut:\n%s", mode, width, out)
			}
		}
	}
	out, _, _ := shell(t, query, Options{MaxWidth: 60})
	want := `┌─────────┬─────────────────┬───┬──────────────┬───────────┐
│ a       │ particles       │ … │ e            │ f         │
│ INTEGER │ VARCHAR         │   │ DECIMAL(2,1) │ INTEGER[] │
├─────────┼─────────────────┼───┼──────────────┼───────────┤
│       1 │ xxxxxxxxxxxxxx… │ … │          2.5 │ [1, 2, 3] │
└─────────┴─────────────────┴───┴──────────────┴───────────┘
(1 row, 6 columns, 4 shown)
`
	if out != want {
		t.Errorf("at 60:\n%s\nwant:\n%s", out, want)
	}
}

// TestReaderMatchesDriver: values read by the streaming reader print as
// those duckdb-go returns for the same query.
func TestReaderMatchesDriver(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')"); err != nil {
		t.Fatal(err)
	}
	for _, expr := range []string{
		"[1, NULL, 3]", "[[1.5::FLOAT], [], NULL]", "{'a': [1, 2], 'b': {'c': 'x'}}", "[{'p': 1.25::DOUBLE, 'q': NULL}]",
		"MAP {'k': [1], 'l': NULL}", "[1, 2, 3]::INTEGER[3]", "[[1, 2], [3, 4]]::INTEGER[2][2]", "'happy'::mood",
		"union_value(n := 2)", "'a'::UNION(a VARCHAR, b INT)", "12.345::DECIMAL(5,3)", "-123456789012.5::DECIMAL(18,1)",
		"-1234567890123456789012.5::DECIMAL(38,1)", "(-170141183460469231731687303715884105727)::HUGEINT", "340282366920938463463374607431768211455::UHUGEINT",
		"DATE '1969-12-31'", "TIME '23:59:59.5'", "TIMESTAMP '1900-01-02 03:04:05.123456'", "TIMESTAMP_S '2020-01-01 00:00:01'",
		"TIMESTAMP_MS '2020-01-01 00:00:01.5'", "TIMESTAMP_NS '2020-01-01 00:00:01.123456789'", "INTERVAL '-1 year 3 days 00:00:01'",
		"'6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID", "'\\xAA\\x00'::BLOB", "'a longer string than twelve bytes'", "(-128)::TINYINT", "TIMESTAMPTZ '2020-01-02 03:04:05+02'",
		"255::UTINYINT", "65535::USMALLINT", "4294967295::UINTEGER", "18446744073709551615::UBIGINT", "true", "NULL::INTEGER",
	} {
		query := "SELECT " + expr + " AS v"
		var want any
		if err := conn.QueryRowContext(ctx, query).Scan(&want); err != nil {
			t.Errorf("%s: duckdb-go: %v", expr, err)
			continue
		}
		res, _, err := engine.RunStatement(ctx, conn, engine.Statement{SQL: query})
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		typ := parseType(res.Types[0])
		if got, w := formatText(res.Rows[0][0], typ), formatText(want, typ); got != w {
			t.Errorf("%s (%s): reader %q, duckdb-go %q", expr, res.Types[0], got, w)
		}
	}
}

// TestHistDrawn: box and table draw a HIST value (hist()'s STRUCT) as bars
// within the width, with its bins' contents and the overflow; csv keeps the
// STRUCT as data.
func TestHistDrawn(t *testing.T) {
	// hist(x, 4, 0, 4) over 0.5, 1.5, 1.5, 3.5, 7 (the shell's tests run
	// without the HEP functions, so the value is written out).
	q := `SELECT {'edges': [0, 1, 2, 3, 4]::DOUBLE[], 'sumw': [1, 2, 0, 1]::DOUBLE[], 'sumw2': [1, 2, 0, 1]::DOUBLE[],
	 'underflow': 0::DOUBLE, 'overflow': 1::DOUBLE, 'underflow_sumw2': 0::DOUBLE, 'overflow_sumw2': 1::DOUBLE, 'entries': 5::BIGINT} AS h;` + "\n"
	out, errOut, err := shell(t, ".maxwidth 60\n"+q, Options{})
	if err != nil || errOut != "" {
		t.Fatalf("%v %q", err, errOut)
	}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if w := runewidth.StringWidth(line); w > 60 {
			t.Errorf("line of width %d > 60: %q", w, line)
		}
	}
	for _, want := range []string{"(5 entries)", "overflow: 1", "█", "│ h "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Bin 2 ([1, 2)) holds 2: its bar is the longest, ending in its count.
	var longest, at string
	for _, line := range strings.Split(out, "\n") {
		if n := strings.Count(line, "█"); n > strings.Count(longest, "█") {
			longest = line
		}
	}
	if at = strings.TrimSpace(strings.Trim(longest, "│ ")); !strings.HasPrefix(at, "1 ") || !strings.HasSuffix(at, " 2") {
		t.Errorf("longest bar %q, want bin [1, 2) with 2 entries", longest)
	}
	csv, _, err := shell(t, q, Options{Mode: ModeCSV})
	if err != nil || !strings.Contains(csv, "edges") || strings.Contains(csv, "█") {
		t.Errorf("csv: %v %q", err, csv)
	}
}

// TestImport: .import loads CSV, Parquet, JSON and ROOT files by their
// extension, creates the table or appends to it by column name, says how
// many rows it loaded, and refuses what it cannot tell the format of.
func TestImport(t *testing.T) {
	dir := t.TempDir()
	csv, parquet, jsonl, gz := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.parquet"), filepath.Join(dir, "c.jsonl"), filepath.Join(dir, "d.csv.gz")
	if err := os.WriteFile(csv, []byte("id,name\n1,one\n2,two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jsonl, []byte(`{"name": "four", "id": 4}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../sqlfuncs/testdata/events.root")
	if err != nil {
		t.Fatal(err)
	}
	input := fmt.Sprintf(`COPY (SELECT 3 AS id, 'three' AS name) TO '%s' (FORMAT parquet);
COPY (SELECT 5 AS id, 'five' AS name) TO '%s';
.import %s t
.import %s t
.import '%s' t
.import %s t
.import %s ev
.mode csv
SELECT id, name FROM t ORDER BY id;
SELECT count(*) = (SELECT count(*) FROM read_root('%s')) AS same FROM ev;
.import %s x
.import %s
`, parquet, gz, csv, parquet, jsonl, gz, root, root, filepath.Join(dir, "e.dat"), csv)
	db, err := hepsql.Open("") // for read_root
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stdout, stderr bytes.Buffer
	err = New(db, Options{In: strings.NewReader(input), Out: &stdout, Err: &stderr, NoTimer: true}).Run(context.Background())
	if !errors.Is(err, ErrFailed) {
		t.Errorf("err = %v, want ErrFailed (the last two lines)", err)
	}
	out, errOut := stdout.String(), stderr.String()
	for _, want := range []string{
		"2 rows imported from " + csv + ": created t\n",
		"1 row imported from " + parquet + ": appended to t\n",
		"1 row imported from " + jsonl + ": appended to t\n",
		"1 row imported from " + gz + ": appended to t\n",
		"imported from " + root + ": created ev\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s\nstderr:\n%s", want, out, errOut)
		}
	}
	if want := "id,name\n1,one\n2,two\n3,three\n4,four\n5,five\n\nsame\ntrue\n"; !strings.HasSuffix(out, want) {
		t.Errorf("stdout ends %q, want %q", out, want)
	}
	for _, want := range []string{`.import: ` + filepath.Join(dir, "e.dat") + `: cannot tell the format from the extension ".dat"`, ".import: want FILE TABLE"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// TestRunScriptProgress: `hepsql run` (RunScript) draws the progress bar on
// a terminal's stderr for a statement over a second, erases it, and prints
// COPY's row count; off a terminal it enables nothing and draws nothing.
func TestRunScriptProgress(t *testing.T) {
	dir := t.TempDir()
	src := fmt.Sprintf(`SET threads = 1;
SELECT current_setting('enable_progress_bar') AS p;
SELECT count(*) AS n FROM range(400000000) t(x) WHERE hash(x) %% 7 = 3;
COPY (SELECT 1 AS a UNION ALL SELECT 2) TO '%s';
`, filepath.Join(dir, "x.csv"))
	stmts, err := engine.ParseScript("t.sql", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func(terminal bool, stmts []engine.Statement) (string, string) {
		defer func(f func(io.Writer) bool) { isTerminal = f }(isTerminal)
		isTerminal = func(io.Writer) bool { return terminal }
		var out, errOut bytes.Buffer
		p := &Printer{Mode: ModeCSV}
		if err := RunScript(context.Background(), openDB(t), stmts, "t.sql", p, &out, &errOut); err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String()
	}
	out, errOut := run(true, stmts)
	if !strings.HasPrefix(out, "p\ntrue\n") || !strings.Contains(errOut, "% ▕") || !strings.Contains(errOut, "\r\033[K") ||
		!strings.HasSuffix(errOut, "\r\033[K2 rows written\n") {
		t.Errorf("on a terminal: stdout %q, stderr %q", out, errOut)
	}
	out, errOut = run(false, slices.Delete(stmts, 2, 3)) // without the long count
	if !strings.HasPrefix(out, "p\nfalse\n") || errOut != "2 rows written\n" {
		t.Errorf("off a terminal: stdout %q, stderr %q", out, errOut)
	}
}

// TestHistsOverlaid: a result made only of histograms (and names) is one
// chart with every histogram overlaid, named by column and row; differing
// binnings fall back to a table with one drawing per cell.
func TestHistsOverlaid(t *testing.T) {
	h := func(sumw string) string {
		return `{'edges': [0, 1, 2]::DOUBLE[], 'sumw': ` + sumw + `::DOUBLE[], 'sumw2': ` + sumw + `::DOUBLE[],
		 'underflow': 0::DOUBLE, 'overflow': 0::DOUBLE, 'underflow_sumw2': 0::DOUBLE, 'overflow_sumw2': 0::DOUBLE, 'entries': 3::BIGINT}`
	}
	q := "SELECT s, h FROM (VALUES ('signal', " + h("[1, 2]") + "), ('background', " + h("[2, 1]") + ")) t(s, h);\n"
	out, errOut, err := shell(t, ".maxwidth 50\n"+q, Options{})
	if err != nil || errOut != "" {
		t.Fatalf("%v %q", err, errOut)
	}
	if strings.Contains(out, "┌") || !strings.Contains(out, "█ signal (3 entries)  ▓ background (3 entries)") || !strings.Contains(out, "(2 rows)") {
		t.Errorf("want one overlaid chart named by row:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if w := runewidth.StringWidth(line); w > 50 {
			t.Errorf("line of width %d > 50: %q", w, line)
		}
	}
	other := strings.Replace(h("[1, 2]"), "[0, 1, 2]", "[0, 1, 3]", 1)
	out, _, err = shell(t, "SELECT "+h("[1, 2]")+" AS a, "+other+" AS b;\n", Options{})
	if err != nil || !strings.Contains(out, "┌") || strings.Count(out, "(3 entries)") != 2 {
		t.Errorf("differing binnings: want a table of two drawings:\n%s", out)
	}
}
