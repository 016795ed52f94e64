package sqlml

import (
	"fmt"

	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/train"
)

// world is the data-parallel job this process is a rank of (see
// SetWorld); nil is a world of one.
var world train.Reducer

// SetWorld makes every train() and tune() of this process one rank of a
// data-parallel job (cmd/hepsql calls it under mpirun with the mpi
// build, whose databases read their rank's shard): each rank trains on
// its own query rows, the gradients are all-reduced every step, every
// rank returns the same epoch rows, and rank 0 alone stores the model.
// Every rank must run the same statements in the same order. Call it
// before the first statement.
func SetWorld(r train.Reducer) {
	if r != nil && r.Size() <= 1 {
		r = nil
	}
	world = r
}

// storesModels reports whether this process writes models: rank 0 does,
// the other ranks hold the same weights and store nothing.
func storesModels() bool { return world == nil || world.Rank() == 0 }

// agreeData makes the layout completed from the rows the same on every
// rank (classes, sequence length: the model's shape), and checks the
// whole job's rows rather than this rank's: some rows on every rank (an
// empty shard would leave the others waiting), two classes in all.
// Every rank returns the same error.
func agreeData(c *cache, l *layout, localErr error) error {
	if world == nil {
		return localErr
	}
	R, me := world.Size(), world.Rank()
	// Per rank: rows, classes seen, longest sequence, failed.
	g := make([]float64, 4*R)
	g[4*me], g[4*me+1], g[4*me+2] = float64(c.rows), float64(len(c.counts)), float64(c.maxLen)
	if localErr != nil {
		g[4*me+3] = 1
	}
	if err := world.AllReduceSum(g); err != nil {
		return fmt.Errorf("rank %d of %d: agreeing on the training data: %w", me, R, err)
	}
	classes, maxLen, total := 0, 0, 0
	for r := range R {
		if g[4*r+3] > 0 {
			if r == me {
				return fmt.Errorf("rank %d of %d: %w", me, R, localErr)
			}
			return fmt.Errorf("rank %d of %d: the training data failed on rank %d (its error is in its output)", me, R, r)
		}
		if g[4*r] == 0 {
			return fmt.Errorf("%w: rank %d of %d's shard of the query has no rows; use fewer ranks or more sources", data.ErrEmpty, r, R)
		}
		classes, maxLen, total = max(classes, int(g[4*r+1])), max(maxLen, int(g[4*r+2])), total+int(g[4*r])
	}
	counts := make([]float64, classes)
	for i, n := range c.counts {
		counts[i] = float64(n)
	}
	if err := world.AllReduceSum(counts); err != nil {
		return fmt.Errorf("rank %d of %d: agreeing on the classes: %w", me, R, err)
	}
	present := 0
	for _, n := range counts {
		if n > 0 {
			present++
		}
	}
	if present < 2 {
		return fmt.Errorf("%w: all %d rows of the %d ranks have label %d; training needs at least two classes", data.ErrOneClass, total, R, classes-1)
	}
	if l.Classes == 0 {
		l.Classes = classes
	}
	if l.hasSeq() && l.SeqLen == 0 {
		l.SeqLen = max(maxLen, 1)
	}
	return nil
}
