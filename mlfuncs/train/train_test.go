package train

import (
	"context"
	"errors"
	"io"
	"math"
	"slices"
	"testing"

	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/metrics"
	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/train/ranktest"
)

// separable is ranktest.Separable (shared with the MPI tests).
func separable(spec nn.Spec, rows int, seed uint64) ([][]float32, []int32) {
	return ranktest.Separable(spec, rows, seed)
}

func memSource(t *testing.T, spec nn.Spec, rows int, seed uint64) data.Source {
	t.Helper()
	s, _ := spec.Normalize()
	in, labels := separable(s, rows, seed)
	src, err := data.NewMemory(in, labels, s.InputDims(), 97)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

var tinySpecs = []nn.Spec{
	{Arch: nn.MLP, HLFDim: 6, Hidden: []int{16, 8}},
	{Arch: nn.GRU, SeqLen: 12, SeqDim: 4, GRUUnits: 8},
	{Arch: nn.Inclusive, HLFDim: 5, SeqLen: 10, SeqDim: 3, GRUUnits: 6, Hidden: []int{8}},
}

func TestTrainsToHighAccuracy(t *testing.T) {
	for _, spec := range tinySpecs {
		for _, threads := range []int{1, 2} {
			res, err := Train(context.Background(), spec, memSource(t, spec, 1500, 1), Options{
				Epochs: 8, BatchSize: 32, LR: 1e-2, Seed: 3, Threads: threads,
				Validation: memSource(t, spec, 600, 2),
			})
			if err != nil {
				t.Fatal(err)
			}
			last := res.Epochs[len(res.Epochs)-1]
			if last.ValAccuracy < 0.95 || last.ValMacroAUC < 0.99 {
				t.Errorf("%s, %d thread(s): validation accuracy %.3f, macro AUC %.4f; want ≥ 0.95, ≥ 0.99 (epochs %+v)",
					spec.Arch, threads, last.ValAccuracy, last.ValMacroAUC, res.Epochs)
			}
			if res.Epochs[0].TrainLoss <= last.TrainLoss {
				t.Errorf("%s: training loss did not fall: %g → %g", spec.Arch, res.Epochs[0].TrainLoss, last.TrainLoss)
			}
			// The reported validation figures are those of the model
			// returned, recomputed independently.
			probs, labels, err := Collect(context.Background(), res.Model.NewPredictor(1), memSource(t, spec, 600, 2))
			if err != nil {
				t.Fatal(err)
			}
			if acc := metrics.Accuracy(probs, labels, 3); acc != last.ValAccuracy {
				t.Errorf("%s: accuracy %g recomputed, %g reported", spec.Arch, acc, last.ValAccuracy)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, spec := range tinySpecs {
		var first []float32
		for run := 0; run < 2; run++ {
			res, err := Train(context.Background(), spec, memSource(t, spec, 400, 1), Options{
				Epochs: 2, BatchSize: 32, Seed: 9, Threads: 2, MemoryBudget: 64 << 10,
			})
			if err != nil {
				t.Fatal(err)
			}
			if run == 0 {
				first = res.Model.Params
				continue
			}
			for i, v := range res.Model.Params {
				if math.Float32bits(v) != math.Float32bits(first[i]) {
					t.Fatalf("%s: weight %d differs between identical runs: %g vs %g", spec.Arch, i, v, first[i])
				}
			}
		}
	}
}

func TestStreamsThroughSmallBudget(t *testing.T) {
	// The data set is 20× the shuffle budget; training still converges.
	spec := tinySpecs[2]
	s, _ := spec.Normalize()
	const rows = 2000
	budget := int64(rows/20) * data.RowBytes(s.InputDims())
	res, err := Train(context.Background(), spec, memSource(t, spec, rows, 1), Options{
		Epochs: 6, BatchSize: 32, LR: 1e-2, Seed: 1, Threads: 2, MemoryBudget: budget,
		Validation: memSource(t, spec, 500, 2),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ShuffleKB<<10 > budget {
		t.Errorf("shuffle buffer %d KiB over the budget of %d bytes", res.ShuffleKB, budget)
	}
	if acc := res.Epochs[len(res.Epochs)-1].ValAccuracy; acc < 0.95 {
		t.Errorf("accuracy %.3f with a small shuffle buffer", acc)
	}
}

func TestBadInputFailsBeforeTraining(t *testing.T) {
	spec := tinySpecs[0]
	mk := func(edit func(in [][]float32, labels []int32) ([][]float32, []int32, []int)) data.Source {
		in, labels := separable(spec, 50, 1)
		in, labels, dims := edit(in, labels)
		src, err := data.NewMemory(in, labels, dims, 16)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	called := false
	opt := Options{Epochs: 1, OnEpoch: func(Epoch) error { called = true; return nil }}
	cases := []struct {
		name string
		src  data.Source
		want error
	}{
		{"NaN", mk(func(in [][]float32, l []int32) ([][]float32, []int32, []int) {
			in[0][77] = float32(math.NaN())
			return in, l, []int{6}
		}), data.ErrNotFinite},
		{"shape", mk(func(in [][]float32, l []int32) ([][]float32, []int32, []int) {
			return [][]float32{in[0][:50*5]}, l, []int{5}
		}), data.ErrShape},
		{"one class", mk(func(in [][]float32, l []int32) ([][]float32, []int32, []int) {
			clear(l)
			return in, l, []int{6}
		}), data.ErrOneClass},
		{"empty", mk(func(in [][]float32, l []int32) ([][]float32, []int32, []int) {
			return [][]float32{nil}, nil, []int{6}
		}), data.ErrEmpty},
		{"label", mk(func(in [][]float32, l []int32) ([][]float32, []int32, []int) {
			l[3] = 7
			return in, l, []int{6}
		}), data.ErrLabel},
	}
	for _, c := range cases {
		_, err := Train(context.Background(), spec, c.src, opt)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
	if _, err := Train(context.Background(), nn.Spec{Arch: "transformer"}, cases[0].src, opt); err == nil {
		t.Error("unknown architecture accepted")
	}
	if called {
		t.Error("an epoch ran on bad input")
	}
}

func TestCancelStopsCleanly(t *testing.T) {
	spec := tinySpecs[1]
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Train(ctx, spec, memSource(t, spec, 600, 1), Options{
		Epochs: 50, BatchSize: 16, Threads: 2,
		OnEpoch: func(e Epoch) error {
			if e.Epoch == 2 {
				cancel()
			}
			return nil
		},
	})
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("got %v, %v; want context.Canceled and no result", res, err)
	}
}

func TestEarlyStoppingKeepsBest(t *testing.T) {
	spec := tinySpecs[0]
	val := memSource(t, spec, 300, 2)
	res, err := Train(context.Background(), spec, memSource(t, spec, 300, 1), Options{
		Epochs: 200, BatchSize: 16, LR: 3e-2, Seed: 1, Patience: 3, Validation: val,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped == "" || len(res.Epochs) == 200 {
		t.Fatalf("did not stop early: %d epochs", len(res.Epochs))
	}
	best := res.Epochs[res.BestEpoch-1].ValLoss
	for _, e := range res.Epochs {
		if e.ValLoss < best {
			t.Errorf("epoch %d has validation loss %g below the kept epoch %d's %g", e.Epoch, e.ValLoss, res.BestEpoch, best)
		}
	}
	probs, labels, _ := Collect(context.Background(), res.Model.NewPredictor(1), val)
	if got := metrics.LogLoss(probs, labels, 3); math.Abs(got-best) > 1e-12 {
		t.Errorf("returned model's validation loss %g, best epoch's %g", got, best)
	}
	t.Log(res.Stopped)
}

// A batch is cut into shards of about equal estimated arithmetic: a GRU
// model's by sequence steps, and worker 0's shard is smaller by the cost
// of the draw it does during the step.
func TestShardsBalanceCost(t *testing.T) {
	spec, _ := nn.Spec{Arch: nn.GRU, SeqLen: 10, SeqDim: 2, GRUUnits: 3}.Normalize()
	m, err := nn.New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := newWorkers(m, 1e-3, 2, 1, 6, nil)
	defer p.close()
	// Per row 6·(3·3) = 54 flops of dense layer and 6·(2·9 + 3·9) = 270
	// per step. Row 0 has 9 active steps (one padding step in the
	// middle), rows 1–5 one each: costs 2484, then 324 five times.
	if r, s := spec.TrainFlops(); r != 54 || s != 270 {
		t.Fatalf("TrainFlops = %g, %g; want 54, 270", r, s)
	}
	seq := make([]float32, 6*10*2)
	for t := range 10 {
		if t != 4 {
			seq[t*2+1] = 1
		}
	}
	for r := 1; r < 6; r++ {
		seq[r*20] = -1
	}
	st := &stepBatch{batch: data.Batch{Rows: 6, Inputs: [][]float32{seq}, Labels: make([]int32, 6)}, cuts: make([]int, 3)}
	p.drawFlops = 0
	p.cut(st)
	if want := []int{0, 1, 6}; !slices.Equal(st.cuts, want) {
		t.Errorf("GRU cuts %v, want %v", st.cuts, want)
	}

	mlp, _ := nn.New(nn.Spec{Arch: nn.MLP, HLFDim: 2, Hidden: []int{3}}, 1) // 90 flops a row
	for _, c := range []struct {
		workers int
		draw    float64
		want    []int
	}{
		{2, 0, []int{0, 3, 7}},      // 270 | 360: row 3's middle is at the half
		{2, 360, []int{0, 1, 7}},    // 360 + 90 | 540, as near as 360 + 180 | 450
		{2, 2000, []int{0, 0, 7}},   // a draw above a share leaves worker 0 no rows
		{3, 180, []int{0, 1, 4, 7}}, // 180 + 90 | 270 | 270
		{3, 0, []int{0, 2, 5, 7}},   // 180 | 270 | 180
	} {
		q := newWorkers(mlp, 1e-3, c.workers, 1, 7, nil)
		q.drawFlops = c.draw
		st := &stepBatch{batch: data.Batch{Rows: 7, Inputs: [][]float32{make([]float32, 14)}, Labels: make([]int32, 7)}, cuts: make([]int, c.workers+1)}
		q.cut(st)
		q.close()
		if !slices.Equal(st.cuts, c.want) {
			t.Errorf("mlp, %d workers, draw %g flops: cuts %v, want %v", c.workers, c.draw, st.cuts, c.want)
		}
	}

	// The topology mlp's batch of 128: worker 0 gives up about as many
	// rows as the draw costs, and no worker's load exceeds the other's by
	// more than a row.
	top, _ := nn.New(nn.Spec{Arch: nn.MLP}, 1)
	q := newWorkers(top, 1e-3, 2, 1, 128, nil)
	defer q.close()
	st = &stepBatch{batch: data.Batch{Rows: 128, Inputs: [][]float32{make([]float32, 128*14)}, Labels: make([]int32, 128)}, cuts: make([]int, 3)}
	q.cut(st)
	load0 := float64(st.cuts[1])*q.rowFlops + q.drawFlops
	load1 := float64(128-st.cuts[1]) * q.rowFlops
	if st.cuts[1] >= 64 || math.Abs(load0-load1) > q.rowFlops {
		t.Errorf("topology mlp: worker 0 has %d rows and the draw (%g flops), worker 1 %d rows (%g flops each)",
			st.cuts[1], q.drawFlops, 128-st.cuts[1], q.rowFlops)
	}
}

// Every worker applies the whole update to its own copy of the weights:
// after an epoch the copies must be equal bit for bit, and the model must
// be the one a single worker trains on the same batches, up to the order
// of the gradients' float sums.
func TestWorkersAgree(t *testing.T) {
	spec, _ := nn.Spec{Arch: nn.MLP, HLFDim: 6, Hidden: []int{16, 8}}.Normalize() // no dropout: the workers' random streams do not matter
	var single []float32
	for _, threads := range []int{1, 2, 3} {
		m, err := nn.New(spec, 5)
		if err != nil {
			t.Fatal(err)
		}
		p := newWorkers(m, 1e-3, threads, 5, 32, nil)
		sh, err := data.NewShuffler(memSource(t, spec, 700, 1), 1<<20, 32, 5)
		if err != nil {
			t.Fatal(err)
		}
		for e := 1; e <= 2; e++ {
			if err := sh.Start(e); err != nil {
				t.Fatal(err)
			}
			if _, rows, err := p.epoch(context.Background(), sh); err != io.EOF || rows != 700 {
				t.Fatalf("%d threads, epoch %d: %d rows, %v; want 700, EOF", threads, e, rows, err)
			}
		}
		p.close()
		for w, o := range p.w[1:] {
			for i, v := range o.m.Params {
				if math.Float32bits(v) != math.Float32bits(m.Params[i]) {
					t.Fatalf("%d threads: worker %d's weight %d is %g, worker 0's %g", threads, w+1, i, v, m.Params[i])
				}
			}
		}
		if threads == 1 {
			single = m.Params
			continue
		}
		moved := 0.0
		for i, v := range m.Params {
			if d := math.Abs(float64(v - single[i])); d > 2e-4 {
				t.Fatalf("%d threads: weight %d is %g, %g with one thread", threads, i, v, single[i])
			}
			moved = max(moved, math.Abs(float64(v)))
		}
		if moved == 0 {
			t.Fatal("no weight is non-zero")
		}
	}
}
