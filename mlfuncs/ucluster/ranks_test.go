package ucluster

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/synth"
	"github.com/hepsql/hepsql/mlfuncs/train"
	"github.com/hepsql/hepsql/mlfuncs/train/ranktest"
)

// trainRanks runs Train on size ranks (goroutines joined by ranktest's
// in-process world), rank r on src(r), and returns each rank's result
// and error; it fails the test if they have not all returned within a
// minute (a rank left waiting in a collective).
func trainRanks(t *testing.T, size int, spec Spec, opt Options, src func(r int) data.Source) ([]*Result, []error) {
	t.Helper()
	w := ranktest.NewWorld(size)
	res, errs := make([]*Result, size), make([]error, size)
	var wg sync.WaitGroup
	for r := range size {
		wg.Go(func() {
			o := opt
			o.Reducer = w.Rank(r)
			res[r], errs[r] = Train(context.Background(), spec, src(r), o)
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the ranks did not all return within a minute")
	}
	return res, errs
}

// Three ranks on uneven shards (101, 100, 100 jets) with a global batch
// of the whole set reach the same model on every rank, bit for bit
// (weights, centroids, standardisation), with the same epochs, and one
// process's model on the union (its rows in the ranks' order, which is
// the order the k-means sees their gathered samples in) within float32
// summation order. The generator's auxiliary labels cycle with the jet
// number, so each rank's shard holds one class: the check of two classes
// is of the job's rows.
func TestTrainRanksMatchOneProcess(t *testing.T) {
	const size, jets = 3, 301
	s := synth.Jets(synth.JetOptions{Jets: jets, Seed: 7, MaxParticles: 12, Separated: true})
	d := 12 * synth.JetFeatures
	shard := func(r int) ([]float32, []int32) {
		var p []float32
		var l []int32
		for j := r; j < jets; j += size {
			p = append(p, s.Particles[j*d:(j+1)*d]...)
			l = append(l, s.Aux[j])
		}
		return p, l
	}
	source := func(p []float32, l []int32) data.Source {
		src, err := data.NewMemory([][]float32{p}, l, []int{d}, 37)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	var allP []float32
	var allL []int32
	for r := range size {
		p, l := shard(r)
		allP, allL = append(allP, p...), append(allL, l...)
	}
	spec := Spec{Classes: 3, Clusters: 3, SeqLen: 12, SeqDim: synth.JetFeatures, Edge1: 8, Edge2: 8, Embed: 6, Head: 8, Neighbors: 4}
	opt := Options{PretrainEpochs: 2, Epochs: 2, BatchSize: jets, LR: 3e-3, Seed: 3, Threads: 2}
	one, err := Train(context.Background(), spec, source(allP, allL), opt)
	if err != nil {
		t.Fatal(err)
	}
	res, errs := trainRanks(t, size, spec, opt, func(r int) data.Source { return source(shard(r)) })
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	for r := 1; r < size; r++ {
		if !ranktest.Same(res[r].Model.Params, res[0].Model.Params) || !ranktest.Same(res[r].Model.Spec.InputMean, res[0].Model.Spec.InputMean) ||
			!ranktest.Same(res[r].Model.Spec.InputScale, res[0].Model.Spec.InputScale) {
			t.Errorf("rank %d's model differs from rank 0's", r)
		}
		for e := range res[0].Epochs {
			a, b := res[r].Epochs[e], res[0].Epochs[e]
			a.Seconds, a.ShuffleRows = b.Seconds, b.ShuffleRows // agreed too, but compared below
			if a != b {
				t.Errorf("epoch %d: rank %d %+v, rank 0 %+v", e+1, r, res[r].Epochs[e], res[0].Epochs[e])
			}
		}
	}
	got := res[0]
	if got.Rows != jets || len(got.Epochs) != len(one.Epochs) {
		t.Fatalf("ranks: %d rows, %d epochs; one process %d, %d", got.Rows, len(got.Epochs), one.Rows, len(one.Epochs))
	}
	if d := ranktest.MaxRelDiff(got.Model.Spec.InputMean, one.Model.Spec.InputMean, 1e-3); d > 1e-6 {
		t.Errorf("input means differ from one process's by %g relative", d)
	}
	if d := ranktest.MaxRelDiff(got.Model.Params, one.Model.Params, 1e-2); d > 1e-3 {
		t.Errorf("weights and centroids differ from one process's by %g relative", d)
	}
	if d := ranktest.MaxRelDiff(got.Model.Centroids(), one.Model.Centroids(), 1e-2); d > 1e-3 {
		t.Errorf("centroids differ from one process's by %g relative", d)
	}
	for e, w := range one.Epochs {
		g := got.Epochs[e]
		if g.Rows != jets || w.Rows != jets || g.Phase != w.Phase || g.AuxAccuracy != w.AuxAccuracy ||
			ranktest.MaxRelDiff([]float32{float32(g.Loss), float32(g.Cluster)}, []float32{float32(w.Loss), float32(w.Cluster)}, 1e-6) > 1e-5 {
			t.Errorf("epoch %d: ranks %+v, one process %+v", e+1, g, w)
		}
		if g.ShuffleRows != jets {
			t.Errorf("epoch %d: %d shuffle rows, want the ranks' buffers together, %d", e+1, g.ShuffleRows, jets)
		}
	}
	t.Logf("weights within %g relative of one process's", ranktest.MaxRelDiff(got.Model.Params, one.Model.Params, 1e-2))
}

// failAfter is a Source whose Next fails after n calls in all.
type failAfter struct {
	data.Source
	n int
}

var errBroken = errors.New("broken source")

func (f *failAfter) Next(ctx context.Context) (data.Batch, error) {
	if f.n--; f.n < 0 {
		return data.Batch{}, errBroken
	}
	return f.Source.Next(ctx)
}

// A rank whose source fails, before the training or in the middle of an
// epoch, makes every rank return an error (its own, or the peer's
// failure) instead of leaving the others waiting.
func TestTrainRanksFailTogether(t *testing.T) {
	s := synth.Jets(synth.JetOptions{Jets: 120, Seed: 7, MaxParticles: 8})
	spec := Spec{Classes: 3, Clusters: 2, SeqLen: 8, SeqDim: synth.JetFeatures, Edge1: 4, Edge2: 4, Embed: 4, Head: 4, Neighbors: 3}
	// A shuffle buffer of 32 jets (260 bytes each): the shuffler reads the
	// source's chunks of 6 jets as the epoch goes.
	opt := Options{PretrainEpochs: 2, Epochs: 1, BatchSize: 20, Seed: 1, Threads: 1, MemoryBudget: 32 * 260}
	for _, calls := range []int{0, 21, 28, 44} { // in data.Scan, the input sums, the first epoch's second step, the k-means pass // in data.Scan; in the first epoch (Scan and the input sums take 3 each)
		src := func(r int) data.Source {
			m, err := data.NewMemory([][]float32{s.Particles[r*60*8*synth.JetFeatures : (r+1)*60*8*synth.JetFeatures]}, s.Aux[r*60:(r+1)*60],
				[]int{8 * synth.JetFeatures}, 6)
			if err != nil {
				t.Fatal(err)
			}
			if r == 1 {
				return &failAfter{m, calls}
			}
			return m
		}
		_, errs := trainRanks(t, 2, spec, opt, src)
		t.Logf("failure after %d calls: rank 0: %v; rank 1: %v", calls, errs[0], errs[1])
		if !errors.Is(errs[1], errBroken) || !errors.Is(errs[0], train.ErrPeerFailed) {
			t.Errorf("failure after %d calls: rank 0 %v, rank 1 %v", calls, errs[0], errs[1])
		}
	}
}
