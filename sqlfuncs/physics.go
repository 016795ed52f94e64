package sqlfuncs

import "math"

// The scalar physics every vectorised body is built from, with the formulas
// of ../shared/specs/adl.md. Explicit float64() conversions around products
// keep the compiler from fusing multiply-adds on the platforms that would,
// so results do not depend on the CPU.

// DeltaPhi returns phi1 − phi2 wrapped into [−π, π].
func DeltaPhi(phi1, phi2 float64) float64 { return wrapPhi(phi1 - phi2) }

// DeltaR returns sqrt(Δη² + Δφ²) with Δφ wrapped.
func DeltaR(eta1, phi1, eta2, phi2 float64) float64 {
	deta := eta1 - eta2
	dphi := wrapPhi(phi1 - phi2)
	return math.Sqrt(float64(deta*deta) + float64(dphi*dphi))
}

// TransverseMass of an object (pt, phi) and the missing momentum.
func TransverseMass(pt, phi, met, metPhi float64) float64 {
	return math.Sqrt(2 * pt * met * (1 - math.Cos(phi-metPhi)))
}

// P4 is a four-momentum in Cartesian components.
type P4 struct{ Px, Py, Pz, E float64 }

// PtEtaPhiM builds a four-vector: px = pt·cos φ, py = pt·sin φ,
// pz = pt·sinh η, E = sqrt((pt·cosh η)² + m²). It is on every
// combinatoric function's hot path: cosh and sinh come from one
// exponential and cos and sin from one Sincos (two transcendental calls
// instead of six; the results differ from math.Cosh and math.Sinh by an
// ulp or so, and by a relative 1e-16/|η| in pz as η → 0, far below a
// float32 input's resolution).
func PtEtaPhiM(pt, eta, phi, m float64) P4 {
	ex := math.Exp(eta)
	inv := 1 / ex
	sin, cos := math.Sincos(phi)
	c := pt * 0.5 * (ex + inv)
	return P4{Px: pt * cos, Py: pt * sin, Pz: pt * 0.5 * (ex - inv), E: math.Sqrt(float64(c*c) + float64(m*m))}
}

// Add returns p + q.
func (p P4) Add(q P4) P4 { return P4{p.Px + q.Px, p.Py + q.Py, p.Pz + q.Pz, p.E + q.E} }

// Mass is sqrt(E² − p²), 0 when rounding makes the square negative.
func (p P4) Mass() float64 {
	m2 := float64(p.E*p.E) - float64(p.Px*p.Px) - float64(p.Py*p.Py) - float64(p.Pz*p.Pz)
	return math.Sqrt(max(m2, 0))
}

// Pt is sqrt(px² + py²).
func (p P4) Pt() float64 { return math.Sqrt(float64(p.Px*p.Px) + float64(p.Py*p.Py)) }

// Eta is the pseudorapidity asinh(pz/pt); ±Inf along the beam, 0 at rest.
func (p P4) Eta() float64 {
	pt := p.Pt()
	if pt == 0 {
		switch {
		case p.Pz > 0:
			return math.Inf(1)
		case p.Pz < 0:
			return math.Inf(-1)
		}
		return 0
	}
	return math.Asinh(p.Pz / pt)
}

// Phi is atan2(py, px) in [−π, π].
func (p P4) Phi() float64 { return math.Atan2(p.Py, p.Px) }

// BinCentre places v in the ADL histogram convention: the centre of its bin
// of [lo, hi) in nbins bins, lo − w/2 below lo, hi + w/2 at or above hi
// (NaN included, as DuckDB orders NaN above every number).
func BinCentre(v, lo, hi float64, nbins int) float64 {
	w := (hi - lo) / float64(nbins)
	switch {
	case v < lo:
		return lo - w/2
	case !(v < hi):
		return hi + w/2
	}
	// (v−lo)/w may round up to nbins just below hi: cap it.
	k := min(math.Floor((v-lo)/w), float64(nbins-1))
	return lo + float64((k+0.5)*w)
}
