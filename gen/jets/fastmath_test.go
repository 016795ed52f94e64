package jets

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestFastExp compares fastExp with math.Exp over the ranges the
// generator uses and beyond, in units in the last place.
func TestFastExp(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	check := func(x float64) {
		got, want := fastExp(x), math.Exp(x)
		if want == 0 || math.IsInf(want, 0) {
			if got != want {
				t.Fatalf("fastExp(%v) = %v, math.Exp %v", x, got, want)
			}
			return
		}
		ulp := math.Abs(got-want) / (math.Nextafter(want, math.Inf(1)) - want)
		if ulp > worst {
			worst = ulp
		}
		if ulp > 2 {
			t.Fatalf("fastExp(%v) = %v, math.Exp %v: %.1f ulp apart", x, got, want, ulp)
		}
	}
	for range 1_000_000 {
		check(r.Float64()*20 - 10)
		check(r.Float64()*1400 - 700)
		check((r.Float64() - 0.5) * 1e-3)
	}
	for _, x := range []float64{0, -0.0, 1, -1, math.Ln2, 709.7, 710, -708, -745, -800, math.Inf(1), math.Inf(-1)} {
		check(x)
	}
	if !math.IsNaN(fastExp(math.NaN())) {
		t.Error("fastExp(NaN) is not NaN")
	}
	t.Logf("worst distance from math.Exp: %.2f ulp", worst)
}

// TestFastSincos compares fastSincos with math.Sincos, in units in the
// last place of the larger of the two results' magnitudes (near a zero of
// sin or cos both are accurate in absolute terms, not relative ones).
func TestFastSincos(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	worst := 0.0
	check := func(x float64) {
		s, c := fastSincos(x)
		ws, wc := math.Sincos(x)
		for _, p := range [][2]float64{{s, ws}, {c, wc}} {
			scale := max(math.Abs(p[1]), 0.5)
			ulp := math.Abs(p[0]-p[1]) / (math.Nextafter(scale, 2) - scale)
			worst = max(worst, ulp)
			if ulp > 2 {
				t.Fatalf("fastSincos(%v) = %v, %v; math.Sincos %v, %v: %.1f ulp apart", x, s, c, ws, wc, ulp)
			}
		}
	}
	for range 1_000_000 {
		check((r.Float64()*2 - 1) * math.Pi)
		check((r.Float64()*2 - 1) * 1e4)
		check((r.Float64() - 0.5) * 1e-6)
	}
	for _, x := range []float64{0, math.Pi, -math.Pi, math.Pi / 2, math.Pi / 4, 1e5, 1e6} {
		check(x)
	}
	if s, c := fastSincos(math.NaN()); !math.IsNaN(s) || !math.IsNaN(c) {
		t.Error("fastSincos(NaN) is not NaN")
	}
	t.Logf("worst distance from math.Sincos: %.2f ulp", worst)
}

// sinCosTaylor is sin x or cos x from their Taylor series in 200-bit
// arithmetic: a reference independent of both math.Sincos and the table.
func sinCosTaylor(x float64, cos bool) float64 {
	const prec = 200
	term := new(big.Float).SetPrec(prec).SetFloat64(x)
	x2 := new(big.Float).SetPrec(prec).Mul(term, term)
	n := 1
	if cos {
		term.SetInt64(1)
		n = 0
	}
	sum := new(big.Float).SetPrec(prec).Set(term)
	for ; n < 80; n += 2 {
		term.Mul(term, x2)
		term.Quo(term, new(big.Float).SetInt64(int64(-(n+1)*(n+2))))
		sum.Add(sum, term)
	}
	f, _ := sum.Float64()
	return f
}

// TestFastSincosExact checks fastSincos against the correctly rounded
// values over the generator's angles, [−π, π].
func TestFastSincosExact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	worst := 0.0
	for range 5000 {
		x := (r.Float64()*2 - 1) * math.Pi
		s, c := fastSincos(x)
		for _, p := range [][2]float64{{s, sinCosTaylor(x, false)}, {c, sinCosTaylor(x, true)}} {
			scale := max(math.Abs(p[1]), 0.5)
			ulp := math.Abs(p[0]-p[1]) / (math.Nextafter(scale, 2) - scale)
			worst = max(worst, ulp)
			if ulp > 1 {
				t.Fatalf("fastSincos(%v): %v, correctly rounded %v: %.1f ulp apart", x, p[0], p[1], ulp)
			}
		}
	}
	t.Logf("worst distance from the correctly rounded values: %.2f ulp", worst)
}
