package adlref

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.15g, want %.15g (±%g)", what, got, want, tol)
	}
}

func TestPtEtaPhiM(t *testing.T) {
	p := PtEtaPhiM(10, 0, 0, 0)
	if p != (P4{Px: 10, Py: 0, Pz: 0, E: 10}) {
		t.Errorf("PtEtaPhiM(10, 0, 0, 0) = %+v", p)
	}
	// pt 3 along y, mass 4: E = sqrt(3² + 4²) = 5.
	p = PtEtaPhiM(3, 0, math.Pi/2, 4)
	near(t, "px", p.Px, 0, 1e-15)
	near(t, "py", p.Py, 3, 1e-15)
	near(t, "E", p.E, 5, 1e-15)
	near(t, "mass", p.Mass(), 4, 1e-14)
	near(t, "pt", p.Pt(), 3, 1e-15)
	// η = 1: pz = pt·sinh 1, E = pt·cosh 1 for a massless particle.
	p = PtEtaPhiM(2, 1, 0, 0)
	near(t, "pz", p.Pz, 2*1.1752011936438014, 1e-14)
	near(t, "E", p.E, 2*1.5430806348152437, 1e-14)
}

func TestPairMass(t *testing.T) {
	// Two back-to-back massless 45 GeV particles: m = 90, pt = 0.
	s := PtEtaPhiM(45, 0, 0, 0).Add(PtEtaPhiM(45, 0, math.Pi, 0))
	near(t, "mass", s.Mass(), 90, 1e-12)
	near(t, "pt", s.Pt(), 0, 1e-12)
	// Massless pair: m² = 2·pt1·pt2·(cosh Δη − cos Δφ);
	// pt 40 each, Δη = 1, Δφ = π/2: m = sqrt(3200·cosh 1) = 70.26989420376823.
	s = PtEtaPhiM(40, 0.5, 0, 0).Add(PtEtaPhiM(40, -0.5, math.Pi/2, 0))
	near(t, "mass", s.Mass(), 70.26989420376823, 1e-11)
	// Rounding can make E² − p² slightly negative for a massless particle
	// along the beam; Mass clamps it to 0 rather than returning NaN.
	if m := (P4{Px: 1, Py: 0, Pz: 0, E: 1 - 1e-16}).Mass(); m != 0 {
		t.Errorf("mass of a slightly spacelike vector = %v, want 0", m)
	}
}

func TestDeltaPhiAndR(t *testing.T) {
	near(t, "DeltaPhi(1, 0.5)", DeltaPhi(1, 0.5), 0.5, 0)
	// 3 − (−3) = 6 wraps to 6 − 2π.
	near(t, "DeltaPhi(3, -3)", DeltaPhi(3, -3), 6-2*math.Pi, 1e-15)
	near(t, "DeltaPhi(-3, 3)", DeltaPhi(-3, 3), 2*math.Pi-6, 1e-15)
	near(t, "DeltaPhi(π, -π)", DeltaPhi(math.Pi, -math.Pi), 0, 1e-15)
	// Δη = 0.3, Δφ = 6 − 2π: ΔR = sqrt(0.09 + 0.0801939182023966).
	near(t, "DeltaR", DeltaR(0.5, 3, 0.2, -3), 0.4125456559005277, 1e-15)
	near(t, "DeltaR symmetric", DeltaR(0.2, -3, 0.5, 3), 0.4125456559005277, 1e-15)
}

func TestTransverseMass(t *testing.T) {
	// Back to back: sqrt(2·40·40·2) = 80.
	near(t, "back to back", TransverseMass(40, 0, 40, math.Pi), 80, 1e-12)
	near(t, "collinear", TransverseMass(30, 1, 50, 1), 0, 0)
	// Perpendicular: sqrt(2·30·50) = sqrt(3000).
	near(t, "perpendicular", TransverseMass(30, 0, 50, math.Pi/2), 54.772255750516614, 1e-12)
}
