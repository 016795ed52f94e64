// Command mlreplay checks that hepsql's inclusive model (mlfuncs/nn) and
// bench/ml/peers.py's PyTorch model compute the same training steps, and
// looks at how mlfuncs/train feeds them batches. It reads the sets that
// bench/cmd/mlbench exported (bench/data/ml/seq_*.npy).
//
// Replay (the default): from one set of initial weights (hepsql's, written
// in PyTorch's layout), both trainers take the same batches in the same
// order with dropout off, one thread each, Adam with lr 1e-3 and ε 1e-7.
// hepsql's side runs here; PyTorch's runs in
// `peers.py --replay DIR`, which this command starts and which prints the
// comparison: the step-0 loss and gradients, the weights after the last
// step, and the two loss curves.
//
//	go run ./bench/cmd/mlreplay [-steps 60] [-shuffle] [-out /tmp/mlreplay]
//
// -shuffle draws the batches from a fresh random permutation of the rows
// each epoch, as PyTorch's loop does, instead of taking them in file order.
//
// Trainer (-trainer): the batches that train.Train's shuffle buffer draws
// from the set in file order, class by class, with the default memory
// budget and with one that holds the whole set; then train.Train itself
// (dropout 0.2, as mlbench runs it) with both budgets, per-epoch training
// loss and test AUC.
//
//	go run ./bench/cmd/mlreplay -trainer [-epochs 2]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/hepsql/hepsql/bench/npy"
	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/synth"
	"github.com/hepsql/hepsql/mlfuncs/train"
)

func main() {
	dataDir := flag.String("data", "bench/data/ml", "mlbench's .npy exports")
	out := flag.String("out", filepath.Join(os.TempDir(), "mlreplay"), "replay: where the weights, batches and results go")
	steps := flag.Int("steps", 60, "replay: optimisation steps")
	batch := flag.Int("batch", 128, "batch size")
	shuffle := flag.Bool("shuffle", false, "replay: batches from a random permutation per epoch instead of file order")
	seed := flag.Uint64("seed", 1, "initial weights, permutation, trainer")
	python := flag.String("python", "/usr/bin/python3", "python with torch; '' to run hepsql's side only")
	trainer := flag.Bool("trainer", false, "study train.Train's batches and training instead of replaying")
	epochs := flag.Int("epochs", 2, "trainer: epochs of train.Train")
	budgets := flag.String("budgets", "default,whole", "trainer: shuffle-buffer budgets to train with: default (train's 256 MiB) and/or whole (the whole set)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("mlreplay: ")
	runtime.GOMAXPROCS(1)

	tr, err := loadSet(*dataDir, "train")
	if err != nil {
		log.Fatal(err)
	}
	if *trainer {
		te, err := loadSet(*dataDir, "test")
		if err != nil {
			log.Fatal(err)
		}
		studyTrainer(tr, te, *batch, *epochs, *seed, strings.Split(*budgets, ","))
		return
	}
	if err := replay(tr, *out, *steps, *batch, *shuffle, *seed); err != nil {
		log.Fatal(err)
	}
	if *python == "" {
		return
	}
	cmd := exec.Command(*python, "bench/ml/peers.py", "--data", *dataDir, "--model", "inclusive", "--replay", *out)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("peers.py --replay: %v", err)
	}
}

// loadSet reads mlbench's export of the sequence set part ("train" or
// "test") into a synth.Set (sequences packed, SeqLen 801), as mlbench
// holds it.
func loadSet(dir, part string) (*synth.Set, error) {
	f := func(name string) string { return filepath.Join(dir, "seq_"+part+"_"+name+".npy") }
	hlf, _, err := npy.Read[float32](f("hlf"))
	if err != nil {
		return nil, err
	}
	y, _, err := npy.Read[int32](f("y"))
	if err != nil {
		return nil, err
	}
	lens, _, err := npy.Read[int32](f("lens"))
	if err != nil {
		return nil, err
	}
	steps, _, err := npy.Read[float32](f("steps"))
	if err != nil {
		return nil, err
	}
	s := &synth.Set{Rows: len(y), SeqLen: 801, HLF: hlf, Labels: y, Lens: lens, Steps: steps, Start: make([]int64, len(y))}
	at := int64(0)
	for r, n := range lens {
		s.Start[r] = at
		at += int64(n)
	}
	if len(hlf) != s.Rows*synth.HLFDim || at*synth.SeqDim != int64(len(steps)) {
		return nil, fmt.Errorf("%s: inconsistent sizes: %d rows, %d hlf values, %d particle rows in lens, %d values", dir, s.Rows, len(hlf), at, len(steps))
	}
	return s, nil
}

// gather builds the model inputs of rows idx as synth.Set.Source does: the
// HLF vectors and each sequence zero-padded to SeqLen steps.
func gather(s *synth.Set, idx []int, hlf, seq []float32, labels []int32) ([]float32, []float32, []int32) {
	w := s.SeqLen * synth.SeqDim
	hlf, seq, labels = hlf[:0], seq[:0], labels[:0]
	for _, r := range idx {
		hlf = append(hlf, s.HLF[r*synth.HLFDim:(r+1)*synth.HLFDim]...)
		n := int(s.Lens[r]) * synth.SeqDim
		st := int(s.Start[r]) * synth.SeqDim
		seq = append(seq, s.Steps[st:st+n]...)
		seq = append(seq, make([]float32, w-n)...)
		labels = append(labels, s.Labels[r])
	}
	return hlf, seq, labels
}

// replay runs steps Adam steps of the inclusive model on s with dropout
// off and writes, under dir: init/ (the initial weights), grad0/ (the
// step-0 gradient of the mean loss) and final/ (the weights after the last
// step), one .npy per PyTorch parameter in PyTorch's layout; order.npy and
// sizes.npy (the batches: row indices, and rows per step); go_losses.npy
// (each step's mean loss, before its update).
func replay(s *synth.Set, dir string, steps, batch int, shuffle bool, seed uint64) error {
	m, err := nn.New(nn.Spec{Arch: nn.Inclusive, SeqLen: s.SeqLen}, seed)
	if err != nil {
		return err
	}
	for _, sub := range []string{"init", "grad0", "final"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	if err := writeTorch(m, m.Params, filepath.Join(dir, "init")); err != nil {
		return err
	}
	// The batches: consecutive slices of the epoch's order; an epoch's
	// last batch may be short, as in PyTorch's loop.
	rng := rand.New(rand.NewPCG(seed, 0x7265706c6179)) // "replay"
	var order, sizes []int32
	perm := make([]int, s.Rows)
	for len(sizes) < steps {
		for i := range perm {
			perm[i] = i
		}
		if shuffle {
			rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		}
		for i := 0; i < s.Rows && len(sizes) < steps; i += batch {
			n := min(batch, s.Rows-i)
			for _, r := range perm[i : i+n] {
				order = append(order, int32(r))
			}
			sizes = append(sizes, int32(n))
		}
	}
	if err := npy.Write(filepath.Join(dir, "order.npy"), []int{len(order)}, order); err != nil {
		return err
	}
	if err := npy.Write(filepath.Join(dir, "sizes.npy"), []int{len(sizes)}, sizes); err != nil {
		return err
	}

	ws := m.NewWorkspace()
	adam := nn.NewAdam(1e-3, len(m.Params))
	grad := make([]float32, len(m.Params))
	losses := make([]float64, 0, steps)
	var hlf, seq []float32
	var labels []int32
	idx := make([]int, 0, batch)
	pos := 0
	for k, n32 := range sizes {
		n := int(n32)
		idx = idx[:0]
		for _, r := range order[pos : pos+n] {
			idx = append(idx, int(r))
		}
		pos += n
		hlf, seq, labels = gather(s, idx, hlf, seq, labels)
		inputs := [][]float32{hlf, seq}
		if err := m.Spec.CheckInputs(inputs, n); err != nil {
			return err
		}
		// As train.Train's step with one worker and no dropout: the mean
		// loss's gradient (scale 1/rows), then one Adam step.
		m.Forward(ws, inputs, n, false, nil)
		clear(grad)
		loss := m.Backward(ws, labels, 1/float32(n), grad) / float64(n)
		losses = append(losses, loss)
		if k == 0 {
			if err := writeTorch(m, grad, filepath.Join(dir, "grad0")); err != nil {
				return err
			}
		}
		adam.Step(m.Params, grad)
		if k%5 == 0 || k == len(sizes)-1 {
			fmt.Fprintf(os.Stderr, "mlreplay: hepsql step %d loss %.6f\n", k, loss)
		}
	}
	if err := writeTorch(m, m.Params, filepath.Join(dir, "final")); err != nil {
		return err
	}
	return npy.Write(filepath.Join(dir, "go_losses.npy"), []int{len(losses)}, losses)
}

var paramRE = regexp.MustCompile(`^(.+)\[(\d+)×(\d+)\]@(\d+)$`)

// writeTorch writes vec (weights or a gradient, in m's layout) as one .npy
// per parameter of bench/ml/peers.py's Inclusive net, in PyTorch's layout:
// nn.GRU's weight_ih_l0 [3H×F] and weight_hh_l0 [3H×H] with the gates in
// the order r, z, n (hepsql's: z, r, n, as columns of [F×3H] and [H×3H]),
// bias_ih_l0 and bias_hh_l0 [3H]; Linear weights [out×in] (hepsql's:
// [in×out]) named d1, d2, … and their biases.
func writeTorch(m *nn.Model, vec []float32, dir string) error {
	type tensor struct{ rows, cols, off int }
	ts := map[string]tensor{}
	for _, p := range m.ParamNames() {
		g := paramRE.FindStringSubmatch(p)
		if g == nil {
			return fmt.Errorf("unexpected parameter description %q", p)
		}
		r, _ := strconv.Atoi(g[2])
		c, _ := strconv.Atoi(g[3])
		o, _ := strconv.Atoi(g[4])
		ts[g[1]] = tensor{r, c, o}
	}
	H, F := m.Spec.GRUUnits, m.Spec.SeqDim
	ours := [3]int{1, 0, 2} // PyTorch's gate g (r, z, n) is hepsql's gate ours[g]
	// gates turns a [in×3H] block of hepsql's into PyTorch's [3H×in].
	gates := func(t tensor, in int) []float32 {
		if t.rows != in || t.cols != 3*H {
			log.Fatalf("GRU tensor %d×%d, want %d×%d", t.rows, t.cols, in, 3*H)
		}
		w := make([]float32, 3*H*in)
		for g := 0; g < 3; g++ {
			for j := 0; j < H; j++ {
				for i := 0; i < in; i++ {
					w[(g*H+j)*in+i] = vec[t.off+i*3*H+ours[g]*H+j]
				}
			}
		}
		return w
	}
	type file struct {
		name  string
		shape []int
		v     []float32
	}
	files := []file{
		{"gru.weight_ih_l0", []int{3 * H, F}, gates(ts["gru.wx"], F)},
		{"gru.weight_hh_l0", []int{3 * H, H}, gates(ts["gru.uh"], H)},
		{"gru.bias_ih_l0", []int{3 * H}, gates(ts["gru.bx"], 1)},
		{"gru.bias_hh_l0", []int{3 * H}, gates(ts["gru.bh"], 1)},
	}
	for i := 0; i < m.NumDense(); i++ {
		t, b := ts[fmt.Sprintf("dense%d.w", i)], ts[fmt.Sprintf("dense%d.b", i)]
		w := make([]float32, t.rows*t.cols)
		for in := 0; in < t.rows; in++ {
			for o := 0; o < t.cols; o++ {
				w[o*t.rows+in] = vec[t.off+in*t.cols+o]
			}
		}
		files = append(files,
			file{fmt.Sprintf("d%d.weight", i+1), []int{t.cols, t.rows}, w},
			file{fmt.Sprintf("d%d.bias", i+1), []int{b.cols}, vec[b.off : b.off+b.cols]})
	}
	for _, f := range files {
		if err := npy.Write(filepath.Join(dir, f.name+".npy"), f.shape, f.v); err != nil {
			return err
		}
	}
	return nil
}

// studyTrainer shows what train.Train's shuffle buffer makes of the set in
// file order, and trains with the default budget and with one holding the
// whole set.
func studyTrainer(tr, te *synth.Set, batch, epochs int, seed uint64, which []string) {
	spec := nn.Spec{Arch: nn.Inclusive, SeqLen: tr.SeqLen, Dropout: 0.2}
	src := tr.Source(true, true, 2048)
	rowBytes := data.RowBytes(src.Dims())
	full := (int64(tr.Rows) + int64(batch)) * rowBytes
	type budget struct {
		name   string
		budget int64
	}
	budgets := []budget{{"default (256 MiB)", 0}, {"whole set", full}}
	var chosen []budget
	for _, w := range which {
		switch strings.TrimSpace(w) {
		case "default":
			chosen = append(chosen, budgets[0])
		case "whole":
			chosen = append(chosen, budgets[1])
		default:
			log.Fatalf("bad -budgets %q: want default and/or whole", strings.Join(which, ","))
		}
	}

	fmt.Printf("class shares of the set in file order, by eighths: %s\n", shares(tr.Labels, len(tr.Labels)/8))
	for _, b := range budgets {
		sh, err := data.NewShuffler(src, max(b.budget, 256<<20), batch, seed)
		if err != nil {
			log.Fatal(err)
		}
		if err := sh.Start(1); err != nil {
			log.Fatal(err)
		}
		var drawn []int32
		for {
			bt, err := sh.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				log.Fatal(err)
			}
			drawn = append(drawn, bt.Labels...)
		}
		fmt.Printf("epoch 1 batches, budget %s (%d of %d rows buffered), by eighths of the epoch: %s\n",
			b.name, sh.Capacity(), tr.Rows, shares(drawn, len(drawn)/8))
	}
	for _, b := range chosen {
		fmt.Printf("train.Train, 1 thread, dropout 0.2, budget %s:\n", b.name)
		_, err := train.Train(context.Background(), spec, src, train.Options{
			Epochs: epochs, BatchSize: batch, LR: 1e-3, Seed: seed, Threads: 1, MemoryBudget: b.budget,
			Validation: te.Source(true, true, 512),
			OnEpoch: func(e train.Epoch) error {
				fmt.Printf("  epoch %d: train loss %.4f, test loss %.4f, test AUC %.3f/%.3f/%.3f (%.0f s)\n",
					e.Epoch, e.TrainLoss, e.ValLoss, e.ValAUC[0], e.ValAUC[1], e.ValAUC[2], e.Seconds)
				return nil
			},
		})
		if err != nil {
			log.Fatal(err)
		}
	}
}

// shares formats the class fractions of consecutive blocks of labels.
func shares(labels []int32, block int) string {
	var parts []string
	for i := 0; i+block <= len(labels); i += block {
		var n [3]int
		for _, l := range labels[i : i+block] {
			n[l]++
		}
		parts = append(parts, fmt.Sprintf("%.2f/%.2f/%.2f", float64(n[0])/float64(block), float64(n[1])/float64(block), float64(n[2])/float64(block)))
	}
	return strings.Join(parts, " ")
}
