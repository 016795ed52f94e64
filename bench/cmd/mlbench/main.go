// Command mlbench measures hepsql's trainer (mlfuncs) against PyTorch,
// XGBoost and gorgonia on the same generated data, in the same run, and
// writes the results into bench/README.md between its markers.
//
//	go run ./bench/cmd/mlbench [-hlf-rows 200000] [-seq-rows 6000] [-threads 1,2] [-readme bench/README.md]
//
// The data (three classes, the topology classifier's shapes: 14 HLF and a
// 801 × 19 particle sequence) comes from mlfuncs/synth and is exported as
// .npy into bench/data/ml for the Python peers (bench/ml/peers.py, run
// with Debian's python3-torch and python3-xgboost).
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
	"strconv"
	"strings"
	"time"

	"github.com/hepsql/hepsql/mlfuncs/metrics"
	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/nn/gorgoniaref"
	"github.com/hepsql/hepsql/mlfuncs/synth"
	"github.com/hepsql/hepsql/mlfuncs/train"
)

type config struct {
	hlfRows, hlfTest, seqRows, seqTest, seqLen, meanLen int
	hlfEpochs, seqEpochs, predictRows, batch, trees     int
	threads                                             []int
	dataDir, python, readme                             string
	skipPeers                                           bool
}

// result is one (model, peer, threads) measurement.
type result struct {
	model, peer   string
	threads       int
	epochSec      float64 // mean over the epochs; NaN if not a per-epoch trainer
	totalSec      float64
	auc           []float64
	predictPerSec float64
	note          string
}

func main() {
	var c config
	var threads string
	flag.IntVar(&c.hlfRows, "hlf-rows", 200000, "HLF training rows")
	flag.IntVar(&c.hlfTest, "hlf-test", 50000, "HLF test rows")
	flag.IntVar(&c.seqRows, "seq-rows", 6000, "sequence training rows (inclusive model)")
	flag.IntVar(&c.seqTest, "seq-test", 2000, "sequence test rows")
	flag.IntVar(&c.seqLen, "seq-len", 801, "sequence length T (padded)")
	flag.IntVar(&c.meanLen, "mean-len", 100, "mean active particles per event (middle class)")
	flag.IntVar(&c.hlfEpochs, "hlf-epochs", 3, "epochs for the mlp")
	flag.IntVar(&c.seqEpochs, "seq-epochs", 2, "epochs for the inclusive model")
	flag.IntVar(&c.predictRows, "predict-rows", 1000000, "rows for the inference benchmark")
	flag.IntVar(&c.batch, "batch", 128, "batch size")
	flag.IntVar(&c.trees, "trees", 100, "XGBoost trees")
	flag.StringVar(&threads, "threads", "1,2", "thread counts")
	flag.StringVar(&c.dataDir, "data", "bench/data/ml", "where the .npy exports go")
	flag.StringVar(&c.python, "python", "/usr/bin/python3", "python with torch and xgboost")
	flag.StringVar(&c.readme, "readme", "bench/README.md", "README to update between the mlbench markers ('' to print only)")
	flag.BoolVar(&c.skipPeers, "skip-peers", false, "measure hepsql only")
	flag.Parse()
	for _, f := range strings.Split(threads, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			log.Fatalf("mlbench: bad -threads %q", threads)
		}
		c.threads = append(c.threads, n)
	}
	start := time.Now()
	log.SetFlags(0)
	log.SetPrefix("mlbench: ")

	hlfTrain := synth.Generate(synth.Options{Rows: c.hlfRows, Seed: 1})
	hlfTest := synth.Generate(synth.Options{Rows: c.hlfTest, Seed: 2})
	pred := synth.Generate(synth.Options{Rows: c.predictRows, Seed: 3})
	seqTrain := synth.Generate(synth.Options{Rows: c.seqRows, Seed: 4, SeqLen: c.seqLen, MeanLen: c.meanLen})
	seqTest := synth.Generate(synth.Options{Rows: c.seqTest, Seed: 5, SeqLen: c.seqLen, MeanLen: c.meanLen})
	if err := export(c.dataDir, hlfTrain, hlfTest, pred, seqTrain, seqTest); err != nil {
		log.Fatal(err)
	}
	var res []result
	add := func(r result) {
		log.Printf("%-9s %-8s %d thread(s): epoch %.3f s, total %.2f s, AUC %v, predict %.0f rows/s %s",
			r.model, r.peer, r.threads, r.epochSec, r.totalSec, fmtAUC(r.auc), r.predictPerSec, r.note)
		res = append(res, r)
	}
	for _, t := range c.threads {
		add(ours(c, nn.Spec{Arch: nn.MLP}, hlfTrain, hlfTest, pred, t, c.hlfEpochs))
		add(gorgonia(c, hlfTrain, t))
		if !c.skipPeers {
			add(peer(c, "mlp", "PyTorch", t, c.hlfEpochs, hlfTest.Labels))
			add(peer(c, "xgboost", "XGBoost", t, 0, hlfTest.Labels))
		}
	}
	for _, t := range c.threads {
		add(ours(c, nn.Spec{Arch: nn.Inclusive, SeqLen: c.seqLen}, seqTrain, seqTest, nil, t, c.seqEpochs))
		if !c.skipPeers {
			add(peer(c, "inclusive", "PyTorch", t, c.seqEpochs, seqTest.Labels))
		}
	}
	report := render(c, res, time.Since(start))
	fmt.Print(report)
	if c.readme != "" {
		if err := writeReadme(c.readme, report); err != nil {
			log.Fatal(err)
		}
	}
}

func fmtAUC(a []float64) string {
	s := make([]string, len(a))
	for i, v := range a {
		s[i] = fmt.Sprintf("%.4f", v)
	}
	return strings.Join(s, " / ")
}

func export(dir string, hlfTrain, hlfTest, pred, seqTrain, seqTest *synth.Set) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	w := func(name string, shape []int, v any) error {
		return writeNPY(filepath.Join(dir, name+".npy"), shape, v)
	}
	for _, f := range []struct {
		name  string
		shape []int
		v     any
	}{
		{"hlf_train_x", []int{hlfTrain.Rows, synth.HLFDim}, hlfTrain.HLF},
		{"hlf_train_y", []int{hlfTrain.Rows}, hlfTrain.Labels},
		{"hlf_test_x", []int{hlfTest.Rows, synth.HLFDim}, hlfTest.HLF},
		{"predict_x", []int{pred.Rows, synth.HLFDim}, pred.HLF},
		{"seq_train_hlf", []int{seqTrain.Rows, synth.HLFDim}, seqTrain.HLF},
		{"seq_train_y", []int{seqTrain.Rows}, seqTrain.Labels},
		{"seq_train_lens", []int{seqTrain.Rows}, seqTrain.Lens},
		{"seq_train_steps", []int{len(seqTrain.Steps) / synth.SeqDim, synth.SeqDim}, seqTrain.Steps},
		{"seq_test_hlf", []int{seqTest.Rows, synth.HLFDim}, seqTest.HLF},
		{"seq_test_lens", []int{seqTest.Rows}, seqTest.Lens},
		{"seq_test_steps", []int{len(seqTest.Steps) / synth.SeqDim, synth.SeqDim}, seqTest.Steps},
	} {
		if err := w(f.name, f.shape, f.v); err != nil {
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
		Epochs: epochs, BatchSize: c.batch, LR: 1e-3, Seed: 1, Threads: t,
	})
	if err != nil {
		log.Fatal(err)
	}
	r := result{model: spec.Arch, peer: "hepsql", threads: t, totalSec: time.Since(t0).Seconds()}
	for _, e := range out.Epochs {
		r.epochSec += e.Seconds / float64(len(out.Epochs))
	}
	p := out.Model.NewPredictor(t)
	probs, labels, err := train.Collect(context.Background(), p, te.Source(true, seq, 512))
	if err != nil {
		log.Fatal(err)
	}
	r.auc, _ = metrics.OneVsRestAUC(probs, labels, 3)
	r.note = fmt.Sprintf("shuffle buffer %.1f MiB", float64(out.ShuffleKB)/1024)
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

// peer runs bench/ml/peers.py for one model at t threads and scores its
// test probabilities.
func peer(c config, model, name string, t, epochs int, testLabels []int32) result {
	out := filepath.Join(c.dataDir, fmt.Sprintf("probs_%s_%d.npy", model, t))
	cmd := exec.Command(c.python, "bench/ml/peers.py", "--data", c.dataDir, "--model", model,
		"--threads", strconv.Itoa(t), "--epochs", strconv.Itoa(epochs), "--batch", strconv.Itoa(c.batch),
		"--trees", strconv.Itoa(c.trees), "--out", out)
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
		for _, e := range js.EpochSeconds {
			r.epochSec += e / float64(len(js.EpochSeconds))
		}
	}
	probs, shape, err := readNPYFloat32(out)
	if err != nil {
		log.Fatal(err)
	}
	if len(shape) != 2 || shape[0] != len(testLabels) || shape[1] != 3 {
		log.Fatalf("%s %s: probabilities of shape %v for %d test rows", name, model, shape, len(testLabels))
	}
	r.auc, _ = metrics.OneVsRestAUC(probs, testLabels, 3)
	return r
}
