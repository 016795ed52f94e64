package main

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/hepsql/hepsql/bench"
)

const (
	beginMarker = "<!-- conciseness:begin (written by go run ./bench/cmd/conciseness; do not edit) -->"
	endMarker   = "<!-- conciseness:end -->"
	heading     = "## Conciseness of the ADL queries"
)

// notes explains the counting rules and what each count holds.
//
//go:embed notes.md
var notes string

type report struct {
	date, version string
	lib, builtin  map[string]size // hepsql's queries, by query
}

// column is one implementation's counts by row: a query, or helpers.
type column struct {
	title string
	cells map[string]size
}

func peerColumn(title, system string, pick func(peerFile) size) column {
	c := column{title: title, cells: map[string]size{}}
	for _, f := range peerFiles {
		if f.system == system {
			c.cells[f.query] = pick(f)
		}
	}
	return c
}

func (c column) queriesTotal() size {
	var s size
	for _, q := range queries {
		s = s.add(c.cells[q])
	}
	return s
}

func (r report) columns() []column {
	whole := func(f peerFile) size { return f.whole }
	noDraw := func(f peerFile) size { return f.noDraw }
	return []column{
		{"hepsql", r.lib},
		{"hepsql, DuckDB built-ins only", r.builtin},
		peerColumn("BigQuery", bigQuery, whole),
		peerColumn("Presto", presto, whole),
		peerColumn("RDataFrame", rdataframe, whole),
		peerColumn("RDataFrame without drawing", rdataframe, noDraw),
	}
}

func cell(s size, ok bool) string {
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%d / %d", s.Lines, s.Chars)
}

func ratio(a, b int) string { return fmt.Sprintf("%.1f×", float64(a)/float64(b)) }

func (r report) render() string {
	cols := r.columns()
	var b strings.Builder
	fmt.Fprintf(&b, "- Date: %s; hepsql at %s\n", r.date, r.version)
	fmt.Fprintf(&b, "- Command: `go run ./bench/cmd/conciseness` (from the repository root); `-peers DIR` recounts the peers from a checkout of `%s` at `%s` and fails if any count differs\n", peerRepo, peerCommit)
	b.WriteString("- Each cell: code lines / characters, counted as below. Lower is shorter.\n\n")

	b.WriteString("| query |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", c.title)
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---:|", len(cols)))
	b.WriteString("\n")
	row := func(label string, f func(c column) string) {
		fmt.Fprintf(&b, "| %s |", label)
		for _, c := range cols {
			fmt.Fprintf(&b, " %s |", f(c))
		}
		b.WriteString("\n")
	}
	for _, q := range queries {
		row(q, func(c column) string { s, ok := c.cells[q]; return cell(s, ok) })
	}
	row("shared helper file", func(c column) string { s, ok := c.cells[helpers]; return cell(s, ok) })
	row("**total, queries**", func(c column) string { return "**" + cell(c.queriesTotal(), true) + "**" })
	withHelpers := func(c column) size { return c.queriesTotal().add(c.cells[helpers]) }
	row("**total, with the helper file once**", func(c column) string { return "**" + cell(withHelpers(c), true) + "**" })
	base := withHelpers(cols[0])
	row("total with helpers ÷ hepsql's (lines, chars)", func(c column) string {
		t := withHelpers(c)
		return ratio(t.Lines, base.Lines) + ", " + ratio(t.Chars, base.Chars)
	})

	lib6 := r.lib["Q6-1"].add(r.lib["Q6-2"])
	for _, f := range peerFiles {
		if f.system == rdataframe && f.query == "Q6" {
			fmt.Fprintf(&b, "\nQ6 in one program: `%s` computes both parts in one event loop, %s (%s without drawing); hepsql's two queries together are %s.\n",
				f.path, cell(f.whole, true), cell(f.noDraw, true), cell(lib6, true))
		}
	}

	b.WriteString("\n")
	b.WriteString(notes)
	fmt.Fprintf(&b, "\nSources, at `%s@%s`:\n\n", peerRepo, peerCommit)
	for _, sys := range []struct{ name, dir, origin string }{
		{bigQuery, "bigquery/queries/queries/", "RumbleDB/iris-hep-benchmark-bigquery"},
		{presto, "presto/queries/queries/", "RumbleDB/iris-hep-benchmark-presto"},
		{rdataframe, "rdataframes/queries/macros/", "masonproffitt/opendata-benchmarks, the paper's fork of stwunsch/opendata-benchmarks (now root-project/opendata-benchmarks), which iris-hep/adl-benchmarks-index links"},
	} {
		var names []string
		for _, f := range peerFiles {
			if f.system == sys.name {
				names = append(names, "`"+strings.TrimPrefix(f.path, sys.dir)+"`")
			}
		}
		fmt.Fprintf(&b, "- %s: `%s` %s (submodule of %s)\n", sys.name, sys.dir, strings.Join(names, ", "), sys.origin)
	}
	return b.String()
}

// rewriteSection replaces the text between the markers in path with text,
// or appends a new section, under its heading, when the file has none yet.
func rewriteSection(path, text string) error {
	if err := bench.WriteSectionUnder(path, heading, beginMarker, endMarker, text); err != nil {
		return fmt.Errorf("conciseness: %w", err)
	}
	return nil
}
