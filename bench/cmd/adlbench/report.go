package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/bench/rowudf"
)

// The README block between these markers is the command's; the rest of the
// file is left alone.
const (
	beginMarker = "<!-- adlbench:begin (written by go run ./bench/cmd/adlbench; do not edit) -->"
	endMarker   = "<!-- adlbench:end -->"
)

// The bar.
const (
	barBuiltinRatio  = 1.0  // library time / built-in time, at most, on every query
	barRowSpeedup    = 20.0 // row-UDF time / library time, at least, on Q5–Q8
	barRDataFrameMul = 2.0  // library events/s per core over RDataFrame's single-core rate, at least
)

// rdataframe is RDataFrame's single-core event rate (events/s) on the full
// ADL data set, from the published raw results of Graur et al., "Evaluating
// Query Languages and Systems for High-Energy Physics Data", PVLDB 15(2)
// (m5d.large, 1 core). Q6 is one RDataFrame program for both histograms.
var rdataframe = map[string]float64{
	"q1": 7.3e6, "q2": 2.2e6, "q3": 0.9e6, "q4": 1.6e6, "q5": 1.57e6,
	"q6-1": 31e3, "q6-2": 31e3, "q7": 0.27e6, "q8": 0.87e6,
}

// rowBar lists the queries the row-UDF bar applies to.
var rowBar = map[string]bool{"q5": true, "q6-1": true, "q6-2": true, "q7": true, "q8": true}

func find(ms []*measurement, query, variant string, threads, copies int) *measurement {
	for _, m := range ms {
		if m.query == query && m.variant == variant && m.threads == threads && m.copies == copies {
			return m
		}
	}
	return nil
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }

func secs(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

// rate formats events per second: 1.23 M/s, 456 k/s.
func rate(r float64) string {
	if r >= 1e6 {
		return fmt.Sprintf("%.2f M/s", r/1e6)
	}
	return fmt.Sprintf("%.0f k/s", r/1e3)
}

// perCore is the library's events per second per thread.
func perCore(c *config, a *measurement) float64 {
	return float64(c.events(a.copies)) / a.best.Seconds() / float64(a.threads)
}

// render returns the Markdown block of results.
func render(c *config, info bench.Machine, ms []*measurement, total time.Duration) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	cmd := "go run ./bench/cmd/adlbench"
	if len(c.args) > 0 {
		cmd += " " + bench.ShellQuote(c.args)
	}
	scale := float64(c.copies) / float64(c.rowCopies)
	w("- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	w("- Machine: %s, %d cores, %s; Go %s; DuckDB %s\n", info.CPU, info.Cores, info.OSArch, info.Go, info.DuckDB)
	w("- Command: `%s` (from the repository root; %s in all), hepsql at %s\n", cmd, total.Round(time.Second), info.Commit)
	w("- Data: %d copies of `%s` (tree `%s`) = %s events for (a) and (b); (c) reads the first %d copies = %s events\n",
		c.copies, c.sample, bench.Tree, bench.Thousands(c.events(c.copies)), c.rowCopies, bench.Thousands(c.events(c.rowCopies)))
	w("- Time: best of %d runs ((c): %d) after one warm-up, each run a fresh process, from the query's start to its last row\n", c.runs, c.rowRuns)
	w("- Other load: %d of %d measured runs began while other processes used ≥ %.2f core (after waiting up to %s for them); load average %s at the start, %s at the end\n",
		c.busyRuns, c.measuredRuns, bench.QuietCores, c.quietWait, c.loadStart, c.loadEnd)
	w("- Histograms checked identical on every run: (a) against (b) over all copies, (c) against (a) over the copies (c) reads (counts exactly, bin positions within %g)\n\n", bench.BinTolerance)

	subset := c.rowCopies != c.copies
	if subset {
		w("| query | threads | (a) library | (b) built-in | a/b | (c) row UDF, %d copies | (a), same %d copies | c/a | (r) reading only, same copies | c/r | (c) scaled ×%g | (a) events/s per core | 2× RDataFrame | Go allocs/event (a) | Go allocs/event (c) |\n",
			c.rowCopies, c.rowCopies, scale)
		w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	} else {
		w("| query | threads | (a) library | (b) built-in | (c) row UDF | (r) reading only | a/b | a/b CPU | c/a | c/r | (a) events/s per core | 2× RDataFrame | Go allocs/event (a) | Go allocs/event (c) |\n")
		w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	}
	for _, q := range c.queries {
		for _, th := range c.threads {
			a, bb := find(ms, q, library, th, c.copies), find(ms, q, builtin, th, c.copies)
			as, cs := find(ms, q, library, th, c.rowCopies), find(ms, q, rowUDF, th, c.rowCopies)
			rs := find(ms, q, readOnly, th, c.rowCopies)
			if !subset {
				w("| %s | %d | %s | %s | %s | %s | %.2f× | %.2f× | %.1f× | %.1f× | %s | %s | %.2f | %.1f |\n", strings.ToUpper(q), th,
					secs(a.best), secs(bb.best), secs(cs.best), secs(rs.best), ratio(a.best, bb.best), ratio(a.cpu, bb.cpu),
					ratio(cs.best, a.best), ratio(cs.best, rs.best),
					rate(perCore(c, a)), rate(barRDataFrameMul*rdataframe[q]),
					float64(a.allocs)/float64(c.events(a.copies)), float64(cs.allocs)/float64(c.events(cs.copies)))
				continue
			}
			scaled := time.Duration(float64(cs.best) * scale)
			w("| %s | %d | %s | %s | %.2f× | %s | %s | %.0f× | %s | %.0f× | %s | %s | %s | %.2f | %.1f |\n", strings.ToUpper(q), th,
				secs(a.best), secs(bb.best), ratio(a.best, bb.best),
				secs(cs.best), secs(as.best), ratio(cs.best, as.best), secs(rs.best), ratio(cs.best, rs.best), secs(scaled),
				rate(perCore(c, a)), rate(barRDataFrameMul*rdataframe[q]),
				float64(a.allocs)/float64(c.events(a.copies)), float64(cs.allocs)/float64(c.events(cs.copies)))
		}
	}
	w("\n")
	if subset {
		w("c/a compares (c) with (a) over the same %d copies; \"(c) scaled\" is (c)'s time × %g, an estimate for all %d copies. ",
			c.rowCopies, scale, c.copies)
	}
	w("(r) reads exactly the columns (a)'s plan projects from `read_root` (found with `EXPLAIN`, checked equal for the query it runs) and counts each, over the copies (c) reads, best of %d: what (a) pays before any physics, since rootscan has no filter pushdown; c/r is therefore the largest c/a that physics costing nothing would give. ", c.runs)
	w("a/b CPU: the same ratio of the processes' CPU time (user + system) during the query in those runs, steadier than wall time on a shared machine. ")
	w("Events/s per core: events / time / threads. RDataFrame: single-core rates on the full ADL data set "+
		"(PVLDB 15(2) raw results, m5d.large), a cross-machine comparison with this machine's %s. "+
		"Go allocs/event: Go heap allocations in the child during the query (reading included), per event read.\n", info.CPU)
	w("\n(c) is `queries/adl/*.sql` with every library call renamed to its `_row` version (package `bench/rowudf`, `duckdb.RegisterScalarUDFSet` with a `RowExecutor`), and `adl_hist` to the macro\n\n```sql\n%s\n```\n", rowudf.MacroSQL()[0])

	if checks := barChecks(c, ms); len(checks) > 0 {
		w("\nThe issue's bar:\n\n")
		for _, ch := range checks {
			verdict := "FAIL"
			if ch.ok {
				verdict = "PASS"
			}
			w("- **%s** %s: %s\n", verdict, ch.name, ch.detail)
		}
	}
	return b.String()
}

type check struct {
	name   string
	ok     bool
	detail string
}

func barChecks(c *config, ms []*measurement) []check {
	var out []check
	for _, th := range c.threads {
		var slow []string
		for _, q := range c.queries {
			a, b := find(ms, q, library, th, c.copies), find(ms, q, builtin, th, c.copies)
			if r := ratio(a.best, b.best); r > barBuiltinRatio {
				slow = append(slow, fmt.Sprintf("%s %.2f×", strings.ToUpper(q), r))
			}
		}
		detail := "on every query"
		if len(slow) > 0 {
			detail = "slower on " + strings.Join(slow, ", ")
		}
		out = append(out, check{
			name:   fmt.Sprintf("%d thread(s): (a) library ≤ %.0f× (b) built-in", th, barBuiltinRatio),
			ok:     len(slow) == 0,
			detail: detail,
		})
	}
	for _, th := range c.threads {
		var parts, ceiling []string
		ok, any := true, false
		for _, q := range c.queries {
			if !rowBar[q] {
				continue
			}
			any = true
			a, r := find(ms, q, library, th, c.rowCopies), find(ms, q, rowUDF, th, c.rowCopies)
			floor := find(ms, q, readOnly, th, c.rowCopies)
			x := ratio(r.best, a.best)
			ok = ok && x >= barRowSpeedup
			parts = append(parts, fmt.Sprintf("%s %.0f×", strings.ToUpper(q), x))
			ceiling = append(ceiling, fmt.Sprintf("%s %.0f×", strings.ToUpper(q), ratio(r.best, floor.best)))
		}
		if any {
			out = append(out, check{
				name: fmt.Sprintf("%d thread(s): (a) ≥ %.0f× faster than (c) on Q5–Q8", th, barRowSpeedup),
				ok:   ok,
				detail: strings.Join(parts, ", ") + fmt.Sprintf(" (same %d copies); reading alone, with free physics, would give at most ", c.rowCopies) +
					strings.Join(ceiling, ", ") + " (c/r)",
			})
		}
	}
	for _, th := range c.threads {
		var parts []string
		ok := true
		for _, q := range c.queries {
			a := find(ms, q, library, th, c.copies)
			x := perCore(c, a) / rdataframe[q]
			ok = ok && x >= barRDataFrameMul
			parts = append(parts, fmt.Sprintf("%s %.1f×", strings.ToUpper(q), x))
		}
		out = append(out, check{
			name:   fmt.Sprintf("%d thread(s): (a) per core ≥ %.0f× RDataFrame's single-core rate (cross-machine)", th, barRDataFrameMul),
			ok:     ok,
			detail: strings.Join(parts, ", "),
		})
	}
	return out
}
