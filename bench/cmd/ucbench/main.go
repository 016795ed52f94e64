// Command ucbench measures hepsql's UCluster (mlfuncs/ucluster) against the
// same network and schedule in PyTorch (peer.py beside this file), on the
// same generated jets (mlfuncs/synth.Jets: W, Z, top; jet-mass class as
// the auxiliary label), on the CPU, same threads and batch size:
//
//   - time per epoch, pre-training and end-to-end epochs separately, at
//     each thread count of -threads;
//
//   - clustering accuracy of held-out jets after the -acc schedule, over
//     the seeds of -seeds (Hungarian matching against the truth);
//
//   - a replay: from hepsql's initial weights (centroids set), both take
//     the same batches, -replay-steps of pre-training then as many of the
//     end-to-end loss with a fresh Adam; peer.py compares the losses, the
//     first step's gradients of both phases and the final weights.
//
//     go run ./bench/cmd/ucbench [-jets 8192] [-threads 1,2] [-seeds 1,2,3] [-python /usr/bin/python3]
//
// hepsql's side calls ucluster.Train on an in-memory source: the trainer
// that train(..., model := 'ucluster') runs on its query's cached rows.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hepsql/hepsql/bench/npy"
	"github.com/hepsql/hepsql/bench/ucjets"
	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/synth"
	"github.com/hepsql/hepsql/mlfuncs/ucluster"
)

type config struct {
	out                     string
	jets, test, batch       int
	pretrain, epochs        int
	accPretrain, accEpochs  int
	lr                      float64
	halve                   int
	beta, alpha, alphaStep  float64
	threads, seeds          []int
	accThreads              int
	python                  string
	replaySteps, replayB    int
	replayCluster           int
	skipTime, skipAcc, skip bool
	separated               bool
	sameInit                bool
	data                    string
	spec                    ucluster.Spec
	width                   ucluster.Spec // -k, -edge1, -edge2, -embed, -head: 0 for the package's defaults
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			v, err := strconv.Atoi(f)
			if err != nil {
				log.Fatalf("bad list %q: %v", s, err)
			}
			out = append(out, v)
		}
	}
	return out
}

func main() {
	var c config
	var threads, seeds string
	flag.StringVar(&c.out, "out", filepath.Join(os.TempDir(), "ucbench"), "where the jets (.npy) and replay files go")
	flag.StringVar(&c.data, "data", "genjets", "the jets: genjets (`hepsql gen jets`, through hepsql's SQL features and the pipeline's 15 mass classes) or synth (mlfuncs/synth, 3 mass classes)")
	flag.IntVar(&c.jets, "jets", 4000, "training jets")
	flag.IntVar(&c.test, "test", 2000, "held-out jets")
	flag.IntVar(&c.batch, "batch", 64, "batch size")
	flag.IntVar(&c.pretrain, "pretrain", 3, "timing: pre-training epochs (the fastest is reported)")
	flag.IntVar(&c.epochs, "epochs", 3, "timing: end-to-end epochs (the fastest is reported)")
	flag.IntVar(&c.accPretrain, "acc-pretrain", 6, "accuracy: pre-training epochs")
	flag.IntVar(&c.accEpochs, "acc-epochs", 3, "accuracy: end-to-end epochs")
	flag.Float64Var(&c.lr, "lr", 3e-3, "learning rate")
	flag.IntVar(&c.halve, "halve", 8, "halve the learning rate every this many epochs")
	flag.Float64Var(&c.beta, "beta", 0.1, "β")
	flag.Float64Var(&c.alpha, "alpha", 1, "α of the first end-to-end epoch")
	flag.Float64Var(&c.alphaStep, "alpha-step", 2, "α's growth per epoch")
	flag.StringVar(&threads, "threads", "1,2", "timing: thread counts")
	flag.StringVar(&seeds, "seeds", "1,2,3", "accuracy: seeds")
	flag.IntVar(&c.accThreads, "acc-threads", 2, "accuracy: threads")
	flag.StringVar(&c.python, "python", "/usr/bin/python3", "python with torch ('' for hepsql only)")
	flag.IntVar(&c.replaySteps, "replay-steps", 10, "replay: pre-training steps")
	flag.IntVar(&c.replayCluster, "replay-cluster-steps", 10, "replay: end-to-end steps")
	flag.IntVar(&c.replayB, "replay-batch", 128, "replay: batch size")
	flag.BoolVar(&c.skipTime, "skip-time", false, "skip the timings")
	flag.BoolVar(&c.skipAcc, "skip-acc", false, "skip the accuracy runs")
	flag.BoolVar(&c.skip, "skip-replay", false, "skip the replay")
	flag.BoolVar(&c.sameInit, "same-init", false, "accuracy: PyTorch starts from hepsql's initial weights of each seed (init_seedN.npy) instead of its own draw")
	flag.BoolVar(&c.separated, "separated", false, "jets of clearly separated masses (synth.JetOptions.Separated) instead of W/Z overlapping")
	flag.IntVar(&c.width.Neighbors, "k", 0, "neighbours in the kNN graph (0: the package's default)")
	flag.IntVar(&c.width.Edge1, "edge1", 0, "width of the first edge convolution (0: default)")
	flag.IntVar(&c.width.Edge2, "edge2", 0, "width of the second edge convolution (0: default)")
	flag.IntVar(&c.width.Embed, "embed", 0, "width of the jet embedding (0: default)")
	flag.IntVar(&c.width.Head, "head", 0, "width of the head's hidden layer (0: default)")
	flag.Parse()
	c.threads, c.seeds = ints(threads), ints(seeds)
	log.SetFlags(0)
	log.SetPrefix("ucbench: ")
	if err := run(&c); err != nil {
		log.Fatal(err)
	}
}

func run(c *config) error {
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	var tr, te *synth.JetSet
	classes := 3
	switch c.data {
	case "genjets":
		var err error
		if tr, te, err = ucjets.Generate(filepath.Join(c.out, "genjets"), 1, c.jets, c.test); err != nil {
			return err
		}
		classes = ucjets.MassClasses
	case "synth":
		tr = synth.Jets(synth.JetOptions{Jets: c.jets, Seed: 11, MaxParticles: 100, Separated: c.separated})
		te = synth.Jets(synth.JetOptions{Jets: c.test, Seed: 12, MaxParticles: 100, Separated: c.separated})
	default:
		return fmt.Errorf("-data %q: want genjets or synth", c.data)
	}
	var err error
	if c.spec, err = ucjets.Spec(c.width, classes, tr); err != nil {
		return err
	}
	if err := export(c, tr, te); err != nil {
		return err
	}
	mean := 0.0
	for _, n := range tr.Counts {
		mean += float64(n)
	}
	fmt.Printf("network: k %d, edge convolutions %d and %d, embedding %d, head %d\n", c.spec.Neighbors, c.spec.Edge1, c.spec.Edge2, c.spec.Embed, c.spec.Head)
	fmt.Printf("jets (%s): %d training, %d held out, %.1f particles a jet on average (at most 100), %d auxiliary classes; batch %d, lr %g halved every %d epochs, β %g, α %g + %g an epoch\n\n",
		c.data, c.jets, c.test, mean/float64(c.jets), classes, c.batch, c.lr, c.halve, c.beta, c.alpha, c.alphaStep)
	if !c.skipTime {
		fmt.Println("fastest epoch of each phase (s):\n\n| threads | framework | pre-training s/epoch | end-to-end s/epoch |")
		fmt.Println("|---|---|---|---|")
		for _, th := range c.threads {
			res, err := trainGo(c, tr, te, th, 1, c.pretrain, c.epochs)
			if err != nil {
				return err
			}
			fmt.Printf("| %d | hepsql | %.3f | %.3f |\n", th, res.pre, res.clu)
			if c.python != "" {
				pr, err := peer(c, th, []int{1}, c.pretrain, c.epochs)
				if err != nil {
					return err
				}
				fmt.Printf("| %d | PyTorch | %.3f | %.3f |\n", th, minOf(pr[0].PretrainS), minOf(pr[0].ClusterS))
			}
		}
		fmt.Println()
	}
	if !c.skipAcc {
		if err := accuracy(c, tr, te); err != nil {
			return err
		}
	}
	if !c.skip {
		if err := replay(c, tr); err != nil {
			return err
		}
	}
	return nil
}

// minOf is the fastest epoch: the machine is shared, and other work only
// ever adds time.
func minOf(x []float64) float64 {
	m := 0.0
	for i, v := range x {
		if i == 0 || v < m {
			m = v
		}
	}
	return m
}

func meanOf(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(max(len(x), 1))
}

// export writes the jets and the network's layout for peer.py.
func export(c *config, tr, te *synth.JetSet) error {
	w := func(name string, shape []int, v any) error {
		p := filepath.Join(c.out, name+".npy")
		switch v := v.(type) {
		case []float32:
			return npy.Write(p, shape, v)
		case []int32:
			return npy.Write(p, shape, v)
		}
		return nil
	}
	counts := func(s *synth.JetSet) []int32 {
		out := make([]int32, len(s.Counts))
		for i, n := range s.Counts {
			out[i] = int32(n)
		}
		return out
	}
	for _, f := range []struct {
		name  string
		shape []int
		v     any
	}{
		{"train_particles", []int{tr.Jets, 100, synth.JetFeatures}, tr.Particles},
		{"train_counts", []int{tr.Jets}, counts(tr)},
		{"train_aux", []int{tr.Jets}, tr.Aux},
		{"test_particles", []int{te.Jets, 100, synth.JetFeatures}, te.Particles},
		{"test_counts", []int{te.Jets}, counts(te)},
		{"test_truth", []int{te.Jets}, te.Truth},
	} {
		if err := w(f.name, f.shape, f.v); err != nil {
			return err
		}
	}
	s := c.spec
	for _, seed := range c.seeds {
		m, err := ucluster.New(s, uint64(seed))
		if err != nil {
			return err
		}
		if err := w(fmt.Sprintf("init_seed%d", seed), []int{len(m.Params)}, m.Params); err != nil {
			return err
		}
	}
	meta := map[string]any{"spec": s, "tensors": s.Tensors(), "replay": map[string]any{
		"batch": c.replayB, "pretrain_steps": c.replaySteps, "cluster_steps": c.replayCluster, "lr": c.lr, "beta": c.beta, "alpha": c.alpha}}
	b, err := json.MarshalIndent(meta, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.out, "meta.json"), b, 0o644)
}

type goResult struct {
	pre, clu, acc float64
	sizes         []int // test jets per cluster
}

func trainGo(c *config, tr, te *synth.JetSet, threads int, seed uint64, pretrain, epochs int) (goResult, error) {
	src, err := ucjets.Source(tr, tr.Aux)
	if err != nil {
		return goResult{}, err
	}
	res, err := ucluster.Train(context.Background(), c.spec, src, ucluster.Options{
		PretrainEpochs: pretrain, Epochs: epochs, BatchSize: c.batch, LR: c.lr, LRHalveEvery: c.halve,
		Beta: c.beta, Alpha: c.alpha, AlphaStep: c.alphaStep, Seed: seed, Threads: threads,
		OnEpoch: func(e ucluster.Epoch) error {
			fmt.Fprintf(os.Stderr, "  hepsql seed %d epoch %d %s: loss %.4f (%.2f s)\n", seed, e.Epoch, e.Phase, e.Loss, e.Seconds)
			return nil
		},
	})
	if err != nil {
		return goResult{}, err
	}
	var r goResult
	var pre, clu []float64
	for _, e := range res.Epochs {
		if e.Phase == ucluster.PhasePretrain {
			pre = append(pre, e.Seconds)
		} else {
			clu = append(clu, e.Seconds)
		}
	}
	r.pre, r.clu = minOf(pre), minOf(clu)
	sc, err := ucjets.Score(res.Model, te, threads)
	if err != nil {
		return r, err
	}
	r.acc, r.sizes = sc.Accuracy, sc.Sizes
	return r, nil
}

type peerResult struct {
	PretrainS []float64 `json:"pretrain_s"`
	ClusterS  []float64 `json:"cluster_s"`
	Accuracy  float64   `json:"accuracy"`
	Sizes     []int     `json:"sizes"`
}

func peerCmd(c *config, args ...string) *exec.Cmd {
	cmd := exec.Command(c.python, append([]string{"bench/cmd/ucbench/peer.py", "--data", c.out,
		"--batch", strconv.Itoa(c.batch), "--lr", fmt.Sprint(c.lr), "--halve", strconv.Itoa(c.halve),
		"--beta", fmt.Sprint(c.beta), "--alpha", fmt.Sprint(c.alpha), "--alpha-step", fmt.Sprint(c.alphaStep)}, args...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

func peer(c *config, threads int, seeds []int, pretrain, epochs int) ([]peerResult, error) {
	var ss []string
	for _, s := range seeds {
		ss = append(ss, strconv.Itoa(s))
	}
	cmd := peerCmd(c, "--threads", strconv.Itoa(threads), "--seeds", strings.Join(ss, ","),
		"--pretrain", strconv.Itoa(pretrain), "--epochs", strconv.Itoa(epochs))
	if c.sameInit {
		cmd.Args = append(cmd.Args, "--same-init")
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("peer.py: %w", err)
	}
	var res []peerResult
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var r peerResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("peer.py output %q: %w", sc.Text(), err)
		}
		res = append(res, r)
	}
	if len(res) != len(seeds) {
		return nil, fmt.Errorf("peer.py gave %d results for %d seeds", len(res), len(seeds))
	}
	return res, nil
}

// replay runs hepsql's side of the replay, one thread, and hands it to
// peer.py --replay.
func replay(c *config, tr *synth.JetSet) error {
	dir := filepath.Join(c.out, "replay")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m, err := ucluster.New(c.spec, 1)
	if err != nil {
		return err
	}
	s := m.Spec
	d := s.SeqLen * s.SeqDim
	ws := m.NewWorkspace()
	// Centroids: the embeddings of the first jets, so that the end-to-end
	// steps start from a state both can load.
	z := m.Embed(ws, tr.Particles[:s.Clusters*d], s.Clusters)
	copy(m.Centroids(), z)
	if err := npy.Write(filepath.Join(dir, "init.npy"), []int{len(m.Params)}, m.Params); err != nil {
		return err
	}
	B, pre, post := c.replayB, c.replaySteps, c.replayCluster
	steps := pre + post
	if B > tr.Jets {
		return fmt.Errorf("replay: batches of %d from %d jets", B, tr.Jets)
	}
	// Epochs of random permutations, end to end, each epoch's last
	// partial batch dropped.
	rng := rand.New(rand.NewPCG(3, 3))
	var order []int32
	for len(order) < steps*B {
		perm := rng.Perm(tr.Jets)
		for i := 0; i+B <= len(perm) && len(order) < steps*B; i += B {
			for _, r := range perm[i : i+B] {
				order = append(order, int32(r))
			}
		}
	}
	if err := npy.Write(filepath.Join(dir, "order.npy"), []int{len(order)}, order); err != nil {
		return err
	}
	seq, labels := make([]float32, B*d), make([]int32, B)
	grad := make([]float32, len(m.Params))
	adam := nn.NewAdam(c.lr, len(m.Params))
	losses := make([]float32, steps)
	for st := 0; st < steps; st++ {
		loss := ucluster.Loss{}
		if st >= pre {
			loss = ucluster.Loss{Beta: c.beta, Alpha: c.alpha}
			if st == pre {
				adam = nn.NewAdam(c.lr, len(m.Params))
			}
		}
		for i := 0; i < B; i++ {
			r := int(order[st*B+i])
			copy(seq[i*d:(i+1)*d], tr.Particles[r*d:(r+1)*d])
			labels[i] = tr.Aux[r]
		}
		if st == pre {
			// The weights the first end-to-end step starts from: the peer
			// takes that step's gradient from them too, apart from the
			// drift of its own pre-training steps.
			if err := npy.Write(filepath.Join(dir, "go_pre_state.npy"), []int{len(m.Params)}, m.Params); err != nil {
				return err
			}
		}
		clear(grad)
		m.Forward(ws, seq, B)
		sums := m.Backward(ws, labels, loss, 1/float32(B), grad)
		losses[st] = float32((sums.Focal + loss.Beta*sums.Cluster) / float64(B))
		if st == 0 || st == pre {
			if err := npy.Write(filepath.Join(dir, fmt.Sprintf("go_grad%d.npy", st)), []int{len(grad)}, grad); err != nil {
				return err
			}
		}
		adam.Step(m.Params, grad)
	}
	if err := npy.Write(filepath.Join(dir, "go_losses.npy"), []int{steps}, losses); err != nil {
		return err
	}
	if err := npy.Write(filepath.Join(dir, "go_final.npy"), []int{len(m.Params)}, m.Params); err != nil {
		return err
	}
	fmt.Printf("replay: %d pre-training + %d end-to-end steps of %d jets, lr %g, one thread\n", pre, post, B, c.lr)
	if c.python == "" {
		return nil
	}
	cmd := peerCmd(c, "--replay", dir)
	cmd.Stdout = os.Stdout
	return cmd.Run()
}

// accuracy trains both sides from their own initial weights over the
// seeds and scores the held-out jets' clusters against the truth; then
// hepsql's same encoder trained on the truth itself as a classifier (the
// ceiling the jets allow it).
func accuracy(c *config, tr, te *synth.JetSet) error {
	fmt.Printf("clustering accuracy on %d held-out jets after %d + %d epochs, %d threads, each side from its own initial weights",
		c.test, c.accPretrain, c.accEpochs, c.accThreads)
	if c.sameInit {
		fmt.Print(" (PyTorch from hepsql's: -same-init)")
	}
	fmt.Print(":\n\n| seed | hepsql | test jets per cluster | PyTorch | test jets per cluster | same encoder on truth (hepsql, classifier) |\n|---|---|---|---|---|---|\n")
	var pr []peerResult
	if c.python != "" {
		var err error
		if pr, err = peer(c, c.accThreads, c.seeds, c.accPretrain, c.accEpochs); err != nil {
			return err
		}
	}
	var gs, ps, cs []float64
	for i, seed := range c.seeds {
		res, err := trainGo(c, tr, te, c.accThreads, uint64(seed), c.accPretrain, c.accEpochs)
		if err != nil {
			return err
		}
		ceil, err := ceiling(c, tr, te, uint64(seed))
		if err != nil {
			return err
		}
		gs, cs = append(gs, res.acc), append(cs, ceil)
		p, psz := "—", "—"
		if pr != nil {
			p, psz = fmt.Sprintf("%.4f", pr[i].Accuracy), fmt.Sprint(pr[i].Sizes)
			ps = append(ps, pr[i].Accuracy)
		}
		fmt.Printf("| %d | %.4f | %v | %s | %s | %.4f |\n", seed, res.acc, res.sizes, p, psz, ceil)
	}
	fmt.Printf("| mean ± sd | %.4f ± %.4f | | %.4f ± %.4f | | %.4f ± %.4f |\n\n", meanOf(gs), sdOf(gs), meanOf(ps), sdOf(ps), meanOf(cs), sdOf(cs))
	if pr != nil {
		fmt.Printf("difference of means, hepsql − PyTorch: %+.4f (bar: within 0.02)\n\n", meanOf(gs)-meanOf(ps))
	}
	return nil
}

func sdOf(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	m, s := meanOf(x), 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}

// ceiling trains hepsql's encoder and head on the truth (3 classes, no
// clustering phase) for as many epochs as the clustering runs in all, and
// returns the head's accuracy on the held-out jets.
func ceiling(c *config, tr, te *synth.JetSet, seed uint64) (float64, error) {
	src, err := ucjets.Source(tr, tr.Truth)
	if err != nil {
		return 0, err
	}
	spec := c.spec
	spec.Classes = 3
	res, err := ucluster.Train(context.Background(), spec, src, ucluster.Options{
		PretrainEpochs: c.accPretrain + c.accEpochs, Epochs: -1, BatchSize: c.batch, LR: c.lr, LRHalveEvery: c.halve,
		Seed: seed, Threads: c.accThreads,
	})
	if err != nil {
		return 0, fmt.Errorf("supervised ceiling: %w", err)
	}
	m := res.Model
	ws := m.NewWorkspace()
	d := m.Spec.SeqLen * m.Spec.SeqDim
	const block = 256
	right := 0
	for lo := 0; lo < te.Jets; lo += block {
		n := min(block, te.Jets-lo)
		probs := m.Forward(ws, te.Particles[lo*d:(lo+n)*d], n)
		for r := 0; r < n; r++ {
			p := probs[r*3 : r*3+3]
			best := 0
			for j := range p {
				if p[j] > p[best] {
					best = j
				}
			}
			if int32(best) == te.Truth[lo+r] {
				right++
			}
		}
	}
	return float64(right) / float64(te.Jets), nil
}
