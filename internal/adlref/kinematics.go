package adlref

import "math"

// P4 is a four-momentum in GeV, Cartesian components.
type P4 struct {
	Px, Py, Pz, E float64
}

// PtEtaPhiM builds a four-vector from collider coordinates, with the
// benchmark's formulas: px = pt·cos φ, py = pt·sin φ, pz = pt·sinh η,
// E = sqrt((pt·cosh η)² + m²).
func PtEtaPhiM(pt, eta, phi, m float64) P4 {
	c := pt * math.Cosh(eta)
	return P4{
		Px: pt * math.Cos(phi),
		Py: pt * math.Sin(phi),
		Pz: pt * math.Sinh(eta),
		E:  math.Sqrt(float64(c*c) + float64(m*m)),
	}
}

// Add returns the component-wise sum p + q.
func (p P4) Add(q P4) P4 {
	return P4{Px: p.Px + q.Px, Py: p.Py + q.Py, Pz: p.Pz + q.Pz, E: p.E + q.E}
}

// Mass returns sqrt(E² − px² − py² − pz²). A negative square, which only
// rounding can produce, gives 0: DuckDB's sqrt rejects negative arguments,
// so the SQL clamps the same way.
func (p P4) Mass() float64 {
	m2 := float64(p.E*p.E) - float64(p.Px*p.Px) - float64(p.Py*p.Py) - float64(p.Pz*p.Pz)
	return math.Sqrt(max(m2, 0))
}

// Pt returns sqrt(px² + py²) (not math.Hypot, whose different rounding
// would break bit-for-bit agreement with the SQL).
func (p P4) Pt() float64 {
	return math.Sqrt(float64(p.Px*p.Px) + float64(p.Py*p.Py))
}

// DeltaPhi returns phi1 − phi2 wrapped into [−π, π], assuming both angles
// are in [−π, π] already (one correction suffices then).
func DeltaPhi(phi1, phi2 float64) float64 {
	d := phi1 - phi2
	switch {
	case d > math.Pi:
		return d - 2*math.Pi
	case d < -math.Pi:
		return d + 2*math.Pi
	}
	return d
}

// DeltaR returns sqrt(Δη² + Δφ²) with Δφ wrapped by DeltaPhi.
func DeltaR(eta1, phi1, eta2, phi2 float64) float64 {
	deta := eta1 - eta2
	dphi := DeltaPhi(phi1, phi2)
	return math.Sqrt(float64(deta*deta) + float64(dphi*dphi))
}

// TransverseMass returns sqrt(2·pt·MET·(1 − cos(φ − φ_MET))) for a lepton
// (pt, phi) and the missing transverse momentum (met, metPhi). The angle is
// not wrapped: cos does not need it, and the SQL does not wrap it either.
func TransverseMass(pt, phi, met, metPhi float64) float64 {
	return math.Sqrt(2 * pt * met * (1 - math.Cos(phi-metPhi)))
}
