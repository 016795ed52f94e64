// Package synth generates labelled three-class data sets of the topology
// classifier's shapes (14 high-level features and a T × 19 particle
// sequence with padding) for tests and benchmarks, deterministically from
// a seed. The classes overlap, so a classifier's AUC stays informative
// (about 0.9–0.99), and part of the information is only in the sequence.
package synth

import (
	"context"
	"io"
	"math"
	"math/rand/v2"

	"github.com/hepsql/hepsql/mlfuncs/data"
)

// Shapes of the topology classifier's inputs.
const (
	HLFDim  = 14
	SeqDim  = 19
	Classes = 3
)

// Set is a generated data set. Sequences are stored packed: row r's
// Lens[r] active particles are Steps[Start[r]·SeqDim:], SeqDim values each;
// expanded to SeqLen rows, the rest is zero padding.
type Set struct {
	Rows   int
	SeqLen int
	HLF    []float32 // Rows × HLFDim, in (0, 1) as after min–max scaling
	Labels []int32
	Lens   []int32
	Start  []int64
	Steps  []float32
}

// Options shape a generated set.
type Options struct {
	Rows   int
	Seed   uint64
	SeqLen int // T; 0: no sequences
	// MeanLen is the mean number of particles of the middle class; the
	// others have 0.6× and 1.4× as many. Default T/6.
	MeanLen int
}

// Generate draws a set. Labels cycle through the classes in random order.
func Generate(o Options) *Set {
	rng := rand.New(rand.NewPCG(o.Seed, 0x5e7))
	s := &Set{Rows: o.Rows, SeqLen: o.SeqLen, HLF: make([]float32, o.Rows*HLFDim), Labels: make([]int32, o.Rows)}
	// Per-class shifts of each high-level feature, fixed for all seeds so
	// that train and test sets made with different seeds agree.
	shift := func(c, j int) float64 { return 0.7 * math.Sin(float64(1+c)*float64(j+1)*1.7) }
	for r := 0; r < o.Rows; r++ {
		c := rng.IntN(Classes)
		s.Labels[r] = int32(c)
		x := s.HLF[r*HLFDim : (r+1)*HLFDim]
		for j := range x {
			v := rng.NormFloat64() + shift(c, j)
			if j < 3 && c == 1 {
				v *= 1.6 // information in the spread, not only the mean
			}
			x[j] = float32(1 / (1 + math.Exp(-v)))
		}
	}
	if o.SeqLen <= 0 {
		return s
	}
	mean := o.MeanLen
	if mean <= 0 {
		mean = o.SeqLen / 6
	}
	s.Lens = make([]int32, o.Rows)
	s.Start = make([]int64, o.Rows)
	s.Steps = make([]float32, 0, o.Rows*mean*SeqDim)
	for r := 0; r < o.Rows; r++ {
		c := int(s.Labels[r])
		m := float64(mean) * [3]float64{0.6, 1.4, 1}[c]
		n := int(math.Round(m * (0.5 + rng.Float64())))
		n = min(max(n, 1), o.SeqLen)
		s.Lens[r] = int32(n)
		s.Start[r] = int64(len(s.Steps) / SeqDim)
		for k := 0; k < n; k++ {
			var p [SeqDim]float32
			pt := rng.ExpFloat64() * (1 + 0.3*float64(c))
			eta := rng.NormFloat64() * (1.2 - 0.2*float64(c))
			phi := (2*rng.Float64() - 1) * math.Pi
			p[0] = float32(pt * math.Cosh(eta))
			p[1], p[2], p[3] = float32(pt*math.Cos(phi)), float32(pt*math.Sin(phi)), float32(pt*math.Sinh(eta))
			p[4], p[5], p[6] = float32(pt), float32(eta), float32(phi)
			for f := 7; f < 13; f++ {
				p[f] = float32(0.3*rng.NormFloat64() + 0.15*float64(c-1)*float64(f%3))
			}
			// Particle type: class-dependent mix of the one-hot columns.
			t := rng.IntN(5)
			if rng.Float64() < 0.15*float64(c) {
				t = c
			}
			p[13+t] = 1
			p[18] = float32(rng.IntN(3) - 1)
			s.Steps = append(s.Steps, p[:]...)
		}
	}
	return s
}

// Source serves the set in chunks of chunk rows as a data.Source with the
// inputs an nn model of the given kind reads: the HLF vector if hlf, the
// dense T × 19 sequence (padding at the end) if seq. Sequences are
// expanded chunk by chunk, so memory stays at one chunk whatever the size
// of the set.
func (s *Set) Source(hlf, seq bool, chunk int) data.Source {
	if chunk <= 0 {
		chunk = 256
	}
	src := &source{set: s, hlf: hlf, seq: seq, chunk: chunk}
	if hlf {
		src.dims = append(src.dims, HLFDim)
	}
	if seq {
		src.dims = append(src.dims, s.SeqLen*SeqDim)
	}
	return src
}

type source struct {
	set      *Set
	hlf, seq bool
	chunk    int
	dims     []int
	pos      int
	buf      []float32
}

func (s *source) Dims() []int   { return s.dims }
func (s *source) Rewind() error { s.pos = 0; return nil }

func (s *source) Next(ctx context.Context) (data.Batch, error) {
	if err := ctx.Err(); err != nil {
		return data.Batch{}, err
	}
	set := s.set
	if s.pos >= set.Rows {
		return data.Batch{}, io.EOF
	}
	lo, hi := s.pos, min(set.Rows, s.pos+s.chunk)
	s.pos = hi
	b := data.Batch{Rows: hi - lo, Labels: set.Labels[lo:hi]}
	if s.hlf {
		b.Inputs = append(b.Inputs, set.HLF[lo*HLFDim:hi*HLFDim])
	}
	if s.seq {
		w := set.SeqLen * SeqDim
		if cap(s.buf) < (hi-lo)*w {
			s.buf = make([]float32, (hi-lo)*w)
		}
		buf := s.buf[:(hi-lo)*w]
		for r := lo; r < hi; r++ {
			n := int(set.Lens[r]) * SeqDim
			st := int(set.Start[r]) * SeqDim
			row := buf[(r-lo)*w : (r-lo+1)*w]
			copy(row, set.Steps[st:st+n])
			clear(row[n:]) // only the padding: the trainer's shuffler waits on this
		}
		b.Inputs = append(b.Inputs, buf)
	}
	return b, nil
}
