package termhist

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var (
	met = Hist{Name: "MET", Edges: []float64{0, 20, 40, 60, 80, 100}, Sumw: []float64{1200, 3400, 900, 120.5, 0},
		Sumw2: []float64{1200, 3400, 900, 120.5, 0}, Overflow: 12, Entries: 5633}
	tight = Hist{Name: "MET tight", Edges: met.Edges, Sumw: []float64{300, 2000, 700, 100, 3},
		Sumw2: []float64{300, 2000, 700, 100, 3}, Overflow: 2, Entries: 3105}
	weighted = Hist{Name: "w", Edges: []float64{-1.5, 0.25, 2}, Sumw: []float64{2.5, 0.75}, Sumw2: []float64{4.25, 0.5625},
		Underflow: 1, Entries: 4}
)

func render(t *testing.T, opts Options, hs ...Hist) string {
	t.Helper()
	var b strings.Builder
	if err := Draw(&b, opts, hs...); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGolden: the rendered text, line for line, of one histogram, two
// overlaid (glyphs, then colours), two stacked, and a weighted one (errors
// from sumw2).
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		opts Options
		hs   []Hist
		want string
	}{
		{"one", Options{Width: 40}, []Hist{met}, `
█ MET (5633 entries)
  0 │██████████▎                    1200
 20 │█████████████████████████████  3400
 40 │███████▋                        900
 60 │█                             120.5
 80 │                                  0
100 ┘
underflow: 0
 overflow: 12
`},
		{"overlaid", Options{Width: 40}, []Hist{met, tight}, `
█ MET (5633 entries)  ▓ MET tight (3105…
  0 │██████████▎                    1200
    │▓▓▓                             300
 20 │█████████████████████████████  3400
    │▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓              2000
 40 │███████▋                        900
    │▓▓▓▓▓▓                          700
 60 │█                             120.5
    │▓                               100
 80 │                                  0
    │                                  3
100 ┘
underflow: █ 0  ▓ 0
 overflow: █ 12  ▓ 2
`},
		{"stacked", Options{Width: 40, Stacked: true}, []Hist{met, tight}, `
█ MET (5633 entries)  ▓ MET tight (3105…
  0 │██████▓▓                       1500
 20 │██████████████████▓▓▓▓▓▓▓▓▓▓▓  5400
 40 │█████▓▓▓▓                      1600
 60 │█                             220.5
 80 │                                  3
100 ┘
underflow: █ 0  ▓ 0
 overflow: █ 12  ▓ 2
`},
		{"colour", Options{Width: 30, Color: true}, []Hist{met, tight}, "\n" + "\x1b[34m█\x1b[0m MET (5633 entries)  \x1b[31m█\x1b[0m MET t\x1b[0m…\n  0 │\x1b[34m██████▊\x1b[0m              1200\n    │\x1b[31m█▋\x1b[0m                    300\n 20 │\x1b[34m███████████████████\x1b[0m  3400\n    │\x1b[31m███████████▏\x1b[0m         2000\n 40 │\x1b[34m█████\x1b[0m                 900\n    │\x1b[31m███▉\x1b[0m                  700\n 60 │\x1b[34m▋\x1b[0m                   120.5\n    │\x1b[31m▌\x1b[0m                     100\n 80 │                        0\n    │\x1b[31m▏\x1b[0m                       3\n100 ┘\nunderflow: \x1b[34m█\x1b[0m 0  \x1b[31m█\x1b[0m 0\n overflow: \x1b[34m█\x1b[0m 12  \x1b[31m█\x1b[0m 2\n"},
		{"weighted", Options{Width: 36}, []Hist{weighted}, `
█ w (4 entries)
-1.5 │██████████████████  2.5 ±2.062
0.25 │█████▍              0.75 ±0.75
   2 ┘
underflow: 1
 overflow: 0
`},
	} {
		got := render(t, c.opts, c.hs...)
		if want := strings.TrimPrefix(c.want, "\n"); got != want {
			t.Errorf("%s:\ngot\n%s\nwant\n%s\ngot %q", c.name, got, want, got)
		}
		for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
			if n := width(line); n > c.opts.Width {
				t.Errorf("%s: line of %d columns, over %d: %q", c.name, n, c.opts.Width, line)
			}
		}
	}
}

// width counts display columns, ANSI escapes excluded.
func width(s string) int {
	n, esc := 0, false
	for _, r := range s {
		switch {
		case r == '\x1b':
			esc = true
		case esc:
			esc = r != 'm'
		default:
			n++
		}
	}
	return n
}

// TestWidths: every line fits widths from 24 to 200, for many bins.
func TestWidths(t *testing.T) {
	h := Hist{Name: "long name of a histogram with many bins", Edges: make([]float64, 51), Sumw: make([]float64, 50)}
	for i := range h.Edges {
		h.Edges[i] = -1234.5678 + float64(i)*0.1
	}
	for i := range h.Sumw {
		h.Sumw[i] = float64(i*i) * 1.37
	}
	for w := 24; w <= 200; w += 7 {
		for _, o := range []Options{{Width: w}, {Width: w, Stacked: true}, {Width: w, Color: true}} {
			var b strings.Builder
			if err := Draw(&b, o, h, h); err != nil {
				t.Fatalf("width %d: %v", w, err)
			}
			for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
				if width(line) > w || !utf8.ValidString(line) {
					t.Fatalf("width %d %+v: line %q", w, o, line)
				}
			}
		}
	}
}

// TestErrors: unusable input is an error, not a garbled picture.
func TestErrors(t *testing.T) {
	var b strings.Builder
	for want, call := range map[string]func() error{
		"no histogram":       func() error { return Render(&b, 80) },
		"too narrow":         func() error { return Render(&b, 10, met) },
		"different binnings": func() error { return Render(&b, 80, met, weighted) },
		"2 edges, 3 sumw":    func() error { return Render(&b, 80, Hist{Edges: []float64{0, 1}, Sumw: []float64{1, 2, 3}}) },
		"leaves no room": func() error {
			return Render(&b, 24, Hist{Edges: []float64{-1.2345678e-100, 1e-9}, Sumw: []float64{1.2345e300}})
		},
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}

// TestFromValue converts what database/sql gives for a HIST.
func TestFromValue(t *testing.T) {
	v := map[string]any{
		"edges": []any{0.0, 1.0, 2.0}, "sumw": []any{3.0, 4.5}, "sumw2": []any{3.0, 6.25},
		"underflow": 1.0, "overflow": 0.0, "underflow_sumw2": 1.0, "overflow_sumw2": 0.0, "entries": int64(9),
	}
	if !IsHist(v) || IsHist(map[string]any{"edges": nil}) || IsHist([]any{}) {
		t.Fatal("IsHist")
	}
	h, err := FromValue("x", v)
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != "x" || !equal(h.Edges, []float64{0, 1, 2}) || !equal(h.Sumw, []float64{3, 4.5}) || !equal(h.Sumw2, []float64{3, 6.25}) ||
		h.Underflow != 1 || h.Overflow != 0 || h.Entries != 9 {
		t.Fatalf("got %+v", h)
	}
	v["sumw"] = []any{3.0}
	if _, err := FromValue("x", v); err == nil {
		t.Fatal("mismatched lengths accepted")
	}
	v["sumw"] = []any{3.0, nil}
	if _, err := FromValue("x", v); err == nil || !strings.Contains(err.Error(), "NULL") {
		t.Fatalf("NULL bin: %v", err)
	}
}
