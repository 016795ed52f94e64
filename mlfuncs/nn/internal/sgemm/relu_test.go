package sgemm

import (
	"math"
	"testing"
)

// TestRelu compares Relu, assembly and Go, with a plain max over lengths
// that end inside and outside a block of 8, and with -0, NaN and ±Inf.
func TestRelu(t *testing.T) {
	for _, asm := range []bool{false, true} {
		if asm && !hasAsm {
			continue
		}
		saved := useAsm
		useAsm = asm
		for n := range 40 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(i%5) - 2.5 + float32(i)/100
			}
			if n > 3 {
				v[1], v[2], v[3] = float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(-1))
			}
			want := make([]float32, n)
			for i, x := range v {
				if x > 0 {
					want[i] = x
				}
			}
			Relu(v)
			for i := range v {
				if math.Float32bits(v[i]) != math.Float32bits(want[i]) {
					t.Fatalf("asm %v, n %d: v[%d] = %g, want %g", asm, n, i, v[i], want[i])
				}
			}
		}
		useAsm = saved
	}
}
