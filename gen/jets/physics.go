package jets

import (
	"math"
	"slices"

	"github.com/hepsql/hepsql/gen/internal/mc"
)

// The model's constants (GeV, radians in η–φ space). doc.go describes the
// model; the test measures what they give.
const (
	jetR = 0.8 // the jet's cone radius around its axis

	// Parent transverse momentum: dN/dpT ∝ pT^-ptPower in [ptMin, ptMax].
	ptMin, ptMax, ptPower = 600, 1200, 3.0
	etaMax                = 1.5

	wMass, wWidth     = 80.379, 2.085
	zMass, zWidth     = 91.1876, 2.4952
	topMass, topWidth = 172.5, 1.42
	bMass             = 4.78

	// The shower: emissions with density (2αs·C/π)·dθ/θ·dz/z, z in
	// (zMin, ½), angular ordering, and emissions with a relative transverse
	// momentum z·pT·θ below ktCut resolved as nothing.
	alphaS = 0.13
	cF, cA = 4.0 / 3, 3.0
	zMin   = 1e-3
	ktCut  = 0.4

	// Hadronisation: a parton of transverse momentum pt becomes
	// 1 + Poisson(hadronsPerLog·ln(1 + pt)) hadrons spread by about
	// hadronKt/pT around it.
	hadronsPerLog = 1.4
	hadronKt      = 0.35

	// Pile-up and underlying event inside the cone: Poisson(μ) particles,
	// μ uniform in [puMin, puMax], pT puPtMin + Exp(puPtMean), uniform over
	// the disc.
	puMin, puMax      = 4, 24
	puPtMin, puPtMean = 0.1, 0.4

	// Species shares of hadrons (the rest: neutral hadrons).
	chargedShare = 0.62
	photonShare  = 0.25

	// Reconstruction thresholds (pT) per species.
	chargedMinPt = 0.4
	photonMinPt  = 0.5
	neutralMinPt = 1.0

	// Detector resolution: σ(pT)/pT = trkRes ⊕ trkResPt·pT for tracks;
	// σ(E)/E = stoch/√E ⊕ constant for photons (ecal*) and neutral hadrons
	// (hcal*), whose direction is also smeared by hcalCell. jetScale is a
	// per-jet calorimeter-response fluctuation shared by the jet's photons
	// and neutral hadrons.
	trkRes, trkResPt     = 0.005, 1.5e-4
	ecalStoch, ecalConst = 0.05, 0.01
	hcalStoch, hcalConst = 1.0, 0.08
	hcalCell             = 0.03
	jetScale             = 0.12
)

// PDG ids of the constituents.
const (
	pdgPhoton  = 22
	pdgPion    = 211
	pdgKaonL   = 130
	pdgKaon    = 321
	pdgNeutron = 2112
	pdgProton  = 2212
)

// parton is a massless shower parton; particle a final constituent.
type parton struct {
	pt, eta, phi float64
	gluon        bool
}

type particle struct {
	pt, eta, phi, e float64
	pid             int32
}

// Generator draws jets; each jet is a pure function of (seed, index).
// A Generator is not safe for concurrent use.
type Generator struct {
	mc.Stream
	seed    uint64
	qcd     bool
	partons []parton
	hadrons []parton
	parts   []particle
	weights []float64
	keys    []uint64
	// dirs[i] is hadron i's direction as restoreMass computed it, reused
	// by reconstruct for the hadrons whose direction the detector keeps
	// (the same inputs give the same bits, so the jets do not change);
	// hadrons past len(dirs) (pile-up, QCD jets) have none yet.
	dirs []direction
}

// direction caches the transcendental functions of a hadron's η and φ.
type direction struct{ sinh, cosh, sin, cos float64 }

func directionOf(eta, phi float64) direction {
	sinh, cosh := sinhCosh(eta)
	s, c := fastSincos(phi)
	return direction{sinh: sinh, cosh: cosh, sin: s, cos: c}
}

// NewGenerator returns a generator of the sample with the given seed, with
// or without QCD jets.
func NewGenerator(seed int64, qcd bool) *Generator {
	return &Generator{Stream: mc.NewStream(), seed: mc.SplitMix64(uint64(seed)), qcd: qcd}
}

// Fill draws jet idx into j, reusing j's slices.
func (g *Generator) Fill(j *Jet, idx int64) {
	g.Reseed(g.seed, idx)
	class := ClassOf(idx, g.qcd)
	g.partons, g.hadrons, g.parts, g.dirs = g.partons[:0], g.hadrons[:0], g.parts[:0], g.dirs[:0]

	// The parent's direction is the jet's axis.
	pt := g.spectrum()
	eta, phi := g.Uniform(-etaMax, etaMax), g.Azimuth()
	switch class {
	case W:
		g.diquark(fromPtEtaPhiM(pt, eta, phi, g.BreitWigner(wMass, wWidth, wMass-15, wMass+15)))
	case Z:
		g.diquark(fromPtEtaPhiM(pt, eta, phi, g.BreitWigner(zMass, zWidth, zMass-15, zMass+15)))
	case Top:
		g.top(fromPtEtaPhiM(pt, eta, phi, g.BreitWigner(topMass, topWidth, topMass-25, topMass+25)))
	case QCD:
		g.shower(parton{pt: pt, eta: eta, phi: phi, gluon: g.Chance(0.5)}, jetR)
		g.hadronise()
	}
	g.pileUp(eta, phi)
	g.reconstruct(j, class, eta, phi)
}

// The bounds of the pT spectrum's inverse CDF and the shower's ln(1/2zMin),
// computed once rather than per jet or per shower.
var (
	spectrumLo, spectrumHi = math.Pow(ptMin, 1-ptPower), math.Pow(ptMax, 1-ptPower)
	logInvTwoZMin          = math.Log(0.5 / zMin)
)

// spectrum draws the parent's pT from the falling power law.
func (g *Generator) spectrum() float64 {
	a, b := spectrumLo, spectrumHi
	return math.Pow(a+(b-a)*g.Float64(), 1/(1-ptPower))
}

func fromPtEtaPhiM(pt, eta, phi, m float64) mc.P4 {
	px, py, pz := pt*math.Cos(phi), pt*math.Sin(phi), pt*math.Sinh(eta)
	return mc.P4{Px: px, Py: py, Pz: pz, E: math.Sqrt(px*px + py*py + pz*pz + m*m)}
}

// deltaR is the η–φ distance of two directions.
func deltaR(eta1, phi1, eta2, phi2 float64) float64 {
	deta, dphi := eta1-eta2, mc.WrapPhi(phi1-phi2)
	return math.Sqrt(deta*deta + dphi*dphi)
}

func partonOf(p mc.P4, gluon bool) parton {
	return parton{pt: p.Pt(), eta: p.Eta(), phi: p.Phi(), gluon: gluon}
}

// diquark decays a colour-singlet boson (W, Z) to two quarks, isotropic in
// its frame; each quark radiates within the opening angle of the pair
// (colour coherence).
func (g *Generator) diquark(v mc.P4) {
	q1, q2 := g.Decay(v, 0, 0)
	a, b := partonOf(q1, false), partonOf(q2, false)
	open := deltaR(a.eta, a.phi, b.eta, b.phi)
	g.shower(a, open)
	g.shower(b, open)
	g.hadronise()
	g.restoreMass(v.Mass())
}

// top decays t → bW, W → qq̄'; each quark radiates within the angle to its
// nearest neighbour.
func (g *Generator) top(t mc.P4) {
	b, w := g.Decay(t, bMass, g.BreitWigner(wMass, wWidth, wMass-15, wMass+15))
	q1, q2 := g.Decay(w, 0, 0)
	pb, p1, p2 := partonOf(b, false), partonOf(q1, false), partonOf(q2, false)
	d12 := deltaR(p1.eta, p1.phi, p2.eta, p2.phi)
	db1 := deltaR(pb.eta, pb.phi, p1.eta, p1.phi)
	db2 := deltaR(pb.eta, pb.phi, p2.eta, p2.phi)
	g.shower(pb, min(db1, db2))
	g.shower(p1, min(d12, db1))
	g.shower(p2, min(d12, db2))
	g.hadronise()
	g.restoreMass(t.Mass())
}

// shower radiates from p, angular-ordered below thetaMax, and appends the
// final partons. Emissions are drawn in the soft-collinear limit: the next
// angle from the density λ·dθ/θ (λ = 2αs·C/π · ln(1/2zMin)), the momentum
// fraction log-uniform in (zMin, ½). The emitter and the emitted gluon
// share p's pT and keep its pT-weighted direction; the gluon radiates in
// turn within the emission angle.
func (g *Generator) shower(p parton, thetaMax float64) {
	logZ := logInvTwoZMin
	theta := thetaMax
	for {
		c := cF
		if p.gluon {
			c = cA
		}
		lambda := 2 * alphaS * c / math.Pi * logZ
		theta *= fastExp(math.Log(g.Float64()) / lambda) // u^(1/λ)
		if p.pt*theta/2 < ktCut {
			break // no resolvable emission remains
		}
		z := zMin * fastExp(logZ*g.Float64())
		if z*p.pt*theta < ktCut {
			continue
		}
		psi := g.Azimuth()
		sin, cos := fastSincos(psi)
		de, dp := theta*cos, theta*sin
		gl := parton{pt: z * p.pt, eta: p.eta + (1-z)*de, phi: mc.WrapPhi(p.phi + (1-z)*dp), gluon: true}
		p.pt *= 1 - z
		p.eta -= z * de
		p.phi = mc.WrapPhi(p.phi - z*dp)
		g.shower(gl, theta)
	}
	g.partons = append(g.partons, p)
}

// hadronise turns every parton into hadrons sharing its pT by exponential
// weights, each spread around it by a transverse momentum of order
// hadronKt.
func (g *Generator) hadronise() {
	for _, p := range g.partons {
		// ln(1 + pT) as math.Log(1+pT): pT is at least ktCut, where
		// math.Log1p's extra precision near 0 is not needed and it costs
		// several times math.Log.
		n := 1 + g.poisson(hadronsPerLog*math.Log(1+p.pt))
		g.weights = g.weights[:0]
		var sum float64
		for range n {
			w := g.R.ExpFloat64()
			g.weights = append(g.weights, w)
			sum += w
		}
		for _, w := range g.weights {
			pt := p.pt * w / sum
			s := min(hadronKt/pt, 0.1)
			eta := p.eta + g.Gauss(0, s)
			g.addHadron(pt, eta, mc.WrapPhi(p.phi+g.Gauss(0, s)))
		}
	}
}

// restoreMass scales the hadrons' momenta so that, taken massless, they
// carry the parent's mass again: the soft-collinear shower conserves pT but
// not the invariant mass of what it splits.
func (g *Generator) restoreMass(m float64) {
	// The sum of mc.P4.Add (same order, same roundings) in locals; the
	// directions stored field by field (see addHadron).
	var sx, sy, sz, se float64
	g.dirs = slices.Grow(g.dirs[:0], len(g.hadrons))[:len(g.hadrons)]
	for i := range g.hadrons {
		h, d := &g.hadrons[i], &g.dirs[i]
		d.sinh, d.cosh = sinhCosh(h.eta)
		d.sin, d.cos = fastSincos(h.phi)
		sx, sy, sz, se = sx+h.pt*d.cos, sy+h.pt*d.sin, sz+h.pt*d.sinh, se+h.pt*d.cosh
	}
	sum := mc.P4{Px: sx, Py: sy, Pz: sz, E: se}
	if sm := sum.Mass(); sm > 0 {
		k := m / sm
		for i := range g.hadrons {
			g.hadrons[i].pt *= k
		}
	}
}

// poisson is mc.Stream.Poisson (Knuth's product method, the same draws)
// with fastExp for its limit.
func (g *Generator) poisson(mean float64) int {
	limit := fastExp(-mean)
	k, p := 0, g.Float64()
	for p > limit {
		k++
		p *= g.Float64()
	}
	return k
}

// sinhCosh computes both from one exponential: the generator's hot loop
// needs them for every particle.
func sinhCosh(x float64) (sinh, cosh float64) {
	e := fastExp(x)
	return (e - 1/e) / 2, (e + 1/e) / 2
}

// pileUp adds soft particles spread uniformly over the jet's disc.
func (g *Generator) pileUp(eta, phi float64) {
	for range g.poisson(g.Uniform(puMin, puMax)) {
		r, a := jetR*math.Sqrt(g.Float64()), g.Azimuth()
		sin, cos := fastSincos(a)
		g.addHadron(puPtMin+g.Exp(puPtMean), eta+r*cos, mc.WrapPhi(phi+r*sin))
	}
}

// addHadron appends a hadron field by field: a struct literal built on
// the stack and then copied into the slice stalls on store forwarding
// (so does reconstruct's particle).
func (g *Generator) addHadron(pt, eta, phi float64) {
	n := len(g.hadrons)
	if n == cap(g.hadrons) {
		g.hadrons = slices.Grow(g.hadrons, 1)
	}
	g.hadrons = g.hadrons[:n+1]
	h := &g.hadrons[n]
	h.pt, h.eta, h.phi, h.gluon = pt, eta, phi, false
}

// reconstruct gives every hadron a species, applies the detector, keeps
// what lies within jetR of the axis and passes its threshold, and writes
// the jet: its four-momentum from all kept constituents, the hardest
// MaxParticles of them as its particle list.
func (g *Generator) reconstruct(j *Jet, class Class, axisEta, axisPhi float64) {
	response := max(1+g.Gauss(0, jetScale), 0.5)
	// Px, Py, Pz and E of the kept constituents, summed as mc.P4.Add
	// would (same order, same roundings), in locals that stay in
	// registers.
	var sx, sy, sz, se float64
	g.parts = slices.Grow(g.parts[:0], len(g.hadrons))
	for i := range g.hadrons {
		h := &g.hadrons[i]
		pt, eta, phi := h.pt, h.eta, h.phi
		cached := i < len(g.dirs)
		var pid int32
		switch u := g.Float64(); {
		case u < chargedShare:
			pid = g.chargedPID()
			pt *= 1 + g.Gauss(0, math.Sqrt(trkRes*trkRes+trkResPt*trkResPt*pt*pt))
			if pt < chargedMinPt {
				continue
			}
		case u < chargedShare+photonShare:
			pid = pdgPhoton
			pt *= response * (1 + g.Gauss(0, math.Sqrt(ecalStoch*ecalStoch/(pt*g.coshOf(i, eta))+ecalConst*ecalConst)))
			if pt < photonMinPt {
				continue
			}
		default:
			pid = pdgKaonL
			if g.Chance(0.4) {
				pid = pdgNeutron
			}
			pt *= response * (1 + g.Gauss(0, math.Sqrt(hcalStoch*hcalStoch/(pt*g.coshOf(i, eta))+hcalConst*hcalConst)))
			eta, phi = eta+g.Gauss(0, hcalCell), mc.WrapPhi(phi+g.Gauss(0, hcalCell))
			cached = false // the cell smearing moved it
			if pt < neutralMinPt {
				continue
			}
		}
		if deltaR(eta, phi, axisEta, axisPhi) >= jetR {
			continue
		}
		var d direction
		if cached {
			d = g.dirs[i]
		} else {
			d = directionOf(eta, phi)
		}
		// Constituents are massless, as particle-flow candidates are in
		// the HLS4ML data: a pion mass on every soft particle would add
		// tens of GeV to a boosted jet's mass.
		pz, e := pt*d.sinh, pt*d.cosh
		// Fields stored one by one into the slice's element: a struct
		// literal built on the stack and then copied stalls on store
		// forwarding.
		n := len(g.parts)
		g.parts = g.parts[:n+1]
		q := &g.parts[n]
		q.pt, q.eta, q.phi, q.e, q.pid = pt, eta, phi, e, pid
		sx, sy, sz, se = sx+pt*d.cos, sy+pt*d.sin, sz+pz, se+e
	}
	sum := mc.P4{Px: sx, Py: sy, Pz: sz, E: se}
	// Hardest first, by the stored (float32) pT, ties in production order:
	// plain integer keys, ~pT bits above the index, sort fastest.
	g.keys = slices.Grow(g.keys[:0], len(g.parts))[:len(g.parts)]
	for i := range g.parts {
		g.keys[i] = uint64(^math.Float32bits(float32(g.parts[i].pt)))<<32 | uint64(i)
	}
	sortKeys(g.keys)
	kept := g.keys[:min(len(g.keys), MaxParticles)]

	j.Pt, j.Eta, j.Phi, j.Mass, j.E = float32(sum.Pt()), float32(sum.Eta()), float32(sum.Phi()), float32(sum.Mass()), float32(sum.E)
	j.Truth = int32(class)
	n := len(kept)
	j.NPart = uint32(n)
	j.PartPt = slices.Grow(j.PartPt[:0], n)[:n]
	j.PartEta = slices.Grow(j.PartEta[:0], n)[:n]
	j.PartPhi = slices.Grow(j.PartPhi[:0], n)[:n]
	j.PartE = slices.Grow(j.PartE[:0], n)[:n]
	j.PartPID = slices.Grow(j.PartPID[:0], n)[:n]
	pts, etas, phis, es, pids := j.PartPt[:n], j.PartEta[:n], j.PartPhi[:n], j.PartE[:n], j.PartPID[:n]
	for i, k := range kept {
		p := &g.parts[uint32(k)]
		pts[i], etas[i], phis[i], es[i], pids[i] = float32(p.pt), float32(p.eta), float32(p.phi), float32(p.e), p.pid
	}
}

// coshOf is cosh η of hadron i at η = eta, before any smearing: from
// restoreMass's cache where it has one.
func (g *Generator) coshOf(i int, eta float64) float64 {
	if i < len(g.dirs) {
		return g.dirs[i].cosh
	}
	_, c := sinhCosh(eta)
	return c
}

// chargedPID draws a charged hadron's signed PDG id.
func (g *Generator) chargedPID() int32 {
	sign := int32(1)
	if g.R.Uint64()&1 == 0 {
		sign = -1
	}
	switch u := g.Float64(); {
	case u < 0.75:
		return sign * pdgPion
	case u < 0.9:
		return sign * pdgKaon
	}
	return sign * pdgProton
}

// sortKeys sorts distinct keys ascending: by insertion for the few dozen
// constituents of most jets (cheaper there than pdqsort's partitioning),
// by slices.Sort beyond.
func sortKeys(k []uint64) {
	if len(k) > 64 {
		slices.Sort(k)
		return
	}
	for i := 1; i < len(k); i++ {
		v := k[i]
		j := i
		for ; j > 0 && k[j-1] > v; j-- {
			k[j] = k[j-1]
		}
		k[j] = v
	}
}
