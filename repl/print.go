package repl

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-runewidth"
	"golang.org/x/term"

	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/internal/termhist"
)

// Output modes.
const (
	ModeBox      = "box"      // Unicode box table, names and types in the header, fitted to the screen (the default)
	ModeTable    = "table"    // the same drawn with ASCII +, - and |
	ModeLine     = "line"     // one "name = value" line per column, a blank line between rows
	ModeList     = "list"     // header, then values separated by |
	ModeCSV      = "csv"      // RFC 4180, header line, NULL as empty field
	ModeJSON     = "json"     // one JSON array of row objects per result
	ModeMarkdown = "markdown" // GitHub-flavoured markdown table
)

// Modes lists the valid output modes.
var Modes = []string{ModeBox, ModeTable, ModeLine, ModeList, ModeCSV, ModeJSON, ModeMarkdown}

// ValidMode reports whether m names an output mode.
func ValidMode(m string) bool { return slices.Contains(Modes, m) }

// DefaultWidth is the width tables fit when the output is not a terminal and
// COLUMNS is not set.
const DefaultWidth = 80

// Printer writes results in one output mode. The box, table and markdown
// modes end each result with a line such as "(12 rows, 3.2 ms)"; the other
// modes print nothing but data, so that their output can be piped into
// other tools.
//
// Results stream: csv, json, line and list write each row as it arrives;
// box, table and markdown keep the first and last MaxRows/2 rows and count
// the rest, so that memory does not grow with the size of the result.
type Printer struct {
	Mode     string // one of Modes; "" means box
	Timer    bool   // add the elapsed time to the row-count line
	MaxRows  int    // box, table and markdown show at most this many rows (first and last half); 0 shows all
	MaxWidth int    // box and table fit this many columns of text; 0: the terminal's width, else $COLUMNS, else DefaultWidth
	Columns  bool   // box and table show each row as a column (one line per result column)

	// Render, if set, is asked first for the text of every value that box,
	// table, line, list and markdown show (typ is DuckDB's type name); ok
	// false leaves the value to the default formatting. The text may span
	// several lines (box and table draw them).
	Render func(v any, typ string) (text string, ok bool)

	printed map[io.Writer]int // results written so far, per destination (.output)

	// noticed holds the notices already shown: a session (or a pipeline)
	// that reads the same file in every statement is told once what
	// read_root left out of it, not after every statement.
	noticed map[string]bool

	// histWidth, when positive, is the width a HIST value is drawn in by
	// box and table (see drawHist); set per result.
	histWidth int

	// beforeTable, if set, is called when a table has all its rows, just
	// before it is drawn (the shell erases its progress bar there).
	beforeTable func()
}

// PrintWithNotices is the output of a pipeline's statement (see
// engine.RunScript): res's rows, if it has any, to out, then its notices to
// errOut.
func (p *Printer) PrintWithNotices(out, errOut io.Writer, res engine.Result) error {
	if res.Columns != nil {
		if err := p.Print(out, res); err != nil {
			return err
		}
	}
	p.PrintNotices(errOut, res.Notices)
	return nil
}

// PrintNotices writes a statement's notices to w, one "Notice: ..." line
// each, leaving out those this Printer has shown before.
func (p *Printer) PrintNotices(w io.Writer, notices []string) {
	for _, n := range notices {
		if p.noticed[n] {
			continue
		}
		if p.noticed == nil {
			p.noticed = map[string]bool{}
		}
		p.noticed[n] = true
		fmt.Fprintf(w, "Notice: %s\n", n)
	}
}

// PrintStatus writes the status line of a statement without rows ("12 rows
// written"): with the results in the modes for people, on errOut in csv and
// json, which are kept for data.
func (p *Printer) PrintStatus(out, errOut io.Writer, status string) {
	if status == "" {
		return
	}
	w := out
	if p.Mode == ModeCSV || p.Mode == ModeJSON {
		w = errOut
	}
	fmt.Fprintln(w, status)
}

// Print writes the collected result res to w.
func (p *Printer) Print(w io.Writer, res engine.Result) error {
	return p.PrintRows(w, engine.RowsOf(res))
}

// PrintRows reads rows to their end and writes them to w. In csv mode a
// blank line separates consecutive results, the only way to tell where one
// header-and-rows block ends.
func (p *Printer) PrintRows(w io.Writer, rows *engine.Rows) error {
	types := make([]*typeInfo, len(rows.Types))
	for i, t := range rows.Types {
		types[i] = parseType(t)
	}
	if p.printed == nil {
		p.printed = map[io.Writer]int{}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	// Before waiting for DuckDB, show what is written so far: slow rows
	// (a training's epochs) appear as they come.
	rows.SetBeforeFetch(func() { bw.Flush() })
	p.histWidth = 0
	if p.Mode == ModeBox || p.Mode == ModeTable || p.Mode == "" {
		p.histWidth = histCellWidth(p.width(w), rows.Types)
	}
	var err error
	switch p.Mode {
	case ModeBox, "":
		err = p.printTable(bw, w, rows, types, boxStyle)
	case ModeTable:
		err = p.printTable(bw, w, rows, types, asciiStyle)
	case ModeMarkdown:
		err = p.printMarkdown(bw, rows, types)
	case ModeLine:
		err = p.printLine(bw, rows, types)
	case ModeList:
		err = p.printList(bw, rows, types)
	case ModeCSV:
		if p.printed[w] > 0 {
			bw.WriteString("\n")
		}
		err = printCSV(bw, rows, types)
	case ModeJSON:
		err = printJSON(bw, rows, types)
	default:
		err = fmt.Errorf("unknown output mode %q", p.Mode)
	}
	rows.SetBeforeFetch(nil)
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("print %s: %w", p.Mode, err)
	}
	p.printed[w]++
	return nil
}

// streams reports whether the mode writes rows while they arrive (box and
// table wait for the last one; markdown writes its head at once).
func (p *Printer) streams() bool {
	switch p.Mode {
	case ModeBox, ModeTable, "":
		return false
	}
	return true
}

// text is the one place where a value becomes the text people read (box,
// table, line, list, markdown): Render first, then formatText.
func (p *Printer) text(v any, t *typeInfo, typ string) string {
	if p.Render != nil {
		if s, ok := p.Render(v, typ); ok {
			return s
		}
	}
	if p.histWidth > 0 {
		if s, ok := drawHist(v, p.histWidth); ok {
			return s
		}
	}
	return formatText(v, t)
}

// histCellWidth is the width each HIST column of a result is drawn in by
// box and table: the screen shared between them, less the borders; 0 when
// there is none or no room to draw one.
func histCellWidth(screen int, types []string) int {
	n := 0
	for _, t := range types {
		if isHistType(t) {
			n++
		}
	}
	if n == 0 {
		return 0
	}
	w := (screen-1)/n - 3
	if w < minHistWidth {
		return 0
	}
	return w
}

// minHistWidth is the narrowest drawing termhist makes.
const minHistWidth = 24

// isHistType reports whether DuckDB's type name is hist()'s STRUCT.
func isHistType(t string) bool {
	return strings.HasPrefix(t, "STRUCT(") && strings.Contains(t, `"edges" DOUBLE[]`) &&
		strings.Contains(t, `"sumw" DOUBLE[]`) && strings.Contains(t, `"sumw2" DOUBLE[]`)
}

// drawHist draws a HIST value as bars (termhist) in width columns: the
// shell shows a histogram, not its STRUCT.
func drawHist(v any, width int) (string, bool) {
	if !termhist.IsHist(v) {
		return "", false
	}
	h, err := termhist.FromValue("", v)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	if err := termhist.Render(&b, width, h); err != nil {
		return "", false
	}
	return strings.TrimRight(b.String(), "\n"), true
}

// width is the number of columns tables fit in when written to w.
func (p *Printer) width(w io.Writer) int {
	if p.MaxWidth > 0 {
		return p.MaxWidth
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return DefaultWidth
}

// sample keeps the first and last rows of a result and counts them all.
type sample struct {
	head, tail [][]any // tail is a ring once full
	next       int     // where the ring writes next
	headN      int
	tailN      int // 0 and headN 0: keep everything in head
	total      int64
}

func newSample(maxRows int) *sample {
	if maxRows <= 0 {
		return &sample{headN: -1}
	}
	head := (maxRows + 1) / 2
	return &sample{headN: head, tailN: maxRows - head}
}

func (s *sample) add(row []any) {
	s.total++
	switch {
	case s.headN < 0 || len(s.head) < s.headN:
		s.head = append(s.head, row)
	case s.tailN == 0:
	case len(s.tail) < s.tailN:
		s.tail = append(s.tail, row)
	default:
		s.tail[s.next] = row
		s.next = (s.next + 1) % s.tailN
	}
}

// rows returns the kept rows in order, and how many were left out between
// the head and the tail.
func (s *sample) rows() (head, tail [][]any, skipped int64) {
	tail = append(slices.Clone(s.tail[s.next:]), s.tail[:s.next]...)
	return s.head, tail, s.total - int64(len(s.head)) - int64(len(tail))
}

// collect reads rows into a sample, calling each (if set) on every row as it
// arrives.
func collect(rows *engine.Rows, maxRows int, each func([]any) error) (*sample, error) {
	s := newSample(maxRows)
	for {
		row, err := rows.Next()
		if err != nil {
			return nil, err
		}
		if row == nil {
			return s, nil
		}
		if each != nil {
			if err := each(row); err != nil {
				return nil, err
			}
		}
		s.add(row)
	}
}

// footer is the "(12 rows, 3.2 ms)" line under a table.
func (p *Printer) footer(total int64, shown int, cols, colsShown int, elapsed time.Duration) string {
	parts := []string{thousands(total) + " rows"}
	if total == 1 {
		parts[0] = "1 row"
	}
	if int64(shown) < total {
		parts = append(parts, thousands(int64(shown))+" shown")
	}
	if colsShown < cols {
		parts = append(parts, fmt.Sprintf("%d columns, %d shown", cols, colsShown))
	}
	if p.Timer {
		parts = append(parts, formatElapsed(elapsed))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// thousands writes n with thousands separators: 19,999,960.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func formatElapsed(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func printCSV(w *bufio.Writer, rows *engine.Rows, types []*typeInfo) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(rows.Columns); err != nil {
		return err
	}
	rec := make([]string, len(rows.Columns))
	for {
		r, err := rows.Next()
		if err != nil || r == nil {
			cw.Flush()
			return cmpErr(err, cw.Error())
		}
		for i, v := range r {
			rec[i] = ""
			if v != nil {
				rec[i] = formatText(v, types[i])
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// printJSON writes the result as one JSON array with a row object per line:
//
//	[
//	{"a":1,"b":"x"},
//	{"a":2,"b":null}
//	]
//
// Several results form a stream of arrays, as json.Decoder or `jq` read them.
func printJSON(w *bufio.Writer, rows *engine.Rows, types []*typeInfo) error {
	w.WriteString("[")
	n := 0
	for {
		r, err := rows.Next()
		if err != nil {
			return err
		}
		if r == nil {
			break
		}
		obj := make(orderedObject, len(r))
		for i, v := range r {
			obj[i] = member{rows.Columns[i], jsonValue(v, types[i])}
		}
		data, err := marshalJSON(obj)
		if err != nil {
			return fmt.Errorf("row %d: %w", n+1, err)
		}
		if n > 0 {
			w.WriteByte(',')
		}
		w.WriteByte('\n')
		w.Write(data)
		n++
	}
	if n > 0 {
		w.WriteByte('\n')
	}
	_, err := w.WriteString("]\n")
	return err
}

// printLine writes each row as "name = value" lines, names right-aligned,
// rows separated by a blank line, as the DuckDB and SQLite shells do.
func (p *Printer) printLine(w *bufio.Writer, rows *engine.Rows, types []*typeInfo) error {
	nameW := 0
	for _, c := range rows.Columns {
		nameW = max(nameW, runewidth.StringWidth(c))
	}
	for n := 0; ; n++ {
		r, err := rows.Next()
		if err != nil || r == nil {
			return err
		}
		if n > 0 {
			w.WriteByte('\n')
		}
		for i, v := range r {
			c := rows.Columns[i]
			fmt.Fprintf(w, "%s%s = %s\n", strings.Repeat(" ", nameW-runewidth.StringWidth(c)), c, p.text(v, types[i], rows.Types[i]))
		}
	}
}

// printList writes a header line and then one line per row, values
// separated by '|'.
func (p *Printer) printList(w *bufio.Writer, rows *engine.Rows, types []*typeInfo) error {
	w.WriteString(strings.Join(rows.Columns, "|") + "\n")
	cells := make([]string, len(rows.Columns))
	for {
		r, err := rows.Next()
		if err != nil || r == nil {
			return err
		}
		for i, v := range r {
			cells[i] = p.text(v, types[i], rows.Types[i])
		}
		w.WriteString(strings.Join(cells, "|") + "\n")
	}
}

// printMarkdown writes a GitHub table: the head rows as they arrive, then an
// elision row and the tail.
func (p *Printer) printMarkdown(w *bufio.Writer, rows *engine.Rows, types []*typeInfo) error {
	esc := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", "<br>")
	}
	line := func(cells []string) {
		w.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	names := make([]string, len(rows.Columns))
	align := make([]string, len(rows.Columns))
	for i, c := range rows.Columns {
		names[i], align[i] = esc(c), " --- "
		if types[i].isNumeric() {
			align[i] = " ---:"
		}
	}
	line(names)
	w.WriteString("|" + strings.Join(align, "|") + "|\n")
	cells := func(r []any) []string {
		out := make([]string, len(r))
		for i, v := range r {
			out[i] = esc(p.text(v, types[i], rows.Types[i]))
		}
		return out
	}
	s := newSample(p.MaxRows)
	for {
		r, err := rows.Next()
		if err != nil {
			return err
		}
		if r == nil {
			break
		}
		if s.headN < 0 || len(s.head) < s.headN {
			line(cells(r)) // the head streams
		}
		s.add(r)
	}
	head, tail, skipped := s.rows()
	if skipped > 0 {
		line(slices.Repeat([]string{"…"}, len(rows.Columns)))
	}
	for _, r := range tail {
		line(cells(r))
	}
	shown := len(head) + len(tail)
	_, err := w.WriteString(p.footer(s.total, shown, 1, 1, rows.Elapsed()) + "\n")
	return err
}
