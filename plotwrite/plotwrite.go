// Package plotwrite draws HIST values as pictures: it registers the COPY
// formats `png` and `svg`, so that
//
//	COPY (SELECT hist(MET_pt, 50, 0, 200) AS met FROM 'f.root') TO 'met.png'
//	     (FORMAT png [, TITLE '...'] [, XLABEL '...'] [, YLABEL 'Entries']
//	      [, LOGY] [, STACKED] [, ERRORS false] [, WIDTH 800] [, HEIGHT 600])
//
// writes a publication-style step histogram with gonum/plot (DuckDB picks
// the format from a .png or .svg name when FORMAT is left out).
//
// Every HIST cell of the result is one histogram: several HIST columns are
// overlaid, one colour each, and the legend names them after their columns;
// VARCHAR columns name the rows (`SELECT sample, hist(...) AS met ... GROUP
// BY sample` draws one histogram per sample, labelled by the sample), and
// several rows without a name column are labelled `<column>_0`, `_1`, ...
// Rows are drawn in the result's order: add ORDER BY for a stable picture.
//
// Error bars (on by default; ERRORS false drops them) are √sumw2 per bin.
// STACKED draws the histograms stacked and filled, first on the bottom,
// with the error bars of the total; stacked histograms must share their
// bin edges. LOGY draws the y axis in log scale (empty bins go below the
// axis). Under- and overflow are not drawn. WIDTH and HEIGHT are pixels of
// the PNG at 96 dpi, and the same size in the SVG.
//
// Result columns other than HIST and VARCHAR are refused when the
// statement is bound, as are unknown options; the picture is drawn once
// all rows have arrived (histograms are small) and the file is written
// only then.
package plotwrite

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootwrite"
)

// Register registers the COPY formats png and svg on conn.
func Register(conn *capi.Conn) error {
	for _, format := range []string{"png", "svg"} {
		f := &capi.CopyFunction{Name: format, Bind: func(b *capi.CopyBind) (capi.CopyTarget, error) {
			return bind(format, b)
		}}
		if err := conn.RegisterCopyFunction(f); err != nil {
			return err
		}
	}
	return nil
}

// Options are a picture's settings.
type Options struct {
	Title, XLabel, YLabel string
	LogY, Stacked, Errors bool
	Width, Height         int // pixels at 96 dpi
}

var knownOptions = []string{"TITLE", "XLABEL", "YLABEL", "LOGY", "STACKED", "ERRORS", "WIDTH", "HEIGHT"}

func parseOptions(format string, m map[string]any) (Options, error) {
	o := Options{YLabel: "Entries", Errors: true, Width: 800, Height: 600}
	bad := func(k string, v any, want string) error {
		return fmt.Errorf("COPY (FORMAT %s): option %s takes %s, got %v", format, k, want, v)
	}
	for k, v := range m {
		switch k {
		case "TITLE", "XLABEL", "YLABEL":
			s, ok := v.(string)
			if !ok {
				return o, bad(k, v, "a string")
			}
			switch k {
			case "TITLE":
				o.Title = s
			case "XLABEL":
				o.XLabel = s
			default:
				o.YLabel = s
			}
		case "LOGY", "STACKED", "ERRORS":
			b := true // written without a value: on
			if v != nil {
				var ok bool
				if b, ok = v.(bool); !ok {
					return o, bad(k, v, "true or false")
				}
			}
			switch k {
			case "LOGY":
				o.LogY = b
			case "STACKED":
				o.Stacked = b
			default:
				o.Errors = b
			}
		case "WIDTH", "HEIGHT":
			n, ok := v.(int64)
			if !ok || n < 100 || n > 10000 {
				return o, bad(k, v, "a number of pixels from 100 to 10000")
			}
			if k == "WIDTH" {
				o.Width = int(n)
			} else {
				o.Height = int(n)
			}
		default:
			return o, fmt.Errorf("COPY (FORMAT %s): unknown option %s (the options are %s)", format, k, strings.Join(knownOptions, ", "))
		}
	}
	return o, nil
}

type target struct {
	format           string
	opts             Options
	hists, names     []string
	histIdx, nameIdx []int
}

func bind(format string, b *capi.CopyBind) (capi.CopyTarget, error) {
	opts, err := parseOptions(format, b.Options)
	if err != nil {
		return nil, err
	}
	t := &target{format: format, opts: opts}
	for i, c := range b.Columns {
		switch {
		case rootwrite.IsHist(c.Type):
			t.hists, t.histIdx = append(t.hists, c.Name), append(t.histIdx, i)
		case c.Type.ID == capi.Varchar:
			t.names, t.nameIdx = append(t.names, c.Name), append(t.nameIdx, i)
		default:
			return nil, fmt.Errorf("COPY (FORMAT %s): column %q has type %s; a plot takes HIST columns (from hist()) and VARCHAR columns naming the rows", format, c.Name, c.TypeName)
		}
	}
	if len(t.hists) == 0 {
		return nil, fmt.Errorf("COPY (FORMAT %s): no HIST column to draw (make one with hist())", format)
	}
	return t, nil
}

// Series is one histogram of a picture and its legend label.
type Series struct {
	Label string
	H     *rootwrite.Hist
}

type writer struct {
	t      *target
	path   string
	rows   int
	series []struct {
		col, row int
		label    string
		h        *rootwrite.Hist
	}
}

func (t *target) Open(path string) (capi.CopyWriter, error) {
	return &writer{t: t, path: path}, nil
}

func (w *writer) Write(in capi.Args) error {
	n := in.Rows()
	labels := rootwrite.RowLabels(in, w.t.nameIdx, " ")
	for k, i := range w.t.histIdx {
		for r, h := range rootwrite.ReadHists(in.Arg(i), n) {
			if h == nil {
				return fmt.Errorf("COPY (FORMAT %s): HIST column %q is NULL in row %d (hist() of no rows?)", w.t.format, w.t.hists[k], w.rows+r+1)
			}
			w.series = append(w.series, struct {
				col, row int
				label    string
				h        *rootwrite.Hist
			}{k, w.rows + r, labels[r], h})
		}
	}
	w.rows += n
	return nil
}

func (w *writer) Finish() error {
	var ss []Series
	for _, s := range w.series {
		label := w.t.hists[s.col]
		switch {
		case len(w.t.names) > 0 && len(w.t.hists) > 1:
			label += " " + s.label
		case len(w.t.names) > 0:
			label = s.label
		case w.rows > 1:
			label += "_" + strconv.Itoa(s.row)
		}
		ss = append(ss, Series{Label: label, H: s.h})
	}
	p, err := Draw(w.t.opts, ss)
	if err != nil {
		return fmt.Errorf("COPY (FORMAT %s): %w", w.t.format, err)
	}
	px := func(n int) vg.Length { return vg.Length(n) * vg.Inch / 96 }
	wt, err := p.WriterTo(px(w.t.opts.Width), px(w.t.opts.Height), w.t.format)
	if err != nil {
		return fmt.Errorf("COPY (FORMAT %s): %w", w.t.format, err)
	}
	f, err := os.Create(w.path)
	if err != nil {
		return fmt.Errorf("COPY (FORMAT %s): %w", w.t.format, err)
	}
	if _, err := wt.WriteTo(f); err != nil {
		f.Close()
		os.Remove(w.path)
		return fmt.Errorf("COPY (FORMAT %s): %s: %w", w.t.format, w.path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(w.path)
		return fmt.Errorf("COPY (FORMAT %s): %s: %w", w.t.format, w.path, err)
	}
	return nil
}

// palette is CMS's colour-blind-safe six-colour scheme (as in mplhep).
var palette = []color.RGBA{
	{0x57, 0x90, 0xfc, 0xff}, {0xf8, 0x9c, 0x20, 0xff}, {0xe4, 0x25, 0x36, 0xff},
	{0x96, 0x4a, 0x8b, 0xff}, {0x9c, 0x9c, 0xa1, 0xff}, {0x7a, 0x21, 0xdd, 0xff},
}

func colorOf(i int) color.RGBA { return palette[i%len(palette)] }

// Draw makes the plot of the series.
func Draw(o Options, ss []Series) (*plot.Plot, error) {
	if len(ss) == 0 {
		return nil, fmt.Errorf("no histogram to draw (the query returned no rows)")
	}
	for _, s := range ss {
		if err := checkHist(s.H); err != nil {
			return nil, fmt.Errorf("histogram %s: %w", s.Label, err)
		}
	}
	if o.Stacked {
		for _, s := range ss[1:] {
			if !slices.Equal(s.H.Edges, ss[0].H.Edges) {
				return nil, fmt.Errorf("STACKED: histograms %s and %s have different bin edges", ss[0].Label, s.Label)
			}
		}
	}
	p := plot.New()
	p.Title.Text = o.Title
	p.Title.TextStyle.Font.Size = 16
	p.X.Label.Text, p.Y.Label.Text = o.XLabel, o.YLabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font.Size = 14
		ax.Tick.Label.Font.Size = 12
		ax.Label.Padding = vg.Points(4)
	}
	p.X.Label.Position = draw.PosRight
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = 12
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), -vg.Points(8)
	p.Legend.ThumbnailWidth = vg.Points(24)

	// The curves: contents per series, stacked if asked.
	tops := make([][]float64, len(ss))
	for i, s := range ss {
		tops[i] = slices.Clone(s.H.SumW)
		if o.Stacked && i > 0 {
			for b := range tops[i] {
				tops[i][b] += tops[i-1][b]
			}
		}
	}
	// The y range.
	hi, loPos := 0.0, math.Inf(1)
	for i := range ss {
		for b, y := range tops[i] {
			e := 0.0
			if o.Errors && (!o.Stacked || i == len(ss)-1) {
				e = math.Sqrt(sumw2Total(ss, i, b, o.Stacked))
			}
			hi = max(hi, y+e)
			if y > 0 {
				loPos = min(loPos, y)
			}
		}
	}
	base := 0.0
	if o.LogY {
		if math.IsInf(loPos, 1) {
			return nil, fmt.Errorf("LOGY: every bin is empty")
		}
		base = math.Pow(10, math.Floor(math.Log10(loPos/2)))
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Min, p.Y.Max = base, hi*math.Pow(hi/base, 0.25)
	} else {
		if hi == 0 {
			hi = 1
		}
		p.Y.Min, p.Y.Max = 0, hi*1.3
	}
	e := ss[0].H.Edges
	p.X.Min, p.X.Max = e[0], e[len(e)-1]
	for _, s := range ss[1:] {
		p.X.Min = min(p.X.Min, s.H.Edges[0])
		p.X.Max = max(p.X.Max, s.H.Edges[len(s.H.Edges)-1])
	}

	// Stacked: the total first, so each lower fill paints over the one above.
	order := make([]int, len(ss))
	for i := range order {
		order[i] = i
	}
	if o.Stacked {
		slices.Reverse(order)
	}
	lines := make([]*plotter.Line, len(ss))
	for _, i := range order {
		l, err := stepLine(ss[i].H.Edges, tops[i], base)
		if err != nil {
			return nil, err
		}
		c := colorOf(i)
		l.LineStyle.Width = vg.Points(1.5)
		l.LineStyle.Color = c
		if o.Stacked {
			l.FillColor = c
			l.LineStyle.Color = color.Black
			l.LineStyle.Width = vg.Points(0.5)
		}
		p.Add(l)
		lines[i] = l
	}
	if o.Errors {
		for i := range ss {
			if o.Stacked && i != len(ss)-1 {
				continue
			}
			eb, err := errorBars(ss, tops[i], i, o.Stacked, base)
			if err != nil {
				return nil, err
			}
			eb.LineStyle.Width = vg.Points(1)
			eb.LineStyle.Color = colorOf(i)
			if o.Stacked {
				eb.LineStyle.Color = color.Black
			}
			p.Add(eb)
		}
	}
	// The legend, top first as the stack reads.
	for _, i := range order {
		if o.Stacked {
			p.Legend.Add(ss[i].Label, legendBox{colorOf(i)})
		} else {
			p.Legend.Add(ss[i].Label, lines[i])
		}
	}
	if len(ss) == 1 && ss[0].Label == "" {
		p.Legend = plot.NewLegend()
	}
	return p, nil
}

// sumw2Total is the squared error of series i's bin b: its own, or the
// stack's up to i.
func sumw2Total(ss []Series, i, b int, stacked bool) float64 {
	if !stacked {
		return ss[i].H.SumW2[b]
	}
	t := 0.0
	for k := 0; k <= i; k++ {
		t += ss[k].H.SumW2[b]
	}
	return t
}

// stepLine is the outline of a histogram: down to base at both ends.
func stepLine(edges, y []float64, base float64) (*plotter.Line, error) {
	pts := make(plotter.XYs, 0, len(y)+3)
	pts = append(pts, plotter.XY{X: edges[0], Y: base})
	for b, v := range y {
		pts = append(pts, plotter.XY{X: edges[b], Y: max(v, base)})
	}
	pts = append(pts, plotter.XY{X: edges[len(edges)-1], Y: max(y[len(y)-1], base)})
	pts = append(pts, plotter.XY{X: edges[len(edges)-1], Y: base})
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	l.StepStyle = plotter.PostStep
	return l, nil
}

// errBars are vertical error bars at the bin centres.
type errBars struct {
	plotter.XYs
	plotter.YErrors
}

func errorBars(ss []Series, y []float64, i int, stacked bool, base float64) (*plotter.YErrorBars, error) {
	edges := ss[i].H.Edges
	var eb errBars
	for b, v := range y {
		if v <= 0 && ss[i].H.SumW2[b] == 0 {
			continue // an empty bin has no error bar
		}
		e := math.Sqrt(sumw2Total(ss, i, b, stacked))
		lo := e
		if base > 0 && v-lo < base {
			lo = v - base // keep the bar on a log axis
		}
		eb.XYs = append(eb.XYs, plotter.XY{X: 0.5 * (edges[b] + edges[b+1]), Y: max(v, base)})
		eb.YErrors = append(eb.YErrors, struct{ Low, High float64 }{max(lo, 0), e})
	}
	bars, err := plotter.NewYErrorBars(eb)
	if err != nil {
		return nil, err
	}
	bars.CapWidth = 0
	return bars, nil
}

// legendBox is a filled square thumbnail for a stacked series.
type legendBox struct{ c color.Color }

func (b legendBox) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(b.c, c.ClipPolygonY(pts))
}

func checkHist(h *rootwrite.Hist) error {
	nb := len(h.Edges) - 1
	if nb < 1 || len(h.SumW) != nb || len(h.SumW2) != nb {
		return fmt.Errorf("%d edges for %d bins", len(h.Edges), len(h.SumW))
	}
	return nil
}
