// Package ranktest is the harness of the data-parallel trainer's tests:
// a world of ranks as goroutines of one process (a train.Reducer without
// MPI), the disjoint split of a data set among ranks, and the comparison
// of the models and epoch figures that ranks and a single process reach.
// The MPI tests (internal/mpi) use it with real ranks.
package ranktest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/nn"
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

// Separable makes rows of a data set whose class is plain to see: the HLF
// vector's first features sit near one corner per class, and each active
// particle's first value has the class's sign pattern; sequences have
// 1…T−1 particles with padding after them.
func Separable(spec nn.Spec, rows int, seed uint64) ([][]float32, []int32) {
	s, _ := spec.Normalize()
	rng := rand.New(rand.NewPCG(seed, 1))
	labels := make([]int32, rows)
	var hlf, seq []float32
	if s.HLFDim > 0 {
		hlf = make([]float32, rows*s.HLFDim)
	}
	if s.SeqLen > 0 {
		seq = make([]float32, rows*s.SeqLen*s.SeqDim)
	}
	for r := range labels {
		c := rng.IntN(s.Classes)
		labels[r] = int32(c)
		for j := 0; j < s.HLFDim; j++ {
			v := 0.3 * rng.NormFloat64()
			if j == c {
				v += 2
			}
			hlf[r*s.HLFDim+j] = float32(v)
		}
		if seq != nil {
			n := 1 + rng.IntN(s.SeqLen-1)
			for t := 0; t < n; t++ {
				x := seq[(r*s.SeqLen+t)*s.SeqDim:]
				for f := 0; f < s.SeqDim; f++ {
					x[f] = float32(0.3 * rng.NormFloat64())
				}
				x[0] += float32(c - 1)
			}
		}
	}
	var in [][]float32
	if hlf != nil {
		in = append(in, hlf)
	}
	if seq != nil {
		in = append(in, seq)
	}
	return in, labels
}
