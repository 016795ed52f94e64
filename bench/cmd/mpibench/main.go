// Command mpibench measures data-parallel training over MPI. With -model
// nn (issue 20): the inclusive model (HLF vector and a GRU over particle
// sequences, mlfuncs/synth's data) trained by one rank and by R ranks
// under mpirun, with the same global batch, each rank on its own disjoint
// part of the rows; per-epoch time, speed-up and the final test AUC side
// by side; then MPI_Allreduce of the model's gradient size, and a model
// of the speed-up up to 64 ranks from the measured step time and
// all-reduce cost. With -model ucluster (issue 21): UCluster
// (mlfuncs/ucluster) on jets of `hepsql gen jets` through the SQL
// features (bench/ucjets), one rank against R the same way, per-epoch
// time of pre-training and of the end-to-end epochs apart, and the
// held-out clustering accuracy of both.
//
// The R-rank run's results must match the one-rank run's (nn: test AUC
// within 0.005; ucluster: see ucAccTol and ucLossTol), else the command
// says RESULTS DIFFER, writes nothing into -readme and exits 1.
//
//	go run -tags mpi ./bench/cmd/mpibench [-model nn|ucluster] [-np 2] [-rows 4096] [-jets 3000] [-pretrain 6] [-epochs 3] [-seed 0] [-readme bench/README.md]
//
// It starts itself under mpirun (-rank-mode, which is internal).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/internal/mpi"
	"github.com/hepsql/hepsql/mlfuncs/metrics"
	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/synth"
	"github.com/hepsql/hepsql/mlfuncs/train"
)

type config struct {
	Rows, Test, SeqLen, MeanLen, Epochs, Batch, Threads int
	Seed                                                uint64
	Jets, Pretrain                                      int    // ucluster: training jets, pre-training epochs
	Data                                                string // ucluster: the jets' gob file (prepareUCluster)
}

// aucTol is how far the R-rank run's test AUC may be from one rank's.
const aucTol = 0.005

// trainResult is rank 0's report of a training.
type trainResult struct {
	Ranks     int
	EpochSec  float64 // median over the epochs but the first
	Epochs    []float64
	Steps     int // per epoch
	AUC       float64
	TrainLoss float64
	Params    int
	// CPU seconds (user + system) of the training per epoch, on the rank
	// that used most: what the epoch would take with a core per rank and
	// no other load (a rank waiting in MPI spins, so this errs high).
	CPUEpochSec float64
	// The same with the CPU time spent inside MPI_Allreduce (spinning
	// while the other rank computes) taken out: the compute of an epoch.
	ComputeEpochSec float64
}

// timed is a train.Reducer that counts the CPU time its calls burn: a
// rank waiting for the other in MPI_Allreduce polls, and on a machine
// with fewer free cores than ranks that polling is CPU time the
// training's compute did not need.
type timed struct {
	*mpi.World
	cpu float64
}

func (t *timed) AllReduceSum32(buf []float32) error {
	runtime.LockOSThread() // the thread's CPU clock, before and after
	defer runtime.UnlockOSThread()
	c0 := threadCPU()
	err := t.World.AllReduceSum32(buf)
	t.cpu += threadCPU() - c0
	return err
}

func (t *timed) AllReduceSum(buf []float64) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0 := threadCPU()
	err := t.World.AllReduceSum(buf)
	t.cpu += threadCPU() - c0
	return err
}

// threadCPU is the calling thread's user and system CPU time.
func threadCPU() float64 {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD, Linux
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// reduceResult is the all-reduce timings, medians in µs by size in bytes.
type reduceResult struct {
	Ranks int
	Bytes []int
	Micro []float64
}

func main() {
	var c config
	np := flag.Int("np", 2, "ranks of the parallel run")
	flag.IntVar(&c.Rows, "rows", 4096, "training rows (the inclusive model's set)")
	model := flag.String("model", "nn", "nn (the inclusive model) or ucluster")
	flag.IntVar(&c.Test, "test", 0, "test rows for the AUC or held-out jets for the clustering accuracy (0: 2048 nn, 1000 ucluster)")
	flag.IntVar(&c.Jets, "jets", 3000, "ucluster: training jets")
	seed := flag.Uint64("seed", 0, "seed of the weights and shuffles (0: 7 nn, which seeds its data with it too; 1 ucluster)")
	flag.IntVar(&c.Pretrain, "pretrain", 6, "ucluster: pre-training epochs (≥ 2: the first is left out of the CPU figures)")
	flag.IntVar(&c.SeqLen, "seq-len", 801, "sequence length T (padded)")
	flag.IntVar(&c.MeanLen, "mean-len", 100, "mean active particles per event (middle class)")
	flag.IntVar(&c.Epochs, "epochs", 3, "epochs (ucluster: end-to-end epochs, ≥ 2)")
	flag.IntVar(&c.Batch, "batch", 0, "global batch, split across the ranks (0: 128 nn, 64 ucluster)")
	flag.IntVar(&c.Threads, "threads", 1, "in-process workers per rank")
	readme := flag.String("readme", "", "write the results into this Markdown file's mpibench section")
	rankMode := flag.String("rank-mode", "", "internal: train, ucluster or allreduce, as one rank under mpirun")
	cfgJSON := flag.String("config", "", "internal: the config, as JSON")
	flag.Parse()
	if *rankMode != "" {
		if err := json.Unmarshal([]byte(*cfgJSON), &c); err != nil {
			log.Fatal(err)
		}
		if err := rank(*rankMode, c); err != nil {
			log.Fatal(err)
		}
		return
	}
	if !mpi.Available {
		log.Fatal("mpibench: build with -tags mpi (go run -tags mpi ./bench/cmd/mpibench)")
	}
	c.Seed = *seed
	mach, err := bench.DescribeMachine(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	load := bench.LoadAverage()
	var report string
	var ok bool
	switch *model {
	case "nn":
		report, ok = runNN(c, *np, mach, load)
	case "ucluster":
		report, ok = runUCluster(c, *np, mach, load)
	default:
		log.Fatalf("mpibench: -model %q: want nn or ucluster", *model)
	}
	fmt.Print(report)
	if !ok {
		fmt.Fprintln(os.Stderr, "mpibench: RESULTS DIFFER: the parallel run's results are not the one-rank run's (above)")
		os.Exit(1)
	}
	if *readme != "" {
		begin, end := "<!-- mpibench begin -->", "<!-- mpibench end -->"
		if *model == "ucluster" {
			begin, end = "<!-- mpibench ucluster begin -->", "<!-- mpibench ucluster end -->"
		}
		if err := bench.WriteSectionUnder(*readme, "## mpibench", begin, end, report); err != nil {
			log.Fatal(err)
		}
	}
}

func runNN(c config, np int, mach bench.Machine, load string) (string, bool) {
	if c.Test <= 0 {
		c.Test = 2048
	}
	if c.Batch <= 0 {
		c.Batch = 128
	}
	if c.Seed == 0 {
		c.Seed = 7
	}
	var one, par trainResult
	launch(1, "train", c, &one)
	launch(np, "train", c, &par)
	var red reduceResult
	launch(np, "allreduce", c, &red)
	return format(c, np, one, par, red, mach, load), math.Abs(par.AUC-one.AUC) <= aucTol
}

func runUCluster(c config, np int, mach bench.Machine, load string) (string, bool) {
	if c.Test <= 0 {
		c.Test = 1000
	}
	if c.Batch <= 0 {
		c.Batch = 64
	}
	if c.Pretrain < 2 || c.Epochs < 2 {
		log.Fatalf("mpibench: -model ucluster needs -pretrain and -epochs ≥ 2 (the first epoch of each phase is left out of the CPU figures); have %d and %d", c.Pretrain, c.Epochs)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	dir, err := os.MkdirTemp("", "mpibench-ucluster")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	spec, err := prepareUCluster(&c, dir)
	if err != nil {
		log.Fatal(err)
	}
	var one, par ucResult
	launch(1, "ucluster", c, &one)
	launch(np, "ucluster", c, &par)
	ok, _, _ := ucAgree(one, par)
	return formatUCluster(c, np, spec, one, par, mach, load), ok
}

// launch runs this binary as np ranks in mode and decodes rank 0's JSON
// line into out.
func launch(np int, mode string, c config, out any) {
	cfg, _ := json.Marshal(c)
	cmd := exec.Command("mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", fmt.Sprint(np),
		os.Args[0], "-rank-mode", mode, "-config", string(cfg))
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("mpirun -np %d %s: %v", np, mode, err)
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "{") {
			if err := json.Unmarshal([]byte(line), out); err != nil {
				log.Fatalf("%s: %v", line, err)
			}
			return
		}
	}
	log.Fatalf("mpirun -np %d %s: no result in %q", np, mode, stdout.String())
}

func spec(c config) nn.Spec {
	return nn.Spec{Arch: nn.Inclusive, SeqLen: c.SeqLen, Dropout: 0.2}
}

// rank is one rank's part: mode train trains on the rank's rows (rows r
// with r % size == rank of one generated set) and rank 0 scores the
// test set; mode allreduce times MPI_Allreduce.
func rank(mode string, c config) error {
	w, err := mpi.Init()
	if err != nil {
		return err
	}
	defer w.Finalize()
	if mode == "ucluster" {
		return rankUCluster(w, c)
	}
	s, err := spec(c).Normalize()
	if err != nil {
		return err
	}
	if mode == "allreduce" {
		m, err := nn.New(s, 1)
		if err != nil {
			return err
		}
		res := reduceResult{Ranks: w.Size()}
		for _, n := range []int{1, len(m.Params), 1 << 18} {
			buf := make([]float32, n)
			var times []float64
			for i := range 300 {
				t0 := time.Now()
				if err := w.AllReduceSum32(buf); err != nil {
					return err
				}
				if i >= 20 {
					times = append(times, float64(time.Since(t0).Nanoseconds())/1e3)
				}
			}
			res.Bytes, res.Micro = append(res.Bytes, 4*n), append(res.Micro, median(times))
		}
		return emit(w, res)
	}
	full := synth.Generate(synth.Options{Rows: c.Rows, Seed: c.Seed, SeqLen: c.SeqLen, MeanLen: c.MeanLen})
	mine := part(full, w.Rank(), w.Size())
	full = nil
	cpu0 := cpuSeconds()
	red := &timed{World: w}
	res, err := train.Train(context.Background(), s, mine.Source(true, true, 2048), train.Options{
		Epochs: c.Epochs, BatchSize: c.Batch, LR: 1e-3, Seed: c.Seed, Threads: c.Threads, Reducer: red,
	})
	if err != nil {
		return err
	}
	R := w.Size()
	cpus := make([]float64, 2*R)
	cpus[w.Rank()] = (cpuSeconds() - cpu0) / float64(len(res.Epochs))
	cpus[R+w.Rank()] = cpus[w.Rank()] - red.cpu/float64(len(res.Epochs))
	if err := w.AllReduceSum(cpus); err != nil {
		return err
	}
	if w.Rank() != 0 {
		return nil
	}
	out := trainResult{CPUEpochSec: slices.Max(cpus[:R]), ComputeEpochSec: slices.Max(cpus[R:]), Ranks: w.Size(), Params: len(res.Model.Params), TrainLoss: res.Epochs[len(res.Epochs)-1].TrainLoss}
	for _, e := range res.Epochs {
		out.Epochs = append(out.Epochs, e.Seconds)
	}
	out.EpochSec = median(out.Epochs[min(1, len(out.Epochs)-1):])
	out.Steps = (c.Rows/w.Size() + localBatch(c.Batch, w.Size()) - 1) / localBatch(c.Batch, w.Size())
	te := synth.Generate(synth.Options{Rows: c.Test, Seed: c.Seed + 1, SeqLen: c.SeqLen, MeanLen: c.MeanLen})
	p := res.Model.NewPredictor(2)
	defer p.Close()
	probs, labels, err := train.Collect(context.Background(), p, te.Source(true, true, 512))
	if err != nil {
		return err
	}
	_, out.AUC = metrics.OneVsRestAUC(probs, labels, s.Classes)
	return emit(w, out)
}

// cpuSeconds is the process's user and system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func localBatch(global, size int) int { return max(global/size, 1) }

func emit(w *mpi.World, v any) error {
	if w.Rank() != 0 {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// part is rank's rows of s: r % size == rank.
func part(s *synth.Set, rank, size int) *synth.Set {
	out := &synth.Set{SeqLen: s.SeqLen}
	for r := rank; r < s.Rows; r += size {
		out.Rows++
		out.HLF = append(out.HLF, s.HLF[r*synth.HLFDim:(r+1)*synth.HLFDim]...)
		out.Labels = append(out.Labels, s.Labels[r])
		out.Lens = append(out.Lens, s.Lens[r])
		out.Start = append(out.Start, int64(len(out.Steps)/synth.SeqDim))
		st := int(s.Start[r]) * synth.SeqDim
		out.Steps = append(out.Steps, s.Steps[st:st+int(s.Lens[r])*synth.SeqDim]...)
	}
	return out
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return math.NaN()
	}
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// format writes the results and the scaling model as Markdown.
func format(c config, np int, one, par trainResult, red reduceResult, mach bench.Machine, load string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s, commit %s; load before the run: %s. This 2-core machine is shared with other jobs: timings are noisy.\n\n",
		time.Now().UTC().Format("2006-01-02"), mach.OneLine(), mach.Commit, load)
	fmt.Fprintf(&b, "`go run -tags mpi ./bench/cmd/mpibench -np %d -rows %d -epochs %d -batch %d -threads %d` (OpenMPI 4.1, `mpirun --bind-to none`, shared memory between the ranks; synth inclusive model, T = %d, %d parameters; %d training rows split r %% ranks, %d test rows)\n\n",
		np, c.Rows, c.Epochs, c.Batch, c.Threads, c.SeqLen, one.Params, c.Rows, c.Test)
	b.WriteString("| ranks × workers | global batch | steps/epoch | epoch s (wall, median, first left out) | speed-up (wall) | CPU s/epoch (busiest rank) | of which outside all-reduce | speed-up (compute CPU) | test macro AUC | last train loss |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range []trainResult{one, par} {
		fmt.Fprintf(&b, "| %d × %d | %d | %d | %.2f | %.2f× | %.2f | %.2f | %.2f× | %.4f | %.4f |\n", r.Ranks, c.Threads, c.Batch, r.Steps, r.EpochSec, one.EpochSec/r.EpochSec,
			r.CPUEpochSec, r.ComputeEpochSec, one.ComputeEpochSec/r.ComputeEpochSec, r.AUC, r.TrainLoss)
	}
	verdict := "agree"
	if math.Abs(par.AUC-one.AUC) > aucTol {
		verdict = "RESULTS DIFFER"
	}
	fmt.Fprintf(&b, "\nAUC difference, %d ranks − 1: %+.4f (tolerance ±%g): %s.\n\n", np, par.AUC-one.AUC, aucTol, verdict)
	fmt.Fprintf(&b, "MPI_Allreduce (float32 sum, in place), %d ranks, median of 280:\n\n| bytes | µs |\n|---|---|\n", red.Ranks)
	var gradUs, latUs, bigUs float64
	for i, n := range red.Bytes {
		fmt.Fprintf(&b, "| %s | %.1f |\n", bench.Thousands(int64(n)), red.Micro[i])
		switch i {
		case 0:
			latUs = red.Micro[i]
		case 1:
			gradUs = red.Micro[i]
		case 2:
			bigUs = red.Micro[i]
		}
	}
	gradBytes := 4 * one.Params
	// A ring all-reduce of n bytes over R ranks: 2(R−1) messages of n/R
	// bytes each way: α·2(R−1) + 2(R−1)/R · n/β. α and β from the two
	// ranks' measurements: the 4-byte time is 2α; the 1 MiB one gives β.
	// β from the 1 MiB time; α from the gradient's own time at 2 ranks
	// (2α + n/β), so that the model meets the measurement there.
	beta := float64(red.Bytes[2]) / max(bigUs-latUs, 1e-3) // bytes per µs
	alpha := max(latUs, gradUs-float64(4*one.Params)/beta) / 2
	// Compute a step: one rank's CPU time outside the all-reduce (its
	// wall time on this loaded machine counts the waits for a core).
	stepMs := one.ComputeEpochSec / float64(one.Steps) * 1e3
	fmt.Fprintf(&b, "\nGradient: %s bytes a step, all-reduce %.1f µs at 2 ranks, against %.1f ms of compute a step on one rank (global batch %d): %.2f%% of a step.\n\n",
		bench.Thousands(int64(gradBytes)), gradUs, stepMs, c.Batch, 100*gradUs/1e3/stepMs)
	b.WriteString("Model of data-parallel training, same global batch, compute per step ∝ batch/R, ring all-reduce, α·2(R−1) + 2(R−1)/R·n/β, with β from the 1 MiB and α from the gradient's 2-rank time above (shared memory) and, for a network, TCP figures measured for the scale-out spec (1 MiB ≈ 0.85 ms between two network namespaces, 4 B ≈ 8 µs on loopback):\n\n")
	b.WriteString("| ranks | compute ms/step | all-reduce µs (shm) | speed-up (shm) | all-reduce µs (TCP) | speed-up (TCP) |\n|---|---|---|---|---|---|\n")
	tcpAlpha, tcpBeta := 4.0, float64(1<<20)/(850-8)
	for _, R := range []int{1, 2, 4, 8, 16, 32, 64} {
		comp := stepMs / float64(R)
		ar := func(a, bw float64) float64 {
			if R == 1 {
				return 0
			}
			return a*2*float64(R-1) + 2*float64(R-1)/float64(R)*float64(gradBytes)/bw
		}
		shm, tcp := ar(alpha, beta), ar(tcpAlpha, tcpBeta)
		fmt.Fprintf(&b, "| %d | %.3f | %.1f | %.1f× | %.1f | %.1f× |\n", R, comp, shm, stepMs/(comp+shm/1e3), tcp, stepMs/(comp+tcp/1e3))
	}
	b.WriteString("\nThe batch per rank shrinks as ranks are added (global batch fixed): past the point where a rank's batch is a few rows, its step is dominated by fixed costs (the model: ideal compute scaling); with the global batch scaled with R (weak scaling, `scale_lr`), the all-reduce fraction stays at the 2-rank figure.\n")
	return b.String()
}
