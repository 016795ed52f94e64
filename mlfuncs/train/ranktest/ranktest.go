// Package ranktest is the harness of the data-parallel trainer's tests:
// a world of ranks as goroutines of one process (a train.Reducer without
// MPI), the disjoint split of a data set among ranks, and the comparison
// of the models and epoch figures that ranks and a single process reach.
// The MPI tests (internal/mpi) use it with real ranks.
package ranktest

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/hepsql/hepsql/mlfuncs/data"
)

// World is a world of Size ranks as goroutines; Rank(r) is rank r's
// Reducer. Sums are taken in rank order, so every rank gets the same
// bits, as MPI gives them.
type World struct {
	size    int
	mu      sync.Mutex
	cond    *sync.Cond
	slots   [][]float64
	slots32 [][]float32
	in, gen int
}

// NewWorld returns a world of size ranks.
func NewWorld(size int) *World {
	w := &World{size: size, slots: make([][]float64, size), slots32: make([][]float32, size)}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// Rank is one rank's view of a World.
type Rank struct {
	w *World
	r int
}

// Rank returns rank r's Reducer.
func (w *World) Rank(r int) *Rank { return &Rank{w, r} }

func (r *Rank) Rank() int { return r.r }
func (r *Rank) Size() int { return r.w.size }

// wait blocks until every rank has arrived.
func (w *World) wait() {
	g := w.gen
	if w.in++; w.in == w.size {
		w.in, w.gen = 0, w.gen+1
		w.cond.Broadcast()
		return
	}
	for g == w.gen {
		w.cond.Wait()
	}
}

func (r *Rank) AllReduceSum(buf []float64) error {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.slots[r.r] = buf
	w.wait()
	sum := make([]float64, len(buf))
	for _, s := range w.slots {
		if len(s) != len(buf) {
			return fmt.Errorf("ranktest: all-reduce of %d values on rank %d, %d on another", len(buf), r.r, len(s))
		}
		for i, v := range s {
			sum[i] += v
		}
	}
	w.wait() // no rank overwrites its buffer before all have read it
	copy(buf, sum)
	return nil
}

func (r *Rank) AllReduceSum32(buf []float32) error {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.slots32[r.r] = buf
	w.wait()
	sum := make([]float32, len(buf))
	for _, s := range w.slots32 {
		if len(s) != len(buf) {
			return fmt.Errorf("ranktest: all-reduce of %d values on rank %d, %d on another", len(buf), r.r, len(s))
		}
		for i, v := range s {
			sum[i] += v
		}
	}
	w.wait()
	copy(buf, sum)
	return nil
}

// Split returns rank's part of a data set held as inputs and labels (see
// data.NewMemory): rows r with r % size == rank, so that the parts are
// disjoint and their union is the whole.
func Split(inputs [][]float32, labels []int32, dims []int, rank, size int) (data.Source, error) {
	in := make([][]float32, len(inputs))
	var lab []int32
	for r, l := range labels {
		if r%size != rank {
			continue
		}
		lab = append(lab, l)
		for i, d := range dims {
			in[i] = append(in[i], inputs[i][r*d:(r+1)*d]...)
		}
	}
	return data.NewMemory(in, lab, dims, 97)
}

// MaxRelDiff is the largest |a−b| / max(|a|, |b|, floor) over the
// elements of two equally long vectors: the distance between two models'
// weights.
func MaxRelDiff(a, b []float32, floor float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		d = max(d, math.Abs(x-y)/max(math.Abs(x), math.Abs(y), floor))
	}
	return d
}

// Same reports whether two float slices are equal bit for bit.
func Same(a, b []float32) bool { return slices.Equal(a, b) }
