// Command extbench measures the nine ADL queries (queries/adl) run by
// hepsql.duckdb_extension inside a stock DuckDB, Node's @duckdb/node-api
// (DuckDB 1.5.5 and 1.5.6), next to hepsql's embedded engine in this
// process (DuckDB 1.5.5, what bin/hepsql runs), on the same files, the same
// machine and in the same run, and writes the results into bench/README.md.
//
//	go run ./bench/cmd/extbench [-copies 100] [-runs 3] [-threads 2]
//
// Run it from the repository root; it builds the extension with
// scripts/build-extension first, and needs extension/nodetest's npm
// packages (scripts/test installs them). Each query runs -runs rounds
// after a warm-up; a round runs it once in the embedded engine, then in
// each Node DuckDB (a fresh process that loads the extension and runs the
// query twice, timing the second), so that the sides alternate under the
// same load; the best time of each side is reported. Times are from the
// query's start to its last row read, inside the process running it. Every
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
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
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
	fs.IntVar(&c.runs, "runs", 3, "measured rounds per query, after a warm-up; the best of each side is reported")
	fs.IntVar(&c.threads, "threads", 2, "DuckDB threads, on every side")
	fs.StringVar(&c.data, "data", "bench/data", "`folder` for the copies (git-ignored)")
	fs.StringVar(&c.ext, "ext", "bin/hepsql.duckdb_extension", "where to build the extension")
	fs.StringVar(&c.readme, "readme", "bench/README.md", "Markdown `file` whose marked block receives the results; empty: print only")
	fs.DurationVar(&c.quietWait, "quiet-wait", 10*time.Second, "before each round, wait up to this long for other processes to go quiet")
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
	dir := filepath.Join(c.data, "ext-root")
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
	best := map[string][]time.Duration{} // query → per side
	for _, q := range c.queries {
		stmts, err := bench.LoadADL("queries/adl", q, input, nil)
		if err != nil {
			return err
		}
		var sqls []string
		for _, s := range stmts {
			sqls = append(sqls, s.SQL)
		}
		file := filepath.Join("queries/adl", q+".sql")
		want, err := bench.RunADL(ctx, conn, file, stmts) // warm-up
		if err != nil {
			return fmt.Errorf("%s in the embedded engine: %w", q, err)
		}
		best[q] = make([]time.Duration, len(sides))
		for round := range c.runs {
			bench.WaitQuiet("extbench", c.quietWait)
			for i, s := range sides {
				var d time.Duration
				var got []adlref.Bin
				if s.host == "" {
					start := time.Now()
					got, err = bench.RunADL(ctx, conn, file, stmts)
					d = time.Since(start)
				} else {
					var name string
					name, got, d, err = runNode(ctx, c, s.host, q, sqls)
					sides[i].name = name
				}
				if err != nil {
					return fmt.Errorf("%s on %s: %w", q, sides[i].name, err)
				}
				if err := bench.CompareBins(want, got); err != nil {
					return fmt.Errorf("%s: %s differs from the embedded engine: %w", q, sides[i].name, err)
				}
				if round == 0 || d < best[q][i] {
					best[q][i] = d
				}
			}
		}
		fmt.Fprintf(os.Stderr, "extbench: %s:", q)
		for i, s := range sides {
			fmt.Fprintf(os.Stderr, " %s %s", s.name, ms(best[q][i]))
		}
		fmt.Fprintln(os.Stderr)
	}

	report := render(c, machine, loadStart, bench.LoadAverage(), sides, best)
	fmt.Println(report)
	if c.readme == "" || len(c.queries) != len(adlref.Queries()) {
		return nil
	}
	return bench.WriteSectionUnder(c.readme, heading, beginMarker, endMarker, report)
}

// runNode runs a query in a fresh Node process whose DuckDB (npm package
// host) loaded the extension: once to warm up, once timed.
func runNode(ctx context.Context, c *config, host, q string, sqls []string) (string, []adlref.Bin, time.Duration, error) {
	resp, err := (extension.Node{Root: ".", Package: host, Threads: c.threads, Runs: 2}).Run(ctx, c.ext, []extension.Query{{Name: q, Statements: sqls}})
	if err != nil {
		return host, nil, 0, err
	}
	name := "extension in Node's DuckDB " + resp.DuckDB
	r := resp.Results[0]
	if r.Error != "" {
		return name, nil, 0, errors.New(r.Error)
	}
	if len(r.Millis) != 2 {
		return name, nil, 0, fmt.Errorf("node gave %d timings, want 2", len(r.Millis))
	}
	var bins []adlref.Bin
	for i, row := range r.Rows {
		if len(row) != 2 {
			return name, nil, 0, fmt.Errorf("row %d: %d columns, want x, y", i+1, len(row))
		}
		var b adlref.Bin
		var y string
		if err := json.Unmarshal(row[0], &b.X); err != nil {
			return name, nil, 0, fmt.Errorf("row %d: x %s: %w", i+1, row[0], err)
		}
		if err := json.Unmarshal(row[1], &y); err != nil {
			return name, nil, 0, fmt.Errorf("row %d: y %s: %w", i+1, row[1], err)
		}
		if b.Y, err = strconv.ParseInt(y, 10, 64); err != nil {
			return name, nil, 0, fmt.Errorf("row %d: y %q: %w", i+1, y, err)
		}
		bins = append(bins, b)
	}
	return name, bins, time.Duration(r.Millis[1] * float64(time.Millisecond)), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func render(c *config, m bench.Machine, loadStart, loadEnd string, sides []side, best map[string][]time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s (%d cores, %s), %s, hepsql %s; embedded DuckDB %s. ",
		time.Now().UTC().Format("2006-01-02"), m.CPU, m.Cores, m.OSArch, m.Go, m.Commit, m.DuckDB)
	fmt.Fprintf(&b, "Input: %d copies of the CMS sample (%s events), %d DuckDB threads on every side; best of %d rounds after a warm-up. Load average %s at the start, %s at the end.\n\n",
		c.copies, bench.Thousands(int64(c.copies)*10000), c.threads, c.runs, loadStart, loadEnd)
	fmt.Fprintf(&b, "    go run ./bench/cmd/extbench %s\n\n", bench.ShellQuote(c.args))
	b.WriteString("| query |")
	for _, s := range sides {
		fmt.Fprintf(&b, " %s |", s.name)
		if s.host != "" {
			b.WriteString(" × embedded |")
		}
	}
	b.WriteString("\n|---|")
	for _, s := range sides {
		b.WriteString("---:|")
		if s.host != "" {
			b.WriteString("---:|")
		}
	}
	b.WriteString("\n")
	total := make([]time.Duration, len(sides))
	row := func(name string, ds []time.Duration) {
		fmt.Fprintf(&b, "| %s |", name)
		for i, s := range sides {
			fmt.Fprintf(&b, " %s |", ms(ds[i]))
			if s.host != "" {
				fmt.Fprintf(&b, " %.2f |", float64(ds[i])/float64(ds[0]))
			}
		}
		b.WriteString("\n")
	}
	for _, q := range c.queries {
		row(q, best[q])
		for i := range sides {
			total[i] += best[q][i]
		}
	}
	row("**all nine**", total)
	return b.String()
}
