package engine

// Pipeline files: a sequence of ';'-terminated SQL statements with
// "-- @param NAME = VALUE" declarations and ${NAME} references. Everything here
// keeps track of where each piece of SQL came from, so that an error raised by
// DuckDB for the substituted text can be reported as FILE:LINE:COL of the file
// the user wrote.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// Statement is one SQL statement of a pipeline file or of shell input.
type Statement struct {
	SQL  string // text sent to the database: parameters substituted, no trailing ';'
	Line int    // 1-based line of the statement's first token in the original text
	Col  int    // 1-based column, in characters, of that token

	// origin maps offsets in SQL back to the original text; nil for
	// statements built by hand, which then map lines relative to Line.
	origin *origin
}

// Result is the outcome of a statement that returns rows.
type Result struct {
	Columns []string      // column names, in order
	Types   []string      // DuckDB type names, e.g. "INTEGER", "DOUBLE[]", "STRUCT(\"a\" INTEGER)"
	Rows    [][]any       // values as returned by database/sql; nil is NULL
	Elapsed time.Duration // execution plus fetching all rows
	Stmt    Statement     // the statement that produced it
	// Notices are what the engine tells about the statement besides its
	// rows, one line each, for stderr: e.g. the unsupported branches a
	// read_root table left out (see Notices).
	Notices []string
}

// ScriptError is an error located in a script: parsing it or running one of
// its statements. Error() reads "FILE:LINE:COL: message".
type ScriptError struct {
	File      string
	Line, Col int
	Msg       string // message with statement-relative positions rewritten to file lines
	Err       error  // underlying error, if any
}

func (e *ScriptError) Error() string {
	if e.File == "" { // shell input (see Locate): the LINE excerpt says where
		return e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Locate returns err, the error of running st, with the line number of
// DuckDB's "LINE n:" excerpt counted in the text st came from (see
// SplitSQLAt) rather than in st alone, as a *ScriptError without a file.
func Locate(st Statement, err error) error {
	if err == nil {
		return nil
	}
	return locateError("", st, err)
}

func (e *ScriptError) Unwrap() error { return e.Err }

// ParseScript splits the pipeline file src (named name in messages) into
// statements, substituting ${NAME} parameters. Parameters are declared in the
// file as "-- @param NAME = VALUE" and overrides replaces declared defaults;
// overriding an undeclared parameter is an error, so that a typo on the command
// line cannot silently fall back to a default.
func ParseScript(name, src string, overrides map[string]string) ([]Statement, error) {
	sc := scanSQL(src)
	idx := newLineIndex(src)
	if sc.open != nil {
		line, col := idx.pos(sc.open.at)
		return nil, &ScriptError{File: name, Line: line, Col: col, Msg: "unterminated " + sc.open.what}
	}
	params, err := resolveParams(name, src, idx, sc.comments, overrides)
	if err != nil {
		return nil, err
	}
	var stmts []Statement
	for _, ch := range sc.chunks {
		if ch.first < 0 {
			continue // only blanks and comments
		}
		st, err := expand(name, src, idx, ch, sc.comments, params)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, st)
	}
	return stmts, nil
}

// SplitSQL splits src at top-level semicolons, for input that arrives
// piecewise (the shell). stmts are the ';'-terminated statements (comment-only
// ones dropped, no parameter substitution), rest is the text after the last
// ';', and pending reports whether rest holds the start of another statement
// or an unterminated quote or comment, i.e. whether more input is needed.
func SplitSQL(src string) (stmts []Statement, rest string, pending bool) {
	return SplitSQLAt(src, 1, 1)
}

// SplitSQLAt is SplitSQL for src that starts at line and col (1-based, in
// characters) of a longer input, such as the shell's stdin read piecewise:
// the statements' positions, and those of their errors, count from the
// start of that input.
func SplitSQLAt(src string, line, col int) (stmts []Statement, rest string, pending bool) {
	sc := scanSQL(src)
	idx := newLineIndex(src)
	idx.line0, idx.col0 = line-1, col-1
	for _, ch := range sc.chunks {
		if !ch.terminated {
			rest = src[ch.start:]
			pending = ch.first >= 0 || sc.open != nil
			continue
		}
		if ch.first >= 0 {
			stmts = append(stmts, newStatement(idx, ch.first, trimRight(src[ch.first:ch.end]), nil))
		}
	}
	return stmts, rest, pending
}

// RunScript runs stmts in order on a single connection of db, so that SET,
// temporary tables and the like carry over between statements, and calls emit
// for every statement that returns rows. A statement with notices but no rows
// to show (CREATE TABLE ... AS, or one that fails) is emitted too, as a
// Result with only Stmt and Notices (Columns nil). It stops at the first
// error, which is a *ScriptError naming file and the position of the
// failure.
func RunScript(ctx context.Context, db *sql.DB, stmts []Statement, file string, emit func(Result) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: open connection: %w", file, err)
	}
	defer conn.Close()
	return RunScriptConn(ctx, conn, stmts, file, emit)
}

// RunScriptConn is RunScript on a connection the caller holds, which lets
// the shell run a file in its own session.
func RunScriptConn(ctx context.Context, conn *sql.Conn, stmts []Statement, file string, emit func(Result) error) error {
	for _, st := range stmts {
		res, hasRows, err := RunStatement(ctx, conn, st)
		if len(res.Notices) > 0 && (err != nil || !hasRows) {
			if err := emit(Result{Stmt: st, Notices: res.Notices}); err != nil {
				return fmt.Errorf("%s:%d:%d: output: %w", file, st.Line, st.Col, err)
			}
		}
		if err != nil {
			return locateError(file, st, err)
		}
		if !hasRows {
			continue
		}
		if err := emit(res); err != nil {
			return fmt.Errorf("%s:%d:%d: output: %w", file, st.Line, st.Col, err)
		}
	}
	return nil
}

// StreamScript is RunScript for output that streams: consume reads each
// statement's rows as they are computed (see StreamStatement), and done is
// called after every statement, also one that failed, with its status line
// and notices. Memory does not grow with the size of the results.
func StreamScript(ctx context.Context, db *sql.DB, stmts []Statement, file string, consume func(*Rows) error, done func(Statement, Outcome)) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: open connection: %w", file, err)
	}
	defer conn.Close()
	return StreamScriptConn(ctx, conn, stmts, file, consume, done)
}

// StreamScriptConn is StreamScript on a connection the caller holds.
func StreamScriptConn(ctx context.Context, conn *sql.Conn, stmts []Statement, file string, consume func(*Rows) error, done func(Statement, Outcome)) error {
	for _, st := range stmts {
		var outErr error
		out, err := StreamStatement(ctx, conn, st, func(rows *Rows) error {
			if err := consume(rows); err != nil {
				outErr = err
				return err
			}
			return nil
		})
		done(st, out)
		switch {
		case outErr != nil:
			return fmt.Errorf("%s:%d:%d: output: %w", file, st.Line, st.Col, outErr)
		case err != nil:
			return locateError(file, st, err)
		}
	}
	return nil
}

// RunStatement runs one statement on conn and collects its rows. hasRows is
// false for statements that only report a status (DDL, SET, INSERT without
// RETURNING, COPY): DuckDB answers those with a lone "Count" or "Success"
// column that is noise to print. Errors are the database's, unwrapped, so
// callers can show the engine message as is, except where Notices explains
// them better (a query naming an unsupported ROOT branch). res.Notices holds
// the statement's notices, also when it fails (res is then otherwise empty).
func RunStatement(ctx context.Context, conn *sql.Conn, st Statement) (res Result, hasRows bool, err error) {
	res.Stmt = st
	out, err := StreamStatement(ctx, conn, st, func(rows *Rows) error {
		res.Columns, res.Types = rows.Columns, rows.Types
		for {
			row, err := rows.Next()
			if err != nil {
				return err
			}
			if row == nil {
				return nil
			}
			res.Rows = append(res.Rows, row)
		}
	})
	if err != nil {
		return Result{Notices: out.Notices}, false, err
	}
	res.Elapsed, res.Notices = out.Elapsed, out.Notices
	return res, out.HasRows, nil
}

// queryKeywords start statements whose result is data even when it happens
// to be a single BIGINT column named Count.
var queryKeywords = map[string]bool{
	"SELECT": true, "WITH": true, "FROM": true, "VALUES": true, "TABLE": true,
	"DESCRIBE": true, "DESC": true, "SHOW": true, "SUMMARIZE": true, "PRAGMA": true,
	"EXPLAIN": true, "CALL": true, "PIVOT": true, "UNPIVOT": true,
}

func firstKeyword(s string) string {
	s = strings.TrimLeft(s, "( \t\r\n")
	end := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if end < 0 {
		end = len(s)
	}
	return strings.ToUpper(s[:end])
}

// ---- lexical scanning -------------------------------------------------------

// chunk is the raw text between two top-level semicolons.
type chunk struct {
	start, end int // [start, end) in the source, terminating ';' excluded
	first      int // offset of the first token; -1 if only blanks and comments
	terminated bool
}

type span struct{ start, end int }

// openConstruct is a quote or comment still open at the end of the input.
type openConstruct struct {
	what string
	at   int
}

type scanned struct {
	chunks   []chunk
	comments []span // all comments, in source order
	lineCmts []span // the "--" ones, which may declare parameters
	open     *openConstruct
}

// scanSQL finds the statement boundaries and comments of src. It knows just
// enough SQL lexing to never split inside a string, quoted identifier,
// comment or dollar-quoted body.
func scanSQL(src string) scanned {
	var sc scanned
	cur := chunk{first: -1}
	mark := func(i int) {
		if cur.first < 0 {
			cur.first = i
		}
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ';':
			cur.end, cur.terminated = i, true
			sc.chunks = append(sc.chunks, cur)
			cur = chunk{start: i + 1, first: -1}
			i++
		case isSpace(c):
			i++
		case c == '-' && byteAt(src, i+1) == '-':
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src)
			} else {
				end += i
			}
			sc.comments = append(sc.comments, span{i, end})
			sc.lineCmts = append(sc.lineCmts, span{i, end})
			i = end
		case c == '/' && byteAt(src, i+1) == '*':
			end, ok := blockCommentEnd(src, i)
			sc.comments = append(sc.comments, span{i, end})
			if !ok {
				sc.open = &openConstruct{"block comment", i}
			}
			i = end
		case c == '\'' || c == '"':
			mark(i)
			end, ok := quotedEnd(src, i, c == '\'' && isEscapeString(src, i))
			if !ok {
				what := "string literal"
				if c == '"' {
					what = "quoted identifier"
				}
				sc.open = &openConstruct{what, i}
			}
			i = end
		case c == '$':
			mark(i)
			tag := dollarTag(src, i)
			if tag == "" {
				i++ // positional parameter ($1) or ${NAME} reference
				break
			}
			body := i + len(tag)
			k := strings.Index(src[body:], tag)
			if k < 0 {
				sc.open = &openConstruct{"dollar-quoted string", i}
				i = len(src)
				break
			}
			i = body + k + len(tag)
		default:
			mark(i)
			i++
		}
	}
	cur.end = len(src)
	sc.chunks = append(sc.chunks, cur)
	return sc
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 0x80 || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// isEscapeString reports whether the quote at i opens an E'...' string, in
// which backslash escapes a quote.
func isEscapeString(src string, i int) bool {
	return i > 0 && (src[i-1] == 'E' || src[i-1] == 'e') && (i < 2 || !isIdentByte(src[i-2]))
}

// quotedEnd returns the offset just past the quote closing the one at i;
// doubled quotes stand for one quote character.
func quotedEnd(src string, i int, backslash bool) (int, bool) {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch {
		case backslash && src[j] == '\\':
			j++
		case src[j] == q && byteAt(src, j+1) == q:
			j++
		case src[j] == q:
			return j + 1, true
		}
	}
	return len(src), false
}

// blockCommentEnd returns the offset just past the comment opened at i;
// DuckDB, like PostgreSQL, nests block comments.
func blockCommentEnd(src string, i int) (int, bool) {
	depth := 0
	for j := i; j+1 < len(src); {
		switch {
		case src[j] == '/' && src[j+1] == '*':
			depth++
			j += 2
		case src[j] == '*' && src[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j, true
			}
		default:
			j++
		}
	}
	return len(src), false
}

// dollarTag returns the opening delimiter ($$ or $tag$) of a dollar-quoted
// string at i, or "" if the '$' starts something else. A '$' inside an
// identifier (a$b) never opens a quote.
func dollarTag(src string, i int) string {
	if i > 0 && isIdentByte(src[i-1]) {
		return ""
	}
	j := i + 1
	if j < len(src) && src[j] != '$' {
		if c := src[j]; !(c == '_' || c >= 0x80 || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')) {
			return ""
		}
		for j < len(src) && isIdentByte(src[j]) {
			j++
		}
	}
	if j >= len(src) || src[j] != '$' {
		return ""
	}
	return src[i : j+1]
}

func trimRight(s string) string { return strings.TrimRightFunc(s, unicode.IsSpace) }

// ---- positions --------------------------------------------------------------

type lineIndex struct {
	src    string
	starts []int // byte offset of every line start

	// line0 and col0 shift positions when src starts inside a longer
	// text: lines by line0, columns of its first line by col0.
	line0, col0 int
}

func newLineIndex(src string) *lineIndex {
	x := &lineIndex{src: src, starts: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			x.starts = append(x.starts, i+1)
		}
	}
	return x
}

// pos converts a byte offset to a 1-based line and character column.
func (x *lineIndex) pos(off int) (line, col int) {
	i := sort.SearchInts(x.starts, off+1) - 1
	col = utf8.RuneCountInString(x.src[x.starts[i]:off]) + 1
	if i == 0 {
		col += x.col0
	}
	return i + 1 + x.line0, col
}

// origin records how a statement's SQL was derived from the original text.
type origin struct {
	lines *lineIndex
	start int     // offset in the original text of SQL[0]
	subs  []subst // parameter substitutions, in order
}

// subst is one ${NAME} replaced by its value.
type subst struct {
	at, n    int // the value occupies SQL[at:at+n]
	orig, on int // the reference occupied original[orig:orig+on]
}

func newStatement(idx *lineIndex, start int, sqlText string, subs []subst) Statement {
	line, col := idx.pos(start)
	return Statement{SQL: sqlText, Line: line, Col: col, origin: &origin{lines: idx, start: start, subs: subs}}
}

// position maps a byte offset in st.SQL to a line and column in the original
// text; offsets inside a substituted value map to its ${NAME} reference.
func (st Statement) position(off int) (line, col int) {
	if st.origin == nil {
		prefix := st.SQL[:off]
		nl := strings.LastIndexByte(prefix, '\n')
		if nl < 0 {
			return st.Line, st.Col + utf8.RuneCountInString(prefix)
		}
		return st.Line + strings.Count(prefix, "\n"), utf8.RuneCountInString(prefix[nl+1:]) + 1
	}
	g := st.origin
	shift := 0
	for _, s := range g.subs {
		if off < s.at {
			break
		}
		if off < s.at+s.n {
			return g.lines.pos(s.orig)
		}
		shift += s.on - s.n
	}
	return g.lines.pos(g.start + off + shift)
}

// duckLineContext matches the excerpt DuckDB appends to positioned errors:
// "\n\nLINE n: <text of that line>\n<spaces>^", n relative to the statement.
var duckLineContext = regexp.MustCompile(`\n\nLINE (\d+): ([^\n]*)\n( *)\^[ \t]*$`)

// locateError turns an error from running st into a *ScriptError at the
// position DuckDB points to, or at the start of st if it names none.
func locateError(file string, st Statement, err error) error {
	se := &ScriptError{File: file, Line: st.Line, Col: st.Col, Msg: err.Error(), Err: err}
	// The driver joins the context error with DuckDB's own "Interrupted!";
	// one plain word reads better.
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		se.Msg = "interrupted: deadline exceeded"
		return se
	case errors.Is(err, context.Canceled):
		se.Msg = "interrupted"
		return se
	}
	m := duckLineContext.FindStringSubmatchIndex(se.Msg)
	if m == nil {
		return se
	}
	n, _ := strconv.Atoi(se.Msg[m[2]:m[3]])
	shown := se.Msg[m[4]:m[5]]
	caret := m[7] - m[6] - len("LINE : ") - (m[3] - m[2])
	off, ok := errorOffset(st.SQL, n, shown, caret)
	if !ok {
		return se
	}
	se.Line, se.Col = st.position(off)
	prefix := fmt.Sprintf("LINE %d: ", se.Line)
	se.Msg = se.Msg[:m[0]] + "\n\n" + prefix + shown + "\n" +
		strings.Repeat(" ", max(0, len(prefix)+caret)) + "^"
	return se
}

// errorOffset finds the byte offset in sqlText of the character under
// DuckDB's caret: line n (1-based) of sqlText, shown as `shown` (possibly cut
// to "... part ..."), caret display columns into shown. DuckDB measures the
// caret in display width, where control characters such as tab count zero.
func errorOffset(sqlText string, n int, shown string, caret int) (int, bool) {
	lines := strings.SplitAfter(sqlText, "\n")
	if n < 1 || n > len(lines) || caret < 0 {
		return 0, false
	}
	lineStart := 0
	for _, l := range lines[:n-1] {
		lineStart += len(l)
	}
	line := strings.TrimRight(lines[n-1], "\r\n")
	// DuckDB cuts long lines around the error to "...part...", with or
	// without blanks next to the dots.
	for _, dots := range []string{"... ", "..."} {
		if cut, ok := strings.CutPrefix(shown, dots); ok {
			shown, caret = cut, caret-len(dots)
			break
		}
	}
	for _, dots := range []string{" ...", "..."} {
		if cut, ok := strings.CutSuffix(shown, dots); ok {
			shown = cut
			break
		}
	}
	at := strings.Index(line, shown)
	if at < 0 || caret < 0 {
		return lineStart, true // right line, unknown column
	}
	width := 0
	for i, r := range shown {
		w := runewidth.RuneWidth(r)
		if width == caret && w > 0 {
			return lineStart + at + i, true
		}
		width += w
	}
	return lineStart + at + len(shown), true
}

// ---- parameters -------------------------------------------------------------

var (
	paramDecl = regexp.MustCompile(`^--\s*@param\b(.*)$`)
	paramBody = regexp.MustCompile(`^\s+([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$`)
	paramRef  = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// resolveParams reads the declarations in the file's line comments and
// returns the final value of every parameter. A default may refer to
// parameters declared before it (-- @param out = ${dir}/out.parquet), and
// sees their overridden values; overrides themselves are taken literally.
func resolveParams(file, src string, idx *lineIndex, lineCmts []span, overrides map[string]string) (map[string]string, error) {
	vals := map[string]string{}
	declLine := map[string]int{}
	var order []string
	fail := func(off int, format string, args ...any) error {
		line, col := idx.pos(off)
		return &ScriptError{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
	}
	for _, c := range lineCmts {
		text := trimRight(src[c.start:c.end])
		d := paramDecl.FindStringSubmatch(text)
		if d == nil {
			continue
		}
		b := paramBody.FindStringSubmatch(d[1])
		if b == nil {
			return nil, fail(c.start, "malformed parameter declaration, want -- @param NAME = VALUE")
		}
		name, val := b[1], unquote(strings.TrimSpace(b[2]))
		if l, dup := declLine[name]; dup {
			return nil, fail(c.start, "parameter %s already declared on line %d", name, l)
		}
		declLine[name], _ = idx.pos(c.start)
		order = append(order, name)
		if o, ok := overrides[name]; ok {
			vals[name] = o
			continue
		}
		var unknown string
		vals[name] = paramRef.ReplaceAllStringFunc(val, func(ref string) string {
			v, ok := vals[ref[2:len(ref)-1]]
			if !ok && unknown == "" {
				unknown = ref
			}
			return v
		})
		if unknown != "" {
			return nil, fail(c.start+strings.Index(text, unknown), "unknown parameter %s", unknown)
		}
	}
	var bad []string
	for name := range overrides {
		if _, ok := declLine[name]; !ok {
			bad = append(bad, name)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		declared := "the file declares none"
		if len(order) > 0 {
			declared = "declared: " + strings.Join(order, ", ")
		}
		return nil, fmt.Errorf("%s: --set %s: no such parameter (%s)", file, strings.Join(bad, ", "), declared)
	}
	return vals, nil
}

// unquote strips one pair of matching surrounding quotes, so that values with
// significant blanks can be written.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// expand builds the statement of chunk ch, substituting parameters everywhere
// except in comments (which may mention ${NAME} in prose).
func expand(file, src string, idx *lineIndex, ch chunk, comments []span, params map[string]string) (Statement, error) {
	raw := trimRight(src[ch.first:ch.end])
	var b strings.Builder
	var subs []subst
	last := 0
	for _, m := range paramRef.FindAllStringSubmatchIndex(raw, -1) {
		at := ch.first + m[0]
		if inSpans(comments, at) {
			continue
		}
		name := raw[m[2]:m[3]]
		val, ok := params[name]
		if !ok {
			line, col := idx.pos(at)
			return Statement{}, &ScriptError{File: file, Line: line, Col: col, Msg: fmt.Sprintf("unknown parameter ${%s}", name)}
		}
		b.WriteString(raw[last:m[0]])
		subs = append(subs, subst{at: b.Len(), n: len(val), orig: at, on: m[1] - m[0]})
		b.WriteString(val)
		last = m[1]
	}
	b.WriteString(raw[last:])
	return newStatement(idx, ch.first, b.String(), subs), nil
}

func inSpans(spans []span, off int) bool {
	k := sort.Search(len(spans), func(k int) bool { return spans[k].end > off })
	return k < len(spans) && spans[k].start <= off
}
