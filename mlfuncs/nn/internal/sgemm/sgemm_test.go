package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// kernels runs f with each kernel this machine can run: the portable one
// always, the assembly where the CPU has it.
func kernels(t *testing.T, f func(t *testing.T)) {
	defer func(old bool) { useAsm = old }(useAsm)
	for _, asm := range []bool{false, true} {
		if asm && !hasAsm {
			t.Log("no AVX2+FMA: assembly kernel not tested")
			continue
		}
		useAsm = asm
		t.Run(fmt.Sprintf("asm=%v", asm), f)
	}
}

type shape struct {
	transA, transB bool
	m, n, k        int
}

func (s shape) String() string {
	ta, tb := "N", "N"
	if s.transA {
		ta = "T"
	}
	if s.transB {
		tb = "T"
	}
	return fmt.Sprintf("%s%s/%dx%dx%d", ta, tb, s.m, s.n, s.k)
}

// modelShapes are the products package nn runs (GRU with 50 units on 19
// features, the mlp's 14→50→20→10→3 head, inference's feature-major
// layers), with the sample count cut down to keep the reference quick.
func modelShapes() []shape {
	S := 12345
	if raceEnabled {
		S = 1234
	}
	var s []shape
	for _, n := range []int{1, 2, 5, 6, 7, 31, 64, 127, 128} {
		s = append(s,
			shape{false, false, n, 150, 50},
			shape{false, true, n, 50, 150})
	}
	s = append(s,
		shape{false, false, S, 150, 19},
		shape{true, false, 19, 150, S},
		shape{true, false, 50, 150, S})
	dims := []int{14, 50, 20, 10, 3}
	for i := 0; i+1 < len(dims); i++ {
		in, out := dims[i], dims[i+1]
		s = append(s,
			shape{false, false, 128, out, in},
			shape{true, false, in, out, 128},
			shape{false, true, 128, in, out},
			shape{true, false, out, 1000, in})
	}
	// Chunked transposes of b: wider than transCols, and deeper than
	// the scratch holds at that width.
	s = append(s,
		shape{false, true, 7, 300, 40},
		shape{true, true, 5, 20, 900},
		shape{false, false, 9, 33, 3*kBlock + 5},
		shape{true, false, 13, 17, 2*kBlock + 1})
	return s
}

func randomShapes(r *rand.Rand, count int) []shape {
	s := make([]shape, count)
	for i := range s {
		s[i] = shape{r.IntN(2) == 1, r.IntN(2) == 1, 1 + r.IntN(70), 1 + r.IntN(70), 1 + r.IntN(70)}
	}
	return s
}

// operands holds one product's matrices with padded strides and spare
// room after c, so that writes outside the m×n window show up.
type operands struct {
	shape
	a, b, c       []float32
	lda, ldb, ldc int
}

const sentinel = float32(-7.25e-19)

func newOperands(r *rand.Rand, s shape, integer bool) *operands {
	o := &operands{shape: s}
	val := func() float32 {
		if integer {
			return float32(r.IntN(5) - 2)
		}
		return float32(r.NormFloat64())
	}
	fill := func(rows, cols int, ld *int) []float32 {
		*ld = cols + r.IntN(4)
		x := make([]float32, (rows-1)**ld+cols)
		for i := range x {
			x[i] = val()
		}
		return x
	}
	if s.transA {
		o.a = fill(s.k, s.m, &o.lda)
	} else {
		o.a = fill(s.m, s.k, &o.lda)
	}
	if s.transB {
		o.b = fill(s.n, s.k, &o.ldb)
	} else {
		o.b = fill(s.k, s.n, &o.ldb)
	}
	o.ldc = s.n + r.IntN(4)
	o.c = make([]float32, (s.m-1)*o.ldc+s.n+7)
	for i := range o.c {
		o.c[i] = sentinel
	}
	for i := 0; i < s.m; i++ {
		for j := 0; j < s.n; j++ {
			o.c[i*o.ldc+j] = val()
		}
	}
	return o
}

func (o *operands) at(x []float32, ld int, trans bool, i, j int) float64 {
	if trans {
		i, j = j, i
	}
	return float64(x[i*ld+j])
}

// reference returns beta·c + op(a)·op(b) summed in float64, and the
// matching sums of magnitudes that bound the float32 rounding error.
func (o *operands) reference(beta float32) (want, mag []float64) {
	want = make([]float64, o.m*o.n)
	mag = make([]float64, o.m*o.n)
	for i := 0; i < o.m; i++ {
		for j := 0; j < o.n; j++ {
			var s, abs float64
			if beta != 0 {
				s = float64(beta) * float64(o.c[i*o.ldc+j])
				abs = math.Abs(s)
			}
			for p := 0; p < o.k; p++ {
				x := o.at(o.a, o.lda, o.transA, i, p) * o.at(o.b, o.ldb, o.transB, p, j)
				s += x
				abs += math.Abs(x)
			}
			want[i*o.n+j], mag[i*o.n+j] = s, abs
		}
	}
	return want, mag
}

// run calls Gemm and checks it against the reference: exactly when the
// inputs are small integers (every partial sum is then representable),
// else within a few float32 ulps of the magnitude sum; and checks that
// nothing outside the window changed. With beta 0 the window starts as
// NaN, which must not leak into the result.
func (o *operands) run(t *testing.T, beta float32, exact bool) {
	t.Helper()
	if beta == 0 {
		for i := 0; i < o.m; i++ {
			for j := 0; j < o.n; j++ {
				o.c[i*o.ldc+j] = float32(math.NaN())
			}
		}
	}
	want, mag := o.reference(beta)
	a0, b0 := append([]float32(nil), o.a...), append([]float32(nil), o.b...)
	Gemm(o.transA, o.transB, o.m, o.n, o.k, o.a, o.lda, o.b, o.ldb, beta, o.c, o.ldc)
	bad := 0
	for i := 0; i < o.m; i++ {
		for j := 0; j < o.ldc && i*o.ldc+j < len(o.c); j++ {
			got := o.c[i*o.ldc+j]
			if j >= o.n {
				if got != sentinel {
					t.Errorf("%v beta %v: c[%d][%d] outside the window changed to %v", o.shape, beta, i, j, got)
					bad++
				}
				continue
			}
			w, tol := want[i*o.n+j], 0.0
			if !exact {
				tol = 1e-5 * mag[i*o.n+j]
			}
			if d := math.Abs(float64(got) - w); !(d <= tol) {
				t.Errorf("%v beta %v: c[%d][%d] = %v, want %v ± %.3g", o.shape, beta, i, j, got, w, tol)
				bad++
			}
			if bad > 5 {
				t.FailNow()
			}
		}
	}
	for i := (o.m-1)*o.ldc + o.n; i < len(o.c); i++ {
		if o.c[i] != sentinel {
			t.Fatalf("%v beta %v: c[%d] past the last row changed to %v", o.shape, beta, i, o.c[i])
		}
	}
	for i := range a0 {
		if o.a[i] != a0[i] && !(math.IsNaN(float64(a0[i]))) {
			t.Fatalf("%v: a changed", o.shape)
		}
	}
	for i := range b0 {
		if o.b[i] != b0[i] {
			t.Fatalf("%v: b changed", o.shape)
		}
	}
}

func TestGemm(t *testing.T) {
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		count := 400
		if raceEnabled {
			count = 100
		}
		shapes := append(modelShapes(), randomShapes(r, count)...)
		for _, s := range shapes {
			betas := []float32{0, 1, 0.5}
			if s.m*s.n*s.k > 1e7 {
				// The sample-sized products: their beta handling is
				// the same code as the chunked-k shapes' below them.
				betas = betas[1:2]
			}
			for _, beta := range betas {
				for _, exact := range []bool{true, false} {
					newOperands(r, s, exact).run(t, beta, exact)
				}
			}
		}
	})
}

// TestAllTrans runs every combination of transposes and edge remainders
// in rows (1..6 and more) and columns (below, at and above 8 and 16).
func TestAllTrans(t *testing.T) {
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 11, 12, 13} {
					for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40} {
						for _, k := range []int{1, 2, 9} {
							newOperands(r, shape{ta, tb, m, n, k}, true).run(t, 1, true)
							newOperands(r, shape{ta, tb, m, n, k}, false).run(t, 0, false)
						}
					}
				}
			}
		}
	})
}

func TestKZero(t *testing.T) {
	kernels(t, func(t *testing.T) {
		c := []float32{1, 2, 3, 4, 5, 6}
		Gemm(false, false, 2, 2, 0, nil, 1, nil, 2, 1, c, 3)
		Gemm(false, false, 1, 2, 0, nil, 1, nil, 2, 2, c, 3)
		Gemm(false, false, 1, 2, 0, nil, 1, nil, 2, 0, c[3:], 3)
		want := []float32{2, 4, 3, 0, 0, 6}
		for i := range c {
			if c[i] != want[i] {
				t.Fatalf("c = %v, want %v", c, want)
			}
		}
	})
}

func TestShortSlicePanics(t *testing.T) {
	a := make([]float32, 6)
	b := make([]float32, 6)
	c := make([]float32, 4)
	for name, f := range map[string]func(){
		"short a": func() { Gemm(false, false, 2, 2, 3, a[:5], 3, b, 2, 0, c, 2) },
		"short b": func() { Gemm(false, true, 2, 2, 3, a, 3, b[:5], 3, 0, c, 2) },
		"short c": func() { Gemm(false, false, 2, 2, 3, a, 3, b, 2, 0, c[:3], 2) },
		"lda":     func() { Gemm(true, false, 2, 2, 3, a, 1, b, 2, 0, c, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// The hot path must not allocate: the transpose scratch of op(b) = bᵀ
// stays on the stack only while the kernels are called directly.
func TestNoAllocs(t *testing.T) {
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, s := range []shape{{false, true, 128, 50, 150}, {false, false, 128, 150, 50}, {true, false, 50, 150, 1000}} {
			o := newOperands(r, s, false)
			if n := testing.AllocsPerRun(10, func() {
				Gemm(o.transA, o.transB, o.m, o.n, o.k, o.a, o.lda, o.b, o.ldb, 1, o.c, o.ldc)
			}); n != 0 {
				t.Errorf("%v: %v allocations per call", s, n)
			}
		}
	})
}
