package plotwrite_test

import (
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/internal/testfiles"
)

// TestPNGAndSVG draws the CMS sample's histograms: the PNG decodes at the
// size asked for and is not blank; the SVG parses as XML, has the size
// asked for, one legend entry per column and a path per histogram.
func TestPNGAndSVG(t *testing.T) {
	cms := testfiles.CMSSample(t)
	db, err := hepsql.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	q := fmt.Sprintf("SELECT hist(Jet_pt[1], 40, 0, 200) AS leading_jet, hist(Jet_pt[2], 40, 0, 200) AS second_jet FROM read_root('%s')", cms)

	// PNG, by FORMAT and by extension alike.
	for _, c := range []struct{ name, opts string }{
		{"a.png", "(FORMAT png, XLABEL 'jet p_T [GeV]', TITLE 'CMS', WIDTH 640, HEIGHT 480)"},
		{"b.png", "(XLABEL 'jet p_T [GeV]', LOGY, WIDTH 640, HEIGHT 480)"},
		{"c.png", "(STACKED true, ERRORS false, WIDTH 640, HEIGHT 480)"},
	} {
		p := filepath.Join(dir, c.name)
		if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO '%s' %s", q, p, c.opts)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 480 {
			t.Errorf("%s: %v, want 640×480", c.name, b)
		}
		if colours(img) < 4 {
			t.Errorf("%s: %d colours: blank picture?", c.name, colours(img))
		}
	}

	// SVG.
	p := filepath.Join(dir, "jets.svg")
	if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO '%s' (FORMAT svg, XLABEL 'jet p_T [GeV]')", q, p)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var root struct{ Width, Height string }
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	paths, texts := 0, []string{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "svg":
			for _, a := range se.Attr {
				switch a.Name.Local {
				case "width":
					root.Width = a.Value
				case "height":
					root.Height = a.Value
				}
			}
		case "path":
			paths++
		case "text":
			var s string
			if err := dec.DecodeElement(&s, &se); err == nil {
				texts = append(texts, s)
			}
		}
	}
	if root.Width != "600pt" || root.Height != "450pt" {
		t.Errorf("SVG size %s × %s, want 600pt × 450pt (800×600 px at 96 dpi)", root.Width, root.Height)
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"leading_jet", "second_jet", "jet p_T [GeV]", "Entries"} {
		if !strings.Contains(all, want) {
			t.Errorf("SVG text lacks %q: %s", want, all)
		}
	}
	if paths < 4 {
		t.Errorf("SVG has %d paths", paths)
	}
}

func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}

// TestPlotRefusals: columns a plot cannot take, unknown options and
// stacking histograms of different binnings are errors, and leave no file.
func TestPlotRefusals(t *testing.T) {
	db, err := hepsql.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := filepath.Join(t.TempDir(), "x.png")
	for _, c := range []struct{ query, opts, want string }{
		{"SELECT 1 AS x", "", `column "x" has type INTEGER`},
		{"SELECT 'a' AS s", "", "no HIST column"},
		{"SELECT hist(range, 2, 0, 2) AS h FROM range(3)", "(FORMAT png, COLOR 'red')", "unknown option COLOR"},
		{"SELECT hist(range, 2, 0, 2) AS h FROM range(3)", "(FORMAT png, WIDTH 5)", "WIDTH takes a number of pixels"},
		{"SELECT hist(range, 2, 0, 2) AS a, hist(range, 3, 0, 2) AS b FROM range(3)", "(STACKED)", "different bin edges"},
		{"SELECT hist(range, 2, 0, 2) AS h FROM range(0)", "", "is NULL"},
	} {
		_, err := db.Exec(fmt.Sprintf("COPY (%s) TO '%s' %s", c.query, out, c.opts))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("COPY (%s) %s: %v, want an error containing %q", c.query, c.opts, err, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("COPY (%s) %s left %s", c.query, c.opts, out)
			os.Remove(out)
		}
	}
}
