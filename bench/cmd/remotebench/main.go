// Command remotebench compares read_root over root:// with local files:
// Q2 and the 20-branch scan over the replicated CMS sample, read from disk,
// from Debian's xrootd server on loopback, and from the same server behind
// a proxy adding a fixed latency each way, at 1 and 2 threads, in one run.
//
//	go run ./bench/cmd/remotebench [-sample PATH] [-copies 100] [-runs 3] [-latency 10ms]
//	    [-queries q2,scan] [-threads 1,2] [-sources local,loopback,latency] [-cpuprofile FILE]
//
// It needs the xrootd binary (apt-get install xrootd-server) and, run as
// root, the user daemon to run it as. A run of every case writes its
// results between the remotebench markers of bench/README.md; a narrower
// one (to profile one case, say) only prints its timings.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/internal/xrdtest"
)

const (
	beginMarker = "<!-- remotebench:begin (written by go run ./bench/cmd/remotebench; do not edit) -->"
	endMarker   = "<!-- remotebench:end -->"
)

// fatalT lets xrdtest run outside a test: failures end the command.
type fatalT struct{ cleanups []func() }

func (*fatalT) Helper()                      {}
func (*fatalT) Fatal(args ...any)            { log.Fatal(args...) }
func (*fatalT) Fatalf(f string, args ...any) { log.Fatalf(f, args...) }
func (*fatalT) Skip(args ...any)             { log.Fatal(args...) }
func (t *fatalT) Cleanup(f func())           { t.cleanups = append(t.cleanups, f) }
func (t *fatalT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

type source struct {
	key  string // as -sources names it
	name string
	from func(threads int) string // read_root(...) expression
}

type result struct {
	query   string
	threads int
	source  string
	best    time.Duration
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("remotebench: ")
	sample := flag.String("sample", "../shared/data/Run2012B_SingleMu_10000.root", "the CMS sample")
	data := flag.String("data", "bench/data", "folder of the copies (DATA/root, shared with scanbench)")
	copies := flag.Int("copies", 100, "copies of the sample")
	runs := flag.Int("runs", 3, "measured runs per case (the best is reported)")
	latency := flag.Duration("latency", 10*time.Millisecond, "latency added each way by the proxy")
	readme := flag.String("readme", "bench/README.md", "file whose remotebench section is rewritten ('' to only print)")
	queries := flag.String("queries", bench.Q2+","+bench.Scan, "comma-separated queries among "+bench.Q2+", "+bench.Scan)
	threadList := flag.String("threads", "1,2", "comma-separated thread counts")
	sourceList := flag.String("sources", "local,loopback,latency", "comma-separated sources among local, loopback, latency")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured runs (warm-ups excluded) to `file`")
	flag.Parse()
	var qs []string
	for _, q := range strings.Split(*queries, ",") {
		if q != bench.Q2 && q != bench.Scan {
			log.Fatalf("-queries: unknown query %q", q)
		}
		qs = append(qs, q)
	}
	var threads []int
	for _, th := range strings.Split(*threadList, ",") {
		n, err := strconv.Atoi(th)
		if err != nil || n < 1 {
			log.Fatalf("-threads: bad thread count %q", th)
		}
		threads = append(threads, n)
	}
	wanted := strings.Split(*sourceList, ",")
	for _, w := range wanted {
		if w != "local" && w != "loopback" && w != "latency" {
			log.Fatalf("-sources: unknown source %q", w)
		}
	}
	full := len(qs) == 2 && fmt.Sprint(threads) == "[1 2]" && len(wanted) == 3
	if *cpuprofile != "" {
		if len(qs)*len(threads)*len(wanted) != 1 {
			log.Fatal("-cpuprofile needs one case: one query, one thread count, one source")
		}
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		profile = func(on bool) {
			if !on {
				pprof.StopCPUProfile()
			} else if err := pprof.StartCPUProfile(f); err != nil {
				log.Fatal(err)
			}
		}
	}

	dir := filepath.Join(*data, "root")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	if err := bench.Replicate("remotebench", *sample, dir, bench.RootCopyFormat, *copies); err != nil {
		log.Fatal(err)
	}
	t := &fatalT{}
	defer t.done()
	srv := xrdtest.Start(t)
	for i := range *copies {
		name := fmt.Sprintf(bench.RootCopyFormat, i)
		srv.Put(name, filepath.Join(dir, name))
	}
	proxy, err := bench.NewLatencyProxy(srv.Addr, *latency)
	if err != nil {
		log.Fatal(err)
	}
	defer proxy.Close()

	sources := []source{
		{"local", "local", func(int) string { return fmt.Sprintf("read_root(%s)", bench.QuoteString(filepath.Join(dir, "*.root"))) }},
		{"loopback", "root:// loopback", func(int) string {
			return fmt.Sprintf("read_root(%s)", bench.QuoteString("root://"+srv.Addr+"//*.root"))
		}},
		{"latency", fmt.Sprintf("root:// +%s each way", *latency), func(int) string {
			return fmt.Sprintf("read_root(%s)", bench.QuoteString("root://"+proxy.Addr()+"//*.root"))
		}},
	}
	sources = slices.DeleteFunc(sources, func(s source) bool { return !slices.Contains(wanted, s.key) })
	ctx := context.Background()
	start := time.Now()
	var results []result
	for _, q := range qs {
		for _, threads := range threads {
			var want bench.Result
			for si, s := range sources {
				best, got, err := measure(ctx, q, threads, s.from(threads), *runs)
				if err != nil {
					log.Fatalf("%s, %d threads, %s: %v", q, threads, s.name, err)
				}
				if si == 0 {
					want = got
				} else if err := bench.Compare(q, want, got); err != nil {
					log.Fatalf("%s, %d threads: %s differs from %s: %v", q, threads, s.name, sources[0].name, err)
				}
				log.Printf("%s, %d thread(s), %s: %.3f s", q, threads, s.name, best.Seconds())
				results = append(results, result{q, threads, s.name, best})
			}
		}
	}
	if !full {
		return
	}
	info, err := bench.DescribeMachine(ctx)
	if err != nil {
		log.Fatal(err)
	}
	report := render(info, sources, results, *copies, *latency, time.Since(start))
	fmt.Print(report)
	if *readme != "" {
		if err := bench.WriteSection(*readme, beginMarker, endMarker, report); err != nil {
			log.Fatal(err)
		}
	}
}

// profile starts (true) and stops the CPU profile, when one was asked for.
var profile = func(bool) {}

// measure runs query once to warm up, then runs times, in a fresh database
// with the given threads; it returns the best time and the last result.
func measure(ctx context.Context, query string, threads int, from string, runs int) (time.Duration, bench.Result, error) {
	db, err := hepsql.Open(fmt.Sprintf("?threads=%d", threads))
	if err != nil {
		return 0, bench.Result{}, err
	}
	defer db.Close()
	var best time.Duration
	var res bench.Result
	for i := 0; i <= runs; i++ {
		if i == 1 {
			profile(true)
		}
		t0 := time.Now()
		res, err = bench.RunSQL(ctx, db, query, from)
		if err != nil {
			return 0, res, err
		}
		if d := time.Since(t0); i > 0 && (best == 0 || d < best) {
			best = d
		}
	}
	profile(false)
	return best, res, nil
}

var queryNames = map[string]string{bench.Q2: "Q2 Jet_pt histogram", bench.Scan: "scan of 20 branches"}

func render(info bench.Machine, sources []source, rs []result, copies int, latency time.Duration, total time.Duration) string {
	find := func(q string, threads int, src string) time.Duration {
		for _, r := range rs {
			if r.query == q && r.threads == threads && r.source == src {
				return r.best
			}
		}
		return 0
	}
	var b strings.Builder
	fmt.Fprintf(&b, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %s; hepsql at %s\n", info.OneLine(), info.Commit)
	fmt.Fprintf(&b, "- Command: `go run ./bench/cmd/remotebench` (%s in all)\n", total.Round(time.Second))
	fmt.Fprintf(&b, "- Data: %d copies of the CMS sample (%s events), local and served by `xrootd` %s on loopback; the proxy adds %s each way\n",
		copies, bench.Thousands(int64(copies)*10000), "(Debian's xrootd-server)", latency)
	b.WriteString("- Time: best of the measured runs after one warm-up, all in one process (rootscan's metadata cache is warm for every source)\n\n")
	b.WriteString("| query | threads |")
	for _, s := range sources {
		fmt.Fprintf(&b, " %s |", s.name)
	}
	b.WriteString(" loopback/local | local/latency (throughput) |\n|---|---:|")
	for range sources {
		b.WriteString("---:|")
	}
	b.WriteString("---:|---:|\n")
	var checks []string
	for _, q := range []string{bench.Q2, bench.Scan} {
		for _, th := range []int{1, 2} {
			fmt.Fprintf(&b, "| %s | %d |", queryNames[q], th)
			for _, s := range sources {
				fmt.Fprintf(&b, " %.3f s |", find(q, th, s.name).Seconds())
			}
			local, loop, slow := find(q, th, sources[0].name), find(q, th, sources[1].name), find(q, th, sources[2].name)
			lr, tr := loop.Seconds()/local.Seconds(), local.Seconds()/slow.Seconds()
			fmt.Fprintf(&b, " %.2f× | %.0f%% |\n", lr, 100*tr)
			checks = append(checks, check(lr <= 1.3, fmt.Sprintf("%s, %d thread(s): root:// on loopback ≤ 1.3× local: %.2f×", queryNames[q], th, lr)))
			if q == bench.Scan {
				checks = append(checks, check(tr >= 0.5, fmt.Sprintf("%s, %d thread(s): with %s latency ≥ 50%% of local throughput: %.0f%%", queryNames[q], th, latency, 100*tr)))
			}
		}
	}
	b.WriteString("\nThe issue's bar:\n\n")
	for _, c := range checks {
		b.WriteString("- " + c + "\n")
	}
	return b.String()
}

func check(ok bool, what string) string {
	if ok {
		return "**PASS** " + what
	}
	return "**FAIL** " + what
}
