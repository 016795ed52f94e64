package train

import (
	"errors"
	"fmt"
	"io"
)

// Reducer joins the trainings of the ranks of a data-parallel job
// (Horovod's model): every rank runs Train with the same options and
// seed on its own part of the data, and the ranks' summed gradients are
// added together before each optimizer step, so that every rank applies
// the same step to the same weights. The in-process workers of a rank
// keep their own all-reduce (see workers); the Reducer is called once a
// step, by worker 0, after the workers' sum is complete.
//
// Every rank must make the same calls, with buffers of the same length,
// in the same order: Train arranges that (the ranks agree on the number
// of steps of each epoch before taking them). A Reducer whose peer has
// died must return an error or end the process, never block for ever.
// A nil Reducer is a world of one.
type Reducer interface {
	Rank() int
	Size() int
	// AllReduceSum replaces buf, on every rank, by the element-wise sum of
	// all the ranks' bufs.
	AllReduceSum(buf []float64) error
	// AllReduceSum32 is AllReduceSum for the gradients.
	AllReduceSum32(buf []float32) error
}

// ErrPeerFailed is returned on the ranks whose peer reported a failure of
// its own (its error is on its own output).
var ErrPeerFailed = errors.New("another rank of the MPI job failed")

// LocalBatch is rank's part of the global batch: the batch split as
// evenly as rows allow, the first ranks taking one row more. (Exported
// for the other trainers that take a Reducer: ucluster.)
func LocalBatch(global, rank, size int) int {
	n := global / size
	if rank < global%size {
		n++
	}
	return max(n, 1)
}

// ShuffleSeed is rank's shuffling seed: the ranks' shards are different
// rows, and a shuffle of their own keeps their orders independent.
func ShuffleSeed(seed uint64, rank int) uint64 {
	return seed + uint64(rank)*0x9e3779b97f4a7c15
}

// reduceStep is worker 0's all-reduce of step k: it sums the workers'
// gradients in worker order, as update does, weights the sum by the
// rank's rows (Backward scaled it by 1/rows of this rank's batch), adds
// up the ranks' sums, rows and losses, and divides by the global rows.
// With the gradient go two flags, so that all ranks stop together:
// whether the rank has a next batch, and whether it failed.
func (p *workers) reduceStep(k int, cur, next *stepBatch) error {
	g := p.global
	copy(g, p.w[0].grad[k])
	for _, o := range p.w[1:] {
		for i, v := range o.grad[k] {
			g[i] += v
		}
	}
	rows := float32(cur.batch.Rows)
	for i := range g {
		g[i] *= rows
	}
	loss := 0.0
	for _, o := range p.w {
		loss += o.loss[k]
	}
	var ended, failed float64
	if next.err != nil {
		ended = 1
		if next.err != io.EOF {
			failed = 1
		}
	}
	c := p.counts[:]
	c[0], c[1], c[2], c[3] = float64(cur.batch.Rows), loss, ended, failed
	if err := p.red.AllReduceSum32(g); err != nil {
		return fmt.Errorf("all-reduce of the gradient: %w", err)
	}
	if err := p.red.AllReduceSum(c); err != nil {
		return fmt.Errorf("all-reduce of the step's rows and loss: %w", err)
	}
	inv := float32(1 / c[0])
	for i := range g {
		g[i] *= inv
	}
	p.lossSum += c[1]
	p.rows += int(c[0])
	p.stop = c[2] > 0
	if p.stop && next.err == nil {
		p.err = io.EOF // a shorter shard ended the epoch: the steps must agree
	} else if p.stop {
		p.err = next.err
	}
	if c[3] > 0 && failed == 0 {
		p.err = ErrPeerFailed
	}
	return nil
}

// agreeFirst is the collective check, before an epoch's first step, that
// every rank has a first batch: a rank whose shard is empty or failed
// would otherwise leave the others waiting in the step's all-reduce.
func (p *workers) agreeFirst(err error) error {
	if p.red == nil {
		return err
	}
	c := []float64{0, 0}
	if err != nil {
		c[0] = 1
		if err != io.EOF {
			c[1] = 1
		}
	}
	if rerr := p.red.AllReduceSum(c); rerr != nil {
		return fmt.Errorf("all-reduce before the epoch's first step: %w", rerr)
	}
	switch {
	case err != nil:
		return err
	case c[1] > 0:
		return ErrPeerFailed
	case c[0] > 0:
		return io.EOF
	}
	return nil
}

// gather collects the ranks' validation predictions into the union, in
// rank order, on every rank: an all-gather made of all-reduces of
// buffers that are zero outside each rank's slot (adding zeros is exact).
func gather(red Reducer, probs []float32, labels []int32, classes int) ([]float32, []int32, error) {
	if red == nil || red.Size() <= 1 {
		return probs, labels, nil
	}
	counts := make([]float64, red.Size())
	counts[red.Rank()] = float64(len(labels))
	if err := red.AllReduceSum(counts); err != nil {
		return nil, nil, fmt.Errorf("all-reduce of the validation rows: %w", err)
	}
	total, off := 0, 0
	for r, c := range counts {
		if r == red.Rank() {
			off = total
		}
		total += int(c)
	}
	all := make([]float32, total*classes)
	copy(all[off*classes:], probs)
	lab := make([]float64, total)
	for i, l := range labels {
		lab[off+i] = float64(l)
	}
	if err := red.AllReduceSum32(all); err != nil {
		return nil, nil, fmt.Errorf("all-reduce of the validation predictions: %w", err)
	}
	if err := red.AllReduceSum(lab); err != nil {
		return nil, nil, fmt.Errorf("all-reduce of the validation labels: %w", err)
	}
	out := make([]int32, total)
	for i, l := range lab {
		out[i] = int32(l)
	}
	return all, out, nil
}

// agreeEpoch makes an epoch's figures that are not already sums the same
// on every rank: rank 0's training time (a broadcast: the others add
// zero) and the ranks' shuffle buffers added up (capacities: the caller
// passes sh.Capacity(), the rows are the job's).
func agreeEpoch(red Reducer, ep *Epoch) error {
	if red == nil || red.Size() <= 1 {
		return nil
	}
	c := []float64{0, float64(ep.ShuffleRows)}
	if red.Rank() == 0 {
		c[0] = ep.Seconds
	}
	if err := red.AllReduceSum(c); err != nil {
		return fmt.Errorf("all-reduce of the epoch's figures: %w", err)
	}
	ep.Seconds, ep.ShuffleRows = c[0], min(int(c[1]), ep.Rows)
	ep.RowsPerSec = float64(ep.Rows) / ep.Seconds
	return nil
}
