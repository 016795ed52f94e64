package adamk

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The kernel must give the scalar code's bits, with one gradient buffer
// and with two, on every length around the 8-lane blocks, and across
// repeated steps (m and v carried over).
func TestKernelMatchesScalar(t *testing.T) {
	if !useAsm {
		t.Log("no AVX on this CPU: Update is the scalar code itself")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	c := &Consts{B1: 0.9, C1: 1 - float32(0.9), B2: 0.999, C2: 1 - float32(0.999), Step: 3e-4, Eps: 1e-7}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 63, 2013} {
		for _, two := range []bool{false, true} {
			t.Run(fmt.Sprintf("n=%d/two=%v", n, two), func(t *testing.T) {
				fill := func() []float32 {
					s := make([]float32, n)
					for i := range s {
						s[i] = float32(rng.NormFloat64()) * 0.1
					}
					return s
				}
				p, ga := fill(), fill()
				var gb []float32
				if two {
					gb = fill()
				}
				if n > 3 {
					ga[0], ga[1], ga[2] = 0, float32(math.Copysign(0, -1)), 1e-30 // zeros and a gradient whose square underflows
				}
				m, v := make([]float32, n), make([]float32, n)
				pr, mr, vr := append([]float32{}, p...), make([]float32, n), make([]float32, n)
				for range 3 {
					Update(p, m, v, ga, gb, c)
					updateGo(pr, mr, vr, ga, gb, c)
				}
				for i := range p {
					if math.Float32bits(p[i]) != math.Float32bits(pr[i]) || m[i] != mr[i] || v[i] != vr[i] {
						t.Fatalf("weight %d: kernel p %g m %g v %g, scalar p %g m %g v %g", i, p[i], m[i], v[i], pr[i], mr[i], vr[i])
					}
				}
			})
		}
	}
}

// A wrong step would pass the comparison above if both paths shared it:
// check one weight against Adam's formula in float64.
func TestOneStepByHand(t *testing.T) {
	c := &Consts{B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, Step: 0.01, Eps: 1e-8}
	p := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	ga := []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	gb := []float32{-0.25, -0.25, -0.25, -0.25, -0.25, -0.25, -0.25, -0.25, -0.25}
	m, v := make([]float32, 9), make([]float32, 9)
	Update(p, m, v, ga, gb, c)
	g := 0.25
	wantM, wantV := 0.1*g, 0.001*g*g
	want := 1 - 0.01*wantM/(math.Sqrt(wantV)+1e-8)
	for i := range p {
		if math.Abs(float64(p[i])-want) > 1e-6 || math.Abs(float64(m[i])-wantM) > 1e-7 || math.Abs(float64(v[i])-wantV) > 1e-9 {
			t.Fatalf("weight %d: p %g m %g v %g, want %g %g %g", i, p[i], m[i], v[i], want, wantM, wantV)
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	for _, asm := range []bool{false, true} {
		b.Run(fmt.Sprintf("asm=%v", asm), func(b *testing.B) {
			if asm && !useAsm {
				b.Skip("no AVX")
			}
			defer func(old bool) { useAsm = old }(useAsm)
			useAsm = asm
			const n = 2013 // the topology mlp
			p, m, v, ga, gb := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range ga {
				ga[i], gb[i] = float32(i%7)*0.01, float32(i%5)*0.01
			}
			c := &Consts{B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, Step: 1e-3, Eps: 1e-7}
			for b.Loop() {
				Update(p, m, v, ga, gb, c)
			}
		})
	}
}
