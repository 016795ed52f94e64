package ucluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/internal/team"
	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/train"
)

// Options control a training. Zero values take the defaults noted. The
// shape of the schedule is the distributed UCluster paper's (Adam, the
// learning rate halved every few epochs down to 1e-5, α from 1 growing
// by 2 an epoch); its figures are those measured on `hepsql gen jets`
// (bench/README.md, "On gen/jets"): smaller batches, a larger rate and
// β = 0.1 rather than the paper's 10, since the embedding here is not
// normalised and a clustering loss of β = 10 (or 1), tens of times the
// focal loss, pulls the embeddings onto one or two centroids (clusters
// left empty, accuracy near chance 1/3) within the first epochs.
type Options struct {
	PretrainEpochs int     // classification only, 6 (< 0: none)
	Epochs         int     // end to end after the k-means, 3 (< 0: none, the classifier only)
	BatchSize      int     // 64 (global, split across the workers)
	LR             float64 // 3e-3
	LRHalveEvery   int     // epochs, counted over both phases; 8
	MinLR          float64 // floor of the halving, 1e-5
	ScaleLR        bool    // multiply LR (and its floor) by Threads × ranks (Reducer's size)
	Beta           float64 // weight of the clustering loss, 0.1 (> 0)
	Alpha          float64 // inverse temperature of the first end-to-end epoch, 1
	AlphaStep      float64 // added each end-to-end epoch, 2 (> 0)
	Restarts       int     // k-means restarts (best inertia kept), 4
	Seed           uint64
	Threads        int   // workers, 1
	MemoryBudget   int64 // bytes of rows in the shuffle buffer, 256 MiB
	// RawInputs skips the input standardisation (Spec.InputMean/Scale
	// from a first pass over src): the PyTorch peer of bench/cmd/ucbench
	// reads the inputs as given.
	RawInputs bool
	// Reducer, if set, makes this training one rank of a data-parallel
	// job (see train.Reducer): src is this rank's shard, BatchSize and
	// MemoryBudget's k-means sample are the job's, split across the
	// ranks, and every rank returns the same model and epochs, of the
	// whole job's rows. Every rank must pass the same Spec and Options.
	Reducer train.Reducer
	// OnEpoch, if set, sees every epoch's figures as soon as they are
	// known; an error from it stops training and is returned.
	OnEpoch func(Epoch) error
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	switch {
	case o.PretrainEpochs == 0:
		o.PretrainEpochs = 6
	case o.PretrainEpochs < 0: // none
		o.PretrainEpochs = 0
	}
	switch {
	case o.Epochs == 0:
		o.Epochs = 3
	case o.Epochs < 0: // none: the classifier alone (ucbench's supervised ceiling), centroids zero
		o.Epochs = 0
	}
	def(&o.BatchSize, 64)
	def(&o.LRHalveEvery, 8)
	def(&o.Restarts, 4)
	def(&o.Threads, 1)
	if o.LR <= 0 {
		o.LR = 3e-3
	}
	if o.MinLR <= 0 {
		o.MinLR = 1e-5
	}
	if o.Beta <= 0 {
		o.Beta = 0.1
	}
	if o.Alpha <= 0 {
		o.Alpha = 1
	}
	if o.AlphaStep <= 0 {
		o.AlphaStep = 2
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 256 << 20
	}
	return o
}

// Phases of an epoch.
const (
	PhasePretrain = "pretrain"
	PhaseCluster  = "cluster"
)

// Epoch is one epoch's figures.
type Epoch struct {
	Epoch       int // from 1, over both phases
	Phase       string
	Loss        float64 // mean focal + β·clustering loss
	Focal       float64 // mean focal loss
	Cluster     float64 // mean clustering loss (0 in pre-training)
	AuxAccuracy float64 // the head's accuracy on the auxiliary label, during the epoch's steps
	Alpha       float64 // inverse temperature (0 in pre-training)
	LR          float64
	Seconds     float64 // training time of the epoch (the k-means excluded)
	Rows        int
	ShuffleRows int
}

// Result is a finished training.
type Result struct {
	Model         *Model
	Epochs        []Epoch
	KMeansSeconds float64 // the embedding pass and the k-means
	Inertia       float64 // the k-means' sum of squared distances
	ShuffleKB     int64
	Rows          int
}

// LRAt is the learning rate of epoch e (from 1, over both phases).
func (o Options) LRAt(e int) float64 {
	lr := o.LR * math.Pow(0.5, float64((e-1)/o.LRHalveEvery))
	lr = max(lr, o.MinLR)
	if o.ScaleLR {
		lr *= float64(o.Threads * newRanks(o.Reducer).size)
	}
	return lr
}

// Train fits a UCluster model to src, whose one input is the particles
// (SeqLen × SeqDim per row) and whose labels are the auxiliary classes:
// pre-training on the classification, k-means on the embeddings of the
// whole source, then the end-to-end epochs.
func Train(ctx context.Context, spec Spec, src data.Source, opt Options) (*Result, error) {
	opt = opt.withDefaults()
	s, err := spec.Normalize()
	if err != nil {
		return nil, err
	}
	rk := newRanks(opt.Reducer)
	st, err := data.Scan(ctx, src, []string{"particles"}, []int{s.SeqLen * s.SeqDim}, s.Classes)
	if errors.Is(err, data.ErrOneClass) && rk.red != nil {
		err = nil // a rank's shard may hold one class: agreeStart checks the job's
	}
	if err != nil {
		err = fmt.Errorf("ucluster: training data: %w", err)
	}
	standardise := !opt.RawInputs && s.InputMean == nil
	var sums []float64
	if standardise && err == nil {
		if sums, err = inputSums(ctx, src, s.SeqLen, s.SeqDim); err != nil {
			err = fmt.Errorf("ucluster: input standardisation: %w", err)
		}
	}
	if standardise && sums == nil {
		sums = make([]float64, 2*s.SeqDim+1) // a failed rank's part of the all-reduce
	}
	// The job's rows and, under ranks, the statistics of all of them.
	rows, err := rk.agreeStart(st.Rows, st.ClassCounts, s.Classes, sums, err)
	if err != nil {
		return nil, peerErr(err)
	}
	if standardise {
		s.InputMean, s.InputScale = statsOf(sums, s.SeqDim)
	}
	m, err := New(s, opt.Seed) // the same seed: the same first weights on every rank
	if err != nil {
		return nil, err
	}
	sh, err := data.NewShuffler(src, opt.MemoryBudget, train.LocalBatch(opt.BatchSize, rk.rank, rk.size), train.ShuffleSeed(opt.Seed, rk.rank))
	if err != nil {
		return nil, fmt.Errorf("ucluster: %w", err)
	}
	res := &Result{Model: m, Rows: rows}
	defer func() { res.ShuffleKB = sh.Bytes() >> 10 }()
	tr := newTrainer(m, opt.Threads)
	defer tr.close()
	total := opt.PretrainEpochs + opt.Epochs
	adam := nn.NewAdam(opt.LR, len(m.Params))
	for e := 1; e <= total; e++ {
		ep := Epoch{Epoch: e, Phase: PhasePretrain, LR: opt.LRAt(e)}
		loss := Loss{}
		if e > opt.PretrainEpochs {
			if e == opt.PretrainEpochs+1 {
				t0 := time.Now()
				if res.Inertia, err = initCentroids(ctx, m, src, rows, st.Rows, opt, tr.team, rk); err != nil {
					return nil, err
				}
				res.KMeansSeconds = time.Since(t0).Seconds()
				// A fresh optimiser for the new objective, as the
				// original compiles a new one: the pre-training's
				// moments are of another loss.
				adam = nn.NewAdam(opt.LR, len(m.Params))
			}
			ep.Phase = PhaseCluster
			ep.Alpha = opt.Alpha + opt.AlphaStep*float64(e-opt.PretrainEpochs-1)
			loss = Loss{Beta: opt.Beta, Alpha: ep.Alpha}
		}
		adam.LR = ep.LR
		if err := sh.Start(e); err != nil {
			return nil, fmt.Errorf("ucluster: %w", err)
		}
		t0 := time.Now()
		var sums Sums
		b, err := sh.Next(ctx)
		more, err := rk.agreeFirst(err)
		for more && err == nil {
			bs := tr.grads(b, loss)
			// The next batch before the step's all-reduce, so that
			// whether every rank has one goes with the gradient (b stays
			// valid: the shuffler writes the other of its two buffers).
			var nextErr error
			n := b.Rows
			b, nextErr = sh.Next(ctx)
			n, more, err = rk.reduceStep(tr.grad[0], &bs, n, nextErr)
			if err != nil {
				break
			}
			adam.Step(m.Params, tr.grad[0])
			sums.Focal += bs.Focal
			sums.Cluster += bs.Cluster
			sums.Correct += bs.Correct
			ep.Rows += n
		}
		if err != nil {
			return nil, fmt.Errorf("ucluster: epoch %d, after %d rows: %w", e, ep.Rows, err)
		}
		ep.Seconds = time.Since(t0).Seconds()
		n := float64(max(ep.Rows, 1))
		ep.Focal, ep.Cluster, ep.AuxAccuracy = sums.Focal/n, sums.Cluster/n, float64(sums.Correct)/n
		ep.Loss = ep.Focal + loss.Beta*ep.Cluster
		ep.ShuffleRows = min(sh.Capacity(), ep.Rows)
		if err := rk.agreeEpoch(&ep); err != nil {
			return nil, fmt.Errorf("ucluster: epoch %d: %w", e, err)
		}
		res.Epochs = append(res.Epochs, ep)
		if opt.OnEpoch != nil {
			if err := opt.OnEpoch(ep); err != nil {
				return nil, fmt.Errorf("ucluster: stopped after epoch %d: %w", e, err)
			}
		}
	}
	return res, nil
}

// trainer runs synchronous data-parallel steps: worker w computes the
// gradient of its shard of the batch into its own buffer, with the one
// shared copy of the weights (read-only during the step); the caller then
// sums the buffers in worker order and applies Adam. The sum's order is
// fixed, so the same seed and thread count give the same model.
type trainer struct {
	m     *Model
	team  *team.Team
	ws    []*Workspace
	grad  [][]float32
	sums  []Sums
	cuts  []int
	count []int
	// the step's arguments, for the workers
	b    data.Batch
	loss Loss
	runW func(w int)
}

func newTrainer(m *Model, threads int) *trainer {
	t := &trainer{m: m, team: team.New(threads), cuts: make([]int, threads+1), sums: make([]Sums, threads)}
	for range threads {
		t.ws = append(t.ws, m.NewWorkspace())
		t.grad = append(t.grad, make([]float32, len(m.Params)))
	}
	t.runW = t.shard
	return t
}

func (t *trainer) close() { t.team.Close() }

// cut splits rows into the workers' shards of about equal cost: a jet
// costs its particles (the edge convolutions, kNN aside, are linear in
// them) plus a constant for its head.
func (t *trainer) cut(seq []float32, rows int) {
	W := len(t.ws)
	t.cuts[0], t.cuts[W] = 0, rows
	if W == 1 {
		return
	}
	if cap(t.count) < rows {
		t.count = make([]int, rows)
	}
	cnt := t.count[:rows]
	t.m.Spec.ActiveParticles(seq, rows, cnt)
	const headCost = 4 // in particles
	total := 0
	for _, c := range cnt {
		total += c + headCost
	}
	w, sum := 1, 0
	for r, c := range cnt {
		for w < W && (2*sum+c+headCost)*W >= 2*w*total {
			t.cuts[w] = r
			w++
		}
		sum += c + headCost
	}
	for ; w < W; w++ {
		t.cuts[w] = rows
	}
}

// grads runs a step's forward and backward passes on b and leaves the
// workers' summed gradient (the mean over b's rows) in t.grad[0], for
// the caller's all-reduce across ranks, if any, and optimizer step.
func (t *trainer) grads(b data.Batch, loss Loss) Sums {
	t.b, t.loss = b, loss
	t.cut(b.Inputs[0], b.Rows)
	t.team.Run(t.runW)
	g := t.grad[0]
	for _, o := range t.grad[1:] {
		for i, v := range o {
			g[i] += v
		}
	}
	var s Sums
	for _, x := range t.sums {
		s.Focal += x.Focal
		s.Cluster += x.Cluster
		s.Correct += x.Correct
	}
	return s
}

func (t *trainer) shard(w int) {
	lo, hi := t.cuts[w], t.cuts[w+1]
	clear(t.grad[w])
	t.sums[w] = Sums{}
	if lo == hi {
		return
	}
	d := t.m.Spec.SeqLen * t.m.Spec.SeqDim
	ws := t.ws[w]
	t.m.Forward(ws, t.b.Inputs[0][lo*d:hi*d], hi-lo)
	t.sums[w] = t.m.Backward(ws, t.b.Labels[lo:hi], t.loss, 1/float32(t.b.Rows), t.grad[w])
}

// kmeansRows bounds the jets the k-means sees (512 bytes of embedding a
// jet at the default width: 100 MiB at this bound), so that memory does
// not grow with the data set; larger sources are thinned evenly. A
// smaller MemoryBudget lowers the bound to what the budget holds (see
// kmeansCap).
const kmeansRows = 200_000

// kmeansMinRows is the floor of kmeansCap: a budget too small for even
// this many embeddings still clusters a useful sample.
const kmeansMinRows = 1000

// kmeansCap is the most jets the k-means embeds: kmeansRows, or fewer if
// their embeddings and the k-means' own per-jet state (a float64
// distance and an int assignment) would exceed the memory budget.
func kmeansCap(spec Spec, budget int64) int {
	perJet := int64(4*spec.Embed + 16)
	return int(max(min(int64(kmeansRows), budget/perJet), kmeansMinRows))
}

// initCentroids embeds the source (every stride-th row of its rows, for
// at most kmeansCap) and sets the centroids by k-means. Under ranks,
// rows is the job's and local this rank's: each rank embeds every
// stride-th row of its shard (the stride of the job's rows, so that the
// samples together stay within the cap), and every rank runs the same
// k-means from the same seed on all the samples, in rank order: the
// same centroids everywhere.
func initCentroids(ctx context.Context, m *Model, src data.Source, rows, local int, opt Options, tm *team.Team, rk ranks) (float64, error) {
	limit := kmeansCap(m.Spec, opt.MemoryBudget)
	stride := (rows + limit - 1) / limit
	z, err := embedRows(ctx, m, src, tm, stride, (local+stride-1)/stride)
	if err != nil {
		err = fmt.Errorf("ucluster: embedding for the k-means: %w", err)
	}
	if z, err = rk.gatherSample(z, m.Spec.Embed, err); err != nil {
		return 0, peerErr(err)
	}
	n := len(z) / m.Spec.Embed
	if n < m.Spec.Clusters {
		return 0, fmt.Errorf("ucluster: %d jets for %d clusters", n, m.Spec.Clusters)
	}
	c, inertia := KMeans(z, n, m.Spec.Embed, m.Spec.Clusters, opt.Restarts, opt.Seed)
	copy(m.Centroids(), c)
	return inertia, nil
}

// embedBlockRows is the most rows a Predictor member (predict, evaluate,
// the k-means pass) runs through its workspace at a time: the workspace
// grows with the rows it runs at once (tens of kB a jet), and a DuckDB
// chunk or a source batch can hold thousands of jets.
const embedBlockRows = 64

// EmbedAll returns the embeddings of every stride-th row (from the first)
// of a pass of src, each source batch split across tm's members.
func EmbedAll(ctx context.Context, m *Model, src data.Source, tm *team.Team, stride int) ([]float32, error) {
	return embedRows(ctx, m, src, tm, stride, 0)
}

// embedRows is EmbedAll with room reserved for want rows, so that the
// result is allocated once rather than regrown (a regrowth briefly holds
// both copies). Each source batch runs in blocks of embedBlockRows a
// member; a jet's embedding does not depend on the other jets of its
// block.
func embedRows(ctx context.Context, m *Model, src data.Source, tm *team.Team, stride, want int) ([]float32, error) {
	p := newPredictor(m, tm)
	if err := src.Rewind(); err != nil {
		return nil, err
	}
	stride = max(stride, 1)
	d, E := m.Spec.SeqLen*m.Spec.SeqDim, m.Spec.Embed
	z := make([]float32, 0, want*E)
	var keep []float32
	row := 0
	for {
		b, err := src.Next(ctx)
		if err == io.EOF {
			return z, nil
		}
		if err != nil {
			return nil, err
		}
		seq, n := b.Inputs[0], b.Rows
		if stride > 1 {
			keep = keep[:0]
			n = 0
			for r := 0; r < b.Rows; r++ {
				if (row+r)%stride == 0 {
					keep = append(keep, seq[r*d:(r+1)*d]...)
					n++
				}
			}
			seq = keep
		}
		row += b.Rows
		at := len(z)
		z = append(z, make([]float32, n*E)...)
		p.run(seq[:n*d], n, z[at:at+n*E], nil)
	}
}
