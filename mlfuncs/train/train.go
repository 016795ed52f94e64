// Package train fits nn models on a data.Source: synchronous data-parallel
// mini-batch training (each of W workers computes the gradient of its
// shard of the batch; the shards' gradients are summed in worker order and
// the Adam step applied, each worker over its own slice of the weights,
// an in-process all-reduce), streamed through a bounded shuffle buffer,
// with per-epoch validation and early stopping.
// Same seed and thread count give the same model, bit for bit.
package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/internal/team"
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
	Rows        int     // training rows of the epoch
	// ShuffleRows is how many rows the shuffle buffer holds. When it is
	// below Rows, a batch mixes only rows that lie near each other in the
	// input's order: input sorted by class then trains on runs of one
	// class, so such input should come in random order.
	ShuffleRows int
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
	pool := newWorkers(m, nn.NewAdam(lr, len(m.Params)), opt.Threads, opt.Seed)
	defer pool.close()
	predictor := m.NewPredictor(opt.Threads)
	defer predictor.Close()

	best, bestLoss, since := m.Clone(), math.Inf(1), 0
	for e := 1; e <= opt.Epochs; e++ {
		if err := sh.Start(e); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		t0 := time.Now()
		lossSum, rows, err := pool.epoch(ctx, sh)
		if err != io.EOF {
			return nil, fmt.Errorf("train: epoch %d, after %d rows: %w", e, rows, err)
		}
		ep := Epoch{Epoch: e, TrainLoss: lossSum / float64(rows), Seconds: time.Since(t0).Seconds(), ValLoss: math.NaN(), ValMacroAUC: math.NaN(), ValAccuracy: math.NaN()}
		ep.RowsPerSec = float64(rows) / ep.Seconds
		ep.Rows, ep.ShuffleRows = rows, min(sh.Capacity(), rows)
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

// workers runs one optimisation step per batch on a team of W
// goroutines, the calling one as worker 0. Worker w computes the gradient
// of its shard of the batch (see cut) into a buffer of its own; after a
// barrier, each updating worker (see bounds) sums the W gradients over its
// own range of the parameters, in worker order, and applies the Adam
// update there. The reduction and the update thus run in parallel with no
// lock, and no floating-point sum depends on scheduling, so the same seed
// and W give the same model. The ranges are cut at multiples of 16 floats
// (a 64-byte cache line), so no two workers write to one line.
type workers struct {
	m    *nn.Model
	adam *nn.Adam
	dims []int
	team *team.Team
	w    []*worker
	// bounds cuts the parameters among the workers that update them: the
	// only worker when W = 1; else workers 1..W−1, worker w taking
	// [bounds[w−1], bounds[w]), while worker 0 draws the next batch.
	bounds []int
	sh     *data.Shuffler // the epoch's, set by epoch
	ctx    context.Context
	// The step's batch, drawn during the step before, or err (io.EOF at
	// the end of the epoch).
	batch   data.Batch
	err     error
	lossSum float64 // of the epoch so far
	rows    int
	cuts    []int       // worker w computes rows [cuts[w], cuts[w+1]) of the batch
	steps   []int       // per row of the batch: sequence steps (models with a GRU)
	runW    func(w int) // p.run, bound once: a method value allocates
}

type worker struct {
	ws   *nn.Workspace
	rng  *rand.Rand
	grad []float32
	in   [][]float32
	loss float64
}

func newWorkers(m *nn.Model, adam *nn.Adam, n int, seed uint64) *workers {
	p := &workers{m: m, adam: adam, dims: m.Spec.InputDims(), team: team.New(n)}
	P := len(m.Params)
	for w := 0; w < n; w++ {
		p.w = append(p.w, &worker{
			ws:   m.NewWorkspace(),
			rng:  rand.New(rand.NewPCG(seed, 0xd209+uint64(w))),
			grad: make([]float32, P),
			in:   make([][]float32, len(p.dims)),
		})
	}
	updaters := max(n-1, 1)
	for u := 0; u < updaters; u++ {
		p.bounds = append(p.bounds, min(P, (u*P/updaters)&^15))
	}
	p.bounds = append(p.bounds, P)
	p.cuts = make([]int, n+1)
	p.runW = p.run
	return p
}

func (p *workers) close() { p.team.Close() }

// draw draws the next batch into p.batch and cuts it, or sets p.err.
func (p *workers) draw() {
	p.batch, p.err = p.sh.Next(p.ctx)
	if p.err == nil {
		p.cut(p.batch)
	}
}

// epoch runs the steps of an epoch on sh's batches, from drawing the
// first to the end of the data (p.err io.EOF) or an error, and returns the
// summed loss and the rows trained on. The team runs the whole epoch (see run), so
// that a step costs two rendezvous and no wake-up.
func (p *workers) epoch(ctx context.Context, sh *data.Shuffler) (lossSum float64, rows int, err error) {
	p.ctx, p.sh = ctx, sh
	p.lossSum, p.rows = 0, 0
	p.draw()
	if p.err == nil {
		p.team.Run(p.runW)
	}
	return p.lossSum, p.rows, p.err
}

// run is worker w's part of an epoch. Each step, worker w computes the
// gradient of its shard of the batch; after a barrier, worker 0 draws the
// next batch from the shuffle buffer while workers 1..W−1 sum the
// gradients and update the weights: drawing is serial (for the mlp, ~15%
// of a one-thread step), and between steps the other workers would wait
// for it. A second barrier ends the step.
func (p *workers) run(w int) {
	W := len(p.w)
	for {
		rows := p.batch.Rows
		if w == 0 {
			p.adam.Begin() // the updates of the step before are done
		}
		p.shard(w)
		p.team.Sync()
		if w == 0 {
			loss := 0.0
			for _, o := range p.w {
				loss += o.loss
			}
			p.lossSum += loss
			p.rows += rows
			p.draw()
		}
		if w > 0 || W == 1 {
			p.update(w, max(w-1, 0))
		}
		p.team.Sync()
		if p.err != nil {
			return
		}
	}
}

// update sums the workers' gradients over updater u's range of the
// parameters, in worker order, and applies the Adam step there. The sum
// goes into worker 1's buffer, which worker 0 does not write: the lines
// of worker 0's buffer stay clean in its cache for the next step.
func (p *workers) update(w, u int) {
	lo, hi := p.bounds[u], p.bounds[u+1]
	sum := p.w[min(w, 1)].grad
	if len(p.w) > 1 {
		g0, g1, dst := p.w[0].grad[lo:hi], p.w[1].grad[lo:hi], sum[lo:hi]
		for i := range dst {
			dst[i] = g0[i] + g1[i]
		}
		for _, o := range p.w[2:] {
			for i, v := range o.grad[lo:hi] {
				dst[i] += v
			}
		}
	}
	p.adam.Update(p.m.Params, sum, lo, hi)
}

// cut splits the batch into the workers' shards: equal numbers of rows,
// or, for a model with a GRU, about equal numbers of sequence steps (plus
// one per row for the rest of the network). Sequences of topology events
// run from a few to 801 steps, and a 64-row shard can hold twice the steps
// of its neighbour; the step waits for the slower worker. The cut depends
// on the data only, so a run stays reproducible.
func (p *workers) cut(b data.Batch) {
	W := len(p.w)
	for w := range p.cuts {
		p.cuts[w] = w * b.Rows / W
	}
	if W == 1 {
		return
	}
	if cap(p.steps) < b.Rows {
		p.steps = make([]int, b.Rows)
	}
	steps := p.steps[:b.Rows]
	if !p.m.Spec.ActiveSteps(b.Inputs, b.Rows, steps) {
		return
	}
	total := 0
	for _, n := range steps {
		total += n + 1
	}
	w, sum := 1, 0
	for r, n := range steps {
		for w < W && sum*W >= w*total {
			p.cuts[w] = r
			w++
		}
		sum += n + 1
	}
	for ; w < W; w++ {
		p.cuts[w] = b.Rows
	}
}

// shard computes worker w's share of the batch's gradient.
func (p *workers) shard(w int) {
	b, me := p.batch, p.w[w]
	lo, hi := p.cuts[w], p.cuts[w+1]
	clear(me.grad)
	me.loss = 0
	if lo == hi {
		return
	}
	for i, d := range p.dims {
		me.in[i] = b.Inputs[i][lo*d : hi*d]
	}
	p.m.Forward(me.ws, me.in, hi-lo, true, me.rng)
	me.loss = p.m.Backward(me.ws, b.Labels[lo:hi], 1/float32(b.Rows), me.grad)
}
