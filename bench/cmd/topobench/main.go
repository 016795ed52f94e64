// Command topobench measures the topology classifier's ingestion: event
// selection, the 801 × 19 low-level matrix and the 14 high-level features,
// from generated ROOT files to Parquet (queries/topology/1-features.sql),
// with 1 and 2 threads, next to the same computation as a plain-Go event
// loop over groot's reader (internal/topref, writing the same features as
// raw float32), in the same run; and writes the figures into bench/README.md.
//
//	go run ./bench/cmd/topobench [-events 1000000] [-seed 1] [-threads 1,2]
//
// Run it from the repository root. The sample is generated once under
// bench/data/topology-N (hepsql gen topology, 20,000 events per file) and
// reused. Every case runs in a child process (the binary re-executed as
// "topobench child ..."), so that its peak RSS is its own; the parent reads
// the child's wall time and maximum resident set size.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/gen/topology"
	"github.com/hepsql/hepsql/internal/topref"
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
		fmt.Fprintf(os.Stderr, "topobench: %v\n", err)
		os.Exit(1)
	}
}

const (
	pipeline      = "queries/topology/1-features.sql"
	eventsPerFile = 20000
	readme        = "bench/README.md"
	beginMarker   = "<!-- topobench:begin -->"
	endMarker     = "<!-- topobench:end -->"
)

// result is one case's measurement.
type result struct {
	Engine   string  // "hepsql" or "go-loop"
	Threads  int     //
	Seconds  float64 // wall time of the computation in the child
	CPU      float64 // user + system seconds of the child
	RSS      int64   // peak resident set, bytes
	Events   int64   // events read
	Selected int64   // events written
	OutBytes int64   // bytes written
}

func parent(args []string) error {
	fs := flag.NewFlagSet("topobench", flag.ContinueOnError)
	events := fs.Int("events", 1_000_000, "events to generate and process (split equally between the three classes)")
	seed := fs.Int64("seed", 1, "generator seed")
	threads := fs.String("threads", "1,2", "comma-separated thread counts")
	goLoop := fs.Bool("go-loop", true, "also measure the plain-Go event loop (topref)")
	write := fs.Bool("write", true, "write the results into "+readme)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	data := filepath.Join("bench", "data", fmt.Sprintf("topology-%d", *events))
	if err := ensureSample(data, *events, *seed); err != nil {
		return err
	}
	var ts []int
	for _, s := range strings.Split(*threads, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-threads: %q is not a thread count", s)
		}
		ts = append(ts, n)
	}
	var results []result
	for _, eng := range []string{"hepsql", "go-loop"} {
		if eng == "go-loop" && !*goLoop {
			continue
		}
		for _, n := range ts {
			bench.WaitQuiet("topobench", bench.QuietWait)
			r, err := runChild(eng, n, data)
			if err != nil {
				return fmt.Errorf("%s, %d threads: %w", eng, n, err)
			}
			fmt.Fprintf(os.Stderr, "topobench: %s %d threads: %.1f s, %.0f events/s/core, peak RSS %d MB\n",
				eng, n, r.Seconds, float64(r.Events)/r.Seconds/float64(n), r.RSS>>20)
			results = append(results, r)
		}
	}
	m, err := bench.DescribeMachine(ctx)
	if err != nil {
		return err
	}
	// The command as run, so that the report reproduces it.
	command := "go run ./bench/cmd/topobench"
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "write" {
			command += fmt.Sprintf(" -%s=%s", f.Name, f.Value)
		}
	})
	block := report(m, command, *events, *goLoop, results)
	fmt.Print(block)
	if *write {
		return bench.WriteSection(readme, beginMarker, endMarker, block)
	}
	return nil
}

// ensureSample generates the sample unless dir already holds it.
func ensureSample(dir string, events int, seed int64) error {
	recipe := fmt.Sprintf("events=%d seed=%d per-file=%d\n", events, seed, eventsPerFile)
	return bench.BuildOnce(dir, recipe, func() error {
		fmt.Fprintf(os.Stderr, "topobench: generating %d events into %s\n", events, dir)
		t0 := time.Now()
		if _, err := topology.Generate(topology.Options{Events: events, Seed: seed, OutDir: dir, EventsPerFile: eventsPerFile}); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "topobench: generated in %.0f s\n", time.Since(t0).Seconds())
		return nil
	})
}

func runChild(eng string, threads int, data string) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	out, err := os.MkdirTemp("", "topobench-out-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(out)
	cmd := exec.Command(self, "child", eng, strconv.Itoa(threads), data, out)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var r result
	if err := json.Unmarshal(stdout, &r); err != nil {
		return result{}, fmt.Errorf("child output %q: %w", stdout, err)
	}
	// r.RSS is the child's own peak, not wait4's Maxrss (bench/rss.go).
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return r, nil
}

func child(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("child: want ENGINE THREADS DATA OUT, got %q", args)
	}
	eng, data, out := args[0], args[2], args[3]
	threads, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	var r result
	t0 := time.Now()
	switch eng {
	case "hepsql":
		r, err = runSQL(threads, data, out)
	case "go-loop":
		r, err = runGoLoop(threads, data, out)
	default:
		err = fmt.Errorf("child: unknown engine %q", eng)
	}
	if err != nil {
		return err
	}
	r.Engine, r.Threads, r.Seconds = eng, threads, time.Since(t0).Seconds()
	r.RSS = bench.SelfPeakKiB() << 10
	return json.NewEncoder(os.Stdout).Encode(r)
}

// runSQL runs the pipeline's first file as hepsql run would.
func runSQL(threads int, data, out string) (result, error) {
	src, err := os.ReadFile(pipeline)
	if err != nil {
		return result{}, err
	}
	stmts, err := engine.ParseScript(pipeline, string(src), map[string]string{"in": data, "out": out})
	if err != nil {
		return result{}, err
	}
	db, err := hepsql.Open(fmt.Sprintf("?threads=%d", threads))
	if err != nil {
		return result{}, err
	}
	defer db.Close()
	ctx := context.Background()
	if err := engine.RunScript(ctx, db, stmts, pipeline, func(engine.Result) error { return nil }); err != nil {
		return result{}, err
	}
	var r result
	if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT (SELECT sum(events) FROM read_parquet('%[1]s/generated.parquet')),
		(SELECT count(*) FROM read_parquet('%[1]s/features.parquet'))`, out)).Scan(&r.Events, &r.Selected); err != nil {
		return result{}, err
	}
	r.OutBytes = dirSize(out)
	return r, nil
}

// runGoLoop is the peer: files shared among threads goroutines, each
// reading its files with groot's per-entry reader and computing the
// selection and features with topref, writing each selected event's
// 14 features, its number of particle rows and those rows of the 801 × 19
// matrix as raw little-endian float32 (the same content as hepsql's
// Parquet file, whose particle lists leave out the zero padding too).
func runGoLoop(threads int, data, out string) (result, error) {
	files, err := filepath.Glob(filepath.Join(data, "*.root"))
	if err != nil || len(files) == 0 {
		return result{}, fmt.Errorf("no ROOT files in %s (%v)", data, err)
	}
	var (
		mu       sync.Mutex
		r        result
		firstErr error
		next     int
		wg       sync.WaitGroup
	)
	for w := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := os.Create(filepath.Join(out, fmt.Sprintf("features-%d.bin", w)))
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
				return
			}
			defer f.Close()
			for {
				mu.Lock()
				if next >= len(files) || firstErr != nil {
					mu.Unlock()
					return
				}
				file := files[next]
				next++
				mu.Unlock()
				n, sel, err := goLoopFile(file, f)
				mu.Lock()
				r.Events += n
				r.Selected += sel
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return result{}, firstErr
	}
	r.OutBytes = dirSize(out)
	return r, nil
}

func goLoopFile(file string, w io.Writer) (events, selected int64, err error) {
	buf := make([]byte, 0, 4*(topref.NumHighLevel+topref.Rows*topref.Columns))
	err = topref.ForEach([]string{file}, func(_ string, _ int64, ev *topref.Event) error {
		events++
		l := topref.NewLists(ev)
		sel, ok := topref.SelectWith(ev, l)
		if !ok {
			return nil
		}
		selected++
		hlf := topref.HighLevel(ev, sel)
		m, n := topref.LowLevelWith(ev, l, sel)
		buf = buf[:0]
		for _, v := range hlf {
			buf = binary.LittleEndian.AppendUint32(buf, mathFloat32bits(float32(v)))
		}
		buf = binary.LittleEndian.AppendUint32(buf, uint32(n))
		for _, row := range m[:n] {
			for _, v := range row {
				buf = binary.LittleEndian.AppendUint32(buf, mathFloat32bits(v))
			}
		}
		_, err := w.Write(buf)
		return err
	})
	return events, selected, err
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}
