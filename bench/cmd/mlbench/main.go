// Command mlbench measures hepsql's trainer (mlfuncs) against PyTorch,
// XGBoost and gorgonia on the same data, in the same run, and writes the
// results into bench/README.md between its markers.
//
//	go run ./bench/cmd/mlbench [-data topology|synth] [-models mlp,inclusive] [-threads 1,2] [-skip-peers] [-readme '']
//
// The data is the topology pipeline's (see topology.go: generated once
// into bench/data/ml-topology-N, then prepared in SQL on every run) or,
// with -data synth, mlfuncs/synth's three-class set of the same shapes
// (14 HLF and an 801 × 19 particle sequence). It is exported as .npy into
// bench/data/ml for the Python peers (bench/ml/peers.py, run with Debian's
// python3-torch and python3-xgboost). Before each measurement mlbench
// waits (a while) for the machine to be quiet, and it reports how well a
// plain compute loop scaled from 1 to 2 goroutines at the start and at the
// end, so that a reader can tell a loaded machine from a slow trainer.
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
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/bench/npy"
	"github.com/hepsql/hepsql/mlfuncs/metrics"
	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/nn/gorgoniaref"
	"github.com/hepsql/hepsql/mlfuncs/synth"
	"github.com/hepsql/hepsql/mlfuncs/train"
)

type config struct {
	data                                       string
	events                                     int
	hlfRows, hlfTest, seqRows, seqTest, seqLen int
	meanLen, hlfEpochs, seqEpochs, predictRows int
	batch, trees                               int
	seed                                       uint64
	threads                                    []int
	models                                     map[string]bool
	dataDir, python, readme                    string
	skipPeers                                  bool
	quietWait                                  time.Duration
}

func (c config) wantModel(m string) bool { return c.models[m] }

// result is one (model, peer, threads) measurement.
type result struct {
	model, peer   string
	threads       int
	epochSec      float64 // median over the epochs; NaN if not a per-epoch trainer
	totalSec      float64
	auc           []float64
	predictPerSec float64 // the network on a 1 M-row matrix
	sqlPerSec     float64 // SELECT … FROM predict(…) on a 1 M-row table
	note          string
}

// dataset is what every peer trains and scores on.
type dataset struct {
	hlfTrain, hlfTest, pred, seqTrain, seqTest *synth.Set
	desc                                       string
	topo                                       *topoData // nil for synth
}

func main() {
	var c config
	var threads, models string
	flag.StringVar(&c.data, "data", "topology", "topology (the pipeline's output) or synth (mlfuncs/synth)")
	flag.IntVar(&c.events, "events", 400000, "topology: events to generate (once) before the selection; 400,000 give ~1,500 QCD test events, enough for AUCs that differ by less than 0.003 to mean something")
	flag.IntVar(&c.hlfRows, "hlf-rows", 200000, "synth: HLF training rows")
	flag.IntVar(&c.hlfTest, "hlf-test", 50000, "synth: HLF test rows")
	flag.IntVar(&c.seqRows, "seq-rows", 0, "sequence training rows, inclusive model (0: 6000 synth, 8192 topology, class-balanced)")
	flag.IntVar(&c.seqTest, "seq-test", 0, "sequence test rows (0: 2000 synth, 4096 topology, class-balanced)")
	flag.IntVar(&c.seqLen, "seq-len", 801, "synth: sequence length T (padded)")
	flag.IntVar(&c.meanLen, "mean-len", 100, "synth: mean active particles per event (middle class)")
	flag.IntVar(&c.hlfEpochs, "hlf-epochs", 0, "epochs for the mlp (0: 3 synth, 10 topology)")
	flag.IntVar(&c.seqEpochs, "seq-epochs", 0, "epochs for the inclusive model (0: 2 synth, 6 topology)")
	flag.IntVar(&c.predictRows, "predict-rows", 1000000, "rows for the inference benchmark")
	flag.IntVar(&c.batch, "batch", 128, "batch size")
	flag.IntVar(&c.trees, "trees", 100, "XGBoost trees")
	flag.Uint64Var(&c.seed, "seed", 1, "training seed of every peer (weights, shuffling, dropout)")
	flag.StringVar(&threads, "threads", "1,2", "thread counts")
	flag.StringVar(&models, "models", "mlp,inclusive", "models to run: mlp (with XGBoost, gorgonia and the inference figures), inclusive")
	flag.StringVar(&c.dataDir, "out", "bench/data/ml", "where the .npy exports go")
	flag.StringVar(&c.python, "python", "/usr/bin/python3", "python with torch and xgboost")
	flag.StringVar(&c.readme, "readme", "bench/README.md", "README to update between the mlbench markers ('' to print only)")
	flag.BoolVar(&c.skipPeers, "skip-peers", false, "measure hepsql only")
	flag.DurationVar(&c.quietWait, "quiet-wait", 15*time.Second, "longest wait for a quiet machine before each measurement")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("mlbench: ")
	for _, f := range strings.Split(threads, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			log.Fatalf("bad -threads %q", threads)
		}
		c.threads = append(c.threads, n)
	}
	c.models = map[string]bool{}
	for _, m := range strings.Split(models, ",") {
		m = strings.TrimSpace(m)
		if m != "mlp" && m != "inclusive" {
			log.Fatalf("bad -models %q: want mlp and/or inclusive", models)
		}
		c.models[m] = true
	}
	topo := c.data == "topology"
	if !topo && c.data != "synth" {
		log.Fatalf("bad -data %q: want topology or synth", c.data)
	}
	pick := func(v *int, synthDefault, topoDefault int) {
		if *v == 0 {
			*v = map[bool]int{false: synthDefault, true: topoDefault}[topo]
		}
	}
	// The topology events carry ~370 particle rows each (synth: ~100); a
	// batch of 128 takes 0.3–0.4 s on one core in either trainer, so the
	// inclusive model's 6 epochs (the topology classifier's) on 8,192
	// events take 2–3 minutes per trainer and thread count.
	pick(&c.seqRows, 6000, 8192)
	pick(&c.seqTest, 2000, 4096)
	pick(&c.seqEpochs, 2, 6)
	pick(&c.hlfEpochs, 3, 10)
	start := time.Now()
	scaleBefore := scaling()

	d, err := loadData(c)
	if err != nil {
		log.Fatal(err)
	}
	if err := export(c.dataDir, d); err != nil {
		log.Fatal(err)
	}
	var res []result
	add := func(r result) {
		log.Printf("%-9s %-8s %d thread(s): epoch %.3f s, total %.2f s, AUC %v, predict %.0f rows/s, SQL predict %.0f rows/s %s",
			r.model, r.peer, r.threads, r.epochSec, r.totalSec, fmtAUC(r.auc), r.predictPerSec, r.sqlPerSec, r.note)
		res = append(res, r)
	}
	quiet := func() { bench.WaitQuiet("mlbench", c.quietWait) }
	if c.wantModel("mlp") {
		for _, t := range c.threads {
			quiet()
			r := ours(c, nn.Spec{Arch: nn.MLP}, d.hlfTrain, d.hlfTest, d.pred, t, c.hlfEpochs)
			if d.topo != nil {
				quiet()
				if r.sqlPerSec, err = d.topo.sqlPredict(c, t); err != nil {
					log.Fatal(err)
				}
			}
			add(r)
			quiet()
			add(gorgonia(c, d.hlfTrain, t))
			if !c.skipPeers {
				quiet()
				add(peer(c, "mlp", "PyTorch", t, c.hlfEpochs, d.hlfTest.Labels))
				quiet()
				add(peer(c, "xgboost", "XGBoost", t, 0, d.hlfTest.Labels))
			}
		}
	}
	var masking string
	if c.wantModel("inclusive") {
		if !c.skipPeers {
			masking = checkMasking(c)
		}
		for _, t := range c.threads {
			quiet()
			// Dropout 0.2 on both branches, as the topology classifier and
			// peers.py have it.
			spec := nn.Spec{Arch: nn.Inclusive, SeqLen: d.seqTrain.SeqLen, Dropout: 0.2}
			add(ours(c, spec, d.seqTrain, d.seqTest, nil, t, c.seqEpochs))
			if !c.skipPeers {
				quiet()
				add(peer(c, "inclusive", "PyTorch", t, c.seqEpochs, d.seqTest.Labels))
			}
		}
	}
	scaleAfter := scaling()
	report := render(c, d, res, masking, time.Since(start), scaleBefore, scaleAfter)
	fmt.Print(report)
	if c.readme != "" {
		if err := writeReadme(c.readme, report); err != nil {
			log.Fatal(err)
		}
	}
}

// loadData builds the data sets of c.data.
func loadData(c config) (*dataset, error) {
	if c.data == "synth" {
		d := &dataset{
			hlfTrain: synth.Generate(synth.Options{Rows: c.hlfRows, Seed: 1}),
			hlfTest:  synth.Generate(synth.Options{Rows: c.hlfTest, Seed: 2}),
			pred:     synth.Generate(synth.Options{Rows: c.predictRows, Seed: 3}),
		}
		if c.wantModel("inclusive") {
			d.seqTrain = synth.Generate(synth.Options{Rows: c.seqRows, Seed: 4, SeqLen: c.seqLen, MeanLen: c.meanLen})
			d.seqTest = synth.Generate(synth.Options{Rows: c.seqTest, Seed: 5, SeqLen: c.seqLen, MeanLen: c.meanLen})
		}
		d.desc = fmt.Sprintf("mlfuncs/synth, 3 classes: mlp on %d training / %d test rows of 14 HLF", c.hlfRows, c.hlfTest)
		if c.wantModel("inclusive") {
			d.desc += fmt.Sprintf("; inclusive on %d / %d events of 14 HLF + %d×19 sequences with about %d active particles (padding skipped)",
				c.seqRows, c.seqTest, c.seqLen, c.meanLen)
		}
		return d, nil
	}
	t, err := loadTopology(c)
	if err != nil {
		return nil, err
	}
	// The inference set: the test rows over and over, up to predictRows.
	pred := &synth.Set{Rows: c.predictRows, HLF: make([]float32, c.predictRows*synth.HLFDim)}
	for r := 0; r < pred.Rows; r++ {
		k := r % t.hlfTest.Rows
		copy(pred.HLF[r*synth.HLFDim:], t.hlfTest.HLF[k*synth.HLFDim:(k+1)*synth.HLFDim])
	}
	return &dataset{hlfTrain: t.hlfTrain, hlfTest: t.hlfTest, pred: pred, seqTrain: t.seqTrain, seqTest: t.seqTest,
		desc: t.describe(c), topo: t}, nil
}

// scaling times a pure compute loop (no memory traffic) on 1 and on 2
// goroutines and returns the speed-up: 2.0 on an idle 2-core machine, less
// when other processes hold a core.
func scaling() float64 {
	run := func(g int) time.Duration {
		const n = 200_000_000
		t0 := time.Now()
		var wg sync.WaitGroup
		sink := make([]float64, g)
		for i := range g {
			wg.Go(func() {
				x := 1.0
				for k := 0; k < n/g; k++ {
					x = x*1.0000001 + 0.5
				}
				sink[i] = x
			})
		}
		wg.Wait()
		return time.Since(t0)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	return float64(run(1)) / float64(run(2))
}

// median is the middle epoch time (the mean of the middle two): on a
// machine shared with other jobs, one disturbed epoch moves it less than
// the mean, and it is applied to every peer alike.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	return (s[(n-1)/2] + s[n/2]) / 2
}

func fmtAUC(a []float64) string {
	s := make([]string, len(a))
	for i, v := range a {
		s[i] = fmt.Sprintf("%.4f", v)
	}
	return strings.Join(s, " / ")
}

func export(dir string, d *dataset) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	type file struct {
		name  string
		shape []int
		v     any
	}
	files := []file{
		{"hlf_train_x", []int{d.hlfTrain.Rows, synth.HLFDim}, d.hlfTrain.HLF},
		{"hlf_train_y", []int{d.hlfTrain.Rows}, d.hlfTrain.Labels},
		{"hlf_test_x", []int{d.hlfTest.Rows, synth.HLFDim}, d.hlfTest.HLF},
		{"hlf_test_y", []int{d.hlfTest.Rows}, d.hlfTest.Labels},
		{"predict_x", []int{d.pred.Rows, synth.HLFDim}, d.pred.HLF},
	}
	if tr, te := d.seqTrain, d.seqTest; tr != nil {
		files = append(files,
			file{"seq_train_hlf", []int{tr.Rows, synth.HLFDim}, tr.HLF},
			file{"seq_train_y", []int{tr.Rows}, tr.Labels},
			file{"seq_train_lens", []int{tr.Rows}, tr.Lens},
			file{"seq_train_steps", []int{len(tr.Steps) / synth.SeqDim, synth.SeqDim}, tr.Steps},
			file{"seq_test_hlf", []int{te.Rows, synth.HLFDim}, te.HLF},
			file{"seq_test_y", []int{te.Rows}, te.Labels},
			file{"seq_test_lens", []int{te.Rows}, te.Lens},
			file{"seq_test_steps", []int{len(te.Steps) / synth.SeqDim, synth.SeqDim}, te.Steps})
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name+".npy")
		var err error
		switch v := f.v.(type) {
		case []float32:
			err = npy.Write(path, f.shape, v)
		case []int32:
			err = npy.Write(path, f.shape, v)
		default:
			err = fmt.Errorf("%s: values of type %T", path, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ours trains with mlfuncs/train at t threads (GOMAXPROCS t), then scores
// the test set and, for the mlp, times inference on the predict set.
func ours(c config, spec nn.Spec, tr, te, pred *synth.Set, t, epochs int) result {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(t))
	seq := spec.Arch != nn.MLP
	t0 := time.Now()
	out, err := train.Train(context.Background(), spec, tr.Source(true, seq, 2048), train.Options{
		Epochs: epochs, BatchSize: c.batch, LR: 1e-3, Seed: c.seed, Threads: t,
	})
	if err != nil {
		log.Fatal(err)
	}
	r := result{model: spec.Arch, peer: "hepsql", threads: t, totalSec: time.Since(t0).Seconds()}
	var secs []float64
	for _, e := range out.Epochs {
		secs = append(secs, e.Seconds)
	}
	r.epochSec = median(secs)
	p := out.Model.NewPredictor(t)
	defer p.Close()
	probs, labels, err := train.Collect(context.Background(), p, te.Source(true, seq, 512))
	if err != nil {
		log.Fatal(err)
	}
	r.auc, _ = metrics.OneVsRestAUC(probs, labels, 3)
	r.note = fmt.Sprintf("shuffle buffer %.1f MiB; last epoch's train loss %.4f", float64(out.ShuffleKB)/1024, out.Epochs[len(out.Epochs)-1].TrainLoss)
	if pred != nil {
		buf := make([]float32, pred.Rows*3)
		best := math.Inf(1)
		for i := 0; i < 3; i++ {
			s := time.Now()
			if err := p.PredictInto(buf, [][]float32{pred.HLF}, pred.Rows); err != nil {
				log.Fatal(err)
			}
			best = min(best, time.Since(s).Seconds())
		}
		r.predictPerSec = float64(pred.Rows) / best
	}
	return r
}

// gorgonia times one epoch of the same mlp as a gorgonia graph (the
// trainer the design first named), in order, full batches only.
func gorgonia(c config, tr *synth.Set, t int) result {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(t))
	m, err := nn.New(nn.Spec{Arch: nn.MLP}, 1)
	if err != nil {
		log.Fatal(err)
	}
	g, err := gorgoniaref.NewMLP(m, c.batch)
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	t0 := time.Now()
	var loss float64
	n := tr.Rows / c.batch
	for b := 0; b < n; b++ {
		l, err := g.TrainBatch(tr.HLF[b*c.batch*synth.HLFDim:(b+1)*c.batch*synth.HLFDim], tr.Labels[b*c.batch:(b+1)*c.batch], 1e-3)
		if err != nil {
			log.Fatal(err)
		}
		loss += l
	}
	sec := time.Since(t0).Seconds()
	return result{model: "mlp", peer: "gorgonia", threads: t, epochSec: sec, totalSec: sec,
		note: fmt.Sprintf("1 epoch, train loss %.4f", loss/float64(n*c.batch))}
}

// checkMasking has peers.py compare its padded inclusive model with a
// packed GRU (PyTorch's own masking) on one training batch, and returns
// the report's line on it; a mismatch stops the run, since the PyTorch
// figures would then be of another function.
func checkMasking(c config) string {
	cmd := exec.Command(c.python, "bench/ml/peers.py", "--data", c.dataDir, "--model", "inclusive",
		"--batch", strconv.Itoa(c.batch), "--seed", strconv.FormatUint(c.seed, 10), "--check-masking")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	var js struct {
		Output float64 `json:"output_rel_diff"`
		Grad   float64 `json:"grad_rel_diff"`
		OK     bool    `json:"ok"`
	}
	if jerr := json.Unmarshal(stdout, &js); err != nil || jerr != nil || !js.OK {
		log.Fatalf("PyTorch masking check: %v %v: %s\n%s", err, jerr, stdout, stderr.String())
	}
	return fmt.Sprintf("PyTorch's inclusive model runs its GRU over the padded batch and takes each sequence's state at its last real particle, "+
		"which is the same function as a packed sequence (PyTorch's masking): on one batch of %d the outputs differ from the packed GRU's by %.1e and the gradients by %.1e of their largest value "+
		"(`python3 bench/ml/peers.py --data %s --model inclusive --check-masking`). Packing is not used because its backward pass took 11.5 s per batch against 0.17 s (PyTorch 1.13, 1 thread)",
		c.batch, js.Output, js.Grad, c.dataDir)
}

// peer runs bench/ml/peers.py for one model at t threads and scores its
// test probabilities.
func peer(c config, model, name string, t, epochs int, testLabels []int32) result {
	out := filepath.Join(c.dataDir, fmt.Sprintf("probs_%s_%d.npy", model, t))
	cmd := exec.Command(c.python, "bench/ml/peers.py", "--data", c.dataDir, "--model", model,
		"--threads", strconv.Itoa(t), "--epochs", strconv.Itoa(epochs), "--batch", strconv.Itoa(c.batch),
		"--trees", strconv.Itoa(c.trees), "--seed", strconv.FormatUint(c.seed, 10), "--out", out)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+strconv.Itoa(t), "MKL_NUM_THREADS="+strconv.Itoa(t))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	stdout, err := cmd.Output()
	if err != nil {
		log.Fatalf("%s %s: %v\n%s", name, model, err, stderr.String())
	}
	var js struct {
		EpochSeconds    []float64 `json:"epoch_seconds"`
		TrainLoss       []float64 `json:"train_loss"`
		TrainSeconds    float64   `json:"train_seconds"`
		PredictRowsPerS float64   `json:"predict_rows_per_s"`
		Version         string    `json:"version"`
	}
	lines := strings.Split(strings.TrimSpace(string(stdout)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &js); err != nil {
		log.Fatalf("%s %s: output %q: %v", name, model, stdout, err)
	}
	r := result{model: model, peer: name, threads: t, totalSec: time.Since(t0).Seconds(), predictPerSec: js.PredictRowsPerS,
		note: name + " " + js.Version}
	if model == "xgboost" {
		r.model, r.epochSec, r.totalSec = "mlp", math.NaN(), js.TrainSeconds
		r.note += fmt.Sprintf(", %d trees, depth 6, hist", c.trees)
	} else {
		r.epochSec = median(js.EpochSeconds)
		if n := len(js.TrainLoss); n > 0 {
			r.note += fmt.Sprintf("; last epoch's train loss %.4f", js.TrainLoss[n-1])
		}
	}
	probs, shape, err := npy.Read[float32](out)
	if err != nil {
		log.Fatal(err)
	}
	if len(shape) != 2 || shape[0] != len(testLabels) || shape[1] != 3 {
		log.Fatalf("%s %s: probabilities of shape %v for %d test rows", name, model, shape, len(testLabels))
	}
	r.auc, _ = metrics.OneVsRestAUC(probs, testLabels, 3)
	return r
}
