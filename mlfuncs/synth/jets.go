package synth

import (
	"math"
	"math/rand/v2"
)

// A small deterministic jet maker for UCluster's tests and benchmark,
// until the full generator (gen/jets) is used: W-, Z- and top-like fat
// jets as 2- and 3-prong particle clouds with soft radiation, each
// particle with UCluster's eight features.

// Jet classes (truth) and the features of a particle, in order.
const (
	JetW, JetZ, JetTop = 0, 1, 2
	JetFeatures        = 8 // Δη, Δφ, log pT, log E, log pT/pTjet, log E/Ejet, ΔR, PID
)

// JetOptions shape a generated jet set.
type JetOptions struct {
	Jets         int
	Seed         uint64
	MaxParticles int // 100
	// Separated makes the classes easy: masses 50, 110, 175 GeV with 2 GeV
	// smearing, against 80.4, 91.2, 172.5 with 8 GeV (W and Z overlap).
	Separated bool
}

// JetSet is a generated set: Particles holds Jets × MaxParticles ×
// JetFeatures float32, jet r's Counts[r] particles first (by falling pT),
// zero padding after.
type JetSet struct {
	Jets, MaxParticles int
	Particles          []float32
	Counts             []int
	Truth              []int32   // JetW, JetZ, JetTop
	Aux                []int32   // jet-mass class: MassBin of Mass
	Mass               []float32 // of the constituents, GeV
}

// MassBin is the auxiliary class of a jet mass: below 86 GeV, up to 130,
// above.
func MassBin(m float64) int32 {
	switch {
	case m < 86:
		return 0
	case m < 130:
		return 1
	}
	return 2
}

// Jets generates a set.
func Jets(o JetOptions) *JetSet {
	P := o.MaxParticles
	if P <= 0 {
		P = 100
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6a657473)) // "jets"
	s := &JetSet{Jets: o.Jets, MaxParticles: P, Particles: make([]float32, o.Jets*P*JetFeatures),
		Counts: make([]int, o.Jets), Truth: make([]int32, o.Jets), Aux: make([]int32, o.Jets), Mass: make([]float32, o.Jets)}
	masses, smear := [3]float64{80.4, 91.2, 172.5}, 8.0
	if o.Separated {
		masses, smear = [3]float64{50, 110, 175}, 2.0
	}
	type particle struct{ pt, eta, phi float64 }
	var parts []particle
	for r := 0; r < o.Jets; r++ {
		c := r % 3
		s.Truth[r] = int32(c)
		m := max(masses[c]+smear*rng.NormFloat64(), 20)
		ptJet := 450 + 250*rng.Float64()
		etaJet := 2*rng.Float64() - 1
		// Prong momentum fractions and axes: a 2-body split (z, 1−z) at
		// ΔR ≈ m/(pT √(z(1−z))); the top's b + W, the W split again.
		var fr []float64
		var ax [][2]float64
		split := func(pt, mass float64) (float64, [2]float64) {
			z := 0.25 + 0.5*rng.Float64()
			dr := min(mass/(pt*math.Sqrt(z*(1-z))), 0.7)
			th := 2 * math.Pi * rng.Float64()
			return z, [2]float64{dr * math.Cos(th), dr * math.Sin(th)}
		}
		if c == JetTop {
			z, d := split(ptJet, m)
			zw, dw := split(ptJet*(1-z), 80.4)
			// b at +z's side, the W's two prongs around the W axis.
			fr = []float64{z, (1 - z) * zw, (1 - z) * (1 - zw)}
			wAx := [2]float64{-d[0] * z, -d[1] * z}
			bAx := [2]float64{d[0] * (1 - z), d[1] * (1 - z)}
			ax = [][2]float64{bAx, {wAx[0] + dw[0]*(1-zw), wAx[1] + dw[1]*(1-zw)}, {wAx[0] - dw[0]*zw, wAx[1] - dw[1]*zw}}
		} else {
			z, d := split(ptJet, m)
			fr = []float64{z, 1 - z}
			ax = [][2]float64{{d[0] * (1 - z), d[1] * (1 - z)}, {-d[0] * z, -d[1] * z}}
		}
		parts = parts[:0]
		for k, f := range fr {
			n := 4 + rng.IntN(12)
			// Shares of the prong's pT: exponential draws, normalised.
			w := make([]float64, n)
			var sum float64
			for i := range w {
				w[i] = rng.ExpFloat64()
				sum += w[i]
			}
			for i := range w {
				parts = append(parts, particle{pt: 0.95 * f * ptJet * w[i] / sum,
					eta: etaJet + ax[k][0] + 0.02*rng.NormFloat64(), phi: ax[k][1] + 0.02*rng.NormFloat64()})
			}
		}
		// Soft radiation and pile-up, uniform in the R = 0.8 cone.
		for i, n := 0, 5+rng.IntN(15); i < n; i++ {
			rr, th := 0.8*math.Sqrt(rng.Float64()), 2*math.Pi*rng.Float64()
			parts = append(parts, particle{pt: 0.1 + 0.9*rng.Float64(), eta: etaJet + rr*math.Cos(th), phi: rr * math.Sin(th)})
		}
		// Sort by falling pT and keep the first P.
		for i := 1; i < len(parts); i++ {
			for j := i; j > 0 && parts[j].pt > parts[j-1].pt; j-- {
				parts[j], parts[j-1] = parts[j-1], parts[j]
			}
		}
		if len(parts) > P {
			parts = parts[:P]
		}
		var px, py, pz, e float64
		for _, p := range parts {
			px += p.pt * math.Cos(p.phi)
			py += p.pt * math.Sin(p.phi)
			pz += p.pt * math.Sinh(p.eta)
			e += p.pt * math.Cosh(p.eta)
		}
		mass := math.Sqrt(max(e*e-px*px-py*py-pz*pz, 0))
		pt := math.Hypot(px, py)
		eta := math.Asinh(pz / pt)
		phi := math.Atan2(py, px)
		s.Mass[r], s.Aux[r], s.Counts[r] = float32(mass), MassBin(mass), len(parts)
		for i, p := range parts {
			de := p.eta - eta
			dp := math.Remainder(p.phi-phi, 2*math.Pi)
			pe := p.pt * math.Cosh(p.eta)
			pid := float64(rng.IntN(5)) // a particle-type code, uninformative
			f := s.Particles[(r*P+i)*JetFeatures : (r*P+i+1)*JetFeatures]
			for k, v := range []float64{de, dp, math.Log(p.pt), math.Log(pe), math.Log(p.pt / pt), math.Log(pe / e), math.Hypot(de, dp), pid} {
				f[k] = float32(v)
			}
		}
	}
	return s
}
