package repl

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"

	"github.com/hepsql/hepsql/engine"
)

// Output modes.
const (
	ModeTable    = "table"    // box-drawn table for people, names and types in the header
	ModeCSV      = "csv"      // RFC 4180, header line, NULL as empty field
	ModeJSON     = "json"     // one JSON array of row objects per result
	ModeMarkdown = "markdown" // GitHub-flavoured markdown table
)

// Modes lists the valid output modes.
var Modes = []string{ModeTable, ModeCSV, ModeJSON, ModeMarkdown}

// ValidMode reports whether m names an output mode.
func ValidMode(m string) bool { return slices.Contains(Modes, m) }

// Printer writes results in one output mode. The table and markdown modes
// end each result with a line such as "(12 rows, 3.2 ms)"; csv and json
// print nothing but data, so that their output can be piped into other tools.
type Printer struct {
	Mode    string // one of Modes; "" means table
	Timer   bool   // add the elapsed time to the row-count line
	MaxRows int    // table and markdown show at most this many rows (first and last half); 0 shows all

	printed int // results written so far
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
	PrintNotices(errOut, res.Notices)
	return nil
}

// PrintNotices writes a statement's notices to w, one "Notice: ..." line
// each.
func PrintNotices(w io.Writer, notices []string) {
	for _, n := range notices {
		fmt.Fprintf(w, "Notice: %s\n", n)
	}
}

// Print writes res to w. In csv mode a blank line separates consecutive
// results, the only way to tell where one header-and-rows block ends.
func (p *Printer) Print(w io.Writer, res engine.Result) error {
	types := make([]*typeInfo, len(res.Types))
	for i, t := range res.Types {
		types[i] = parseType(t)
	}
	var err error
	switch p.Mode {
	case ModeTable, "":
		err = p.printTable(w, res, types, false)
	case ModeMarkdown:
		err = p.printTable(w, res, types, true)
	case ModeCSV:
		if p.printed > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return fmt.Errorf("print csv: %w", err)
			}
		}
		err = printCSV(w, res, types)
	case ModeJSON:
		err = printJSON(w, res, types)
	default:
		err = fmt.Errorf("unknown output mode %q", p.Mode)
	}
	if err != nil {
		return fmt.Errorf("print %s: %w", p.Mode, err)
	}
	p.printed++
	return nil
}

func (p Printer) printTable(w io.Writer, res engine.Result, types []*typeInfo, markdown bool) error {
	tw := table.NewWriter()
	style := table.StyleLight
	style.Format.Header = text.FormatDefault // keep column names as written
	tw.SetStyle(style)
	tw.AppendHeader(toRow(res.Columns))
	if !markdown { // markdown allows one header row only
		tw.AppendHeader(toRow(res.Types))
	}
	// Explicit header alignment: go-pretty would otherwise guess from the cells
	// and right-align the header of a table without rows.
	cfg := make([]table.ColumnConfig, len(types))
	for i, t := range types {
		cfg[i] = table.ColumnConfig{Number: i + 1, AlignHeader: text.AlignLeft}
		if t.isNumeric() {
			cfg[i].Align = text.AlignRight
		}
	}
	tw.SetColumnConfigs(cfg)

	rows, shown := res.Rows, len(res.Rows)
	if p.MaxRows > 0 && len(rows) > p.MaxRows {
		shown = p.MaxRows
		head := (p.MaxRows + 1) / 2
		rows = slices.Concat(rows[:head], [][]any{nil}, rows[len(rows)-(p.MaxRows-head):])
	}
	for _, r := range rows {
		cells := make(table.Row, len(res.Columns))
		for i := range cells {
			if r == nil {
				cells[i] = "…" // marks the rows left out
			} else {
				cells[i] = formatText(r[i], types[i])
			}
		}
		tw.AppendRow(cells)
	}
	out := tw.Render()
	if markdown {
		out = tw.RenderMarkdown()
	}
	_, err := fmt.Fprintf(w, "%s\n%s\n", out, p.footer(len(res.Rows), shown, res.Elapsed))
	return err
}

// footer is the "(12 rows, 3.2 ms)" line under a table.
func (p Printer) footer(total, shown int, elapsed time.Duration) string {
	parts := []string{fmt.Sprintf("%d rows", total)}
	if total == 1 {
		parts[0] = "1 row"
	}
	if shown < total {
		parts = append(parts, fmt.Sprintf("%d shown", shown))
	}
	if p.Timer {
		parts = append(parts, formatElapsed(elapsed))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func formatElapsed(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func toRow(ss []string) table.Row {
	row := make(table.Row, len(ss))
	for i, s := range ss {
		row[i] = s
	}
	return row
}

func printCSV(w io.Writer, res engine.Result, types []*typeInfo) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(res.Columns); err != nil {
		return err
	}
	rec := make([]string, len(res.Columns))
	for _, r := range res.Rows {
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
	cw.Flush()
	return cw.Error()
}

// printJSON writes the result as one JSON array with a row object per line:
//
//	[
//	{"a":1,"b":"x"},
//	{"a":2,"b":null}
//	]
//
// Several results form a stream of arrays, as json.Decoder or `jq` read them.
func printJSON(w io.Writer, res engine.Result, types []*typeInfo) error {
	var b strings.Builder
	b.WriteString("[")
	for n, r := range res.Rows {
		obj := make(orderedObject, len(r))
		for i, v := range r {
			obj[i] = member{res.Columns[i], jsonValue(v, types[i])}
		}
		data, err := marshalJSON(obj)
		if err != nil {
			return fmt.Errorf("row %d: %w", n+1, err)
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		b.Write(data)
	}
	if len(res.Rows) > 0 {
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	_, err := io.WriteString(w, b.String())
	return err
}
