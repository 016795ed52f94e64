package data

import (
	"context"
	"fmt"
)

// Split divides src into a training and a validation view: each row goes
// to validation with probability frac, decided by a hash of (seed, row
// number in the pass), so the split is the same on every pass and no row
// list is kept. The two views share src and must be read one at a time
// (a pass of one, then a pass of the other), as the trainer does.
func Split(src Source, frac float64, seed uint64) (train, val Source, err error) {
	if frac <= 0 || frac >= 1 {
		return nil, nil, fmt.Errorf("data: validation fraction %g; want it in (0, 1)", frac)
	}
	cut := uint64(frac * (1 << 53))
	inVal := func(row int) bool { return splitmix(seed^uint64(row)*0x9e3779b97f4a7c15)>>11 < cut }
	return &filter{src: src, keep: func(r int) bool { return !inVal(r) }},
		&filter{src: src, keep: inVal}, nil
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// filter passes on the rows of src for which keep(row number) holds.
type filter struct {
	src    Source
	keep   func(int) bool
	row    int
	inputs [][]float32
	labels []int32
}

func (f *filter) Dims() []int { return f.src.Dims() }

func (f *filter) Rewind() error { f.row = 0; return f.src.Rewind() }

func (f *filter) Next(ctx context.Context) (Batch, error) {
	dims := f.src.Dims()
	if f.inputs == nil {
		f.inputs = make([][]float32, len(dims))
	}
	for {
		b, err := f.src.Next(ctx)
		if err != nil {
			return Batch{}, err
		}
		out := Batch{Inputs: make([][]float32, len(dims))}
		f.labels = f.labels[:0]
		for i := range dims {
			f.inputs[i] = f.inputs[i][:0]
		}
		for r := 0; r < b.Rows; r++ {
			if f.keep(f.row + r) {
				for i, d := range dims {
					f.inputs[i] = append(f.inputs[i], b.Inputs[i][r*d:(r+1)*d]...)
				}
				f.labels = append(f.labels, b.Labels[r])
				out.Rows++
			}
		}
		f.row += b.Rows
		if out.Rows == 0 {
			continue
		}
		copy(out.Inputs, f.inputs)
		out.Labels = f.labels
		return out, nil
	}
}
