package sgemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gonumGemm is what package nn ran before this package: gonum's Sgemm on
// output tiles of at most 64×192, which keeps it on the calling goroutine.
func gonumGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	var impl gonum.Implementation
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	for i0 := 0; i0 < m; i0 += 64 {
		as := a[i0*lda:]
		if transA {
			as = a[i0:]
		}
		for j0 := 0; j0 < n; j0 += 192 {
			bs := b[j0:]
			if transB {
				bs = b[j0*ldb:]
			}
			impl.Sgemm(ta, tb, min(64, m-i0), min(192, n-j0), k, 1, as, lda, bs, ldb, beta, c[i0*ldc+j0:], ldc)
		}
	}
}

// The GRU's products (50 units, 19 features, ~48,000 steps per batch, up
// to 128 sequences per step) and the mlp's widest dense layer.
var benchShapes = []struct {
	name string
	shape
}{
	{"fwdStep/NN128x150x50", shape{false, false, 128, 150, 50}},
	{"fwdStep/NN37x150x50", shape{false, false, 37, 150, 50}},
	{"inProj/NN48000x150x19", shape{false, false, 48000, 150, 19}},
	{"bwdStep/NT128x50x150", shape{false, true, 128, 50, 150}},
	{"bwdStep/NT37x50x150", shape{false, true, 37, 50, 150}},
	{"gradWx/TN19x150x48000", shape{true, false, 19, 150, 48000}},
	{"gradUh/TN50x150x48000", shape{true, false, 50, 150, 48000}},
	{"mlp/NN128x50x14", shape{false, false, 128, 50, 14}},
	{"mlp/TN14x50x128", shape{true, false, 14, 50, 128}},
	{"mlp/NT128x14x50", shape{false, true, 128, 14, 50}},
	{"infer/TN50x512x14", shape{true, false, 50, 512, 14}},
}

func BenchmarkGemm(b *testing.B) {
	defer func(old bool) { useAsm = old }(useAsm)
	for _, bs := range benchShapes {
		o := newOperands(rand.New(rand.NewPCG(1, 1)), bs.shape, false)
		for _, impl := range []string{"asm", "go", "gonum"} {
			if impl == "asm" && !hasAsm {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", bs.name, impl), func(b *testing.B) {
				f := Gemm
				useAsm = impl == "asm"
				if impl == "gonum" {
					f = gonumGemm
				}
				for b.Loop() {
					f(o.transA, o.transB, o.m, o.n, o.k, o.a, o.lda, o.b, o.ldb, 1, o.c, o.ldc)
				}
				flop := 2 * float64(o.m) * float64(o.n) * float64(o.k) * float64(b.N)
				b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
