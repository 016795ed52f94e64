// Command rntuplebench measures read_root over the CMS sample converted to
// RNTuple (zstd and zlib) against the same events as a TTree (read_root) and as Parquet
// (DuckDB's read_parquet), for ADL Q1, Q2 and Q5 and the scan of 20
// branches, and writes the results into bench/README.md.
//
//	go run ./bench/cmd/rntuplebench [-sample PATH] [-copies 100] [-runs 3] [-queries q5,scan]
//
// Run it from the repository root. The RNTuple and Parquet copies hold the
// 20 branches of bench.Branches, converted by hepsql itself (COPY ...
// (FORMAT rntuple) twice, with zstd and with zlib, and (FORMAT parquet),
// zstd); the TTree copies are
// the sample as CMS wrote it (zlib, all branches). Every case runs in a
// child process (the binary re-executed as "rntuplebench child ..."), one
// warm-up run then -runs measured runs; the time is the best, measured in
// the child from the query's start to its result read. Results of every
// peer are checked against each other; a mismatch stops the command. To
// see where a case spends its time, run one child by hand:
//
//	rntuplebench child -query q5 -peer rntuple -threads 1 -cpuprofile q5.prof
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
	"slices"
	"strings"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/internal/adlref"
)

// Peers: the same events in three formats.
const (
	peerRNTuple = "rntuple"      // read_root over the RNTuple copies (zstd)
	peerZlib    = "rntuple-zlib" // read_root over the RNTuple copies written with zlib
	peerTTree   = "ttree"        // read_root over the TTree copies
	peerParquet = "parquet"      // read_parquet over the Parquet copies
)

var peers = []string{peerRNTuple, peerZlib, peerTTree, peerParquet}

// Queries: ADL Q1, Q2, Q5 (queries/adl) and the 20-branch scan.
var queries = []string{"q1", "q2", "q5", bench.Scan}

const (
	beginMarker = "<!-- rntuplebench:begin -->"
	endMarker   = "<!-- rntuplebench:end -->"
)

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
		fmt.Fprintf(os.Stderr, "rntuplebench: %v\n", err)
		os.Exit(1)
	}
}

type config struct {
	sample, data, readme string
	copies, runs         int
	quiet                time.Duration
	busy                 int // runs begun on a busy machine
	threads              []int
	queries              []string
	args                 []string
	sizes                map[string]int64 // bytes of one copy, per peer
}

func (c *config) dir(peer string) string { return filepath.Join(c.data, peer) }

// source is the FROM clause of a peer over all its copies.
func source(data, peer string) string {
	switch peer {
	case peerParquet:
		return fmt.Sprintf("read_parquet(%s)", bench.QuoteString(filepath.Join(data, peer, "*.parquet")))
	}
	return fmt.Sprintf("read_root(%s, tree := 'Events')", bench.QuoteString(filepath.Join(data, peer, "*.root")))
}

func parent(args []string) error {
	c := &config{args: args}
	fs := flag.NewFlagSet("rntuplebench", flag.ContinueOnError)
	fs.StringVar(&c.sample, "sample", "../shared/data/Run2012B_SingleMu_10000.root", "the CMS sample `file` (tree Events)")
	fs.IntVar(&c.copies, "copies", 100, "copies of the sample in each format")
	fs.IntVar(&c.runs, "runs", 3, "measured runs per case, after one warm-up; the best is reported")
	fs.StringVar(&c.data, "data", "bench/data/rntuplebench", "`folder` for the copies (git-ignored)")
	fs.StringVar(&c.readme, "readme", "bench/README.md", "Markdown `file` whose marked block receives the results; empty: print only")
	threads := fs.String("threads", "1,2", "comma-separated thread counts")
	only := fs.String("queries", strings.Join(queries, ","), "comma-separated queries to run, of "+strings.Join(queries, ", "))
	fs.DurationVar(&c.quiet, "quiet", bench.QuietWait, "how long to wait before each run for other processes to go quiet")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, t := range strings.Split(*threads, ",") {
		var n int
		if _, err := fmt.Sscan(t, &n); err != nil || n < 1 {
			return fmt.Errorf("bad -threads %q", *threads)
		}
		c.threads = append(c.threads, n)
	}
	for _, q := range strings.Split(*only, ",") {
		if !slices.Contains(queries, q) {
			return fmt.Errorf("bad -queries %q: %q is none of %s", *only, q, strings.Join(queries, ", "))
		}
		c.queries = append(c.queries, q)
	}
	ctx := context.Background()
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
	fmt.Fprintf(os.Stderr, "rntuplebench: %s\n", info.OneLine())
	start := time.Now()
	type row struct {
		query   string
		threads int
		best    map[string]time.Duration
		cpu     map[string]time.Duration // the child's user+system time, start-up included: the least of the runs
		rss     map[string]int64
	}
	var rows []row
	for _, q := range c.queries {
		for _, th := range c.threads {
			r := row{query: q, threads: th, best: map[string]time.Duration{}, cpu: map[string]time.Duration{}, rss: map[string]int64{}}
			var first *childOutput
			for _, p := range peers {
				for run := 0; run <= c.runs; run++ {
					if !bench.WaitQuiet("rntuplebench", c.quiet) && run > 0 {
						c.busy++
					}
					out, rss, cpu, err := runChild(self, c, q, p, th)
					if err != nil {
						return err
					}
					if first == nil {
						first = out
					} else if err := compare(q, first, out); err != nil {
						return fmt.Errorf("RESULTS DIFFER: %s %s at %d thread(s): %w", p, q, th, err)
					}
					d := time.Duration(out.Seconds * float64(time.Second))
					if run > 0 && (r.best[p] == 0 || d < r.best[p]) {
						r.best[p] = d
					}
					if run > 0 {
						r.rss[p] = max(r.rss[p], rss)
						if r.cpu[p] == 0 || cpu < r.cpu[p] {
							r.cpu[p] = cpu
						}
					}
					fmt.Fprintf(os.Stderr, "rntuplebench: %-4s %-8s threads=%d run %d %8.3f s  cpu %6.2f s  maxrss %.0f MB\n", q, p, th, run, out.Seconds, cpu.Seconds(), float64(rss)*1024/1e6)
				}
			}
			rows = append(rows, r)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s on %s, `go run ./bench/cmd/rntuplebench %s` (%s in all): %s events, %d copies of each.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), info.OneLine(), bench.ShellQuote(c.args), time.Since(start).Round(time.Second),
		bench.Thousands(10000*int64(c.copies)), c.copies)
	fmt.Fprintf(&b, "%d of the measured runs began while other processes kept the machine busy.\n\n", c.busy)
	fmt.Fprintf(&b, "Bytes of one copy: RNTuple %s (zstd), %s (zlib), TTree %s (all branches), Parquet %s.\n\n",
		bench.Thousands(c.sizes[peerRNTuple]), bench.Thousands(c.sizes[peerZlib]), bench.Thousands(c.sizes[peerTTree]), bench.Thousands(c.sizes[peerParquet]))
	b.WriteString("Each cell: the best query time, the least CPU time of the child process (user and system, start-up included), the peak RSS. Ratios: time, then CPU.\n\n")
	b.WriteString("| query | threads | RNTuple zstd | RNTuple zlib | TTree | Parquet | zstd / TTree | zstd / Parquet | zlib / TTree | zlib / Parquet |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		cell := func(p string) string {
			return fmt.Sprintf("%.3f s, CPU %.2f s (%.0f MB)", r.best[p].Seconds(), r.cpu[p].Seconds(), float64(r.rss[p])*1024/1e6)
		}
		ratio := func(nt, p string) string {
			return fmt.Sprintf("%.2f, CPU %.2f", r.best[nt].Seconds()/r.best[p].Seconds(), r.cpu[nt].Seconds()/r.cpu[p].Seconds())
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.query, r.threads,
			cell(peerRNTuple), cell(peerZlib), cell(peerTTree), cell(peerParquet),
			ratio(peerRNTuple, peerTTree), ratio(peerRNTuple, peerParquet), ratio(peerZlib, peerTTree), ratio(peerZlib, peerParquet))
	}
	b.WriteString("\n")
	fmt.Print(b.String())
	if c.readme == "" {
		return nil
	}
	return bench.WriteSectionUnder(c.readme, "## RNTuple next to TTree and Parquet (rntuplebench)", beginMarker, endMarker, b.String())
}

// childOutput is what a child prints: its time and its result (bins of an
// ADL histogram, or the scan's sums).
type childOutput struct {
	Seconds float64      `json:"seconds"`
	PeakKiB int64        `json:"peak_kib,omitempty"` // the child's VmHWM`
	Bins    []adlref.Bin `json:"bins,omitempty"`
	Scan    bench.Result `json:"scan"`
}

func compare(query string, want, got *childOutput) error {
	if query == bench.Scan {
		return bench.Compare(query, want.Scan, got.Scan)
	}
	return bench.CompareBins(want.Bins, got.Bins)
}

func runChild(self string, c *config, query, peer string, threads int) (*childOutput, int64, time.Duration, error) {
	cmd := exec.Command(self, "child", "-query", query, "-peer", peer, "-threads", fmt.Sprint(threads), "-data", c.data)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, 0, 0, fmt.Errorf("%s %s threads=%d: %v\n%s", peer, query, threads, err, stderr.String())
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	var out childOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, 0, 0, fmt.Errorf("%s %s: bad child output %q: %v", peer, query, stdout.String(), err)
	}
	// The child's own peak, not wait4's Maxrss (bench/rss.go).
	rss := out.PeakKiB
	return &out, rss, cpu, nil
}

// child runs one query once and prints a childOutput.
func child(args []string) error {
	fs := flag.NewFlagSet("rntuplebench child", flag.ContinueOnError)
	query := fs.String("query", "q1", "query")
	peer := fs.String("peer", peerRNTuple, "peer")
	threads := fs.Int("threads", 1, "threads")
	data := fs.String("data", "bench/data/rntuplebench", "folder of the copies")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the query to `file` (run a child by hand to find where its time goes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	db, err := hepsql.Open(fmt.Sprintf("?threads=%d", *threads))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	from := source(*data, *peer)
	stopProfile, err := bench.StartCPUProfile(*profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	var out childOutput
	if *query == bench.Scan {
		t0 := time.Now()
		out.Scan, err = bench.RunSQL(ctx, db, *query, from)
		out.Seconds = time.Since(t0).Seconds()
	} else {
		// The ADL file reads read_root('${input}'): the peer's source
		// takes its place.
		rewrite := func(text string) (string, error) {
			if !strings.Contains(text, "read_root('${input}')") {
				return "", errors.New("no read_root('${input}') to replace")
			}
			return strings.ReplaceAll(text, "read_root('${input}')", from), nil
		}
		stmts, err := bench.LoadADL("queries/adl", *query, "", rewrite)
		if err != nil {
			return err
		}
		conn, err := db.Conn(ctx) // the only one: the scan's RunSQL takes its own
		if err != nil {
			return err
		}
		defer conn.Close()
		t0 := time.Now()
		out.Bins, err = bench.RunADL(ctx, conn, *query, stmts)
		out.Seconds = time.Since(t0).Seconds()
		if err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	out.PeakKiB = bench.SelfPeakKiB()
	return json.NewEncoder(os.Stdout).Encode(out)
}

// prepare converts the sample's 20 branches to RNTuple and Parquet and
// makes c.copies copies of each format.
func prepare(ctx context.Context, c *config) error {
	if _, err := os.Stat(c.sample); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	db, err := hepsql.Open("")
	if err != nil {
		return err
	}
	defer db.Close()
	cols := strings.Join(bench.BranchNames(), ", ")
	c.sizes = map[string]int64{}
	for _, p := range peers {
		dir := c.dir(p)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := bench.RemoveExtra(dir, c.copies); err != nil {
			return err
		}
		var one, format string
		switch p {
		case peerTTree:
			one, format = c.sample, "part-%03d.root"
		case peerRNTuple, peerZlib:
			one, format = filepath.Join(dir, "part-000.root"), "part-%03d.root"
			tmp := one + ".tmp"
			comp := "zstd"
			if p == peerZlib {
				comp = "zlib"
			}
			if _, err := db.ExecContext(ctx, fmt.Sprintf("COPY (SELECT %s FROM read_root(%s)) TO %s (FORMAT rntuple, COMPRESSION '%s')", cols, bench.QuoteString(c.sample), bench.QuoteString(tmp), comp)); err != nil {
				return err
			}
			if err := os.Rename(tmp, one); err != nil {
				return err
			}
		case peerParquet:
			one, format = filepath.Join(dir, "part-000.parquet"), "part-%03d.parquet"
			tmp := one + ".tmp"
			if err := bench.ToParquet(ctx, db, c.sample, tmp); err != nil {
				return err
			}
			if err := os.Rename(tmp, one); err != nil {
				return err
			}
		}
		st, err := os.Stat(one)
		if err != nil {
			return err
		}
		c.sizes[p] = st.Size()
		if err := bench.Replicate("rntuplebench", one, dir, format, c.copies); err != nil {
			return err
		}
	}
	return nil
}
