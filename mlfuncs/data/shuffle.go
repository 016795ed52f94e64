package data

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
)

// Shuffler draws training batches in random order from a Source through a
// bounded buffer: it keeps up to Capacity rows, emits a uniformly chosen
// one, and refills its slot with the next row read. Rows far apart in the
// source mix only as far as the buffer reaches; a buffer as large as the
// data set gives a full shuffle. Memory is the buffer plus two output
// batches, whatever the size of the data set.
type Shuffler struct {
	src      Source
	dims     []int
	batch    int
	capacity int
	seed     uint64

	slots  [][]float32 // per input, capacity × dim
	labels []int32
	n      int // rows in the buffer

	in    Batch // current source batch
	inPos int
	inEOF bool

	// Two output batches, used in turn, so that a batch stays valid while
	// the next is drawn (the trainer draws it during a step).
	outs  [2]Batch
	views [2][][]float32 // the returned batches' Inputs, resliced per call
	flip  int
	rng   *rand.Rand

	ahead   []int   // slots drawn for the rest of the batch
	touched float32 // what the touches read, kept so that they are not dropped
}

// RowBytes is the memory one row takes in a buffer.
func RowBytes(dims []int) int64 {
	n := int64(4) // label
	for _, d := range dims {
		n += 4 * int64(d)
	}
	return n
}

// NewShuffler makes a shuffler yielding batches of batch rows, holding at
// most budget bytes of rows (buffer and both output batches together).
func NewShuffler(src Source, budget int64, batch int, seed uint64) (*Shuffler, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("data: batch size %d; want > 0", batch)
	}
	dims := src.Dims()
	rb := RowBytes(dims)
	capacity := budget/rb - 2*int64(batch)
	if capacity < int64(batch) {
		return nil, fmt.Errorf("data: memory budget of %d bytes holds %d rows of %d bytes; need at least %d (3 × batch %d)",
			budget, budget/rb, rb, 3*batch, batch)
	}
	s := &Shuffler{src: src, dims: dims, batch: batch, capacity: int(capacity), seed: seed}
	s.slots = make([][]float32, len(dims))
	for o := range s.outs {
		s.outs[o].Inputs = make([][]float32, len(dims))
		for i, d := range dims {
			s.outs[o].Inputs[i] = make([]float32, batch*d)
		}
		s.outs[o].Labels = make([]int32, batch)
		s.views[o] = make([][]float32, len(dims))
	}
	return s, nil
}

// Capacity is the number of rows the buffer holds.
func (s *Shuffler) Capacity() int { return s.capacity }

// Bytes is the memory held for rows so far: the buffer's slots as filled
// (at most Capacity rows) and the output batch.
func (s *Shuffler) Bytes() int64 {
	var n int64
	for _, sl := range s.slots {
		n += 4 * int64(cap(sl))
	}
	for _, out := range s.outs {
		for _, o := range out.Inputs {
			n += 4 * int64(len(o))
		}
		n += 4 * int64(len(out.Labels))
	}
	return n + 4*int64(cap(s.labels))
}

// Start begins epoch e: the source is rewound and the order is drawn from
// the seed and e, so that a run is reproducible epoch by epoch.
func (s *Shuffler) Start(e int) error {
	if err := s.src.Rewind(); err != nil {
		return fmt.Errorf("data: rewinding for epoch %d: %w", e, err)
	}
	s.rng = rand.New(rand.NewPCG(s.seed, uint64(e)+0x5eed))
	s.n, s.inPos, s.in, s.inEOF = 0, 0, Batch{}, false
	return nil
}

// pull returns the source's next row as (batch, index), reading a new
// batch when needed; ok is false at the end of the pass.
func (s *Shuffler) pull(ctx context.Context) (ok bool, err error) {
	for !s.inEOF && s.inPos >= s.in.Rows {
		b, err := s.src.Next(ctx)
		if err == io.EOF {
			s.inEOF = true
			break
		}
		if err != nil {
			return false, err
		}
		s.in, s.inPos = b, 0
	}
	return !s.inEOF, nil
}

// fill reads rows from the source into the buffer's empty slots until it
// is full or the source is exhausted. Only an epoch's first batch finds
// empty slots while the source has rows: Next refills each slot it draws.
func (s *Shuffler) fill(ctx context.Context) error {
	for s.n < s.capacity {
		ok, err := s.pull(ctx)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		// The rows left in the source's batch go to consecutive slots: one
		// copy per input for all of them, not one per row (the fill is
		// serial, between the epoch's steps).
		k := min(s.in.Rows-s.inPos, s.capacity-s.n)
		s.storeRun(s.n, k)
		s.n += k
	}
	return nil
}

func (s *Shuffler) store(slot int) { s.storeRun(slot, 1) }

// storeRun copies the source's next k rows into slots slot…slot+k−1,
// growing the buffer as needed.
func (s *Shuffler) storeRun(slot, k int) {
	for i, d := range s.dims {
		if s.slots[i] == nil {
			// Allocated on first use, so a small data set does not pay
			// for the whole budget.
			s.slots[i] = make([]float32, 0, min(s.capacity, 4096)*d)
		}
		if need := (slot + k) * d; need > len(s.slots[i]) {
			// Grow by doubling, but never past the capacity.
			if need > cap(s.slots[i]) {
				grown := make([]float32, need, min(s.capacity*d, max(need, 2*cap(s.slots[i]))))
				copy(grown, s.slots[i])
				s.slots[i] = grown
			}
			s.slots[i] = s.slots[i][:need]
		}
		copy(s.slots[i][slot*d:(slot+k)*d], s.in.Inputs[i][s.inPos*d:(s.inPos+k)*d])
	}
	if slot+k > len(s.labels) {
		s.labels = append(s.labels, make([]int32, slot+k-len(s.labels))...)
	}
	copy(s.labels[slot:slot+k], s.in.Labels[s.inPos:s.inPos+k])
	s.inPos += k
}

// Next returns the epoch's next batch (the last may be short) or io.EOF.
// The batch is valid until the call after next: the next call writes the
// other of two output buffers.
func (s *Shuffler) Next(ctx context.Context) (Batch, error) {
	if s.rng == nil {
		return Batch{}, fmt.Errorf("data: Shuffler.Next before Start")
	}
	if err := ctx.Err(); err != nil {
		return Batch{}, err
	}
	out := &s.outs[s.flip]
	if err := s.fill(ctx); err != nil {
		return Batch{}, err
	}
	rows := 0
	for rows < s.batch && s.n > 0 {
		// The batch's remaining slots are drawn ahead: a draw depends only
		// on how many rows the buffer holds, which stays the same while
		// the source gives a row for each one taken, and shrinks by one a
		// row once the source is exhausted. Knowing them, a tight loop
		// touches each row's first and last value and its label before the
		// copies, so that these reads at random places in a buffer much
		// larger than the CPU's caches are in flight together: one at a
		// time, inside the copy loop, they were 70% of the shuffler's
		// time, which the trainer spends between steps with its other
		// workers idle. (Wide rows, the particle sequences, are streamed by
		// the copy itself.)
		exhausted := s.inEOF
		m := s.batch - rows
		if exhausted {
			m = min(m, s.n)
		}
		if cap(s.ahead) < m {
			s.ahead = make([]int, m)
		}
		s.ahead = s.ahead[:m]
		for j := range s.ahead {
			n := s.n
			if exhausted {
				n -= j
			}
			s.ahead[j] = s.rng.IntN(n)
		}
		var touched float32
		for _, k := range s.ahead {
			for i, d := range s.dims {
				touched += s.slots[i][k*d] + s.slots[i][k*d+d-1]
			}
			touched += float32(s.labels[k])
		}
		s.touched = touched
		for _, k := range s.ahead {
			for i, d := range s.dims {
				copy(out.Inputs[i][rows*d:(rows+1)*d], s.slots[i][k*d:(k+1)*d])
			}
			out.Labels[rows] = s.labels[k]
			rows++
			ok, err := s.pull(ctx)
			if err != nil {
				return Batch{}, err
			}
			if ok {
				s.store(k)
				continue
			}
			// Source exhausted: move the last row into the hole.
			s.n--
			if k != s.n {
				for i, d := range s.dims {
					copy(s.slots[i][k*d:(k+1)*d], s.slots[i][s.n*d:(s.n+1)*d])
				}
				s.labels[k] = s.labels[s.n]
			}
			if !exhausted {
				break // the draws ahead assumed a full buffer
			}
		}
	}
	if rows == 0 {
		return Batch{}, io.EOF
	}
	b := Batch{Rows: rows, Labels: out.Labels[:rows], Inputs: s.views[s.flip]}
	for i, d := range s.dims {
		b.Inputs[i] = out.Inputs[i][:rows*d]
	}
	s.flip ^= 1
	return b, nil
}
