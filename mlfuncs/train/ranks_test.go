package train

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/train/ranktest"
)

// trainRanks trains on every rank of an in-process world at once, rank
// r on its part of in/labels (ranktest.Split), and returns the results
// by rank.
func trainRanks(t *testing.T, spec nn.Spec, in [][]float32, labels []int32, val [2]any, size int, opt Options) []*Result {
	t.Helper()
	s, _ := spec.Normalize()
	world := ranktest.NewWorld(size)
	res := make([]*Result, size)
	errs := make([]error, size)
	var wg sync.WaitGroup
	for r := range size {
		src, err := ranktest.Split(in, labels, s.InputDims(), r, size)
		if err != nil {
			t.Fatal(err)
		}
		o := opt
		o.Reducer = world.Rank(r)
		if val[0] != nil {
			if o.Validation, err = ranktest.Split(val[0].([][]float32), val[1].([]int32), s.InputDims(), r, size); err != nil {
				t.Fatal(err)
			}
		}
		wg.Go(func() { res[r], errs[r] = Train(context.Background(), spec, src, o) })
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	return res
}

// sameEpochs reports the epochs' figures with the timing left out.
func sameEpochs(a, b []Epoch) bool {
	strip := func(es []Epoch) []Epoch {
		out := append([]Epoch(nil), es...)
		for i := range out {
			out[i].Seconds, out[i].RowsPerSec = 0, 0
		}
		return out
	}
	// As text: NaN (no validation) is not equal to itself.
	return fmt.Sprintf("%v", strip(a)) == fmt.Sprintf("%v", strip(b))
}

// Two ranks, each with half of the rows, reach the model one process
// reaches on all the rows with the same global batch: with a batch of
// the whole set, every step's global batch is the same set of rows in
// both runs, and the gradients differ only by the order of float32 sums
// (documented tolerance: weights within 1e-4 relative, 1e-6 absolute
// floor scale 1e-2). The ranks agree with each other bit for bit, and
// report the same epochs (the validation figures of the union).
func TestRanksMatchOneProcess(t *testing.T) {
	for _, spec := range tinySpecs {
		t.Run(string(spec.Arch), func(t *testing.T) {
			s, _ := spec.Normalize()
			in, labels := separable(s, 600, 3)
			vin, vlabels := separable(s, 200, 4)
			opt := Options{Epochs: 4, BatchSize: 600, LR: 1e-2, Seed: 9, Threads: 2}
			ranks := trainRanks(t, spec, in, labels, [2]any{vin, vlabels}, 2, opt)

			src := memSource(t, spec, 600, 3)
			opt.Validation = memSource(t, spec, 200, 4)
			one, err := Train(context.Background(), spec, src, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !ranktest.Same(ranks[0].Model.Params, ranks[1].Model.Params) {
				t.Errorf("ranks' weights differ: max rel diff %g", ranktest.MaxRelDiff(ranks[0].Model.Params, ranks[1].Model.Params, 1e-2))
			}
			if !sameEpochs(ranks[0].Epochs, ranks[1].Epochs) {
				t.Errorf("ranks report different epochs:\n%+v\n%+v", ranks[0].Epochs, ranks[1].Epochs)
			}
			if ranks[0].Epochs[0].Seconds != ranks[1].Epochs[0].Seconds {
				t.Errorf("epoch seconds differ: %g, %g", ranks[0].Epochs[0].Seconds, ranks[1].Epochs[0].Seconds)
			}
			if d := ranktest.MaxRelDiff(ranks[0].Model.Params, one.Model.Params, 1e-2); d > 1e-4 {
				t.Errorf("2 ranks vs one process: weights differ by %g relative (tolerance 1e-4)", d)
			}
			if ranktest.Same(ranks[0].Model.Params, one.Model.Params) {
				t.Logf("bit-identical to one process")
			}
			for i, e := range one.Epochs {
				r := ranks[0].Epochs[i]
				if r.Rows != e.Rows || math.Abs(r.TrainLoss-e.TrainLoss) > 1e-5*e.TrainLoss ||
					math.Abs(r.ValMacroAUC-e.ValMacroAUC) > 1e-4 || math.Abs(r.ValLoss-e.ValLoss) > 1e-4*e.ValLoss {
					t.Errorf("epoch %d: 2 ranks %+v, one process %+v", i+1, r, e)
				}
			}
		})
	}
}

// Shards of different sizes: the ranks take the same number of steps
// (the shorter shard's), so no rank waits for ever in a collective, and
// their figures count the rows the steps took.
func TestRanksUnequalShardsAgreeOnSteps(t *testing.T) {
	spec := tinySpecs[0]
	s, _ := spec.Normalize()
	in, labels := separable(s, 600, 5)
	// Rank 0 gets 2 rows of 3 (400), rank 1 one (200): split by 3, then
	// give rank 0 parts 0 and 1.
	world := ranktest.NewWorld(2)
	res := make([]*Result, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for r := range 2 {
		var keep []int
		for i := range labels {
			if (i%3 == 2) == (r == 1) {
				keep = append(keep, i)
			}
		}
		pin := make([][]float32, len(in))
		var plab []int32
		for _, i := range keep {
			plab = append(plab, labels[i])
			for k, d := range s.InputDims() {
				pin[k] = append(pin[k], in[k][i*d:(i+1)*d]...)
			}
		}
		src, err := ranktest.Split(pin, plab, s.InputDims(), 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		opt := Options{Epochs: 2, BatchSize: 64, Seed: 2, Threads: 2, Reducer: world.Rank(r)}
		wg.Go(func() { res[r], errs[r] = Train(context.Background(), spec, src, opt) })
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	// Rank 1's 200 rows in batches of 32: 7 steps (6 full, one of 8);
	// rank 0 takes 7 steps of 32.
	if want := 200 + 7*32; res[0].Epochs[0].Rows != want {
		t.Errorf("epoch rows %d, want %d", res[0].Epochs[0].Rows, want)
	}
	if !sameEpochs(res[0].Epochs, res[1].Epochs) || !ranktest.Same(res[0].Model.Params, res[1].Model.Params) {
		t.Errorf("ranks disagree: %+v vs %+v", res[0].Epochs, res[1].Epochs)
	}
}
