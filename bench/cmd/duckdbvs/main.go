// Command duckdbvs measures hepsql's embedded engine on DuckDB 2.0.0 next
// to DuckDB 1.5.5 (the version go.mod pins), with the scan and ADL
// benchmarks' own child processes, alternately in one run, and writes the
// results into bench/README.md.
//
//	go run ./bench/cmd/duckdbvs [-copies 100] [-runs 3] [-threads 2]
//
// Run it from the repository root. It builds bench/cmd/scanbench and
// bench/cmd/adlbench twice into bin/duckdbvs/: with go.mod (duckdb-go
// v2.10505.0, DuckDB 1.5.5) and with -modfile bench/duckdb20.mod (duckdb-go
// v2.20000.0, DuckDB 2.0.0; go.mod stays at 1.5.5). Each case (the scan
// benchmark's read_root queries, the ADL queries with the function
// library) then runs as those commands' "child", which times the query
// inside the process: a warm-up per version, then -runs rounds, each
// running the 1.5.5 build and the 2.0 build in turn, so that both see the
// same load; the best of each is reported. The two versions' results must
// agree (the ADL histograms bin by bin, the scan sums as the scan benchmark
// compares them), or the command stops with status 1.
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
	"strings"
	"time"

	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/internal/adlref"
)

const (
	beginMarker = "<!-- duckdbvs:begin (written by go run ./bench/cmd/duckdbvs; do not edit) -->"
	endMarker   = "<!-- duckdbvs:end -->"
	heading     = `# DuckDB 2.0 next to 1.5.5

hepsql's embedded engine pins DuckDB 1.5.5 (duckdb-go v2.10505.0); DuckDB
2.0.0 (duckdb-go v2.20000.0) builds from the same code with
` + "`-modfile bench/duckdb20.mod`" + `. The scan benchmark's ` + "`read_root`" + ` queries
and the ADL queries (with the function library) run in the two builds of
those benchmarks' child processes, alternately, on the same copies of the
CMS sample; results must agree.`
)

// version is one build of the benchmark commands.
type version struct {
	name    string // column heading
	modfile string // "" for go.mod
	dir     string // bin/duckdbvs/NAME
}

// result is what a child prints: its query time, and its answer.
type result struct {
	Seconds float64         `json:"seconds"`
	Bins    []adlref.Bin    `json:"bins"`   // adlbench
	Result  json.RawMessage `json:"result"` // scanbench
}

// kase is one measured query.
type kase struct {
	name string
	cmd  string // scanbench or adlbench
	args []string
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "duckdbvs: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("duckdbvs", flag.ContinueOnError)
	sample := fs.String("sample", "../shared/data/Run2012B_SingleMu_10000.root", "the CMS sample `file` (tree Events)")
	copies := fs.Int("copies", 100, "number of copies of the sample the queries read")
	runs := fs.Int("runs", 3, "measured rounds, after a warm-up; the best of each version is reported")
	threads := fs.Int("threads", 2, "DuckDB threads")
	data := fs.String("data", "bench/data", "`folder` for the copies (git-ignored; root/ is shared with scanbench and adlbench)")
	readme := fs.String("readme", "bench/README.md", "Markdown `file` whose marked block receives the results; empty: print only")
	quietWait := fs.Duration("quiet-wait", 5*time.Second, "before each round, wait up to this long for other processes to go quiet")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *copies < 1 || *runs < 1 || *threads < 1 {
		return errors.New("-copies, -runs and -threads must be at least 1")
	}
	rootDir := filepath.Join(*data, "root")
	if err := os.MkdirAll(rootDir, 0o755); err != nil {
		return err
	}
	if err := bench.Replicate("duckdbvs", *sample, rootDir, bench.RootCopyFormat, *copies); err != nil {
		return err
	}
	if err := bench.RemoveExtra(rootDir, *copies); err != nil {
		return err
	}

	versions := []*version{{name: "DuckDB 1.5.5"}, {name: "DuckDB 2.0.0", modfile: "bench/duckdb20.mod"}}
	for _, v := range versions {
		v.dir = filepath.Join("bin", "duckdbvs", strings.ReplaceAll(strings.TrimPrefix(v.name, "DuckDB "), ".", ""))
		for _, cmd := range []string{"scanbench", "adlbench"} {
			build := []string{"build", "-o", filepath.Join(v.dir, cmd)}
			if v.modfile != "" {
				build = append(build, "-modfile", v.modfile)
			}
			fmt.Fprintf(os.Stderr, "duckdbvs: go %s\n", strings.Join(append(build, "./bench/cmd/"+cmd), " "))
			c := exec.Command("go", append(build, "./bench/cmd/"+cmd)...)
			c.Stderr = os.Stderr
			if err := c.Run(); err != nil {
				return fmt.Errorf("building %s for %s: %w", cmd, v.name, err)
			}
		}
	}

	th := fmt.Sprint(*threads)
	var cases []kase
	for _, q := range []string{bench.Q1, bench.Q2, bench.Scan} {
		cases = append(cases, kase{name: "scan " + q, cmd: "scanbench", args: []string{"child", "-query", q, "-peer", "hepsql", "-threads", th, "-data", *data}})
	}
	for _, q := range adlref.Queries() {
		cases = append(cases, kase{name: "ADL " + q, cmd: "adlbench", args: []string{"child", "-query", q, "-variant", "library", "-threads", th, "-input", filepath.Join(rootDir, "*.root")}})
	}

	machine, err := bench.DescribeMachine(context.Background())
	if err != nil {
		return err
	}
	loadStart := bench.LoadAverage()
	best := make([][]time.Duration, len(cases))
	for i, k := range cases {
		best[i] = make([]time.Duration, len(versions))
		var want *result
		for round := 0; round <= *runs; round++ {
			if round > 0 {
				bench.WaitQuiet("duckdbvs", *quietWait)
			}
			for j, v := range versions {
				got, err := runChild(v, k)
				if err != nil {
					return err
				}
				if want == nil {
					want = got
				} else if err := agree(k, want, got); err != nil {
					return fmt.Errorf("%s: %s differs from %s: %w", k.name, v.name, versions[0].name, err)
				}
				d := time.Duration(got.Seconds * float64(time.Second))
				if round > 0 && (best[i][j] == 0 || d < best[i][j]) {
					best[i][j] = d
				}
			}
		}
		fmt.Fprintf(os.Stderr, "duckdbvs: %-9s %s %s, %s %s\n", k.name, versions[0].name, ms(best[i][0]), versions[1].name, ms(best[i][1]))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s (%d cores, %s), %s, hepsql %s. Input: %d copies of the CMS sample (%s events), %d DuckDB threads; best of %d rounds after a warm-up. Load average %s at the start, %s at the end.\n\n",
		time.Now().UTC().Format("2006-01-02"), machine.CPU, machine.Cores, machine.OSArch, machine.Go, machine.Commit,
		*copies, bench.Thousands(int64(*copies)*10000), *threads, *runs, loadStart, bench.LoadAverage())
	fmt.Fprintf(&b, "    go run ./bench/cmd/duckdbvs %s\n\n", bench.ShellQuote(args))
	fmt.Fprintf(&b, "| query | %s | %s | 2.0 / 1.5.5 |\n|---|---:|---:|---:|\n", versions[0].name, versions[1].name)
	var tot [2]time.Duration
	for i, k := range cases {
		fmt.Fprintf(&b, "| %s | %s | %s | %.2f |\n", k.name, ms(best[i][0]), ms(best[i][1]), float64(best[i][1])/float64(best[i][0]))
		tot[0] += best[i][0]
		tot[1] += best[i][1]
	}
	fmt.Fprintf(&b, "| **all** | %s | %s | %.2f |\n", ms(tot[0]), ms(tot[1]), float64(tot[1])/float64(tot[0]))
	report := b.String()
	fmt.Println(report)
	if *readme == "" {
		return nil
	}
	return bench.WriteSectionUnder(*readme, heading, beginMarker, endMarker, report)
}

func runChild(v *version, k kase) (*result, error) {
	cmd := exec.Command(filepath.Join(v.dir, k.cmd), k.args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s on %s: %v\n%s", k.name, v.name, err, stderr.Bytes())
	}
	var r result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("%s on %s: %w", k.name, v.name, err)
	}
	return &r, nil
}

// agree compares two runs' answers: ADL histograms bin by bin, scan
// results as the scan benchmark compares its peers.
func agree(k kase, want, got *result) error {
	if k.cmd == "adlbench" {
		return bench.CompareBins(want.Bins, got.Bins)
	}
	var w, g bench.Result
	if err := json.Unmarshal(want.Result, &w); err != nil {
		return err
	}
	if err := json.Unmarshal(got.Result, &g); err != nil {
		return err
	}
	return bench.Compare(k.args[2], w, g)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
