// Package train fits nn models on a data.Source: synchronous data-parallel
// mini-batch training (each of W workers computes the gradient of its
// shard of the batch; every worker then sums the shards' gradients in
// worker order and applies the Adam step to its own copy of the weights,
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
	BatchSize    int     // 128 (global: split across the ranks, then the workers)
	LR           float64 // Adam learning rate, 1e-3
	ScaleLR      bool    // multiply LR by Threads × ranks (large-batch practice)
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

	// Reducer, if set, makes this training one rank of a data-parallel
	// job (see Reducer): the data source is this rank's shard, the batch
	// is split across the ranks, and the epochs' figures are the whole
	// job's, the same on every rank. Nil is a world of one.
	Reducer Reducer

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
	if errors.Is(err, data.ErrOneClass) && opt.Reducer != nil && opt.Reducer.Size() > 1 {
		err = nil // a rank's shard may hold one class; the caller checks the job's
	}
	if err != nil {
		return nil, fmt.Errorf("train: training data: %w", err)
	}
	if opt.Validation != nil {
		if _, err := data.Scan(ctx, opt.Validation, s.InputNames(), s.InputDims(), s.Classes); err != nil && !errors.Is(err, data.ErrOneClass) {
			return nil, fmt.Errorf("train: validation data: %w", err)
		}
	}
	red, rank, size := opt.Reducer, 0, 1
	if red != nil && red.Size() > 1 {
		rank, size = red.Rank(), red.Size()
	} else {
		red = nil
	}
	batch := LocalBatch(opt.BatchSize, rank, size)
	// Each rank shuffles its own shard with a seed of its own: with the
	// same seed, equal shards would be drawn in the same order.
	sh, err := data.NewShuffler(src, opt.MemoryBudget, batch, ShuffleSeed(opt.Seed, rank))
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	res := &Result{Model: m, Train: st}
	defer func() { res.ShuffleKB = sh.Bytes() >> 10 }()
	lr := opt.LR
	if opt.ScaleLR {
		lr *= float64(opt.Threads * size)
	}
	pool := newWorkers(m, lr, opt.Threads, opt.Seed, batch, red)
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
		if red != nil {
			ep.ShuffleRows = sh.Capacity()
		}
		if err := agreeEpoch(red, &ep); err != nil {
			return nil, fmt.Errorf("train: epoch %d: %w", e, err)
		}
		monitored := ep.TrainLoss
		if opt.Validation != nil {
			probs, labels, err := Collect(ctx, predictor, opt.Validation)
			if err != nil {
				return nil, fmt.Errorf("train: validation after epoch %d: %w", e, err)
			}
			// Every rank scores the union of the ranks' validation rows.
			if probs, labels, err = gather(red, probs, labels, s.Classes); err != nil {
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
// goroutines, the calling one as worker 0, with one rendezvous a step.
// Worker w computes the gradient of its shard of the batch (see cut) into
// a buffer of its own, while worker 0 also draws the next batch; after
// the barrier, every worker sums the W gradients, in worker order, and
// applies the Adam step to its own copy of the weights and of Adam's
// state. The copies thus stay equal bit for bit, no floating-point sum
// depends on scheduling, and the same seed and W give the same model.
//
// Why every worker updates all the weights: splitting the update among
// them needs a second rendezvous before the next forward pass, and on a
// shared machine each rendezvous is a chance for one descheduled worker
// to stall the others; the whole update of the topology mlp (2,013
// weights) is ~1 µs (nn/internal/adamk). Gradients, losses and batches
// are kept two deep, by step parity: a worker may start step k+1 while
// another still reads step k's.
type workers struct {
	dims []int
	team *team.Team
	w    []*worker
	sh   *data.Shuffler // the epoch's, set by epoch
	ctx  context.Context
	// steps[k&1] is step k's batch, drawn by worker 0 during step k−1
	// and cut into shards, or the error that ended the epoch (io.EOF at
	// the end of the data).
	steps   [2]stepBatch
	err     error   // what ended the epoch, set by worker 0
	lossSum float64 // of the epoch so far
	rows    int
	// The cut's cost model (see cut): flops of a row and of a sequence
	// step, and of worker 0's draw of a batch.
	rowFlops, stepFlops, drawFlops float64
	seqSteps                       []int       // per row of the batch: sequence steps (models with a GRU)
	runW                           func(w int) // p.run, bound once: a method value allocates

	// One rank of several (red not nil): worker 0 all-reduces the step's
	// gradient into global, which every worker then applies; counts carry
	// the step's rows, loss and end flags; stop ends the epoch on all ranks.
	red    Reducer
	global []float32
	counts [4]float64
	stop   bool
}

type stepBatch struct {
	batch data.Batch
	err   error
	cuts  []int // worker w computes rows [cuts[w], cuts[w+1]) of the batch
}

type worker struct {
	m    *nn.Model // this worker's copy of the weights; worker 0's is the trained model
	adam *nn.Adam  // and of Adam's moments
	ws   *nn.Workspace
	rng  *rand.Rand
	grad [2][]float32 // by step parity
	loss [2]float64
	sum  []float32 // W > 2: the first W−1 gradients summed
	in   [][]float32
}

// The cost model behind the cut, from this project's benchmark machine
// (2-core AMD EPYC, 2026-11): the mlp's step ran at ~16 flop/ns, and
// drawing a row from the shuffle buffer took ~60 ns (a cache miss at a
// random slot) plus its bytes at ~10 bytes/ns. It is a fixed model, not
// a timing, so that the cut, and with it the model, is the same from run
// to run; on other machines the balance is only approximate.
const (
	flopsPerNs     = 16
	drawNsPerRow   = 60
	drawBytesPerNs = 10
)

func newWorkers(m *nn.Model, lr float64, n int, seed uint64, batch int, red Reducer) *workers {
	p := &workers{dims: m.Spec.InputDims(), team: team.New(n), red: red}
	P := len(m.Params)
	if red != nil {
		p.global = make([]float32, P)
		seed += uint64(red.Rank()) << 32 // dropout masks of their own
	}
	for w := 0; w < n; w++ {
		mw := m
		if w > 0 {
			mw = m.Clone()
		}
		o := &worker{
			m:    mw,
			adam: nn.NewAdam(lr, P),
			ws:   mw.NewWorkspace(),
			rng:  rand.New(rand.NewPCG(seed, 0xd209+uint64(w))),
			grad: [2][]float32{make([]float32, P), make([]float32, P)},
			in:   make([][]float32, len(p.dims)),
		}
		if n > 2 {
			o.sum = make([]float32, P)
		}
		p.w = append(p.w, o)
	}
	for i := range p.steps {
		p.steps[i].cuts = make([]int, n+1)
	}
	p.rowFlops, p.stepFlops = m.Spec.TrainFlops()
	drawNs := drawNsPerRow + float64(data.RowBytes(p.dims))/drawBytesPerNs
	p.drawFlops = float64(batch) * drawNs * flopsPerNs
	p.runW = p.run
	return p
}

func (p *workers) close() { p.team.Close() }

// draw draws the next batch into st and cuts it, or sets st.err.
func (p *workers) draw(st *stepBatch) {
	st.batch, st.err = p.sh.Next(p.ctx)
	if st.err == nil {
		p.cut(st)
	}
}

// epoch runs the steps of an epoch on sh's batches, from drawing the
// first to the end of the data (io.EOF) or an error, and returns the
// summed loss and the rows trained on. The team runs the whole epoch (see
// run), so that a step costs one rendezvous and no wake-up.
func (p *workers) epoch(ctx context.Context, sh *data.Shuffler) (lossSum float64, rows int, err error) {
	p.ctx, p.sh = ctx, sh
	p.lossSum, p.rows, p.stop = 0, 0, false
	p.draw(&p.steps[0])
	if err := p.agreeFirst(p.steps[0].err); err != nil {
		return 0, 0, err
	}
	p.team.Run(p.runW)
	return p.lossSum, p.rows, p.err
}

// run is worker w's part of an epoch: step k computes the shard of
// steps[k&1] while worker 0 draws steps[k&1^1], then, after the barrier,
// updates the weights.
func (p *workers) run(w int) {
	me := p.w[w]
	for k := 0; ; k ^= 1 {
		cur, next := &p.steps[k], &p.steps[k^1]
		p.shard(me, cur, w, k)
		if w == 0 {
			p.draw(next)
		}
		p.team.Sync()
		if p.red != nil {
			if w == 0 {
				if err := p.reduceStep(k, cur, next); err != nil {
					p.err, p.stop = err, true
				}
			}
			p.team.Sync()
			me.adam.Begin()
			me.adam.UpdateSum(me.m.Params, p.global, nil)
			if p.stop {
				return
			}
			continue
		}
		p.update(me, k)
		if w == 0 {
			loss := 0.0
			for _, o := range p.w {
				loss += o.loss[k]
			}
			p.lossSum += loss
			p.rows += cur.batch.Rows
		}
		if next.err != nil {
			if w == 0 {
				p.err = next.err
			}
			return
		}
	}
}

// update sums the workers' step-k gradients, in worker order, and applies
// the Adam step to me's copy of the weights.
func (p *workers) update(me *worker, k int) {
	me.adam.Begin()
	W := len(p.w)
	if W == 1 {
		me.adam.UpdateSum(me.m.Params, me.grad[k], nil)
		return
	}
	ga := p.w[0].grad[k]
	if W > 2 {
		g1 := p.w[1].grad[k]
		for i := range me.sum {
			me.sum[i] = ga[i] + g1[i]
		}
		for _, o := range p.w[2 : W-1] {
			for i, v := range o.grad[k] {
				me.sum[i] += v
			}
		}
		ga = me.sum
	}
	me.adam.UpdateSum(me.m.Params, ga, p.w[W-1].grad[k])
}

// cut splits the batch into the workers' shards of about equal estimated
// arithmetic: a row costs the dense layers' flops, plus, for a model with
// a GRU, its sequence steps' (topology sequences run from a few steps to
// 801, so equal rows would leave one worker with twice the other's work).
// Worker 0's shard is smaller by the cost of drawing the next batch, which
// it does during the step. The cut depends on the data and the model
// only, so a run stays reproducible.
func (p *workers) cut(st *stepBatch) {
	rows, W, cuts := st.batch.Rows, len(p.w), st.cuts
	cuts[0], cuts[W] = 0, rows
	if W == 1 {
		return
	}
	if cap(p.seqSteps) < rows {
		p.seqSteps = make([]int, rows)
	}
	steps := p.seqSteps[:rows]
	if !p.w[0].m.Spec.ActiveSteps(st.batch.Inputs, rows, steps) {
		clear(steps)
	}
	// Shares are of the draw and the batch together, worker 0's first.
	total := p.drawFlops
	for _, n := range steps {
		total += p.rowFlops + float64(n)*p.stepFlops
	}
	// A shard ends before the first row whose middle lies past its share.
	w, sum := 1, p.drawFlops
	for r, n := range steps {
		c := p.rowFlops + float64(n)*p.stepFlops
		for w < W && (sum+c/2)*float64(W) >= float64(w)*total {
			cuts[w] = r
			w++
		}
		sum += c
	}
	for ; w < W; w++ {
		cuts[w] = rows
	}
}

// shard computes worker w's share of step k's gradient, with its own
// copy of the weights.
func (p *workers) shard(me *worker, st *stepBatch, w, k int) {
	b, grad := st.batch, me.grad[k]
	lo, hi := st.cuts[w], st.cuts[w+1]
	clear(grad)
	me.loss[k] = 0
	if lo == hi {
		return
	}
	for i, d := range p.dims {
		me.in[i] = b.Inputs[i][lo*d : hi*d]
	}
	me.m.Forward(me.ws, me.in, hi-lo, true, me.rng)
	me.loss[k] = me.m.Backward(me.ws, b.Labels[lo:hi], 1/float32(b.Rows), grad)
}
