// Command rssbench measures the peak memory of `hepsql run` printing a large
// result as CSV: SELECT range AS i, range*0.5 AS x FROM range(N), --mode csv,
// stdout to /dev/null. The bar is a peak RSS under 200 MB for 20 M rows,
// whatever N: the shell and the pipeline runner stream results.
//
//	go run ./bench/cmd/rssbench [-rows 20000000] [-baseline main] [-baseline-rows N] [-readme bench/README.md]
//
// Run it from the repository root. It builds hepsql from the working tree
// and, as the peer, the hepsql of git revision -baseline (a detached `git
// worktree` in a temporary folder; "" skips it), and runs each binary once
// as a child process; peak RSS is the child's VmHWM, watched in /proc
// (bench.RunWatchingPeak; wait4's Maxrss includes this process's). The DuckDB
// shell, the natural peer, is not installed here. The results replace the
// block between the rssbench markers in -readme ("" prints only).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hepsql/hepsql/bench"
)

const (
	beginMarker = "<!-- rssbench:begin (written by go run ./bench/cmd/rssbench; do not edit) -->"
	endMarker   = "<!-- rssbench:end -->"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "rssbench: %v\n", err)
		os.Exit(1)
	}
}

type measure struct {
	name     string
	rev      string
	rows     int64
	rssKiB   int64
	wall     time.Duration
	outBytes int64
	err      error
}

func run(args []string) error {
	fs := flag.NewFlagSet("rssbench", flag.ContinueOnError)
	rows := fs.Int64("rows", 20_000_000, "rows in the result")
	baseline := fs.String("baseline", "main", "git revision of the hepsql to compare with; empty: none")
	baseRows := fs.Int64("baseline-rows", 0, "rows for the baseline (0: -rows); the old shell holds every row")
	readme := fs.String("readme", "bench/README.md", "file whose rssbench block gets the results; empty: print only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *baseRows == 0 {
		*baseRows = *rows
	}
	ctx := context.Background()
	machine, err := bench.DescribeMachine(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "rssbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	builds, cleanup, err := bench.BuildHepsql("rssbench", tmp, machine.Commit, *baseline)
	defer cleanup()
	if err != nil {
		return err
	}
	var results []measure
	for i, b := range builds {
		n := *rows
		if i > 0 {
			n = *baseRows
		}
		results = append(results, measureRun(tmp, "hepsql ("+b.Name+")", b.Rev, b.Path, n))
	}
	report := format(machine, results, args)
	fmt.Print(report)
	if *readme != "" {
		return bench.WriteSectionUnder(*readme, "# Memory of a large result printed by `hepsql run`", beginMarker, endMarker, report)
	}
	return nil
}

// countWriter counts what the child prints, so that a run that printed
// nothing is not taken for a success.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func measureRun(tmp, name, rev, bin string, rows int64) measure {
	m := measure{name: name, rev: rev, rows: rows}
	file := filepath.Join(tmp, fmt.Sprintf("rows-%d.sql", rows))
	sql := fmt.Sprintf("SELECT range AS i, range*0.5 AS x FROM range(%d);\n", rows)
	if m.err = os.WriteFile(file, []byte(sql), 0o644); m.err != nil {
		return m
	}
	bench.WaitQuiet("rssbench", bench.QuietWait)
	fmt.Fprintf(os.Stderr, "rssbench: %s, %s rows\n", name, bench.Thousands(rows))
	cmd := exec.Command(bin, "run", file, "--mode", "csv")
	var out countWriter
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	// The child's own peak, watched in /proc (wait4's Maxrss would be at
	// least this process's: bench/rss.go).
	m.rssKiB, m.err = bench.RunWatchingPeak(cmd)
	m.wall = time.Since(start)
	m.outBytes = out.n
	if m.err != nil {
		m.err = fmt.Errorf("%v: %s", m.err, strings.TrimSpace(errOut.String()))
	}
	return m
}

func format(machine bench.Machine, results []measure, args []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %s\n", machine.OneLine())
	fmt.Fprintf(&b, "- Command: `%s` (from the repository root)\n", strings.TrimSpace("go run ./bench/cmd/rssbench "+bench.ShellQuote(args)))
	fmt.Fprintf(&b, "- Each binary runs `hepsql run FILE.sql --mode csv`, FILE.sql holding `SELECT range AS i, range*0.5 AS x FROM range(N);`, its stdout counted and dropped\n\n")
	b.WriteString("| hepsql | rows | peak RSS | wall time | CSV bytes |\n|---|---:|---:|---:|---:|\n")
	for _, m := range results {
		if m.err != nil {
			fmt.Fprintf(&b, "| %s (%s) | %s | failed: %v | | |\n", m.name, m.rev, bench.Thousands(m.rows), m.err)
			continue
		}
		fmt.Fprintf(&b, "| %s (%s) | %s | %s MB | %.1f s | %s |\n", m.name, m.rev, bench.Thousands(m.rows),
			bench.Thousands(m.rssKiB*1024/1_000_000), m.wall.Seconds(), bench.Thousands(m.outBytes))
	}
	return b.String()
}
