package synth

import (
	"context"
	"io"
	"slices"
	"testing"
)

func TestGenerateIsDeterministicAndShaped(t *testing.T) {
	o := Options{Rows: 300, Seed: 4, SeqLen: 40, MeanLen: 8}
	a, b := Generate(o), Generate(o)
	if !slices.Equal(a.HLF, b.HLF) || !slices.Equal(a.Steps, b.Steps) || !slices.Equal(a.Labels, b.Labels) {
		t.Fatal("same seed, different sets")
	}
	counts := make([]int, Classes)
	for _, l := range a.Labels {
		counts[l]++
	}
	for c, n := range counts {
		if n < 60 {
			t.Errorf("class %d has %d of 300 rows", c, n)
		}
	}
	// The dense source reproduces the packed particles, then zero padding.
	src := a.Source(true, true, 64)
	if d := src.Dims(); !slices.Equal(d, []int{HLFDim, 40 * SeqDim}) {
		t.Fatalf("dims %v", d)
	}
	row := 0
	for {
		bt, err := src.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r < bt.Rows; r++ {
			seq := bt.Inputs[1][r*40*SeqDim : (r+1)*40*SeqDim]
			n := int(a.Lens[row]) * SeqDim
			st := int(a.Start[row]) * SeqDim
			if !slices.Equal(seq[:n], a.Steps[st:st+n]) {
				t.Fatalf("row %d: particles differ", row)
			}
			for _, v := range seq[n:] {
				if v != 0 {
					t.Fatalf("row %d: padding not zero", row)
				}
			}
			for t2 := 0; t2 < int(a.Lens[row]); t2++ {
				if !slices.ContainsFunc(seq[t2*SeqDim:(t2+1)*SeqDim], func(v float32) bool { return v != 0 }) {
					t.Fatalf("row %d: particle %d is all zero and would be masked", row, t2)
				}
			}
			row++
		}
	}
	if row != 300 {
		t.Fatalf("source served %d rows", row)
	}
}
