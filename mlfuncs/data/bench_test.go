package data

import (
	"context"
	"io"
	"testing"
)

// One epoch of mlbench's mlp input (14 floats a row) through the shuffler:
// the trainer runs it serially between steps, so its cost per batch bounds
// the data-parallel speed-up.
func BenchmarkShufflerHLF(b *testing.B) {
	const rows, d = 200000, 14
	x := make([]float32, rows*d)
	l := make([]int32, rows)
	for i := range x {
		x[i] = float32(i)
	}
	src, err := NewMemory([][]float32{x}, l, []int{d}, 2048)
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewShuffler(src, 256<<20, 128, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	e := 0
	for b.Loop() {
		e++
		if err := s.Start(e); err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := s.Next(context.Background()); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows/128), "ns/batch")
}
