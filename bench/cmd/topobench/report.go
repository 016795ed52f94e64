package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/hepsql/hepsql/bench"
)

// The bar of issue 5 and the reference run it is measured against: 54 M
// events in 2 h 11 min on 400 Spark cores.
const (
	barPerCore    = 5000
	barSpeedup    = 1.8
	barRSS        = 2 << 30
	refPerCore    = 54e6 / (131 * 60) / 400
	referenceNote = "54 M events in 2 h 11 min on 400 Spark cores, %.0f events/s/core"
)

func mathFloat32bits(f float32) uint32 { return math.Float32bits(f) }

// report renders the README section.
func report(m bench.Machine, command string, events int, goLoop bool, rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Topology ingestion: selection, 801 × 19 matrix and 14 features to Parquet\n\n")
	fmt.Fprintf(&b, "`%s` on %s (commit %s). %s generated events "+
		"(`hepsql gen topology`, %d per file); hepsql runs `%s` (ROOT → `features.parquet`, plus the per-class event count); "+
		"the Go loop reads the same files with groot's per-entry reader and computes the same values with internal/topref "+
		"(O(N²) isolation), writing the same rows (the 14 features, and the matrix's particle rows without padding, as hepsql's particles list) as raw float32. Peak RSS is the child process's. Reference: "+referenceNote+".\n\n",
		command, m.OneLine(), m.Commit, bench.Thousands(int64(events)), eventsPerFile, pipeline, refPerCore)
	b.WriteString("| engine | threads | events | selected | wall s | CPU s | events/s | events/s/core | × reference/core | peak RSS MB | output MB |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	one := map[string]float64{}
	for _, r := range rs {
		rate := float64(r.Events) / r.Seconds
		if r.Threads == 1 {
			one[r.Engine] = r.Seconds
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %.1f | %.1f | %.0f | %.0f | %.0f | %d | %d |\n", r.Engine, r.Threads,
			bench.Thousands(r.Events), bench.Thousands(r.Selected), r.Seconds, r.CPU, rate, rate/float64(r.Threads),
			rate/float64(r.Threads)/refPerCore, r.RSS>>20, r.OutBytes>>20)
	}
	b.WriteString("\nThe bar (issue 5):\n\n")
	for _, r := range rs {
		if r.Engine != "hepsql" {
			continue
		}
		perCore := float64(r.Events) / r.Seconds / float64(r.Threads)
		fmt.Fprintf(&b, "- %d thread(s): %.0f events/s/core (bar ≥ %d: %s); peak RSS %d MB (bar < 2048 MB for 1 M events: %s)",
			r.Threads, perCore, barPerCore, pass(perCore >= barPerCore), r.RSS>>20, pass(r.RSS < barRSS))
		if r.Threads == 2 && one["hepsql"] > 0 {
			s := one["hepsql"] / r.Seconds
			fmt.Fprintf(&b, "; speed-up over 1 thread %.2f× (bar ≥ %.1f×: %s)", s, barSpeedup, pass(s >= barSpeedup))
		}
		b.WriteString("\n")
	}
	if !goLoop {
		b.WriteString("\nThe plain-Go loop was left out of this run (`-go-loop=false`).\n")
	}
	if events < 1_000_000 {
		fmt.Fprintf(&b, "\nMeasured on %s events, not 1 M: the RSS bar is for 1 M events.\n", bench.Thousands(int64(events)))
	}
	return b.String()
}

func pass(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}
