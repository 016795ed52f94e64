package repl

import (
	"bufio"
	"io"
	"slices"
	"strings"

	"github.com/mattn/go-runewidth"

	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/internal/termhist"
)

// Tables fitted to the screen, as the DuckDB shell draws them: long values
// are cut with "…", and when the columns still do not fit, middle columns
// are hidden behind a "…" column; only the first and last rows are kept
// (see sample).

// tableStyle is the drawing of a table: corners and joints of the top,
// header-separator and bottom lines, and the vertical bar.
type tableStyle struct {
	top, sep, bottom [4]string // left, fill, joint, right
	bar              string
}

var (
	boxStyle = tableStyle{
		top:    [4]string{"┌", "─", "┬", "┐"},
		sep:    [4]string{"├", "─", "┼", "┤"},
		bottom: [4]string{"└", "─", "┴", "┘"},
		bar:    "│",
	}
	asciiStyle = tableStyle{
		top:    [4]string{"+", "-", "+", "+"},
		sep:    [4]string{"+", "-", "+", "+"},
		bottom: [4]string{"+", "-", "+", "+"},
		bar:    "|",
	}
)

// minColumnWidth is how narrow cutting may make a column before columns are
// hidden instead.
const minColumnWidth = 10

// marker stands for hidden rows and columns.
const marker = "…"

// cellLines splits a value's text into the lines a cell shows, tabs as
// blanks.
func cellLines(s string) []string {
	s = strings.NewReplacer("\t", " ", "\r", "").Replace(s)
	return strings.Split(s, "\n")
}

func textWidth(lines []string) int {
	w := 0
	for _, l := range lines {
		w = max(w, runewidth.StringWidth(l))
	}
	return w
}

// column is one column of a table being laid out.
type column struct {
	name, typ string
	right     bool // numbers align right
	natural   int  // width that shows everything
	width     int  // width given
}

func (p *Printer) printTable(bw *bufio.Writer, dst io.Writer, rows *engine.Rows, types []*typeInfo, st tableStyle) error {
	s, err := collect(rows, p.MaxRows, nil)
	if err != nil {
		return err
	}
	if p.beforeTable != nil {
		p.beforeTable()
	}
	head, tail, skipped := s.rows()
	kept := append(head[:len(head):len(head)], tail...)
	if skipped == 0 && p.histWidth > 0 {
		if chart, ok := overlayHists(rows.Columns, rows.Types, kept, p.width(dst)); ok {
			bw.WriteString(chart)
			bw.WriteString(p.footer(s.total, len(kept), len(rows.Columns), len(rows.Columns), rows.Elapsed()) + "\n")
			return nil
		}
	}

	cols := make([]column, len(rows.Columns))
	for i, name := range rows.Columns {
		cols[i] = column{name: name, typ: rows.Types[i], right: types[i].isNumeric()}
		cols[i].natural = max(runewidth.StringWidth(name), runewidth.StringWidth(rows.Types[i]), 1)
	}
	cells := make([][][]string, len(kept))
	for r, row := range kept {
		cells[r] = make([][]string, len(row))
		for i, v := range row {
			lines := cellLines(p.text(v, types[i], rows.Types[i]))
			cells[r][i] = lines
			cols[i].natural = max(cols[i].natural, textWidth(lines))
		}
	}
	nCols, total := len(cols), s.total
	if p.Columns {
		cols, cells, skipped = transpose(cols, cells, len(head), skipped, s.total)
	}
	width := p.width(dst)
	shown := fitColumns(cols, width)
	if skipped > 0 {
		// Widen the last column so that the "… N more rows …" line fits,
		// as far as the screen allows.
		need := runewidth.StringWidth(elisionText(skipped)) + 2 - (tableWidth(cols, shown) - 2)
		if last := shown[len(shown)-1]; need > 0 && last >= 0 {
			cols[last].width += max(0, min(need, width-tableWidth(cols, shown)))
		}
	}

	var b strings.Builder
	rule := func(parts [4]string) {
		b.WriteString(parts[0])
		for k, i := range shown {
			if k > 0 {
				b.WriteString(parts[2])
			}
			w := 1
			if i >= 0 {
				w = cols[i].width
			}
			b.WriteString(strings.Repeat(parts[1], w+2))
		}
		b.WriteString(parts[3] + "\n")
	}
	// line writes one table row whose cells are given as lines of text.
	line := func(cell func(i int) []string, header bool) {
		height := 1
		for _, i := range shown {
			if i >= 0 {
				height = max(height, len(cell(i)))
			}
		}
		for l := range height {
			b.WriteString(st.bar)
			for _, i := range shown {
				if i < 0 {
					text := marker
					if header && l > 0 {
						text = " "
					}
					b.WriteString(" " + text + " " + st.bar)
					continue
				}
				text := ""
				if ls := cell(i); l < len(ls) {
					text = ls[l]
				}
				b.WriteString(" " + fit(text, cols[i].width, cols[i].right && !header) + " " + st.bar)
			}
			b.WriteString("\n")
			if b.Len() > 1<<16 {
				bw.WriteString(b.String())
				b.Reset()
			}
		}
	}
	elision := func() {
		inner := tableWidth(cols, shown) - 2
		msg := runewidth.Truncate(elisionText(skipped), inner, marker)
		pad := inner - runewidth.StringWidth(msg)
		b.WriteString(st.bar + strings.Repeat(" ", pad/2) + msg + strings.Repeat(" ", pad-pad/2) + st.bar + "\n")
	}
	rule(st.top)
	line(func(i int) []string {
		if cols[i].typ == "" {
			return []string{cols[i].name}
		}
		return []string{cols[i].name, cols[i].typ}
	}, true)
	rule(st.sep)
	for r := range cells {
		if r == len(head) && skipped > 0 {
			elision()
		}
		line(func(i int) []string { return cells[r][i] }, false)
	}
	if skipped > 0 && len(tail) == 0 {
		elision()
	}
	rule(st.bottom)
	colsShown, rowsShown := 0, len(kept)
	for _, i := range shown {
		if i >= 0 {
			colsShown++
		}
	}
	if p.Columns { // the table's columns are the result's rows
		rowsShown, colsShown = 0, len(cells)
		for _, i := range shown {
			if i >= 2 && cols[i].name != marker {
				rowsShown++
			}
		}
	}
	b.WriteString(p.footer(total, rowsShown, nCols, colsShown, rows.Elapsed()) + "\n")
	_, err = bw.WriteString(b.String())
	return err
}

// transpose turns a table on its side for .columns: one line per column of
// the result (its name, its type, then its values), one column per row kept,
// a "…" column standing for the rows left out between the head and the
// tail.
func transpose(cols []column, cells [][][]string, nHead int, skipped, total int64) ([]column, [][][]string, int64) {
	tcols := []column{{name: "column", natural: len("column")}, {name: "type", natural: len("type")}}
	for r := range cells {
		if r == nHead && skipped > 0 {
			tcols = append(tcols, column{name: marker, natural: 1})
		}
		n := int64(r + 1)
		if r >= nHead {
			n = total - int64(len(cells)-r) + 1
		}
		tcols = append(tcols, column{name: thousands(n), natural: len(thousands(n))})
	}
	if skipped > 0 && nHead == len(cells) {
		tcols = append(tcols, column{name: marker, natural: 1})
	}
	tcells := make([][][]string, len(cols))
	for i, c := range cols {
		row := [][]string{{c.name}, {c.typ}}
		tcols[0].natural = max(tcols[0].natural, runewidth.StringWidth(c.name))
		tcols[1].natural = max(tcols[1].natural, runewidth.StringWidth(c.typ))
		for r := range cells {
			if r == nHead && skipped > 0 {
				row = append(row, []string{marker})
			}
			k := len(row)
			row = append(row, cells[r][i])
			tcols[k].natural = max(tcols[k].natural, textWidth(cells[r][i]))
		}
		if skipped > 0 && nHead == len(cells) {
			row = append(row, []string{marker})
		}
		tcells[i] = row
	}
	return tcols, tcells, 0
}

// elisionText stands for the rows left out of a table.
func elisionText(skipped int64) string {
	if skipped == 1 {
		return marker + " 1 more row " + marker
	}
	return marker + " " + thousands(skipped) + " more rows " + marker
}

// fit cuts text to width display columns (ending in "…" when cut) and pads
// it to width, on the left when right is set.
func fit(text string, width int, right bool) string {
	if runewidth.StringWidth(text) > width {
		text = runewidth.Truncate(text, width, marker)
	}
	pad := strings.Repeat(" ", width-runewidth.StringWidth(text))
	if right {
		return pad + text
	}
	return text + pad
}

// tableWidth is the width of a table of the given columns: a bar, then per
// column a blank, the text, a blank and a bar.
func tableWidth(cols []column, shown []int) int {
	w := 1
	for _, i := range shown {
		if i < 0 {
			w += 1 + 3
		} else {
			w += cols[i].width + 3
		}
	}
	return w
}

// fitColumns gives every column a width so that the table fits in total
// display columns, and returns the columns to show in order, -1 standing
// for the marker of hidden columns. Long values are cut first, widest
// column first, down to minColumnWidth; then middle columns are hidden,
// keeping columns alternately from the left and the right edge.
func fitColumns(cols []column, total int) []int {
	total = max(total, 12)
	all := make([]int, len(cols))
	for i := range cols {
		all[i] = i
		cols[i].width = min(cols[i].natural, total-4)
	}
	if tableWidth(cols, all) <= total {
		return all
	}
	// Cut the widest columns, one display column at a time.
	for tableWidth(cols, all) > total {
		widest := -1
		for i, c := range cols {
			if c.width > minColumnWidth && (widest < 0 || c.width > cols[widest].width) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		cols[widest].width--
	}
	if tableWidth(cols, all) <= total {
		return all
	}
	// Hide middle columns: take them from both edges while they fit next
	// to the marker column.
	var left, right []int
	for l, r := 0, len(cols)-1; l <= r; {
		take := l
		if len(left) > len(right) {
			take = r
		}
		try := append(append(append([]int{}, left...), take, -1), right...)
		if tableWidth(cols, try) > total {
			break
		}
		if take == l {
			left = append(left, l)
			l++
		} else {
			right = append([]int{r}, right...)
			r--
		}
	}
	if len(left) == 0 { // not even one column fits: narrow the first
		cols[0].width = max(1, total-tableWidth(cols, []int{-1})-3)
		left = []int{0}
	}
	shown := append(append(left, -1), right...)
	// Give the room left to the columns that were cut, those missing the
	// least first: short values are then shown whole.
	spare := total - tableWidth(cols, shown)
	order := slices.DeleteFunc(slices.Clone(shown), func(i int) bool { return i < 0 })
	slices.SortStableFunc(order, func(a, b int) int {
		return (cols[a].natural - cols[a].width) - (cols[b].natural - cols[b].width)
	})
	for _, i := range order {
		if spare <= 0 {
			break
		}
		add := min(spare, cols[i].natural-cols[i].width)
		cols[i].width += add
		spare -= add
	}
	return shown
}

// overlayHists draws a result made of histograms, and of VARCHAR columns
// that name them, as one chart: every HIST value of every row overlaid,
// named by its column and the row's names (one per class, sample, cut).
// It declines (ok false) when the result holds anything else, fewer than
// two histograms, or binnings that differ: the table then draws each
// histogram in its cell.
func overlayHists(names, types []string, rows [][]any, width int) (string, bool) {
	var histCols, labelCols []int
	for i, t := range types {
		switch {
		case isHistType(t):
			histCols = append(histCols, i)
		case t == "VARCHAR":
			labelCols = append(labelCols, i)
		default:
			return "", false
		}
	}
	if len(histCols)*len(rows) < 2 {
		return "", false
	}
	var hs []termhist.Hist
	for _, row := range rows {
		var label []string
		for _, i := range labelCols {
			s, _ := row[i].(string)
			if row[i] == nil {
				s = "NULL"
			}
			label = append(label, s)
		}
		for _, i := range histCols {
			if row[i] == nil {
				continue
			}
			name := names[i]
			if len(label) > 0 {
				name += " " + strings.Join(label, " ")
				if len(histCols) == 1 {
					name = strings.Join(label, " ")
				}
			}
			h, err := termhist.FromValue(name, row[i])
			if err != nil {
				return "", false
			}
			hs = append(hs, h)
		}
	}
	if len(hs) < 2 {
		return "", false
	}
	var b strings.Builder
	if err := termhist.Render(&b, max(width, minHistWidth), hs...); err != nil {
		return "", false // different binnings
	}
	return b.String(), true
}
