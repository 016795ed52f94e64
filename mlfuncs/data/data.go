// Package data is the trainer's input: a Source streams a labelled data
// set as columnar float32 batches, pass after pass, and the Shuffler turns
// it into shuffled training batches within a memory budget. The SQL layer
// implements Source over DuckDB chunks (or a local columnar cache of a
// query's result); tests and benchmarks use Memory.
package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
)

// Batch is a block of rows in columnar form: Inputs[i] holds Rows × dims[i]
// float32 values, row-major, for model input i; Labels holds each row's
// class index.
type Batch struct {
	Rows   int
	Inputs [][]float32
	Labels []int32
}

// Source streams a data set. A pass starts with Rewind and ends when Next
// returns io.EOF. Every pass must yield the same rows in the same order
// (validation splits and determinism rely on it); batch sizes may vary.
type Source interface {
	// Dims gives the float32 values per row of each input.
	Dims() []int
	// Rewind starts a new pass from the first row.
	Rewind() error
	// Next returns the pass's next batch, or io.EOF after the last. The
	// batch's slices are valid until the next call to Next or Rewind.
	Next(ctx context.Context) (Batch, error)
}

// Memory is a Source over slices held in memory, served in chunks.
type Memory struct {
	inputs [][]float32
	labels []int32
	dims   []int
	chunk  int
	pos    int
}

// NewMemory serves rows len(labels) of inputs (input i: rows × dims[i]
// values) in chunks of chunk rows (2048, DuckDB's vector size, if ≤ 0).
func NewMemory(inputs [][]float32, labels []int32, dims []int, chunk int) (*Memory, error) {
	if len(inputs) != len(dims) {
		return nil, fmt.Errorf("data: %d inputs but %d dims", len(inputs), len(dims))
	}
	for i, d := range dims {
		if len(inputs[i]) != len(labels)*d {
			return nil, fmt.Errorf("data: input %d has %d values; want %d rows × %d", i+1, len(inputs[i]), len(labels), d)
		}
	}
	if chunk <= 0 {
		chunk = 2048
	}
	return &Memory{inputs: inputs, labels: labels, dims: dims, chunk: chunk}, nil
}

func (m *Memory) Dims() []int   { return m.dims }
func (m *Memory) Rewind() error { m.pos = 0; return nil }

func (m *Memory) Next(ctx context.Context) (Batch, error) {
	if err := ctx.Err(); err != nil {
		return Batch{}, err
	}
	if m.pos >= len(m.labels) {
		return Batch{}, io.EOF
	}
	lo, hi := m.pos, min(len(m.labels), m.pos+m.chunk)
	m.pos = hi
	b := Batch{Rows: hi - lo, Labels: m.labels[lo:hi], Inputs: make([][]float32, len(m.dims))}
	for i, d := range m.dims {
		b.Inputs[i] = m.inputs[i][lo*d : hi*d]
	}
	return b, nil
}

// Stats summarises one pass over a Source.
type Stats struct {
	Rows        int
	ClassCounts []int
}

// Sentinel errors of Scan, wrapped with the details.
var (
	ErrEmpty     = errors.New("data: no rows")
	ErrOneClass  = errors.New("data: only one class present")
	ErrNotFinite = errors.New("data: NaN or infinite feature")
	ErrShape     = errors.New("data: wrong shape")
	ErrLabel     = errors.New("data: label out of range")
)

// Scan reads one full pass and checks it: every batch has the expected
// input widths, features are finite, labels lie in [0, classes), and at
// least two classes occur. Names label the inputs in errors. The trainer
// calls it before the first epoch so that bad input fails before any
// training starts.
func Scan(ctx context.Context, src Source, names []string, want []int, classes int) (Stats, error) {
	st := Stats{ClassCounts: make([]int, classes)}
	dims := src.Dims()
	if len(dims) != len(want) {
		return st, fmt.Errorf("%w: %d inputs, the model takes %d (%v)", ErrShape, len(dims), len(want), names)
	}
	for i := range want {
		if dims[i] != want[i] {
			return st, fmt.Errorf("%w: input %q has %d values per row, the model takes %d", ErrShape, names[i], dims[i], want[i])
		}
	}
	if err := src.Rewind(); err != nil {
		return st, fmt.Errorf("data: rewinding: %w", err)
	}
	for {
		b, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, fmt.Errorf("data: reading row %d: %w", st.Rows+1, err)
		}
		if len(b.Labels) != b.Rows || len(b.Inputs) != len(want) {
			return st, fmt.Errorf("%w: batch at row %d has %d labels and %d inputs for %d rows", ErrShape, st.Rows+1, len(b.Labels), len(b.Inputs), b.Rows)
		}
		for i, d := range want {
			x := b.Inputs[i]
			if len(x) != b.Rows*d {
				return st, fmt.Errorf("%w: input %q at row %d: %d values for %d rows of %d", ErrShape, names[i], st.Rows+1, len(x), b.Rows, d)
			}
			for j, v := range x {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return st, fmt.Errorf("%w: input %q row %d value %d is %v", ErrNotFinite, names[i], st.Rows+j/d+1, j%d+1, v)
				}
			}
		}
		for r, l := range b.Labels {
			if l < 0 || int(l) >= classes {
				return st, fmt.Errorf("%w: row %d has label %d; want 0…%d", ErrLabel, st.Rows+r+1, l, classes-1)
			}
			st.ClassCounts[l]++
		}
		st.Rows += b.Rows
	}
	if st.Rows == 0 {
		return st, ErrEmpty
	}
	present := 0
	for _, n := range st.ClassCounts {
		if n > 0 {
			present++
		}
	}
	if present < 2 {
		return st, fmt.Errorf("%w: class counts %v over %d rows", ErrOneClass, st.ClassCounts, st.Rows)
	}
	return st, nil
}
