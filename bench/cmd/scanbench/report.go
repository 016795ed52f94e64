package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/hepsql/hepsql/bench"
)

// The README block between these markers is the command's; the rest of the
// file is left alone.
const (
	beginMarker = "<!-- scanbench:begin (written by go run ./bench/cmd/scanbench; do not edit) -->"
	endMarker   = "<!-- scanbench:end -->"
)

// The core issue's bar.
const (
	barParquetRatio = 1.0       // hepsql time / parquet time, at most, on Q1 and Q2
	barGrootSpeedup = 3.0       // groot time / hepsql time, at least, on Q2
	barThreadGain   = 1.7       // hepsql 1-thread time / 2-thread time, at least, on Q2
	barScanRSS      = 500 * 1e6 // bytes, below, scanning the 20 branches
)

var queryTitle = map[string]string{
	bench.Q1:        "Q1 MET_pt histogram",
	bench.Q2:        "Q2 Jet_pt histogram (every jet)",
	bench.Q1Builtin: "Q1, DuckDB built-ins only",
	bench.Q2Builtin: "Q2, DuckDB built-ins only",
	bench.Scan:      "scan of 20 branches",
}

func find(ms []*measurement, query, peer string, threads int) *measurement {
	for _, m := range ms {
		if m.query == query && m.peer == peer && m.threads == threads {
			return m
		}
	}
	return nil
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }

// render returns the Markdown block of results.
func render(c *config, info bench.Machine, ms []*measurement, total time.Duration) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	cmd := "go run ./bench/cmd/scanbench"
	for _, a := range c.args {
		if a == "" || strings.ContainsAny(a, " \t'\"$`\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		cmd += " " + a
	}
	w("- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	w("- Machine: %s, %d cores, %s; Go %s; DuckDB %s\n", info.CPU, info.Cores, info.OSArch, info.Go, info.DuckDB)
	w("- Command: `%s` (from the repository root; %s in all), hepsql at %s\n", cmd, total.Round(time.Second), info.Commit)
	w("- Data: %d copies of `%s` (tree `%s`) = %s events; one ROOT copy %.2f MB, one Parquet copy (20 branches, zstd) %.2f MB\n",
		c.copies, c.sample, bench.Tree, bench.Thousands(c.events), float64(c.rootBytes)/1e6, float64(c.parquetBytes)/1e6)
	w("- Time: best of %d runs after one warm-up, each run a fresh process; peak RSS: the largest of those runs (MB = 10^6 bytes)\n", c.runs)
	w("- Other load: %d of %d measured runs began while other processes used ≥ %.2f core (after waiting up to %s for them); load average %s at the start, %s at the end\n",
		c.busyRuns, c.measuredRuns, bench.QuietCores, bench.QuietWait, c.loadStart, c.loadEnd)
	w("- Results checked equal across the three peers on every run (histograms exactly, sums within a relative %g)\n\n", bench.SumsTolerance)

	w("| query | threads | hepsql (read_root) | Parquet (read_parquet) | groot loop | hepsql/Parquet | groot/hepsql | RSS hepsql | RSS Parquet | RSS groot |\n")
	w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, q := range c.queries {
		for _, th := range c.threads {
			h, p, g := find(ms, q, peerROOT, th), find(ms, q, peerParquet, th), find(ms, q, peerGroot, th)
			w("| %s | %d | %s | %s | %s | %.2f× | %.2f× | %s | %s | %s |\n", queryTitle[q], th,
				secs(h.best), secs(p.best), secs(g.best),
				ratio(h.best, p.best), ratio(g.best, h.best),
				mb(h.maxRSS), mb(p.maxRSS), mb(g.maxRSS))
		}
	}
	w("\ngroot's loop is single-threaded; its 2-thread row runs two such loops in two goroutines, each over half of the files.\n")
	w("Q1 and Q2 are `queries/adl/q1.sql` and `q2.sql` as shipped (hepsql's `adl_hist` aggregate); the built-ins rows are the same histograms in DuckDB's own SQL (`floor`, `GROUP BY`), shown for comparison and not judged.\n")

	if checks := barChecks(c, ms); len(checks) > 0 {
		w("\nThe core issue's bar:\n\n")
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
	for _, q := range []string{bench.Q1, bench.Q2} {
		for _, th := range c.threads {
			h, p := find(ms, q, peerROOT, th), find(ms, q, peerParquet, th)
			if h == nil || p == nil {
				continue
			}
			r := ratio(h.best, p.best)
			out = append(out, check{
				name:   fmt.Sprintf("%s, %d thread(s): hepsql ≤ %.1f× Parquet", strings.ToUpper(q), th, barParquetRatio),
				ok:     r <= barParquetRatio,
				detail: fmt.Sprintf("%s vs %s = %.2f×", secs(h.best), secs(p.best), r),
			})
		}
	}
	for _, th := range c.threads {
		h, g := find(ms, bench.Q2, peerROOT, th), find(ms, bench.Q2, peerGroot, th)
		if h == nil || g == nil {
			continue
		}
		r := ratio(g.best, h.best)
		out = append(out, check{
			name:   fmt.Sprintf("Q2, %d thread(s): hepsql ≥ %.0f× faster than groot's loop", th, barGrootSpeedup),
			ok:     r >= barGrootSpeedup,
			detail: fmt.Sprintf("groot %s / hepsql %s = %.2f×", secs(g.best), secs(h.best), r),
		})
	}
	if h1, h2 := find(ms, bench.Q2, peerROOT, 1), find(ms, bench.Q2, peerROOT, 2); h1 != nil && h2 != nil {
		r := ratio(h1.best, h2.best)
		out = append(out, check{
			name:   fmt.Sprintf("Q2: hepsql at 2 threads ≥ %.1f× faster than at 1", barThreadGain),
			ok:     r >= barThreadGain,
			detail: fmt.Sprintf("%s / %s = %.2f×", secs(h1.best), secs(h2.best), r),
		})
	}
	for _, th := range c.threads {
		h := find(ms, bench.Scan, peerROOT, th)
		if h == nil {
			continue
		}
		bytes := float64(h.maxRSS) * 1024
		out = append(out, check{
			name:   fmt.Sprintf("scan of 20 branches over %s events, %d thread(s): hepsql peak RSS < %.0f MB", bench.Thousands(c.events), th, barScanRSS/1e6),
			ok:     bytes < barScanRSS,
			detail: mb(h.maxRSS),
		})
	}
	return out
}
