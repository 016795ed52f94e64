// Command jetgenbench measures the UCluster jet generator (gen/jets,
// `hepsql gen jets`): jets per second drawn in memory on one core, and
// written to ROOT files by Generate: into one file (one goroutine draws,
// another writes), and into several files written concurrently (one per
// core at most), with zlib, the default, and without compression; and
// writes the figures into bench/README.md. It states whether the bar is
// met in wall-clock time, and what the CPU time per jet allows on all the
// machine's cores (the rate a quiet machine approaches).
//
//	go run ./bench/cmd/jetgenbench [-jets 1000000] [-per-file 100000] [-seed 1] [-readme=true]
//
// Run it from the repository root. Output goes to a temporary folder,
// removed at the end. The bar (issue 21): at least 100,000 jets/s.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/gen/jets"
)

const (
	readme      = "bench/README.md"
	beginMarker = "<!-- jetgenbench:begin -->"
	endMarker   = "<!-- jetgenbench:end -->"
	bar         = 100000
)

type result struct {
	name      string
	jets      int
	wall, cpu float64
	bytes     int64
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "jetgenbench: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("jetgenbench", flag.ContinueOnError)
	n := fs.Int("jets", 1000000, "jets to generate per case")
	perFile := fs.Int("per-file", 100000, "jets per file")
	seed := fs.Int64("seed", 1, "random seed")
	writeReadme := fs.Bool("readme", true, "write the results into "+readme)
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, err := bench.DescribeMachine(context.Background())
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "jetgenbench: %s, commit %s\n", m.OneLine(), m.Commit)
	load := bench.LoadAverage()
	tmp, err := os.MkdirTemp("", "jetgenbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var rs []result
	// In memory, one goroutine: the model's cost alone.
	r, err := measure("draw in memory (Fill), 1 goroutine", *n, func() (int64, error) {
		g := jets.NewGenerator(*seed, false)
		var j jets.Jet
		for i := range int64(*n) {
			g.Fill(&j, i)
		}
		return 0, nil
	})
	if err != nil {
		return err
	}
	rs = append(rs, r)
	for _, c := range []struct {
		name, compression string
		perFile           int
	}{
		{"Generate to one ROOT file, zlib level 1 (the default)", "", 0},
		{fmt.Sprintf("Generate to ROOT files of %s jets, zlib level 1", bench.Thousands(int64(*perFile))), "", *perFile},
		{fmt.Sprintf("Generate to ROOT files of %s jets, no compression", bench.Thousands(int64(*perFile))), "none", *perFile},
	} {
		dir := filepath.Join(tmp, fmt.Sprintf("case%d", len(rs)))
		r, err := measure(c.name, *n, func() (int64, error) {
			paths, err := jets.Generate(jets.Options{Jets: *n, Seed: *seed, OutDir: dir, JetsPerFile: c.perFile, Compression: jets.Compression(c.compression)})
			if err != nil {
				return 0, err
			}
			var size int64
			for _, p := range paths {
				st, err := os.Stat(p)
				if err != nil {
					return 0, err
				}
				size += st.Size()
			}
			return size, nil
		})
		if err != nil {
			return err
		}
		rs = append(rs, r)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	command := "go run ./bench/cmd/jetgenbench " + bench.ShellQuote(args)
	block := report(m, strings.TrimSpace(command), *perFile, load, rs)
	fmt.Print(block)
	if !*writeReadme {
		return nil
	}
	return bench.WriteSectionUnder(readme, "# Jet generator (gen/jets)", beginMarker, endMarker, block)
}

// measure runs f once the machine is quiet and returns its wall and CPU
// time (user + system, the whole process).
func measure(name string, n int, f func() (int64, error)) (result, error) {
	bench.WaitQuiet("jetgenbench", bench.QuietWait)
	runtime.GC()
	cpu0 := cpuSeconds()
	t0 := time.Now()
	size, err := f()
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", name, err)
	}
	r := result{name: name, jets: n, wall: time.Since(t0).Seconds(), cpu: cpuSeconds() - cpu0, bytes: size}
	fmt.Fprintf(os.Stderr, "jetgenbench: %s: %.2f s wall, %.2f s CPU\n", name, r.wall, r.cpu)
	return r, nil
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func report(m bench.Machine, command string, perFile int, load string, rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "`%s` on %s, %s (commit %s, load average before: %s). W, Z and top jets (no QCD); "+
		"CPU is the process's user + system time.\n\n", command, time.Now().UTC().Format("2006-01-02"), m.OneLine(), m.Commit, load)
	b.WriteString("| case | jets | wall s | CPU s | jets/s | jets per CPU-second | bytes/jet |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		bpj := "–"
		if r.bytes > 0 {
			bpj = fmt.Sprintf("%.0f", float64(r.bytes)/float64(r.jets))
		}
		fmt.Fprintf(&b, "| %s | %s | %.2f | %.2f | %s | %s | %s |\n", r.name, bench.Thousands(int64(r.jets)), r.wall, r.cpu,
			bench.Thousands(int64(float64(r.jets)/r.wall)), bench.Thousands(int64(float64(r.jets)/r.cpu)), bpj)
	}
	verdict := func(r result) string {
		rate := float64(r.jets) / r.wall
		met := "not met"
		if rate >= bar {
			met = "met"
		}
		// What the CPU time allows when the process has every core to
		// itself: the figure that other processes on the machine move least.
		cpuRate := float64(r.jets) / r.cpu * float64(m.Cores)
		cpuMet := "below"
		if cpuRate >= bar {
			cpuMet = "above"
		}
		return fmt.Sprintf("%s jets/s, %s (jets per CPU-second × %d cores: %s, %s the bar)", bench.Thousands(int64(rate)), met,
			m.Cores, bench.Thousands(int64(cpuRate)), cpuMet)
	}
	fmt.Fprintf(&b, "\nThe bar (issue 21): `hepsql gen jets` at ≥ %s jets/s, with the default compression, on %d cores: "+
		"one file %s; files of %s jets %s.\n", bench.Thousands(bar), m.Cores, verdict(rs[1]), bench.Thousands(int64(perFile)), verdict(rs[2]))
	if f := strings.Fields(load); len(f) > 0 {
		if l, err := strconv.ParseFloat(f[0], 64); err == nil && l > 0.5*float64(m.Cores) {
			fmt.Fprintf(&b, "\nOther processes kept the machine busy (load average %.1f on %d cores): the wall-clock rates are lower bounds "+
				"and even CPU time is inflated by the sharing. Jets per CPU-second times the cores is the rate an idle machine "+
				"would approach (files written concurrently): rerun on a quiet machine to check the bar.\n", l, m.Cores)
		}
	}
	return b.String()
}
