// Command extbench measures the nine ADL queries (queries/adl) run by
// hepsql.duckdb_extension inside a stock DuckDB, Node's @duckdb/node-api
// (DuckDB 1.5.5 and 1.5.6), next to hepsql's embedded engine in this
// process (DuckDB 1.5.5, what bin/hepsql runs), on the same files, the same
// machine and in the same run, and writes the results into bench/README.md.
//
//	go run ./bench/cmd/extbench [-copies 100] [-runs 5] [-threads 2]
//
// Run it from the repository root; it builds the extension with
// scripts/build-extension first, and needs extension/nodetest's npm
// packages (scripts/test installs them). After a warm-up, -runs rounds
// alternate the sides under the same load: a round runs every query once in
// the embedded engine, then in each Node DuckDB (a fresh process per round
// that loads the extension and runs every query twice in a row, timing the
// second); the best time of each side is reported. Times are from the
// query's start to its last row read, inside the process running it: the
// wall time, and the CPU time of that process meanwhile (all its threads),
// which other jobs on a shared machine disturb less. Every
// histogram must equal the embedded engine's, bin by bin, or the command
// stops with status 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/extension"
	"github.com/hepsql/hepsql/internal/adlref"
)

const (
	beginMarker = "<!-- extbench:begin (written by go run ./bench/cmd/extbench; do not edit) -->"
	endMarker   = "<!-- extbench:end -->"
	heading     = `# The loadable extension next to the embedded engine

How much does hepsql lose when it runs as ` + "`hepsql.duckdb_extension`" + ` inside
someone else's DuckDB (docs/extension.md) rather than on its own embedded
DuckDB? The nine ADL queries of ` + "`queries/adl`" + ` run on the same copies of
the CMS sample three ways: in hepsql's embedded engine in-process (DuckDB
1.5.5, what ` + "`bin/hepsql`" + ` runs), and in the DuckDB 1.5.5 and 1.5.6 that npm's
` + "`@duckdb/node-api`" + ` 1.5.5-r.5 and 1.5.6-r.1 ship, each after ` + "`LOAD`" + `ing the
extension built by ` + "`./scripts/build-extension`" + `. The bar: the extension
within 1.1× of the embedded engine. Every histogram must equal the
embedded engine's, bin by bin.`
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "extbench: %v\n", err)
		os.Exit(1)
	}
}

type config struct {
	sample    string
	copies    int
	runs      int
	threads   int
	data      string
	ext       string
	readme    string
	quietWait time.Duration
	queries   []string
	args      []string
}

// side is one way of running the queries: the embedded engine, or one of
// extension.Hosts.
type side struct {
	name string // column heading
	host string // npm package; "" for the embedded engine
}

func run(args []string) error {
	c := &config{args: args}
	fs := flag.NewFlagSet("extbench", flag.ContinueOnError)
	fs.StringVar(&c.sample, "sample", "../shared/data/Run2012B_SingleMu_10000.root", "the CMS sample `file` (tree Events)")
	fs.IntVar(&c.copies, "copies", 100, "number of copies of the sample the queries read")
	fs.IntVar(&c.runs, "runs", 5, "measured rounds per query, after a warm-up; the best of each side is reported")
	fs.IntVar(&c.threads, "threads", 2, "DuckDB threads, on every side")
	fs.StringVar(&c.data, "data", "bench/data", "`folder` for the copies (git-ignored; root/ is shared with scanbench, adlbench and duckdbvs)")
	fs.StringVar(&c.ext, "ext", "bin/hepsql.duckdb_extension", "where to build the extension")
	fs.StringVar(&c.readme, "readme", "bench/README.md", "Markdown `file` whose marked block receives the results; empty: print only")
	fs.DurationVar(&c.quietWait, "quiet-wait", 5*time.Second, "before each round, wait up to this long for other processes to go quiet")
	queries := fs.String("queries", strings.Join(adlref.Queries(), ","), "comma-separated queries among "+strings.Join(adlref.Queries(), ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.copies < 1 || c.runs < 1 || c.threads < 1 {
		return errors.New("-copies, -runs and -threads must be at least 1")
	}
	for _, q := range strings.Split(*queries, ",") {
		if !slices.Contains(adlref.Queries(), q) {
			return fmt.Errorf("unknown query %q (want some of %s)", q, strings.Join(adlref.Queries(), ", "))
		}
		c.queries = append(c.queries, q)
	}
	ctx := context.Background()

	fmt.Fprintln(os.Stderr, "extbench: building", c.ext)
	if err := extension.Build(ctx, ".", c.ext); err != nil {
		return err
	}
	dir := filepath.Join(c.data, "root") // shared with scanbench, adlbench and duckdbvs
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := bench.Replicate("extbench", c.sample, dir, bench.RootCopyFormat, c.copies); err != nil {
		return err
	}
	if err := bench.RemoveExtra(dir, c.copies); err != nil {
		return err
	}
	// Absolute: Node runs in extension/nodetest.
	input, err := filepath.Abs(filepath.Join(dir, "*.root"))
	if err != nil {
		return err
	}

	machine, err := bench.DescribeMachine(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "extbench: %s\n", machine.OneLine())
	loadStart := bench.LoadAverage()

	db, err := hepsql.Open(fmt.Sprintf("?threads=%d", c.threads))
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	sides := []side{{name: "embedded engine"}}
	for _, h := range extension.Hosts {
		sides = append(sides, side{host: h})
	}
	// Every query's statements, and the embedded engine's histograms (after
	// a warm-up run), which every other run must reproduce.
	stmts := map[string][]engine.Statement{}
	want := map[string][]adlref.Bin{}
	var nodeQueries []extension.Query
	for _, q := range c.queries {
		s, err := bench.LoadADL("queries/adl", q, input, nil)
		if err != nil {
			return err
		}
		stmts[q] = s
		if want[q], err = bench.RunADL(ctx, conn, adlFile(q), s); err != nil {
			return fmt.Errorf("%s in the embedded engine: %w", q, err)
		}
		nq := extension.Query{Name: q}
		for _, st := range s {
			nq.Statements = append(nq.Statements, st.SQL)
		}
		nodeQueries = append(nodeQueries, nq)
	}
	best := map[string][]timing{} // query → per side
	record := func(round, side int, q string, d timing, got []adlref.Bin) error {
		if err := bench.CompareBins(want[q], got); err != nil {
			return fmt.Errorf("%s: %s differs from the embedded engine: %w", q, sides[side].name, err)
		}
		if best[q] == nil {
			best[q] = make([]timing, len(sides))
		}
		b := &best[q][side]
		if round == 0 || d.wall < b.wall {
			b.wall = d.wall
		}
		if round == 0 || d.cpu < b.cpu {
			b.cpu = d.cpu
		}
		return nil
	}
	for round := range c.runs {
		bench.WaitQuiet("extbench", c.quietWait)
		for i, s := range sides {
			if s.host == "" {
				for _, q := range c.queries {
					start, cpu0 := time.Now(), processCPU()
					got, err := bench.RunADL(ctx, conn, adlFile(q), stmts[q])
					d := timing{wall: time.Since(start), cpu: processCPU() - cpu0}
					if err != nil {
						return fmt.Errorf("%s in the embedded engine: %w", q, err)
					}
					if err := record(round, i, q, d, got); err != nil {
						return err
					}
				}
				continue
			}
			name, results, err := runNode(ctx, c, s.host, nodeQueries)
			if err != nil {
				return err
			}
			sides[i].name = name
			for _, q := range c.queries {
				r := results[q]
				if err := record(round, i, q, r.d, r.bins); err != nil {
					return err
				}
			}
		}
		fmt.Fprintf(os.Stderr, "extbench: round %d of %d done\n", round+1, c.runs)
	}

	report := render(c, machine, loadStart, bench.LoadAverage(), sides, best)
	fmt.Println(report)
	if c.readme == "" || len(c.queries) != len(adlref.Queries()) {
		return nil
	}
	return bench.WriteSectionUnder(c.readme, heading, beginMarker, endMarker, report)
}

// nodeResult is one query's histogram and timed run in a Node DuckDB.
type nodeResult struct {
	bins []adlref.Bin
	d    timing
}

func adlFile(q string) string { return filepath.Join("queries/adl", q+".sql") }

// runNode runs the queries in a fresh Node process whose DuckDB (npm
// package host) loaded the extension: each query twice in a row, the first
// to warm up, the second timed.
func runNode(ctx context.Context, c *config, host string, queries []extension.Query) (string, map[string]nodeResult, error) {
	resp, err := (extension.Node{Root: ".", Package: host, Threads: c.threads, Runs: 2}).Run(ctx, c.ext, queries)
	if err != nil {
		return host, nil, err
	}
	name := "extension in Node's DuckDB " + resp.DuckDB
	out := map[string]nodeResult{}
	for _, r := range resp.Results {
		if r.Error != "" {
			return name, nil, fmt.Errorf("%s on %s: %s", r.Name, name, r.Error)
		}
		if len(r.Millis) != 2 || len(r.CPUMillis) != 2 {
			return name, nil, fmt.Errorf("%s on %s: %d timings, want 2", r.Name, name, len(r.Millis))
		}
		var bins []adlref.Bin
		for i, row := range r.Rows {
			if len(row) != 2 {
				return name, nil, fmt.Errorf("%s row %d: %d columns, want x, y", r.Name, i+1, len(row))
			}
			var b adlref.Bin
			var y string
			if err := json.Unmarshal(row[0], &b.X); err != nil {
				return name, nil, fmt.Errorf("%s row %d: x %s: %w", r.Name, i+1, row[0], err)
			}
			if err := json.Unmarshal(row[1], &y); err != nil {
				return name, nil, fmt.Errorf("%s row %d: y %s: %w", r.Name, i+1, row[1], err)
			}
			if b.Y, err = strconv.ParseInt(y, 10, 64); err != nil {
				return name, nil, fmt.Errorf("%s row %d: y %q: %w", r.Name, i+1, y, err)
			}
			bins = append(bins, b)
		}
		out[r.Name] = nodeResult{bins: bins, d: timing{wall: msDuration(r.Millis[1]), cpu: msDuration(r.CPUMillis[1])}}
	}
	return name, out, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

// timing is one run's wall time and the CPU time its process spent (every
// thread, user and system) during it: the CPU time is less disturbed by
// other processes on a busy machine than the wall time.
type timing struct{ wall, cpu time.Duration }

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// processCPU is this process's user + system time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func render(c *config, m bench.Machine, loadStart, loadEnd string, sides []side, best map[string][]timing) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s (%d cores, %s), %s, hepsql %s; embedded DuckDB %s. ",
		time.Now().UTC().Format("2006-01-02"), m.CPU, m.Cores, m.OSArch, m.Go, m.Commit, m.DuckDB)
	fmt.Fprintf(&b, "Input: %d copies of the CMS sample (%s events), %d DuckDB threads on every side; best of %d rounds after a warm-up. Load average %s at the start, %s at the end. Each cell: wall time / CPU time of the process during the query (all threads), each the best of the rounds; for the extension, × the embedded engine's.\n\n",
		c.copies, bench.Thousands(int64(c.copies)*10000), c.threads, c.runs, loadStart, loadEnd)
	fmt.Fprintf(&b, "    go run ./bench/cmd/extbench %s\n\n", bench.ShellQuote(c.args))
	b.WriteString("| query |")
	for _, s := range sides {
		fmt.Fprintf(&b, " %s |", s.name)
	}
	b.WriteString("\n|---|")
	for range sides {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	total := make([]timing, len(sides))
	row := func(name string, ts []timing) {
		fmt.Fprintf(&b, "| %s |", name)
		for i, s := range sides {
			if s.host == "" {
				fmt.Fprintf(&b, " %s / %s |", ms(ts[i].wall), ms(ts[i].cpu))
				continue
			}
			fmt.Fprintf(&b, " %s (%.2f×) / %s (%.2f×) |", ms(ts[i].wall), float64(ts[i].wall)/float64(ts[0].wall),
				ms(ts[i].cpu), float64(ts[i].cpu)/float64(ts[0].cpu))
		}
		b.WriteString("\n")
	}
	for _, q := range c.queries {
		row(q, best[q])
		for i := range sides {
			total[i].wall += best[q][i].wall
			total[i].cpu += best[q][i].cpu
		}
	}
	row("**all nine**", total)
	return b.String()
}
