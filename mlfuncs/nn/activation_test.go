package nn

import (
	"math"
	"testing"
)

// TestActivations checks the float32 activations against float64 math
// over the range a GRU sees and beyond, densely near 0 and at the clamps.
func TestActivations(t *testing.T) {
	var xs []float32
	for i := -200000; i <= 200000; i++ {
		xs = append(xs, float32(i)*1e-3) // [-200, 200] in steps of 0.001
	}
	for e := -40; e <= 0; e++ {
		v := float32(math.Pow(2, float64(e)))
		xs = append(xs, v, -v, v*1.37, -v*1.37)
	}
	xs = append(xs, 0, expMin, expMax, expMin-1e-3, expMax+1e-3, math.MaxFloat32, -math.MaxFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)))
	ulp := func(v float64) float64 { return math.Abs(v) * 0x1p-23 }
	var worstExp, worstSig, worstTanh float64
	for _, x := range xs {
		x64 := float64(x)
		if x >= expMin && x <= expMax {
			want := math.Exp(x64)
			if d := math.Abs(float64(exp32(x))-want) / ulp(want); d > worstExp {
				worstExp = d
			}
		}
		if d := math.Abs(float64(sigmoid(x)) - 1/(1+math.Exp(-x64))); d > worstSig {
			worstSig = d
		}
		if d := math.Abs(float64(tanh32(x)) - math.Tanh(x64)); d > worstTanh {
			worstTanh = d
		}
		if s := sigmoid(x); s < 0 || s > 1 {
			t.Fatalf("sigmoid(%g) = %g, outside [0, 1]", x, s)
		}
		if h := tanh32(x); h < -1 || h > 1 || (x != 0 && math.Signbit(float64(h)) != math.Signbit(x64)) {
			t.Fatalf("tanh32(%g) = %g", x, h)
		}
	}
	t.Logf("worst: exp32 %.2f ulp, sigmoid %.2g, tanh %.2g (absolute)", worstExp, worstSig, worstTanh)
	if worstExp > 2 || worstSig > 1.5e-7 || worstTanh > 1.5e-7 {
		t.Errorf("activations too far from float64 math: exp32 %.2f ulp (≤ 2), sigmoid %.2g, tanh %.2g (≤ 1.5e-7)",
			worstExp, worstSig, worstTanh)
	}
	if tanh32(20) != 1 || tanh32(-20) != -1 || sigmoid(100) != 1 || sigmoid(-100) > 1e-37 {
		t.Errorf("saturation: tanh(±20) = %g, %g; sigmoid(±100) = %g, %g", tanh32(20), tanh32(-20), sigmoid(100), sigmoid(-100))
	}
	nan := float32(math.NaN())
	if !math.IsNaN(float64(exp32(nan))) || !math.IsNaN(float64(sigmoid(nan))) || !math.IsNaN(float64(tanh32(nan))) {
		t.Errorf("NaN must propagate: exp32 %g sigmoid %g tanh32 %g", exp32(nan), sigmoid(nan), tanh32(nan))
	}
}

func BenchmarkActivations(b *testing.B) {
	xs := make([]float32, 4096)
	for i := range xs {
		xs[i] = float32(i-2048) / 256
	}
	var sink float32
	for b.Loop() {
		for _, x := range xs {
			sink += sigmoid(x) + tanh32(x)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/(sigmoid+tanh)")
	_ = sink
}
