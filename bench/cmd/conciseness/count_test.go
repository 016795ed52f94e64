package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The expected counts below are worked out by hand from the inputs.
func TestMeasure(t *testing.T) {
	for _, c := range []struct {
		name string
		src  string
		l    lang
		want size
	}{
		{"sql line and block comments", "-- head\nSELECT 'a--b' /* x\ny */ FROM t; -- tail\n\n   x  \n", langSQL,
			size{3, len("SELECT 'a--b'") + len("FROM t;") + len("x")}},
		{"sql doubled quote keeps the string open", "SELECT 'it''s -- not' -- yes\n", langSQL,
			size{1, len("SELECT 'it''s -- not'")}},
		{"sql quoted identifiers", "SELECT \"a--b\", `c/*d` FROM t\n", langSQL,
			size{1, len("SELECT \"a--b\", `c/*d` FROM t")}},
		{"sql block comment mid-line is one space", "a/* x */b\n", langSQL, size{1, 3}},
		{"sql unterminated block comment", "a\n/* open\nb\n", langSQL, size{1, 1}},
		{"cpp comments and escaped quote", "auto s = \"a//b\\\"c\"; // x\n/* a */ int x;\n", langCPP,
			size{2, len(`auto s = "a//b\"c";`) + len("int x;")}},
		{"cpp char literal", "char q = '\"'; // \"\nint y;\n", langCPP, size{2, len(`char q = '"';`) + len("int y;")}},
		{"cpp -- is not a comment", "i--;\n", langCPP, size{1, 4}},
		{"characters are code points", "SELECT 'π'\n", langSQL, size{1, 10}},
		{"empty", "\n\n  \n", langSQL, size{}},
	} {
		if got := measure(c.src, c.l, nil); got != c.want {
			t.Errorf("%s: measure(%q) = %+v, want %+v", c.name, c.src, got, c.want)
		}
	}
}

func TestIsDrawing(t *testing.T) {
	drawing := []string{`#include "TCanvas.h"`, "TCanvas c;", `c.SaveAs("x.root");`, "c.Divide(2, 1);", "c.cd(1);", "h->Draw();", "h2->Draw();"}
	code := []string{`#include "ROOT/RDataFrame.hxx"`, `auto h = df.Histo1D({"", "", 100, 0, 1}, "x");`, "return h->Draw();", "x = h->Draw();", "cd(1);"}
	for _, s := range drawing {
		if !isDrawing(s) {
			t.Errorf("isDrawing(%q) = false, want true", s)
		}
	}
	for _, s := range code {
		if isDrawing(s) {
			t.Errorf("isDrawing(%q) = true, want false", s)
		}
	}
	src := "#include \"TCanvas.h\"\nvoid f() {\n    TCanvas c;\n    h->Draw();\n    c.SaveAs(\"a.root\");\n}\n"
	if got, want := measure(src, langCPP, isDrawing), (size{2, len("void f() {") + 1}); got != want {
		t.Errorf("measure without drawing = %+v, want %+v", got, want)
	}
}

func TestLangOf(t *testing.T) {
	for path, want := range map[string]lang{"a/q.sql": langSQL, "b/benchmark1.C": langCPP, "c.cxx": langCPP} {
		if got, err := langOf(path); err != nil || got != want {
			t.Errorf("langOf(%q) = %v, %v; want %v", path, got, err, want)
		}
	}
	if _, err := langOf("x.py"); err == nil {
		t.Error("langOf(x.py): no error")
	}
}

// Every peer has one file per query, the SQL peers a helper file, and each
// count is plausible: the drawing-free count never exceeds the whole.
func TestPeerTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range peerFiles {
		key := f.system + " " + f.query
		if seen[key] {
			t.Errorf("%s counted twice", key)
		}
		seen[key] = true
		if f.whole.Lines <= 0 || f.noDraw.Lines > f.whole.Lines || f.noDraw.Chars > f.whole.Chars {
			t.Errorf("%s: implausible counts %+v / %+v", f.path, f.whole, f.noDraw)
		}
		if !strings.HasSuffix(f.path, ".C") && f.noDraw != f.whole {
			t.Errorf("%s: a SQL file draws nothing, yet its counts differ", f.path)
		}
	}
	for _, sys := range []string{bigQuery, presto, rdataframe} {
		for _, q := range queries {
			if !seen[sys+" "+q] {
				t.Errorf("%s has no file for %s", sys, q)
			}
		}
	}
	for _, sys := range []string{bigQuery, presto} {
		if !seen[sys+" "+helpers] {
			t.Errorf("%s has no helper file", sys)
		}
	}
}

// hepsql's own queries are read from the repository on every run; each must
// be there and shorter than its built-in-only twin.
func TestHepsqlQueries(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "queries", "adl")
	lib, err := measureHepsql(dir)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := measureHepsql(filepath.Join(dir, "builtin"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		if lib[q].Lines == 0 || lib[q].Chars >= builtin[q].Chars {
			t.Errorf("%s: hepsql %+v, built-ins only %+v", q, lib[q], builtin[q])
		}
	}
}

func TestRewriteSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	if err := os.WriteFile(path, []byte("# Bench\n\nother text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rewriteSection(path, "first\n"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(mustRead(t, path), "\n## After\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rewriteSection(path, "second\n"); err != nil {
		t.Fatal(err)
	}
	want := "# Bench\n\nother text\n\n" + heading + "\n\n" + beginMarker + "\n\nsecond\n\n" + endMarker + "\n\n## After\n"
	if got := string(mustRead(t, path)); got != want {
		t.Errorf("README after two rewrites:\n%s\nwant:\n%s", got, want)
	}

	if err := os.WriteFile(path, []byte(endMarker+"\n"+beginMarker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rewriteSection(path, "x\n"); err == nil {
		t.Error("markers out of order: no error")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
