package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/hepsql/hepsql/engine"
)

// command is a dot-command.
type command struct {
	name, args, help string
	run              func(r *REPL, ctx context.Context, args []string) error
}

// errQuit ends the session.
var errQuit = errors.New("quit")

// commands in the order .help lists them. Filled in init because .help
// refers to the table itself.
var commands []command

func init() {
	commands = []command{
		{".help", "[TOPIC]", "list commands, or show help on TOPIC", (*REPL).cmdHelp},
		{".mode", "[MODE]", "show or set the output mode: " + strings.Join(Modes, ", "), (*REPL).cmdMode},
		{".timer", "on|off", "show the run time under each table", (*REPL).cmdTimer},
		{".maxrows", "N", "show at most N rows in tables, the first and last N/2 (0: all)", (*REPL).cmdMaxRows},
		{".columns", "[on|off]", "show each row of a result as a column in box and table modes: for wide rows", (*REPL).cmdColumns},
		{".maxwidth", "N", "fit tables in N columns of text (0: the terminal's width)", (*REPL).cmdMaxWidth},
		{".output", "[FILE]", "write results to FILE (truncated first), or with no FILE back to the screen", (*REPL).cmdOutput},
		{".once", "FILE", "write the next result to FILE", (*REPL).cmdOnce},
		{".tables", "", "list tables and views", (*REPL).cmdTables},
		{".schema", "[TABLE]", "show the columns and types of TABLE, or of all tables", (*REPL).cmdSchema},
		{".read", "FILE [NAME=VALUE...]", "run a pipeline file, setting its parameters", (*REPL).cmdRead},
		{".import", "FILE TABLE", "load FILE (.csv, .tsv, .parquet, .json, .jsonl, .root; also .gz or .zst) into TABLE: created, or appended to by column name", (*REPL).cmdImport},
		{".quit", "", "leave the shell (also .exit, Ctrl-D)", quit},
		{".exit", "", "", quit},
	}
}

func quit(*REPL, context.Context, []string) error { return errQuit }

// dotCommand runs one dot-command line and reports whether to quit.
func (r *REPL) dotCommand(ctx context.Context, line string) bool {
	args, err := splitArgs(strings.TrimSpace(line))
	if err != nil {
		r.fail(err)
		return false
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		var near []string
		for _, c := range commands {
			if editDistance(args[0], c.name) <= 2 {
				near = append(near, c.name)
			}
		}
		if len(near) > 0 {
			r.fail(fmt.Errorf("unknown command %s; did you mean %s?", args[0], strings.Join(near, " or ")))
		} else {
			r.fail(fmt.Errorf("unknown command %s; .help lists the commands", args[0]))
		}
		return false
	}
	once := r.redirectOnce && commands[i].name != ".once"
	err = commands[i].run(r, ctx, args[1:])
	if once {
		r.endOnce()
	}
	if errors.Is(err, errQuit) {
		return true
	}
	var located *engine.ScriptError
	switch {
	case errors.As(err, &located):
		r.fail(err) // FILE:LINE:COL says enough
	case err != nil:
		r.fail(fmt.Errorf("%s: %w", args[0], err))
	}
	return false
}

// splitArgs splits a command line at blanks; single or double quotes group
// words, so that file names may contain blanks.
func splitArgs(line string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	var quote rune
	for _, c := range line {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(c)
		case c == '\'' || c == '"':
			quote, inArg = c, true
		case c == ' ' || c == '\t':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(c)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c in %q", quote, line)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}

func (r *REPL) cmdHelp(_ context.Context, args []string) error {
	out := r.opts.Out
	if len(args) > 0 {
		topic, ok := r.opts.HelpTopics[args[0]]
		if !ok && r.opts.HelpLookup != nil {
			if text, found := r.opts.HelpLookup(args[0]); found {
				if !strings.HasSuffix(text, "\n") {
					text += "\n"
				}
				_, err := io.WriteString(out, text)
				return err
			}
		}
		if !ok {
			if near := r.nearNames(args[0]); len(near) > 0 {
				return fmt.Errorf("no help on %q; did you mean %s?", args[0], strings.Join(near, " or "))
			}
			return fmt.Errorf("no help on %q%s", args[0], r.topicList())
		}
		return topic(out)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		if c.help != "" {
			fmt.Fprintf(tw, "%s %s\t%s\n", c.name, c.args, c.help)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "\nEnd SQL statements with ';'. Ctrl-C interrupts a running statement.\n%s", r.topicLine())
	return err
}

// nearNames lists the help names (topics, functions, commands) within a
// small edit distance of name, nearest first.
func (r *REPL) nearNames(name string) []string {
	names := r.topicNames()
	if r.opts.HelpNames != nil {
		names = append(names, r.opts.HelpNames()...)
	}
	for _, c := range commands {
		names = append(names, c.name)
	}
	lower := strings.ToLower(name)
	limit := max(1, min(3, len([]rune(lower))/3))
	type cand struct {
		name string
		d    int
	}
	var cands []cand
	for _, n := range names {
		if d := editDistance(lower, strings.ToLower(n)); d <= limit {
			cands = append(cands, cand{n, d})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return a.d - b.d })
	var out []string
	for _, c := range cands {
		if !slices.Contains(out, c.name) && len(out) < 3 {
			out = append(out, c.name)
		}
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func (r *REPL) topicNames() []string {
	var names []string
	for name := range r.opts.HelpTopics {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func (r *REPL) topicList() string {
	if names := r.topicNames(); len(names) > 0 {
		return " (topics: " + strings.Join(names, ", ") + ")"
	}
	return ""
}

func (r *REPL) topicLine() string {
	if names := r.topicNames(); len(names) > 0 {
		return "Help topics: .help " + strings.Join(names, ", .help ") + "\n"
	}
	return ""
}

func (r *REPL) cmdMode(_ context.Context, args []string) error {
	switch {
	case len(args) == 0:
		mode := r.printer.Mode
		if mode == "" {
			mode = ModeBox
		}
		_, err := fmt.Fprintln(r.opts.Out, mode)
		return err
	case len(args) > 1 || !ValidMode(args[0]):
		return fmt.Errorf("want one of %s", strings.Join(Modes, ", "))
	}
	r.printer.Mode = args[0]
	return nil
}

func (r *REPL) cmdTimer(_ context.Context, args []string) error {
	if len(args) != 1 || (args[0] != "on" && args[0] != "off") {
		return errors.New("want on or off")
	}
	r.printer.Timer = args[0] == "on"
	return nil
}

func (r *REPL) cmdColumns(_ context.Context, args []string) error {
	switch {
	case len(args) == 0:
		r.printer.Columns = !r.printer.Columns
	case len(args) == 1 && (args[0] == "on" || args[0] == "off"):
		r.printer.Columns = args[0] == "on"
	default:
		return errors.New("want on or off")
	}
	return nil
}

func (r *REPL) cmdMaxWidth(_ context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("want a number of columns")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 {
		return fmt.Errorf("want a number of columns, not %q", args[0])
	}
	r.printer.MaxWidth = n
	return nil
}

func (r *REPL) cmdOutput(_ context.Context, args []string) error {
	switch len(args) {
	case 0:
		r.closeRedirect()
		return nil
	case 1:
		return r.openRedirect(args[0], false)
	}
	return errors.New("want at most one file name")
}

func (r *REPL) cmdOnce(_ context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("want a file name")
	}
	return r.openRedirect(args[0], true)
}

func (r *REPL) openRedirect(name string, once bool) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	r.closeRedirect()
	r.redirect, r.redirectOnce = f, once
	return nil
}

func (r *REPL) cmdMaxRows(_ context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("want a number of rows")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 {
		return fmt.Errorf("want a number of rows, not %q", args[0])
	}
	r.printer.MaxRows = n
	return nil
}

// cmdTables lists tables and views of every attached database, naming them
// as a query would: unqualified in the current schema, qualified elsewhere.
func (r *REPL) cmdTables(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return errors.New("takes no arguments")
	}
	return r.show(ctx, `SELECT
	CASE WHEN table_catalog = current_database() AND table_schema = current_schema() THEN table_name
	     ELSE table_catalog || '.' || table_schema || '.' || table_name END AS name,
	CASE table_type WHEN 'VIEW' THEN 'view' WHEN 'LOCAL TEMPORARY' THEN 'temporary table' ELSE 'table' END AS kind
FROM information_schema.tables
WHERE table_schema NOT IN ('information_schema', 'pg_catalog')
ORDER BY table_catalog, table_schema, table_name`)
}

func (r *REPL) cmdSchema(ctx context.Context, args []string) error {
	const cols = `SELECT %s column_name AS "column", data_type AS "type", is_nullable AS "null"
FROM information_schema.columns
WHERE table_schema NOT IN ('information_schema', 'pg_catalog') %s
ORDER BY table_catalog, table_schema, table_name, ordinal_position`
	switch len(args) {
	case 0:
		return r.show(ctx, fmt.Sprintf(cols, `table_name AS "table",`, ""))
	case 1:
	default:
		return errors.New("want at most one table name")
	}
	// A name may be qualified: table, schema.table or catalog.schema.table.
	parts := strings.Split(args[0], ".")
	if len(parts) > 3 {
		return fmt.Errorf("bad table name %q", args[0])
	}
	var where strings.Builder
	for i, col := range []string{"table_name", "table_schema", "table_catalog"}[:len(parts)] {
		name := strings.Trim(parts[len(parts)-1-i], `"`)
		fmt.Fprintf(&where, " AND lower(%s) = lower(%s)", col, sqlString(name))
	}
	res, _, err := engine.RunStatement(ctx, r.conn, engine.Statement{SQL: fmt.Sprintf(cols, "", where.String())})
	if err != nil {
		return err
	}
	if len(res.Rows) == 0 {
		return fmt.Errorf("no such table: %s", args[0])
	}
	return r.printer.Print(r.out(), res)
}

// show runs a catalog query and prints it like any result.
func (r *REPL) show(ctx context.Context, query string) error {
	res, _, err := engine.RunStatement(ctx, r.conn, engine.Statement{SQL: query})
	if err != nil {
		return err
	}
	return r.printer.Print(r.out(), res)
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// cmdRead runs a pipeline file in this session, so that what it creates stays
// available at the prompt.
func (r *REPL) cmdRead(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("want a file name")
	}
	file := args[0]
	overrides := map[string]string{}
	for _, a := range args[1:] {
		name, val, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return fmt.Errorf("want NAME=VALUE, not %q", a)
		}
		overrides[name] = val
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	stmts, err := engine.ParseScript(file, string(src), overrides)
	if err != nil {
		return err
	}
	qctx, done := r.interruptible(ctx)
	defer done()
	return engine.StreamScriptConn(qctx, r.conn, stmts, file, func(rows *engine.Rows) error {
		return r.printer.PrintRows(r.out(), rows)
	}, func(_ engine.Statement, out engine.Outcome) {
		r.printer.PrintStatus(r.out(), r.opts.Err, out.Status)
		r.printer.PrintNotices(r.opts.Err, out.Notices)
	})
}

// importReaders maps a file's extension (after .gz or .zst) to the DuckDB
// reader .import loads it with.
var importReaders = map[string]string{
	".csv": "read_csv_auto", ".tsv": "read_csv_auto", ".txt": "read_csv_auto",
	".parquet": "read_parquet", ".pq": "read_parquet",
	".json": "read_json_auto", ".jsonl": "read_json_auto", ".ndjson": "read_json_auto",
	".root": "read_root",
}

// importReader returns the reader for file, by its extension.
func importReader(file string) (string, error) {
	name := strings.ToLower(file)
	for _, z := range []string{".gz", ".zst", ".zstd"} {
		name = strings.TrimSuffix(name, z)
	}
	if fn, ok := importReaders[filepath.Ext(name)]; ok {
		return fn, nil
	}
	return "", fmt.Errorf("%s: cannot tell the format from the extension %q; want .csv, .tsv, .parquet, .json, .jsonl or .root, "+
		"or read it yourself: CREATE TABLE t AS SELECT * FROM read_csv(%s, delim = ';')", file, filepath.Ext(name), sqlString(file))
}

// tableName returns name as SQL: as it is when it is a plain or dotted
// identifier (so that DuckDB folds its case as usual), else quoted.
func tableName(name string) string {
	plain := name != ""
	for _, part := range strings.Split(name, ".") {
		for i, c := range part {
			if !(c == '_' || unicode.IsLetter(c) || (i > 0 && unicode.IsDigit(c))) {
				plain = false
			}
		}
		plain = plain && part != ""
	}
	if plain {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// cmdImport loads a CSV, Parquet, JSON or ROOT file into a table through
// DuckDB's readers (and hepsql's read_root): CREATE TABLE ... AS when the
// table does not exist, else INSERT ... BY NAME, as the DuckDB and SQLite
// shells append. It says how many rows it loaded.
func (r *REPL) cmdImport(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return errors.New("want FILE TABLE")
	}
	file, table := args[0], tableName(args[1])
	reader, err := importReader(file)
	if err != nil {
		return err
	}
	remote := strings.Contains(file, "://")
	if !remote && !strings.ContainsAny(file, "*?[") {
		if _, err := os.Stat(file); err != nil {
			return err
		}
	}
	qctx, done := r.interruptible(ctx)
	defer done()
	count := func() (int64, error) {
		res, _, err := engine.RunStatement(qctx, r.conn, engine.Statement{SQL: "SELECT count(*) FROM " + table})
		if err != nil {
			return 0, err
		}
		n, _ := res.Rows[0][0].(int64)
		return n, nil
	}
	before, err := count()
	src := fmt.Sprintf("SELECT * FROM %s(%s)", reader, sqlString(file))
	query := "CREATE TABLE " + table + " AS " + src
	verb := "created"
	if err == nil {
		query, verb = "INSERT INTO "+table+" BY NAME "+src, "appended to"
	} else {
		before = 0
	}
	if _, _, err := engine.RunStatement(qctx, r.conn, engine.Statement{SQL: query}); err != nil {
		return err
	}
	after, err := count()
	if err != nil {
		return err
	}
	rows := "rows"
	if after-before == 1 {
		rows = "row"
	}
	r.printer.PrintStatus(r.out(), r.opts.Err, fmt.Sprintf("%d %s imported from %s: %s %s", after-before, rows, file, verb, args[1]))
	return nil
}
