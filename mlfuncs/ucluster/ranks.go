package ucluster

import (
	"errors"
	"fmt"
	"io"

	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/train"
)

// ranks joins the trainings of the ranks of a data-parallel job (see
// train.Reducer, and Options.Reducer): every rank streams its own shard,
// and whatever the training computes from the data is added up across
// the ranks before use, so that every rank holds the same weights,
// centroids and epoch figures. Every collective below is called by every
// rank in the same order with buffers of the same length; a rank that
// fails says so in the next collective rather than leaving it, so that
// all ranks return an error together. A nil red is a world of one: the
// methods then leave everything as this process computed it.
type ranks struct {
	red        train.Reducer
	rank, size int
}

func newRanks(red train.Reducer) ranks {
	if red == nil || red.Size() <= 1 {
		return ranks{size: 1}
	}
	return ranks{red: red, rank: red.Rank(), size: red.Size()}
}

// failure is the error every rank returns for a collective whose flag
// says some rank failed: its own error, or ErrPeerFailed with what the
// ranks were doing (peerErr adds the package's prefix where the caller
// does not).
func (r ranks) failure(what string, own error, anyFailed bool) error {
	switch {
	case own != nil:
		return own
	case anyFailed:
		return fmt.Errorf("rank %d of %d, %s: %w", r.rank, r.size, what, train.ErrPeerFailed)
	}
	return nil
}

// agreeStart adds up the ranks' rows, class counts (counts, of classes
// entries, or fewer) and input sums (see inputSums; nil when the inputs
// are not standardised; summed in place), with whether any rank failed
// to scan its shard (localErr), and checks that the job's rows hold two
// classes. It returns the job's rows.
func (r ranks) agreeStart(rows int, counts []int, classes int, sums []float64, localErr error) (int, error) {
	if r.red == nil {
		return rows, localErr
	}
	c := make([]float64, 2+classes, 2+classes+len(sums))
	c[0] = float64(rows)
	if localErr != nil {
		c[1] = 1
	}
	for i, n := range counts[:min(len(counts), classes)] {
		c[2+i] = float64(n)
	}
	c = append(c, sums...)
	if err := r.red.AllReduceSum(c); err != nil {
		return 0, fmt.Errorf("rank %d of %d: all-reduce of the rows and input sums: %w", r.rank, r.size, err)
	}
	if err := r.failure("reading the training data", localErr, c[1] > 0); err != nil {
		return 0, err
	}
	present := 0
	for _, n := range c[2 : 2+classes] {
		if n > 0 {
			present++
		}
	}
	if present < 2 {
		return 0, fmt.Errorf("%w: class counts %v over the %d rows of %d ranks", data.ErrOneClass, c[2:2+classes], int(c[0]), r.size)
	}
	copy(sums, c[2+classes:])
	return int(c[0]), nil
}

// agreeFirst is the check before an epoch's first step that every rank
// has a batch (err: its shuffler's first Next): all go on, or all stop.
func (r ranks) agreeFirst(err error) (bool, error) {
	own := err
	if err == io.EOF {
		own = nil
	}
	if r.red == nil {
		return err == nil, own
	}
	c := []float64{0, 0}
	if err != nil {
		c[0] = 1
	}
	if own != nil {
		c[1] = 1
	}
	if rerr := r.red.AllReduceSum(c); rerr != nil {
		return false, fmt.Errorf("rank %d of %d: all-reduce before the epoch's first step: %w", r.rank, r.size, rerr)
	}
	return c[0] == 0, r.failure("the epoch's first batch", own, c[1] > 0)
}

// reduceStep turns this rank's step into the job's: g, the rank's
// gradient scaled by 1/rows (Backward's scale), becomes the gradient of
// all the ranks' rows (weighted by rows, summed, divided by the job's
// rows); s becomes the job's sums. nextErr is the rank's next Next; the
// ranks go on together while all have a next batch (a shorter shard
// ends the epoch for all, so that the steps agree). It returns the
// job's rows of the step and whether there is a next step.
func (r ranks) reduceStep(g []float32, s *Sums, rows int, nextErr error) (int, bool, error) {
	own := nextErr
	if nextErr == io.EOF {
		own = nil
	}
	if r.red == nil {
		return rows, nextErr == nil, own
	}
	w := float32(rows)
	for i := range g {
		g[i] *= w
	}
	c := []float64{float64(rows), s.Focal, s.Cluster, float64(s.Correct), 0, 0}
	if nextErr != nil {
		c[4] = 1
	}
	if own != nil {
		c[5] = 1
	}
	if err := r.red.AllReduceSum32(g); err != nil {
		return 0, false, fmt.Errorf("rank %d of %d: all-reduce of the gradient: %w", r.rank, r.size, err)
	}
	if err := r.red.AllReduceSum(c); err != nil {
		return 0, false, fmt.Errorf("rank %d of %d: all-reduce of the step's rows and losses: %w", r.rank, r.size, err)
	}
	inv := float32(1 / c[0])
	for i := range g {
		g[i] *= inv
	}
	s.Focal, s.Cluster, s.Correct = c[1], c[2], int(c[3])
	return int(c[0]), c[4] == 0, r.failure("the next batch", own, c[5] > 0)
}

// agreeEpoch makes the epoch's time rank 0's (the others add zero) and
// its shuffle rows the ranks' buffers added up; the rows and losses are
// already the job's (reduceStep).
func (r ranks) agreeEpoch(ep *Epoch) error {
	if r.red == nil {
		return nil
	}
	c := []float64{0, float64(ep.ShuffleRows)}
	if r.rank == 0 {
		c[0] = ep.Seconds
	}
	if err := r.red.AllReduceSum(c); err != nil {
		return fmt.Errorf("rank %d of %d: all-reduce of the epoch's figures: %w", r.rank, r.size, err)
	}
	ep.Seconds, ep.ShuffleRows = c[0], min(int(c[1]), ep.Rows)
	return nil
}

// gatherSample gives every rank the ranks' k-means samples (n rows of E
// values each; z's length is n·E), concatenated in rank order: an
// all-gather made of all-reduces of buffers that are zero outside each
// rank's slot of the largest sample's size (adding zeros is exact, so
// every rank gets the same bits). localErr is this rank's embedding
// failure, reported to all.
func (r ranks) gatherSample(z []float32, E int, localErr error) ([]float32, error) {
	if r.red == nil {
		return z, localErr
	}
	counts := make([]float64, r.size+1)
	counts[r.rank] = float64(len(z) / E)
	if localErr != nil {
		counts[r.size] = 1
	}
	if err := r.red.AllReduceSum(counts); err != nil {
		return nil, fmt.Errorf("rank %d of %d: all-reduce of the k-means sample sizes: %w", r.rank, r.size, err)
	}
	if err := r.failure("embedding for the k-means", localErr, counts[r.size] > 0); err != nil {
		return nil, err
	}
	most := 0
	for _, c := range counts[:r.size] {
		most = max(most, int(c))
	}
	all := make([]float32, r.size*most*E)
	copy(all[r.rank*most*E:], z)
	if err := r.red.AllReduceSum32(all); err != nil {
		return nil, fmt.Errorf("rank %d of %d: all-reduce of the k-means samples: %w", r.rank, r.size, err)
	}
	// Close the gaps after the shorter samples, in place (each moves left).
	at := 0
	for q, c := range counts[:r.size] {
		n := int(c) * E
		copy(all[at:at+n], all[q*most*E:q*most*E+n])
		at += n
	}
	return all[:at], nil
}

// peerErr prefixes the package's name to a peer's failure, whose error
// (unlike a rank's own) has none.
func peerErr(err error) error {
	if errors.Is(err, train.ErrPeerFailed) {
		return fmt.Errorf("ucluster: %w", err)
	}
	return err
}
