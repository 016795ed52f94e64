// Package train fits nn models on a data.Source: synchronous data-parallel
// mini-batch training (each of W workers computes the gradient of its
// shard of the batch; the shards' gradients are summed in worker order,
// an in-process all-reduce, and one Adam step follows), streamed through a
// bounded shuffle buffer, with per-epoch validation and early stopping.
// Same seed and thread count give the same model, bit for bit.
package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/metrics"
	"github.com/hepsql/hepsql/mlfuncs/nn"
)

// Options control a training run. Zero values take the defaults noted.
type Options struct {
	Epochs       int     // 5
	BatchSize    int     // 128 (global: split across the workers)
	LR           float64 // Adam learning rate, 1e-3
	ScaleLR      bool    // multiply LR by Threads (large-batch practice)
	Seed         uint64  // weights, shuffling and dropout
	Threads      int     // workers, 1
	MemoryBudget int64   // bytes of rows in the shuffle buffer, 256 MiB

	// Validation, if set, is scored after every epoch (loss, AUC).
	Validation data.Source
	// Patience > 0 stops after that many epochs without the monitored
	// loss (validation if any, else training) improving by MinDelta; the
	// best epoch's weights are kept.
	Patience int
	MinDelta float64

	// OnEpoch, if set, sees every epoch's figures as soon as they are
	// known; an error from it stops training and is returned.
	OnEpoch func(Epoch) error
}

// Epoch is one epoch's figures.
type Epoch struct {
	Epoch       int       // from 1
	TrainLoss   float64   // mean cross-entropy over the epoch's batches (dropout on)
	ValLoss     float64   // NaN without validation
	ValAUC      []float64 // one-vs-rest per class; nil without validation
	ValMacroAUC float64
	ValAccuracy float64
	Seconds     float64 // training time of the epoch, validation excluded
	RowsPerSec  float64 // training rows / Seconds
}

// Result is a finished training.
type Result struct {
	Model     *nn.Model
	Epochs    []Epoch
	BestEpoch int    // the epoch whose weights Model holds
	Stopped   string // why training ended before Options.Epochs, if it did
	Train     data.Stats
	ShuffleKB int64 // memory the shuffle buffer took (at most Options.MemoryBudget)
}

func (o Options) withDefaults() Options {
	if o.Epochs <= 0 {
		o.Epochs = 5
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 128
	}
	if o.LR <= 0 {
		o.LR = 1e-3
	}
	if o.Threads <= 0 {
		o.Threads = 1
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 256 << 20
	}
	return o
}

// Train fits a new model of the given architecture to src. Input is
// checked in full (shapes, finite values, labels, at least two classes)
// before training starts. Cancelling ctx stops at the next batch and
// returns ctx's error with no model.
func Train(ctx context.Context, spec nn.Spec, src data.Source, opt Options) (*Result, error) {
	opt = opt.withDefaults()
	m, err := nn.New(spec, opt.Seed)
	if err != nil {
		return nil, err
	}
	s := m.Spec
	st, err := data.Scan(ctx, src, s.InputNames(), s.InputDims(), s.Classes)
	if err != nil {
		return nil, fmt.Errorf("train: training data: %w", err)
	}
	if opt.Validation != nil {
		if _, err := data.Scan(ctx, opt.Validation, s.InputNames(), s.InputDims(), s.Classes); err != nil && !errors.Is(err, data.ErrOneClass) {
			return nil, fmt.Errorf("train: validation data: %w", err)
		}
	}
	sh, err := data.NewShuffler(src, opt.MemoryBudget, opt.BatchSize, opt.Seed)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	res := &Result{Model: m, Train: st}
	defer func() { res.ShuffleKB = sh.Bytes() >> 10 }()
	lr := opt.LR
	if opt.ScaleLR {
		lr *= float64(opt.Threads)
	}
	pool := newWorkers(m, opt.Threads, opt.Seed)
	defer pool.close()
	adam := nn.NewAdam(lr, len(m.Params))
	predictor := m.NewPredictor(opt.Threads)

	best, bestLoss, since := m.Clone(), math.Inf(1), 0
	for e := 1; e <= opt.Epochs; e++ {
		if err := sh.Start(e); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		t0 := time.Now()
		var lossSum float64
		rows := 0
		for {
			b, err := sh.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("train: epoch %d, after %d rows: %w", e, rows, err)
			}
			lossSum += pool.step(b)
			adam.Step(m.Params, pool.grads[0])
			rows += b.Rows
		}
		ep := Epoch{Epoch: e, TrainLoss: lossSum / float64(rows), Seconds: time.Since(t0).Seconds(), ValLoss: math.NaN(), ValMacroAUC: math.NaN(), ValAccuracy: math.NaN()}
		ep.RowsPerSec = float64(rows) / ep.Seconds
		monitored := ep.TrainLoss
		if opt.Validation != nil {
			probs, labels, err := Collect(ctx, predictor, opt.Validation)
			if err != nil {
				return nil, fmt.Errorf("train: validation after epoch %d: %w", e, err)
			}
			ep.ValLoss = metrics.LogLoss(probs, labels, s.Classes)
			ep.ValAUC, ep.ValMacroAUC = metrics.OneVsRestAUC(probs, labels, s.Classes)
			ep.ValAccuracy = metrics.Accuracy(probs, labels, s.Classes)
			monitored = ep.ValLoss
		}
		res.Epochs = append(res.Epochs, ep)
		if opt.OnEpoch != nil {
			if err := opt.OnEpoch(ep); err != nil {
				return nil, fmt.Errorf("train: stopped after epoch %d: %w", e, err)
			}
		}
		if monitored < bestLoss-opt.MinDelta {
			bestLoss, since, res.BestEpoch = monitored, 0, e
			copy(best.Params, m.Params)
		} else if since++; opt.Patience > 0 && since >= opt.Patience {
			res.Stopped = fmt.Sprintf("early stopping: no improvement of the %s loss for %d epochs (best %.6g at epoch %d)",
				map[bool]string{true: "validation", false: "training"}[opt.Validation != nil], since, bestLoss, res.BestEpoch)
			break
		}
	}
	if opt.Patience > 0 {
		copy(m.Params, best.Params)
	} else {
		res.BestEpoch = len(res.Epochs)
	}
	return res, nil
}

// Collect runs a whole pass of src through the predictor and returns the
// probabilities ([rows×classes]) and labels.
func Collect(ctx context.Context, p *nn.Predictor, src data.Source) ([]float32, []int32, error) {
	if err := src.Rewind(); err != nil {
		return nil, nil, err
	}
	var probs []float32
	var labels []int32
	classes := 0
	for {
		b, err := src.Next(ctx)
		if err == io.EOF {
			return probs, labels, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if classes == 0 {
			out, err := p.Predict(b.Inputs, b.Rows)
			if err != nil {
				return nil, nil, err
			}
			if b.Rows > 0 {
				classes = len(out[0])
			}
			for _, r := range out {
				probs = append(probs, r...)
			}
		} else {
			n := len(probs)
			probs = append(probs, make([]float32, b.Rows*classes)...)
			if err := p.PredictInto(probs[n:], b.Inputs, b.Rows); err != nil {
				return nil, nil, err
			}
		}
		labels = append(labels, b.Labels...)
	}
}

// workers computes one batch's gradient in parallel: worker w takes rows
// [w·n/W, (w+1)·n/W) and writes its gradient into grads[w]; the calling
// goroutine works as worker 0 and then sums the others into grads[0] in
// worker order, so the result does not depend on scheduling.
type workers struct {
	m     *nn.Model
	ws    []*nn.Workspace
	rng   []*rand.Rand
	grads [][]float32
	loss  []float64
	start []chan data.Batch
	wg    sync.WaitGroup
	dims  []int
}

func newWorkers(m *nn.Model, n int, seed uint64) *workers {
	p := &workers{m: m, dims: m.Spec.InputDims()}
	for w := 0; w < n; w++ {
		p.ws = append(p.ws, m.NewWorkspace())
		p.rng = append(p.rng, rand.New(rand.NewPCG(seed, 0xd209+uint64(w))))
		p.grads = append(p.grads, make([]float32, len(m.Params)))
		p.loss = append(p.loss, 0)
	}
	for w := 1; w < n; w++ {
		ch := make(chan data.Batch)
		p.start = append(p.start, ch)
		go func() {
			for b := range ch {
				p.shard(w, b)
				p.wg.Done()
			}
		}()
	}
	return p
}

func (p *workers) close() {
	for _, ch := range p.start {
		close(ch)
	}
}

// shard runs worker w's share of batch b.
func (p *workers) shard(w int, b data.Batch) {
	W := len(p.ws)
	lo, hi := w*b.Rows/W, (w+1)*b.Rows/W
	g := p.grads[w]
	clear(g)
	p.loss[w] = 0
	if lo == hi {
		return
	}
	in := make([][]float32, len(p.dims))
	for i, d := range p.dims {
		in[i] = b.Inputs[i][lo*d : hi*d]
	}
	p.m.Forward(p.ws[w], in, hi-lo, true, p.rng[w])
	p.loss[w] = p.m.Backward(p.ws[w], b.Labels[lo:hi], 1/float32(b.Rows), g)
}

// step computes the batch's mean-loss gradient into grads[0] and returns
// the summed loss.
func (p *workers) step(b data.Batch) float64 {
	p.wg.Add(len(p.start))
	for _, ch := range p.start {
		ch <- b
	}
	p.shard(0, b)
	p.wg.Wait()
	g0 := p.grads[0]
	loss := p.loss[0]
	for w := 1; w < len(p.grads); w++ {
		for i, v := range p.grads[w] {
			g0[i] += v
		}
		loss += p.loss[w]
	}
	return loss
}
