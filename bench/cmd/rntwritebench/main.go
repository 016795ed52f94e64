// Command rntwritebench measures the peak memory and the time of writing
// an RNTuple with COPY ... TO 'f.root' (FORMAT rntuple): the CMS sample
// (86 branches) read -copies times over (read_root over a list of the same
// file) and 20 M rows of eight random FLOATs and a BIGINT (values that
// compress little: the clusters held are near their compressed size),
// each with COPY's default sizes and with CLUSTER_SIZE 128 MiB (ROOT's
// compressed target, which also sets the uncompressed cap to ten times
// it).
//
//	go run ./bench/cmd/rntwritebench [-copies 50] [-baseline main] [-quiet 60s] [-readme bench/README.md]
//
// Run it from the repository root. It builds hepsql from the working tree
// and, as the peer, the hepsql of git revision -baseline (a detached `git
// worktree` in a temporary folder; "" skips it), and runs each case once
// per binary as a child process, back to back; peak RSS is the child's
// VmHWM, watched in /proc (bench.RunWatchingPeak). The results replace the
// block between the rntwritebench markers in -readme ("" prints only).
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
	heading     = "# Memory of writing RNTuple (rntwritebench)"
	beginMarker = "<!-- rntwritebench:begin (written by go run ./bench/cmd/rntwritebench; do not edit) -->"
	endMarker   = "<!-- rntwritebench:end -->"
	sample      = "../shared/data/Run2012B_SingleMu_10000.root"
	synthetic   = "SELECT i AS i, random()::FLOAT AS a, random()::FLOAT AS b, random()::FLOAT AS c, random()::FLOAT AS d, " +
		"random()::FLOAT AS e, random()::FLOAT AS f, random()::FLOAT AS g, random()::FLOAT AS h FROM range(20000000) r(i)"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "rntwritebench: %v\n", err)
		os.Exit(1)
	}
}

type wcase struct{ name, query, options string }

type measure struct {
	rssKiB, outBytes int64
	wall             time.Duration
	err              error
}

func run(args []string) error {
	fs := flag.NewFlagSet("rntwritebench", flag.ContinueOnError)
	copies := fs.Int("copies", 50, "times the CMS sample (10,000 events) is read")
	baseline := fs.String("baseline", "main", "git revision of the hepsql to compare with; empty: none")
	quiet := fs.Duration("quiet", bench.QuietWait, "how long to wait for a quiet machine before each run")
	readme := fs.String("readme", "bench/README.md", "file whose rntwritebench block gets the results; empty: print only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := os.Stat(sample); err != nil {
		return fmt.Errorf("the CMS sample: %w", err)
	}
	ctx := context.Background()
	machine, err := bench.DescribeMachine(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "rntwritebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bins, cleanup, err := bench.BuildHepsql("rntwritebench", tmp, machine.Commit, *baseline)
	defer cleanup()
	if err != nil {
		return err
	}
	list := strings.TrimSuffix(strings.Repeat("'"+sample+"',", *copies), ",")
	cms := fmt.Sprintf("SELECT * EXCLUDE (_file, _entry) FROM read_root([%s])", list)
	cmsName := fmt.Sprintf("CMS sample × %d (%s events)", *copies, bench.Thousands(int64(*copies)*10_000))
	cases := []wcase{
		{cmsName, cms, ""},
		{cmsName, cms, ", CLUSTER_SIZE 134217728"},
		{"20 M rows, 8 random FLOAT + BIGINT", synthetic, ""},
		{"20 M rows, 8 random FLOAT + BIGINT", synthetic, ", CLUSTER_SIZE 134217728"},
	}
	results := make([][]measure, len(cases))
	for ci, c := range cases {
		for _, b := range bins {
			fmt.Fprintf(os.Stderr, "rntwritebench: %s%s: hepsql %s\n", c.name, c.options, b.Name)
			results[ci] = append(results[ci], measureRun(tmp, b.Path, c, *quiet))
		}
	}
	report := format(machine, bins, cases, results, args)
	fmt.Print(report)
	if *readme != "" {
		return bench.WriteSectionUnder(*readme, heading, beginMarker, endMarker, report)
	}
	return nil
}

func measureRun(tmp, bin string, c wcase, quiet time.Duration) measure {
	var m measure
	out := filepath.Join(tmp, "out.root")
	defer os.Remove(out)
	bench.WaitQuiet("rntwritebench", quiet)
	cmd := exec.Command(bin, "-c", fmt.Sprintf("COPY (%s) TO '%s' (FORMAT rntuple%s)", c.query, out, c.options))
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	start := time.Now()
	m.rssKiB, m.err = bench.RunWatchingPeak(cmd)
	m.wall = time.Since(start)
	if m.err != nil {
		m.err = fmt.Errorf("%v: %s", m.err, strings.TrimSpace(errOut.String()))
		return m
	}
	st, err := os.Stat(out)
	if err != nil {
		m.err = err
		return m
	}
	m.outBytes = st.Size()
	return m
}

func format(machine bench.Machine, bins []bench.HepsqlBuild, cases []wcase, results [][]measure, args []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %s\n", machine.OneLine())
	fmt.Fprintf(&b, "- Command: `%s` (from the repository root)\n", strings.TrimSpace("go run ./bench/cmd/rntwritebench "+bench.ShellQuote(args)))
	fmt.Fprintf(&b, "- Each cell: `hepsql -c \"COPY (QUERY) TO 'out.root' (FORMAT rntuple OPTIONS)\"` once, a child process: its peak RSS (VmHWM), wall time, file size\n\n")
	b.WriteString("| data | options |")
	for _, bn := range bins {
		fmt.Fprintf(&b, " hepsql %s (%s) |", bn.Name, bn.Rev)
	}
	b.WriteString("\n|---|---|")
	b.WriteString(strings.Repeat("---:|", len(bins)))
	b.WriteString("\n")
	for ci, c := range cases {
		opts := strings.TrimPrefix(c.options, ", ")
		if opts == "" {
			opts = "defaults"
		}
		fmt.Fprintf(&b, "| %s | %s |", c.name, opts)
		for _, m := range results[ci] {
			if m.err != nil {
				fmt.Fprintf(&b, " failed: %v |", m.err)
				continue
			}
			fmt.Fprintf(&b, " %s MB, %.1f s, %s MB |", bench.Thousands(m.rssKiB*1024/1_000_000), m.wall.Seconds(), bench.Thousands(m.outBytes/1_000_000))
		}
		b.WriteString("\n")
	}
	return b.String()
}
