// Package termhist draws histograms in a terminal: one line per bin, a
// horizontal bar of Unicode blocks (eighth blocks for resolution), the bin's
// low edge as the axis label and its content at the end of the line, the
// under- and overflow below. Several histograms are overlaid (one bar per
// histogram within each bin, each with its own glyph or colour) or stacked
// (one bar per bin, the histograms' contents end to end), as mplhep's
// histplot draws them on paper.
//
// It knows nothing of DuckDB: FromValue converts the value database/sql
// gives for hepsql's HIST STRUCT (a map[string]any with []any lists).
package termhist

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Hist is one histogram: len(Edges) = len(Sumw)+1; Sumw2 (the variance of
// each bin's content) may be nil, and then the bars carry no errors.
type Hist struct {
	Name                string
	Edges               []float64
	Sumw, Sumw2         []float64
	Underflow, Overflow float64
	Entries             int64
}

// Options control Draw.
type Options struct {
	// Width is the most display columns a line may take (at least 24).
	Width int
	// Stacked draws the histograms end to end in one bar per bin;
	// otherwise each bin has one bar per histogram.
	Stacked bool
	// Color tells each histogram apart with ANSI colours (all bars then
	// use the block glyph); without it each has its own glyph.
	Color bool
}

// Render overlays hs within width columns, without colour.
func Render(w io.Writer, width int, hs ...Hist) error {
	return Draw(w, Options{Width: width}, hs...)
}

// glyphs: the first histogram is drawn in blocks with eighth-block ends;
// the next ones, without colour, in shades (whole cells).
var glyphs = []rune{'█', '▓', '▒', '░', '▚', '▞'}

var eighths = []rune{'▏', '▎', '▍', '▌', '▋', '▊', '▉'}

var colors = []string{"34", "31", "32", "33", "35", "36"}

// Draw renders hs with opts.
func Draw(w io.Writer, opts Options, hs ...Hist) error {
	if len(hs) == 0 {
		return errors.New("termhist: no histogram")
	}
	if opts.Width < 24 {
		return fmt.Errorf("termhist: width %d is too narrow (at least 24)", opts.Width)
	}
	nb := len(hs[0].Sumw)
	for _, h := range hs {
		if len(h.Edges) != len(h.Sumw)+1 || (h.Sumw2 != nil && len(h.Sumw2) != len(h.Sumw)) {
			return fmt.Errorf("termhist: %s: %d edges, %d sumw, %d sumw2", h.Name, len(h.Edges), len(h.Sumw), len(h.Sumw2))
		}
		if len(h.Sumw) != nb || !equal(h.Edges, hs[0].Edges) {
			return fmt.Errorf("termhist: %s and %s have different binnings", hs[0].Name, h.Name)
		}
	}
	d := drawer{opts: opts, hs: hs}
	return d.draw(w, nb)
}

type drawer struct {
	opts Options
	hs   []Hist
}

func (d *drawer) draw(w io.Writer, nb int) error {
	var b strings.Builder
	edges := d.hs[0].Edges
	labels := make([]string, nb+1)
	labelW := 0
	for i, e := range edges {
		labels[i] = num(e)
		labelW = max(labelW, len(labels[i]))
	}
	// The text after each bar: a content, ± its error when weighted.
	counts := make([][]string, len(d.hs))
	countW := 0
	for k, h := range d.hs {
		counts[k] = make([]string, nb)
		for i := range nb {
			counts[k][i] = content(h, i)
			countW = max(countW, len(counts[k][i]))
		}
	}
	if d.opts.Stacked {
		for i := range nb {
			t := 0.0
			for _, h := range d.hs {
				t += h.Sumw[i]
			}
			counts[0][i] = num(t)
			countW = max(countW, len(counts[0][i]))
		}
	}
	barW := d.opts.Width - labelW - 2 - 1 - countW
	if barW < 4 {
		return fmt.Errorf("termhist: width %d leaves no room for bars", d.opts.Width)
	}
	// The scale: the largest bar fills barW cells.
	top := 0.0
	for i := range nb {
		t := 0.0
		for _, h := range d.hs {
			if d.opts.Stacked {
				t += max(h.Sumw[i], 0)
			} else {
				t = max(t, h.Sumw[i])
			}
		}
		top = max(top, t)
	}
	d.legend(&b)
	for i := range nb {
		if d.opts.Stacked {
			fmt.Fprintf(&b, "%*s │%s %*s\n", labelW, labels[i], d.stackBar(i, top, barW), countW, counts[0][i])
			continue
		}
		for k, h := range d.hs {
			label := labels[i]
			if k > 0 {
				label = ""
			}
			fmt.Fprintf(&b, "%*s │%s %*s\n", labelW, label, d.bar(k, h.Sumw[i], top, barW), countW, counts[k][i])
		}
	}
	fmt.Fprintf(&b, "%*s ┘\n", labelW, labels[nb])
	d.flows(&b, "underflow", func(h Hist) float64 { return h.Underflow })
	d.flows(&b, " overflow", func(h Hist) float64 { return h.Overflow })
	_, err := io.WriteString(w, b.String())
	return err
}

// legend names each histogram with its glyph (or colour) and entries.
func (d *drawer) legend(b *strings.Builder) {
	var parts []string
	for k, h := range d.hs {
		name := h.Name
		switch {
		case name == "" && len(d.hs) == 1:
			// A lone histogram needs no name (the shell shows its column's).
		case name == "":
			name = fmt.Sprintf("#%d ", k+1)
		default:
			name += " "
		}
		parts = append(parts, fmt.Sprintf("%s %s(%d entries)", d.paint(k, string(d.glyph(k))), name, h.Entries))
	}
	b.WriteString(d.fit(strings.Join(parts, "  ")) + "\n")
}

// flows writes one line of under- or overflow contents.
func (d *drawer) flows(b *strings.Builder, what string, get func(Hist) float64) {
	parts := make([]string, len(d.hs))
	for k, h := range d.hs {
		parts[k] = num(get(h))
		if len(d.hs) > 1 {
			parts[k] = d.paint(k, string(d.glyph(k))) + " " + parts[k]
		}
	}
	b.WriteString(d.fit(what+": "+strings.Join(parts, "  ")) + "\n")
}

func (d *drawer) glyph(k int) rune {
	if d.opts.Color {
		return glyphs[0]
	}
	return glyphs[k%len(glyphs)]
}

func (d *drawer) paint(k int, s string) string {
	if !d.opts.Color || s == "" {
		return s
	}
	return "\x1b[" + colors[k%len(colors)] + "m" + s + "\x1b[0m"
}

// bar is histogram k's bar for content v, padded to barW cells.
func (d *drawer) bar(k int, v, top float64, barW int) string {
	eighthsLen := 0
	if top > 0 && v > 0 {
		// A content above zero shows at least an eighth.
		eighthsLen = max(1, int(math.Round(v/top*float64(barW*8))))
	}
	g := d.glyph(k)
	var s string
	if g == glyphs[0] {
		s = strings.Repeat(string(g), eighthsLen/8)
		if r := eighthsLen % 8; r > 0 {
			s += string(eighths[r-1])
		}
	} else {
		s = strings.Repeat(string(g), (eighthsLen+4)/8)
	}
	n := utf8.RuneCountInString(s)
	return d.paint(k, s) + strings.Repeat(" ", barW-n)
}

// stackBar is bin i's stacked bar: each histogram's share in whole cells,
// the boundaries rounded from the running sum so the total is right.
func (d *drawer) stackBar(i int, top float64, barW int) string {
	var s strings.Builder
	sum, cells := 0.0, 0
	for k, h := range d.hs {
		sum += max(h.Sumw[i], 0)
		end := 0
		if top > 0 {
			end = int(math.Round(sum / top * float64(barW)))
		}
		if end > cells {
			s.WriteString(d.paint(k, strings.Repeat(string(d.glyph(k)), end-cells)))
			cells = end
		}
	}
	return s.String() + strings.Repeat(" ", barW-cells)
}

// fit cuts s to the width (ANSI escapes take no columns).
func (d *drawer) fit(s string) string {
	cols, inEsc := 0, false
	for i, r := range s {
		switch {
		case r == '\x1b':
			inEsc = true
		case inEsc:
			inEsc = r != 'm'
		default:
			if cols == d.opts.Width-1 && len(s[i:]) > utf8.RuneLen(r) {
				reset := ""
				if d.opts.Color {
					reset = "\x1b[0m"
				}
				return s[:i] + reset + "…"
			}
			cols++
		}
	}
	return s
}

// content is bin i's content, with ± its error when the histogram is
// weighted (sumw2 differs from sumw somewhere).
func content(h Hist, i int) string {
	s := num(h.Sumw[i])
	if h.Sumw2 != nil && !equal(h.Sumw, h.Sumw2) {
		s += " ±" + num(math.Sqrt(h.Sumw2[i]))
	}
	return s
}

// num prints integers whole and other numbers with 4 significant digits.
func num(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// IsHist reports whether v, a value as database/sql scans it, is a HIST:
// a map with the STRUCT's fields.
func IsHist(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for _, k := range []string{"edges", "sumw", "sumw2", "underflow", "overflow", "entries"} {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// FromValue converts a HIST as database/sql scans it (map[string]any whose
// lists are []any of float64) into a Hist named name.
func FromValue(name string, v any) (Hist, error) {
	if !IsHist(v) {
		return Hist{}, fmt.Errorf("termhist: %s: %T is not a histogram (a STRUCT with edges, sumw, sumw2, underflow, overflow, entries)", name, v)
	}
	m := v.(map[string]any)
	h := Hist{Name: name}
	var err error
	if h.Edges, err = floatList(m["edges"]); err != nil {
		return Hist{}, fmt.Errorf("termhist: %s: edges: %w", name, err)
	}
	if h.Sumw, err = floatList(m["sumw"]); err != nil {
		return Hist{}, fmt.Errorf("termhist: %s: sumw: %w", name, err)
	}
	if h.Sumw2, err = floatList(m["sumw2"]); err != nil {
		return Hist{}, fmt.Errorf("termhist: %s: sumw2: %w", name, err)
	}
	if h.Underflow, err = toFloat(m["underflow"]); err != nil {
		return Hist{}, fmt.Errorf("termhist: %s: underflow: %w", name, err)
	}
	if h.Overflow, err = toFloat(m["overflow"]); err != nil {
		return Hist{}, fmt.Errorf("termhist: %s: overflow: %w", name, err)
	}
	e, err := toFloat(m["entries"])
	if err != nil {
		return Hist{}, fmt.Errorf("termhist: %s: entries: %w", name, err)
	}
	h.Entries = int64(e)
	if len(h.Edges) != len(h.Sumw)+1 || len(h.Sumw2) != len(h.Sumw) {
		return Hist{}, fmt.Errorf("termhist: %s: %d edges, %d sumw, %d sumw2", name, len(h.Edges), len(h.Sumw), len(h.Sumw2))
	}
	return h, nil
}

func floatList(v any) ([]float64, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%T is not a list", v)
	}
	out := make([]float64, len(l))
	for i, x := range l {
		f, err := toFloat(x)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case nil:
		return 0, errors.New("NULL")
	}
	return 0, fmt.Errorf("%T is not a number", v)
}
