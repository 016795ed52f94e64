// Command scanbench measures hepsql's read_root against DuckDB's
// read_parquet over the same columns and against groot's per-entry event
// loop, on the CMS sample replicated into many files, and writes the results
// into bench/README.md.
//
//	go run ./bench/cmd/scanbench [-sample PATH] [-copies 100] [-runs 3]
//
// Run it from the repository root. Every measured case runs in a child
// process (the binary re-executed as "scanbench child ..."), so that its
// peak RSS is its own; the time reported is the best of -runs runs after a
// warm-up run, measured in the child from just before the query (files
// opened, query run, result read) to its end. Results of every run are
// checked against each other; a mismatch stops the command with status 1.
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
	"sort"
	"strings"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
)

// Peers.
const (
	peerROOT    = "hepsql"  // read_root over the ROOT copies
	peerParquet = "parquet" // read_parquet over the Parquet copies
	peerGroot   = "groot"   // groot's event loop over the ROOT copies
)

var peers = []string{peerROOT, peerParquet, peerGroot}

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
		fmt.Fprintf(os.Stderr, "scanbench: %v\n", err)
		os.Exit(1)
	}
}

// config is the parent's command line.
type config struct {
	sample  string
	copies  int
	runs    int
	data    string
	readme  string
	threads []int
	queries []string
	args    []string // as given, for the report

	// Found by prepare.
	events                  int64  // in all the copies
	loadStart, loadEnd      string // load averages
	measuredRuns, busyRuns  int    // runs measured, and those begun on a busy machine
	rootBytes, parquetBytes int64  // of one copy
}

func parseFlags(args []string) (*config, error) {
	c := &config{args: args}
	fs := flag.NewFlagSet("scanbench", flag.ContinueOnError)
	fs.StringVar(&c.sample, "sample", "../shared/data/Run2012B_SingleMu_10000.root", "the CMS sample `file` (tree Events)")
	fs.IntVar(&c.copies, "copies", 100, "number of copies of the sample (and of its Parquet conversion) to scan")
	fs.IntVar(&c.runs, "runs", 3, "measured runs per case, after one warm-up; the best is reported")
	fs.StringVar(&c.data, "data", "bench/data", "`folder` for the copies (git-ignored)")
	fs.StringVar(&c.readme, "readme", "bench/README.md", "Markdown `file` whose marked block receives the results; empty: print only")
	threads := fs.String("threads", "1,2", "comma-separated thread counts")
	queries := fs.String("queries", strings.Join(bench.Queries, ","), "comma-separated queries among "+strings.Join(bench.Queries, ", "))
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.copies < 1 || c.runs < 1 {
		return nil, errors.New("-copies and -runs must be at least 1")
	}
	for _, t := range strings.Split(*threads, ",") {
		var n int
		if _, err := fmt.Sscan(t, &n); err != nil || n < 1 {
			return nil, fmt.Errorf("bad -threads %q", *threads)
		}
		c.threads = append(c.threads, n)
	}
	for _, q := range strings.Split(*queries, ",") {
		if _, err := bench.SQL(q, "t"); err != nil {
			return nil, err
		}
		c.queries = append(c.queries, q)
	}
	return c, nil
}

// full says whether the run covers everything the bar needs; only such a
// run rewrites the README.
func (c *config) full() bool {
	return len(c.queries) == len(bench.Queries) && fmt.Sprint(c.threads) == "[1 2]"
}

func (c *config) rootDir() string    { return filepath.Join(c.data, "root") }
func (c *config) parquetDir() string { return filepath.Join(c.data, "parquet") }

// measurement is one case: a query by one peer at one thread count.
type measurement struct {
	query, peer string
	threads     int
	best        time.Duration // best in-child query time
	maxRSS      int64         // KiB, the largest over the measured runs
	result      bench.Result
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
	fmt.Fprintf(os.Stderr, "scanbench: %s\n", info.OneLine())
	c.loadStart = bench.LoadAverage()

	var ms []*measurement
	want := map[string]bench.Result{} // per query, the first result seen
	for _, q := range c.queries {
		for _, th := range c.threads {
			for _, p := range peers {
				m, err := measure(self, c, q, p, th, want)
				if err != nil {
					return err
				}
				ms = append(ms, m)
			}
		}
	}
	c.loadEnd = bench.LoadAverage()
	report := render(c, info, ms, time.Since(start))
	fmt.Print(report)
	if c.readme == "" {
		return nil
	}
	if !c.full() {
		fmt.Fprintf(os.Stderr, "scanbench: partial run (-queries/-threads): %s left as it is\n", c.readme)
		return nil
	}
	if err := bench.WriteSection(c.readme, beginMarker, endMarker, report); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "scanbench: results written to %s\n", c.readme)
	return nil
}

// measure runs one case once to warm up and c.runs times measured, each in
// its own child process, and checks every result against want[query].
func measure(self string, c *config, query, peer string, threads int, want map[string]bench.Result) (*measurement, error) {
	m := &measurement{query: query, peer: peer, threads: threads}
	for run := 0; run <= c.runs; run++ {
		quiet := bench.WaitQuiet("scanbench", bench.QuietWait)
		if run > 0 {
			c.measuredRuns++
			if !quiet {
				c.busyRuns++
			}
		}
		out, rss, cpu, err := runChild(self, c, query, peer, threads)
		if err != nil {
			return nil, err
		}
		w, ok := want[query]
		if !ok {
			want[query] = out.Result
			w = out.Result
			if query == bench.Scan && out.Result.Events() != c.events {
				return nil, fmt.Errorf("%s %s: %d events, want %d", peer, query, out.Result.Events(), c.events)
			}
		}
		if err := bench.Compare(query, w, out.Result); err != nil {
			return nil, fmt.Errorf("RESULTS DIFFER: %s at %d thread(s) vs the first peer: %w", peer, threads, err)
		}
		d := time.Duration(out.Seconds * float64(time.Second))
		label := "warm-up"
		if run > 0 {
			label = fmt.Sprintf("run %d", run)
			if m.best == 0 || d < m.best {
				m.best = d
			}
			m.maxRSS = max(m.maxRSS, rss)
		}
		fmt.Fprintf(os.Stderr, "scanbench: %-4s %-7s threads=%d %-7s %8.3f s  (process CPU %6.3f s)  maxrss %s\n",
			query, peer, threads, label, out.Seconds, cpu.Seconds(), mb(rss))
		m.result = out.Result
	}
	return m, nil
}

// childOutput is what a child prints on stdout.
type childOutput struct {
	Seconds float64      `json:"seconds"`
	Result  bench.Result `json:"result"`
	PeakKiB int64        `json:"peak_kib"` // the child's own peak (bench.SelfPeakKiB)
}

func runChild(self string, c *config, query, peer string, threads int) (*childOutput, int64, time.Duration, error) {
	cmd := exec.Command(self, "child",
		"-query", query, "-peer", peer, "-threads", fmt.Sprint(threads), "-data", c.data)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s %s threads=%d: %v\n%s", peer, query, threads, err, stderr.String())
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	var out childOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, 0, 0, fmt.Errorf("%s %s threads=%d: bad child output %q: %v", peer, query, threads, stdout.String(), err)
	}
	// The child's own peak, not wait4's Maxrss (bench/rss.go).
	return &out, out.PeakKiB, cpu, nil
}

// child runs one query once and prints a childOutput.
func child(args []string) error {
	fs := flag.NewFlagSet("scanbench child", flag.ContinueOnError)
	query := fs.String("query", bench.Q1, "query")
	peer := fs.String("peer", peerROOT, "peer: "+strings.Join(peers, ", "))
	threads := fs.Int("threads", 1, "threads")
	data := fs.String("data", "bench/data", "folder of the copies")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the query to `file` (run by hand: scanbench child -cpuprofile f ...)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := bench.StartCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	c := &config{data: *data}
	ctx := context.Background()
	out := childOutput{}
	files, err := filepath.Glob(filepath.Join(c.rootDir(), "*.root"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no ROOT copies in %s (%v)", c.rootDir(), err)
	}
	sort.Strings(files)

	switch *peer {
	case peerGroot:
		t0 := time.Now()
		out.Result, err = bench.RunGroot(*query, files, *threads)
		out.Seconds = time.Since(t0).Seconds()
	case peerROOT, peerParquet:
		db, err := hepsql.Open(fmt.Sprintf("?threads=%d", *threads))
		if err != nil {
			return err
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		// Open the connection before the clock starts, and check the setting.
		var got int
		if err := db.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&got); err != nil {
			return err
		}
		if got != *threads {
			return fmt.Errorf("threads is %d, want %d", got, *threads)
		}
		from := fmt.Sprintf("read_root(%s, tree := '%s')",
			bench.QuoteString(filepath.Join(c.rootDir(), "*.root")), bench.Tree)
		if *peer == peerParquet {
			from = fmt.Sprintf("read_parquet(%s)", bench.QuoteString(filepath.Join(c.parquetDir(), "*.parquet")))
		}
		t0 := time.Now()
		out.Result, err = bench.RunSQL(ctx, db, *query, from)
		out.Seconds = time.Since(t0).Seconds()
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown peer %q", *peer)
	}
	if err != nil {
		return err
	}
	out.PeakKiB = bench.SelfPeakKiB()
	return json.NewEncoder(os.Stdout).Encode(out)
}

// prepare makes the copies: c.copies copies of the sample under
// data/root, and of its Parquet conversion under data/parquet.
func prepare(ctx context.Context, c *config) error {
	if _, err := os.Stat(c.sample); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	for _, dir := range []string{c.rootDir(), c.parquetDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		// Copies beyond -copies from an earlier run would join the globs.
		if err := bench.RemoveExtra(dir, c.copies); err != nil {
			return err
		}
	}
	if err := bench.Replicate("scanbench", c.sample, c.rootDir(), bench.RootCopyFormat, c.copies); err != nil {
		return err
	}
	// The conversion is redone every time (10,000 events: well under a
	// second), so that it always matches the sample and bench.Branches.
	db, err := hepsql.Open("")
	if err != nil {
		return err
	}
	defer db.Close()
	var n int64
	if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM read_root(%s, tree := '%s')",
		bench.QuoteString(c.sample), bench.Tree)).Scan(&n); err != nil {
		return err
	}
	c.events = n * int64(c.copies)
	pq := filepath.Join(c.parquetDir(), "part-000.parquet")
	tmp := pq + ".tmp"
	if err := bench.ToParquet(ctx, db, c.sample, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, pq); err != nil {
		return err
	}
	for path, size := range map[string]*int64{c.sample: &c.rootBytes, pq: &c.parquetBytes} {
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		*size = st.Size()
	}
	return bench.Replicate("scanbench", pq, c.parquetDir(), "part-%03d.parquet", c.copies)
}

// mb formats KiB as decimal megabytes.
func mb(kib int64) string { return fmt.Sprintf("%.0f MB", float64(kib)*1024/1e6) }

func secs(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }
