// Command adlbench measures the ADL benchmark queries Q1–Q8 three ways on
// the CMS sample replicated into many files, checks that the three agree,
// and writes the results into bench/README.md:
//
//   - library: queries/adl/*.sql, with hepsql's vectorised function library
//     (whole chunks through the C-API bridge);
//
//   - builtin: queries/adl/builtin/*.sql, DuckDB's built-in list functions
//     and lambdas only;
//
//   - rowudf: queries/adl/*.sql with the library's functions replaced by
//     duckdb-go row-at-a-time UDFs computing the same Go arithmetic
//     (package bench/rowudf);
//
//   - readonly: only reading what the library's queries read (the
//     columns their plans project from read_root), the floor under
//     (a) before any physics (see readonly.go).
//
//     go run ./bench/cmd/adlbench [-copies 100] [-row-copies N] [-runs 3]
//
// Run it from the repository root. With -row-copies N the row UDFs, which
// can be slow, read only the first N copies, next to the library re-run on
// those same copies, and their time over all copies is scaled from there;
// by default they read all the copies. Every
// measured case runs in a child process (the binary re-executed as
// "adlbench child ..."), timed in the child from the query's start to its
// last row read; the best of -runs runs after a warm-up is reported. Every
// run's histogram is checked against the others; a mismatch stops the
// command with status 1.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/bench/rowudf"
	"github.com/hepsql/hepsql/internal/adlref"
)

// Variants.
const (
	library  = "library"  // (a) queries/adl with the function library
	builtin  = "builtin"  // (b) queries/adl/builtin
	rowUDF   = "rowudf"   // (c) queries/adl with duckdb-go row UDFs
	readOnly = "readonly" // (r) the library queries' columns, read and counted
)

var variants = []string{library, builtin, rowUDF, readOnly}

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "child" {
		err = child(os.Args[2:])
	} else {
		err = parent(os.Args[1:])
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "adlbench: %v\n", err)
		os.Exit(1)
	}
}

// config is the parent's command line.
type config struct {
	sample    string
	copies    int
	rowCopies int
	runs      int
	rowRuns   int
	data      string
	readme    string
	quietWait time.Duration
	threads   []int
	queries   []string
	args      []string // as given, for the report

	// Found by prepare.
	sampleEvents           int64 // in one copy
	loadStart, loadEnd     string
	measuredRuns, busyRuns int
}

func parseFlags(args []string) (*config, error) {
	c := &config{args: args}
	fs := flag.NewFlagSet("adlbench", flag.ContinueOnError)
	fs.StringVar(&c.sample, "sample", "../shared/data/Run2012B_SingleMu_10000.root", "the CMS sample `file` (tree Events)")
	fs.IntVar(&c.copies, "copies", 100, "number of copies of the sample the library and built-in versions read")
	fs.IntVar(&c.rowCopies, "row-copies", 0, "number of copies the row-UDF version reads, the first ones (the library is re-measured on them); 0: all -copies")
	fs.IntVar(&c.runs, "runs", 3, "measured runs per case, after one warm-up; the best is reported")
	fs.IntVar(&c.rowRuns, "row-runs", 3, "measured runs of the row-UDF version, after one warm-up")
	fs.StringVar(&c.data, "data", "bench/data", "`folder` for the copies (git-ignored)")
	fs.StringVar(&c.readme, "readme", "bench/README.md", "Markdown `file` whose marked block receives the results; empty: print only")
	fs.DurationVar(&c.quietWait, "quiet-wait", bench.QuietWait, "before each run, wait up to this long for other processes to go quiet")
	threads := fs.String("threads", "1,2", "comma-separated thread counts")
	queries := fs.String("queries", strings.Join(adlref.Queries(), ","), "comma-separated queries among "+strings.Join(adlref.Queries(), ", "))
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.rowCopies == 0 {
		c.rowCopies = c.copies
	}
	if c.copies < 1 || c.runs < 1 || c.rowRuns < 1 || c.rowCopies < 1 || c.rowCopies > c.copies {
		return nil, errors.New("-copies, -runs and -row-runs must be at least 1, and -row-copies between 0 and -copies")
	}
	for _, t := range strings.Split(*threads, ",") {
		var n int
		if _, err := fmt.Sscan(t, &n); err != nil || n < 1 {
			return nil, fmt.Errorf("bad -threads %q", *threads)
		}
		c.threads = append(c.threads, n)
	}
	for _, q := range strings.Split(*queries, ",") {
		if !slices.Contains(adlref.Queries(), q) {
			return nil, fmt.Errorf("unknown query %q (want some of %s)", q, strings.Join(adlref.Queries(), ", "))
		}
		c.queries = append(c.queries, q)
	}
	return c, nil
}

// full says whether the run covers everything the bar needs; only such a
// run rewrites the README.
func (c *config) full() bool {
	return len(c.queries) == len(adlref.Queries()) && fmt.Sprint(c.threads) == "[1 2]"
}

// rootDir holds the -copies copies (shared with scanbench); subDir the
// -row-copies copies, unless they are all of them.
func (c *config) rootDir() string { return filepath.Join(c.data, "root") }
func (c *config) subDir() string {
	if c.rowCopies == c.copies {
		return c.rootDir()
	}
	return filepath.Join(c.data, "root-rowudf")
}
func (c *config) events(copies int) int64 { return c.sampleEvents * int64(copies) }

// A case is one variant of one query at one thread count over one set of
// copies.
type measurement struct {
	query, variant string
	threads        int
	copies         int
	best           time.Duration
	cpu            time.Duration // the child's CPU time during the best run's query
	allocs         int64         // Go heap allocations during the best run
	bins           []adlref.Bin
}

func parent(args []string) error {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctx := context.Background()
	start := time.Now()
	if err := prepare(ctx, c); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	info, err := bench.DescribeMachine(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "adlbench: %s\n", info.OneLine())
	c.loadStart = bench.LoadAverage()

	var ms []*measurement
	for _, q := range c.queries {
		for _, th := range c.threads {
			full, sub := map[string]*measurement{}, map[string]*measurement{}
			for _, v := range []string{library, builtin} {
				if full[v], err = measure(self, c, q, v, th, c.copies, c.runs); err != nil {
					return err
				}
			}
			if err := agree(q, th, full[library], full[builtin]); err != nil {
				return err
			}
			if want := c.events(c.copies); q == "q1" && bench.Entries(full[library].bins) != want {
				return fmt.Errorf("q1 at %d thread(s): %d entries, want one per event, %d", th, bench.Entries(full[library].bins), want)
			}
			ms = append(ms, full[library], full[builtin])
			sub[library] = full[library]
			if c.rowCopies != c.copies {
				if sub[library], err = measure(self, c, q, library, th, c.rowCopies, c.runs); err != nil {
					return err
				}
				ms = append(ms, sub[library])
			}
			if sub[rowUDF], err = measure(self, c, q, rowUDF, th, c.rowCopies, c.rowRuns); err != nil {
				return err
			}
			if err := agree(q, th, sub[library], sub[rowUDF]); err != nil {
				return err
			}
			ms = append(ms, sub[rowUDF])
			r, err := measure(self, c, q, readOnly, th, c.rowCopies, c.runs)
			if err != nil {
				return err
			}
			ms = append(ms, r)
		}
	}
	c.loadEnd = bench.LoadAverage()
	report := render(c, info, ms, time.Since(start))
	fmt.Print(report)
	if c.readme == "" {
		return nil
	}
	if !c.full() {
		fmt.Fprintf(os.Stderr, "adlbench: partial run (-queries/-threads): %s left as it is\n", c.readme)
		return nil
	}
	if err := bench.WriteSection(c.readme, beginMarker, endMarker, report); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "adlbench: results written to %s\n", c.readme)
	return nil
}

// agree checks two cases over the same copies computed the same histogram.
func agree(q string, threads int, want, got *measurement) error {
	if err := bench.CompareBins(want.bins, got.bins); err != nil {
		return fmt.Errorf("RESULTS DIFFER: %s at %d thread(s) over %d copies, %s vs %s: %w",
			q, threads, want.copies, got.variant, want.variant, err)
	}
	return nil
}

// measure runs one case once to warm up and runs times measured, each in
// its own child process; every run's histogram must equal the first's.
func measure(self string, c *config, query, variant string, threads, copies, runs int) (*measurement, error) {
	m := &measurement{query: query, variant: variant, threads: threads, copies: copies}
	for run := 0; run <= runs; run++ {
		quiet := bench.WaitQuiet("adlbench", c.quietWait)
		if run > 0 {
			c.measuredRuns++
			if !quiet {
				c.busyRuns++
			}
		}
		out, cpu, err := runChild(self, c, query, variant, threads, copies)
		if err != nil {
			return nil, err
		}
		if m.bins == nil {
			m.bins = out.Bins
		} else if err := bench.CompareBins(m.bins, out.Bins); err != nil {
			return nil, fmt.Errorf("RESULTS DIFFER between runs of %s %s at %d thread(s): %w", variant, query, threads, err)
		}
		d := time.Duration(out.Seconds * float64(time.Second))
		label := "warm-up"
		if run > 0 {
			label = fmt.Sprintf("run %d", run)
			if m.best == 0 || d < m.best {
				m.best, m.allocs = d, out.Allocs
				m.cpu = time.Duration(out.CPUSeconds * float64(time.Second))
			}
		}
		fmt.Fprintf(os.Stderr, "adlbench: %-4s %-7s threads=%d copies=%-3d %-7s %8.3f s  (query CPU %6.3f s, process CPU %6.3f s)\n",
			query, variant, threads, copies, label, out.Seconds, out.CPUSeconds, cpu.Seconds())
	}
	return m, nil
}

// childOutput is what a child prints on stdout.
type childOutput struct {
	Seconds    float64      `json:"seconds"`
	CPUSeconds float64      `json:"cpu_seconds"` // user + system time of the process during the query
	Allocs     int64        `json:"allocs"`
	Bins       []adlref.Bin `json:"bins"`
}

func runChild(self string, c *config, query, variant string, threads, copies int) (*childOutput, time.Duration, error) {
	dir := c.rootDir()
	if copies != c.copies {
		dir = c.subDir()
	}
	cmd := exec.Command(self, "child", "-query", query, "-variant", variant, "-threads", fmt.Sprint(threads),
		"-input", filepath.Join(dir, "*.root"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, 0, fmt.Errorf("%s %s threads=%d: %v\n%s", variant, query, threads, err, stderr.String())
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	var out childOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, 0, fmt.Errorf("%s %s threads=%d: bad child output %q: %v", variant, query, threads, stdout.String(), err)
	}
	return &out, cpu, nil
}

// child runs one query once and prints a childOutput.
func child(args []string) error {
	fs := flag.NewFlagSet("adlbench child", flag.ContinueOnError)
	query := fs.String("query", "q1", "query")
	variant := fs.String("variant", library, "variant: "+strings.Join(variants, ", "))
	threads := fs.Int("threads", 1, "threads")
	input := fs.String("input", "bench/data/root/*.root", "the ROOT files (a glob)")
	queries := fs.String("queries", "queries/adl", "`folder` of the library queries; the built-in ones are in its builtin/")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the query to `file` (run by hand: adlbench child -cpuprofile f ...)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	var (
		dir     = *queries
		rewrite func(string) (string, error)
	)
	switch *variant {
	case library, readOnly:
	case builtin:
		dir = filepath.Join(dir, "builtin")
	case rowUDF:
		rewrite = rowudf.Rewrite
	default:
		return fmt.Errorf("unknown variant %q", *variant)
	}
	stmts, err := bench.LoadADL(dir, *query, *input, rewrite)
	if err != nil {
		return err
	}
	db, err := hepsql.Open(fmt.Sprintf("?threads=%d", *threads))
	if err != nil {
		return err
	}
	defer db.Close()
	// One connection: the row macro is a temporary object of the
	// connection it was defined on.
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var got int
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&got); err != nil {
		return err
	}
	if got != *threads {
		return fmt.Errorf("threads is %d, want %d", got, *threads)
	}
	if *variant == rowUDF {
		if err := rowudf.Register(ctx, conn); err != nil {
			return err
		}
	}
	var floor []string
	if *variant == readOnly {
		if floor, err = readOnlyQueries(ctx, conn, stmts[len(stmts)-1].SQL, *input); err != nil {
			return fmt.Errorf("%s: %w", *query, err)
		}
	}
	stopProfile, err := bench.StartCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := processCPU()
	t0 := time.Now()
	var bins []adlref.Bin
	if *variant == readOnly {
		err = runReadOnly(ctx, conn, floor)
	} else {
		bins, err = bench.RunADL(ctx, conn, *query, stmts)
	}
	seconds := time.Since(t0).Seconds()
	cpu := processCPU() - cpu0
	if err != nil {
		return err
	}
	runtime.ReadMemStats(&after)
	return json.NewEncoder(os.Stdout).Encode(childOutput{
		Seconds: seconds, CPUSeconds: cpu.Seconds(), Allocs: int64(after.Mallocs - before.Mallocs), Bins: bins,
	})
}

// processCPU is the user and system time of this process so far: on a
// shared machine it moves less with other load than wall time does.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// prepare makes the copies: c.copies copies of the sample under data/root
// (as scanbench does), and c.rowCopies under data/root-rowudf.
func prepare(ctx context.Context, c *config) error {
	if _, err := os.Stat(c.sample); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	for _, s := range []struct {
		dir string
		n   int
	}{{c.rootDir(), c.copies}, {c.subDir(), c.rowCopies}} {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return err
		}
		// Copies beyond n from an earlier run would join the glob.
		if err := bench.RemoveExtra(s.dir, s.n); err != nil {
			return err
		}
		if err := bench.Replicate("adlbench", c.sample, s.dir, bench.RootCopyFormat, s.n); err != nil {
			return err
		}
	}
	db, err := hepsql.Open("")
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM read_root(%s, tree := '%s')",
		bench.QuoteString(c.sample), bench.Tree)).Scan(&c.sampleEvents); err != nil {
		return fmt.Errorf("counting the sample's events: %w", err)
	}
	return nil
}
