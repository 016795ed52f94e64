package topology

import (
	"cmp"
	"math"
	"slices"

	"github.com/hepsql/hepsql/gen/internal/mc"
)

// Detector acceptance and object thresholds (GeV, pseudorapidity).
const (
	trackerMaxEta  = 2.5 // tracks, b-tagging, electrons
	caloMaxEta     = 3.0 // particle-flow photons and neutral hadrons
	muonMaxEta     = 2.4
	leptonMinPt    = 10 // reconstructed electrons and muons
	jetMinPt       = 20
	jetMaxEta      = 4.7
	electronEff    = 0.90
	muonEff        = 0.95
	bTagEff        = 0.70
	cMistag        = 0.10
	lightMistag    = 0.01
	metResolution  = 0.5 // σ(MET_x), σ(MET_y) = metResolution·sqrt(ΣET)
	beamSpotXY     = 0.015
	beamSpotZ      = 40 // mm: spread of primary and pile-up vertices along z
	vertexResXY    = 0.01
	vertexResZ     = 0.03
	coneMax        = 0.4 // jet constituents lie within this ΔR of the axis
	chargedShare   = 0.62
	photonShare    = 0.25 // the rest of a jet's constituents: neutral hadrons
	wMass, wWidth  = 80.379, 2.085
	topMass, tWid  = 172.5, 1.42
	bMass          = 4.8
	lightMass      = 0.3
	pdgElectron    = 11
	pdgMuon        = 13
	pdgPion        = 211
	pdgKaon        = 321
	pdgProton      = 2212
	ueCharged      = 40 // mean multiplicities of the primary vertex's underlying event
	uePhotons      = 60
	ueNeutral      = 45
	puCharged      = 10 // mean multiplicities per pile-up vertex
	puPhotons      = 12
	puNeutral      = 10
	puMinMean      = 12 // the mean number of pile-up vertices varies per event in this range
	puMaxMean      = 38
	softTrackMinPt = 0.2
	softTrackMean  = 0.8
	softPhotonMin  = 0.02
	softPhotonMean = 0.5
	softNeutralMin = 0.05
	softNeutMean   = 0.8
)

// flavour is a jet's parton flavour, which sets its b-tag probability and
// its chance of holding a lepton from a heavy-flavour decay.
type flavour int

const (
	light flavour = iota
	charm
	bottom
)

// vec4 is a four-momentum (GeV).
type vec4 = mc.P4

func massless(pt, eta, phi float64) vec4 {
	return vec4{Px: pt * math.Cos(phi), Py: pt * math.Sin(phi), Pz: pt * math.Sinh(eta), E: pt * math.Cosh(eta)}
}

// fromTransverse builds a particle of mass m from its transverse momentum
// vector and rapidity, the natural variables of a produced resonance.
func fromTransverse(m, px, py, y float64) vec4 {
	mt := math.Sqrt(m*m + px*px + py*py)
	return vec4{Px: px, Py: py, Pz: mt * math.Sinh(y), E: mt * math.Cosh(y)}
}

// recoJet and recoLepton wait in the generator until the event is complete,
// to be written in decreasing pT as Delphes orders them.
type recoJet struct {
	pt, eta, phi, mass float64
	btag               int32
}

type recoLepton struct {
	pt, eta, phi float64
	charge       int32
}

type generator struct {
	mc.Stream
	seed  uint64
	class Class

	e                *event
	pvX, pvY, pvZ    float64 // primary vertex (mm)
	nuX, nuY         float64 // summed neutrino transverse momentum
	sumET            float64 // scalar sum of visible transverse momenta
	jets             []recoJet
	electrons, muons []recoLepton
	weights          []float64 // scratch: momentum shares of a jet's constituents
}

func newGenerator(seed int64, c Class) *generator {
	return &generator{
		Stream: mc.NewStream(),
		seed:   mc.SplitMix64(mc.SplitMix64(uint64(seed)) + uint64(c)),
		class:  c,
	}
}

func (g *generator) sign() int32 {
	if g.R.Uint64()&1 == 0 {
		return 1
	}
	return -1
}

// powerLaw draws pT ≥ lo from dN/dpT ∝ pT^-n, the falling spectrum of hard
// QCD radiation, capped at 3 TeV.
func (g *generator) powerLaw(lo, n float64) float64 {
	return min(lo*math.Pow(1-g.R.Float64(), -1/(n-1)), 3000)
}

// fill draws event idx of the generator's class into e.
func (g *generator) fill(e *event, idx int64) {
	g.Reseed(g.seed, idx)
	e.reset()
	g.e = e
	g.nuX, g.nuY, g.sumET = 0, 0, 0
	g.jets, g.electrons, g.muons = g.jets[:0], g.electrons[:0], g.muons[:0]
	g.pvX, g.pvY, g.pvZ = g.Gauss(0, beamSpotXY), g.Gauss(0, beamSpotXY), g.Gauss(0, beamSpotZ)

	switch g.class {
	case QCD:
		g.qcd()
	case TTbar:
		g.ttbar()
	case WJets:
		g.wjets()
	}
	g.softParticles(g.Poisson(ueCharged), g.Poisson(uePhotons), g.Poisson(ueNeutral), g.pvX, g.pvY, g.pvZ)
	for range g.Poisson(g.Uniform(puMinMean, puMaxMean)) {
		g.softParticles(g.Poisson(puCharged), g.Poisson(puPhotons), g.Poisson(puNeutral),
			g.Gauss(0, beamSpotXY), g.Gauss(0, beamSpotXY), g.Gauss(0, beamSpotZ))
	}

	// MET: the neutrinos plus a gaussian resolution growing with the
	// visible activity; without neutrinos it is resolution only.
	sigma := metResolution * math.Sqrt(g.sumET)
	mx, my := g.nuX+g.Gauss(0, sigma), g.nuY+g.Gauss(0, sigma)
	e.MET, e.METPhi = float32(math.Hypot(mx, my)), float32(math.Atan2(my, mx))

	byPt := func(a, b recoLepton) int { return -cmp.Compare(a.pt, b.pt) }
	slices.SortStableFunc(g.electrons, byPt)
	slices.SortStableFunc(g.muons, byPt)
	slices.SortStableFunc(g.jets, func(a, b recoJet) int { return -cmp.Compare(a.pt, b.pt) })
	for _, l := range g.electrons {
		e.ElectronPT = append(e.ElectronPT, float32(l.pt))
		e.ElectronEta = append(e.ElectronEta, float32(l.eta))
		e.ElectronPhi = append(e.ElectronPhi, float32(l.phi))
		e.ElectronCharge = append(e.ElectronCharge, l.charge)
	}
	for _, l := range g.muons {
		e.MuonPT = append(e.MuonPT, float32(l.pt))
		e.MuonEta = append(e.MuonEta, float32(l.eta))
		e.MuonPhi = append(e.MuonPhi, float32(l.phi))
		e.MuonCharge = append(e.MuonCharge, l.charge)
	}
	for _, j := range g.jets {
		e.JetPT = append(e.JetPT, float32(j.pt))
		e.JetEta = append(e.JetEta, float32(j.eta))
		e.JetPhi = append(e.JetPhi, float32(j.phi))
		e.JetMass = append(e.JetMass, float32(j.mass))
		e.JetBTag = append(e.JetBTag, j.btag)
	}
	e.setCounts()
}

// qcd draws a multijet event: a hard dijet pair with a steeply falling
// spectrum and extra radiation. Its jets carry heavy flavour more often
// than inclusive QCD (the sample is rich in leptons from b and c decays),
// and a few events hold a jet reconstructed as an isolated lepton.
func (g *generator) qcd() {
	pt := g.powerLaw(35, 4.5)
	phi := g.Azimuth()
	g.jet(pt*(1+g.Gauss(0, 0.1)), g.Gauss(0, 1.6), phi, g.qcdFlavour())
	g.jet(pt*(1+g.Gauss(0, 0.1)), g.Gauss(0, 1.6), mc.WrapPhi(phi+math.Pi+g.Gauss(0, 0.25)), g.qcdFlavour())
	for range g.Poisson(1.2) {
		g.jet(g.powerLaw(20, 3.5), g.Gauss(0, 1.8), g.Azimuth(), g.qcdFlavour())
	}
	if g.Chance(0.08) {
		g.fakeLepton()
	}
}

func (g *generator) qcdFlavour() flavour {
	switch u := g.R.Float64(); {
	case u < 0.25:
		return bottom
	case u < 0.45:
		return charm
	}
	return light
}

// fakeLepton is a jet whose energy is carried by one charged hadron that
// is misidentified as a lepton: an isolated fake. The lepton's track keeps
// the hadron's PID.
func (g *generator) fakeLepton() {
	pt, eta, phi := g.powerLaw(20, 4), g.Gauss(0, 1.4), g.Azimuth()
	charge := g.sign()
	g.lepton(pt, eta, phi, charge, g.Chance(0.3), charge*pdgPion, 1)
	if pt > jetMinPt && inside(eta, jetMaxEta) {
		g.jets = append(g.jets, recoJet{pt: pt, eta: eta, phi: phi, btag: g.btag(light, eta)})
	}
}

// wjets draws W → ℓν recoiling against a few jets, mostly light.
func (g *generator) wjets() {
	var rx, ry float64
	for range g.Poisson(1.8) {
		pt, phi := g.powerLaw(20, 3.5), g.Azimuth()
		fl := light
		switch u := g.R.Float64(); {
		case u < 0.03:
			fl = bottom
		case u < 0.10:
			fl = charm
		}
		g.jet(pt, g.Gauss(0, 1.8), phi, fl)
		rx += pt * math.Cos(phi)
		ry += pt * math.Sin(phi)
	}
	m := g.BreitWigner(wMass, wWidth, 50, 150)
	w := fromTransverse(m, -rx+g.Gauss(0, 6), -ry+g.Gauss(0, 6), g.Gauss(0, 1.8))
	charge := int32(-1)
	if g.Chance(0.57) { // the W+ excess of proton–proton collisions
		charge = 1
	}
	g.leptonicW(w, charge)
}

// ttbar draws a top pair, one top decaying semileptonically (t → bℓν),
// the other hadronically (t → bqq'), or in 10% of events also
// leptonically; initial-state radiation adds jets that the pair recoils
// against.
func (g *generator) ttbar() {
	var rx, ry float64
	for range g.Poisson(0.8) {
		pt, phi := g.powerLaw(20, 3.5), g.Azimuth()
		g.jet(pt, g.Gauss(0, 1.8), phi, light)
		rx += pt * math.Cos(phi)
		ry += pt * math.Sin(phi)
	}
	m1 := g.BreitWigner(topMass, tWid, 150, 195)
	m2 := g.BreitWigner(topMass, tWid, 150, 195)
	pair := fromTransverse(m1+m2+g.Exp(130), -rx+g.Gauss(0, 10), -ry+g.Gauss(0, 10), g.Gauss(0, 0.9))
	t1, t2 := g.Decay(pair, m1, m2)
	q := g.sign() // charge of the leptonically decaying top
	g.top(t1, q, true)
	g.top(t2, -q, g.Chance(0.1))
}

func (g *generator) top(t vec4, charge int32, leptonic bool) {
	b, w := g.Decay(t, bMass, g.BreitWigner(wMass, wWidth, 60, 100))
	g.jetFrom(b, bottom)
	if leptonic {
		g.leptonicW(w, charge)
		return
	}
	q1, q2 := g.Decay(w, lightMass, lightMass)
	// Half of hadronic W decays are to cs̄.
	f2 := light
	if g.Chance(0.5) {
		f2 = charm
	}
	g.jetFrom(q1, light)
	g.jetFrom(q2, f2)
}

// leptonicW decays w into an electron or a muon of the given charge and a
// neutrino: isotropic in the W frame, which gives the lepton its Jacobian
// peak near half the W mass.
func (g *generator) leptonicW(w vec4, charge int32) {
	l, nu := g.Decay(w, 0, 0)
	g.nuX += nu.Px
	g.nuY += nu.Py
	muon := g.Chance(0.5)
	pid := -pdgElectron * charge // e⁻ is +11: the PDG sign is opposite to the charge
	if muon {
		pid = -pdgMuon * charge
	}
	g.lepton(l.Pt(), l.Eta(), l.Phi(), charge, muon, pid, pick(muon, muonEff, electronEff))
}

func pick(cond bool, yes, no float64) float64 {
	if cond {
		return yes
	}
	return no
}

// lepton adds a charged lepton: its track (in the tracker) and, when
// reconstructed with probability eff, an Electron or MuonTight entry with
// the track's direction, so the lepton's own track sits at ΔR = 0.
// Electrons take their pT from the calorimeter, slightly off the track's.
func (g *generator) lepton(pt, eta, phi float64, charge int32, muon bool, pid int32, eff float64) {
	g.track(pt, eta, phi, charge, pid, g.pvX, g.pvY, g.pvZ)
	recoPt := pt
	if !muon {
		recoPt *= 1 + g.Gauss(0, 0.02)
	}
	maxEta := pick(muon, muonMaxEta, trackerMaxEta)
	if recoPt < leptonMinPt || !inside(eta, maxEta) || !g.Chance(eff) {
		return
	}
	if muon {
		g.muons = append(g.muons, recoLepton{recoPt, eta, phi, charge})
		return
	}
	g.electrons = append(g.electrons, recoLepton{recoPt, eta, phi, charge})
}

func (g *generator) jetFrom(p vec4, fl flavour) { g.jet(p.Pt(), p.Eta(), p.Phi(), fl) }

// jet fragments a parton of transverse momentum pt into particles within
// ΔR < 0.4 of its direction and records the jet they make. Heavy-flavour
// jets can hold a non-isolated lepton taking a share of the momentum, and
// a b jet's charged particles often come from a displaced vertex.
func (g *generator) jet(pt, eta, phi float64, fl flavour) {
	var sum vec4
	lepProb := 0.003
	switch fl {
	case bottom:
		lepProb = 0.45
	case charm:
		lepProb = 0.25
	}
	rest := pt
	if g.Chance(lepProb) {
		// Mostly a small share of the jet: the lepton sits inside it.
		u := g.R.Float64()
		z := 0.05 + 0.75*u*u
		leta, lphi := eta+g.Gauss(0, 0.04), mc.WrapPhi(phi+g.Gauss(0, 0.04))
		muon := g.Chance(0.5)
		charge := g.sign()
		pid := -pdgElectron * charge
		if muon {
			pid = -pdgMuon * charge
		}
		g.lepton(z*pt, leta, lphi, charge, muon, pid, pick(muon, muonEff, electronEff))
		sum = massless(z*pt, leta, lphi)
		rest = (1 - z) * pt
	}

	// Displacement of a b hadron's decay products, growing with its boost.
	var dx, dy, dz float64
	if fl == bottom {
		l := g.Exp(min(0.45*pt/20, 5))
		dx, dy, dz = l*math.Cos(phi), l*math.Sin(phi), l*math.Sinh(eta)
	}

	n := 2 + g.Poisson(1.6*math.Sqrt(rest))
	g.weights = g.weights[:0]
	var wsum float64
	for range n {
		w := g.R.ExpFloat64()
		g.weights = append(g.weights, w)
		wsum += w
	}
	for _, w := range g.weights {
		cpt := rest * w / wsum
		// Softer particles spread wider around the axis.
		sigma := 0.02 + 0.1/math.Sqrt(1+cpt)
		deta, dphi := g.Gauss(0, sigma), g.Gauss(0, sigma)
		for deta*deta+dphi*dphi >= coneMax*coneMax {
			deta, dphi = g.Gauss(0, sigma), g.Gauss(0, sigma)
		}
		ceta, cphi := eta+deta, mc.WrapPhi(phi+dphi)
		sum = sum.Add(massless(cpt, ceta, cphi))
		switch u := g.R.Float64(); {
		case u < chargedShare:
			charge := g.sign()
			if fl == bottom && g.Chance(0.5) {
				g.track(cpt, ceta, cphi, charge, charge*g.hadronPID(), g.pvX+dx, g.pvY+dy, g.pvZ+dz)
			} else {
				g.track(cpt, ceta, cphi, charge, charge*g.hadronPID(), g.pvX, g.pvY, g.pvZ)
			}
		case u < chargedShare+photonShare:
			g.photon(cpt, ceta, cphi)
		default:
			g.neutral(cpt, ceta, cphi)
		}
	}

	jpt := sum.Pt() * (1 + g.Gauss(0, 0.08))
	jeta := sum.Eta()
	if jpt > jetMinPt && inside(jeta, jetMaxEta) {
		g.jets = append(g.jets, recoJet{pt: jpt, eta: jeta, phi: sum.Phi(), mass: sum.Mass(), btag: g.btag(fl, jeta)})
	}
}

// btag is 1 for a tagged jet: only within the tracker, with the efficiency
// or mistag rate of the jet's flavour.
func (g *generator) btag(fl flavour, eta float64) int32 {
	if !inside(eta, trackerMaxEta) {
		return 0
	}
	p := lightMistag
	switch fl {
	case bottom:
		p = bTagEff
	case charm:
		p = cMistag
	}
	if g.Chance(p) {
		return 1
	}
	return 0
}

// hadronPID draws the species of a charged hadron (unsigned PDG id).
func (g *generator) hadronPID() int32 {
	switch u := g.R.Float64(); {
	case u < 0.75:
		return pdgPion
	case u < 0.9:
		return pdgKaon
	}
	return pdgProton
}

// softParticles adds one vertex's soft particles (underlying event or
// pile-up): flat in η, exponential in pT.
func (g *generator) softParticles(nCharged, nPhotons, nNeutral int, vx, vy, vz float64) {
	for range nCharged {
		charge := g.sign()
		g.track(softTrackMinPt+g.Exp(softTrackMean), g.Uniform(-trackerMaxEta, trackerMaxEta), g.Azimuth(),
			charge, charge*g.hadronPID(), vx, vy, vz)
	}
	for range nPhotons {
		g.photon(softPhotonMin+g.Exp(softPhotonMean), g.Uniform(-caloMaxEta, caloMaxEta), g.Azimuth())
	}
	for range nNeutral {
		g.neutral(softNeutralMin+g.Exp(softNeutMean), g.Uniform(-caloMaxEta, caloMaxEta), g.Azimuth())
	}
}

// track records a charged particle within the tracker; its production
// point is the vertex smeared by the resolution.
func (g *generator) track(pt, eta, phi float64, charge, pid int32, vx, vy, vz float64) {
	if !inside(eta, trackerMaxEta) {
		return
	}
	e := g.e
	g.sumET += pt
	e.TrackPT = append(e.TrackPT, float32(pt))
	e.TrackEta = append(e.TrackEta, float32(eta))
	e.TrackPhi = append(e.TrackPhi, float32(phi))
	e.TrackCharge = append(e.TrackCharge, charge)
	e.TrackPID = append(e.TrackPID, pid)
	e.TrackX = append(e.TrackX, float32(g.Gauss(vx, vertexResXY)))
	e.TrackY = append(e.TrackY, float32(g.Gauss(vy, vertexResXY)))
	e.TrackZ = append(e.TrackZ, float32(g.Gauss(vz, vertexResZ)))
}

func (g *generator) photon(et, eta, phi float64) {
	if !inside(eta, caloMaxEta) {
		return
	}
	g.sumET += et
	g.e.PhotonET = append(g.e.PhotonET, float32(et))
	g.e.PhotonEta = append(g.e.PhotonEta, float32(eta))
	g.e.PhotonPhi = append(g.e.PhotonPhi, float32(phi))
}

func (g *generator) neutral(et, eta, phi float64) {
	if !inside(eta, caloMaxEta) {
		return
	}
	g.sumET += et
	g.e.NeutralET = append(g.e.NeutralET, float32(et))
	g.e.NeutralEta = append(g.e.NeutralEta, float32(eta))
	g.e.NeutralPhi = append(g.e.NeutralPhi, float32(phi))
}

// inside tells whether η lies within |η| < limit once stored as float32:
// rounding must not carry a particle onto the acceptance edge.
func inside(eta, limit float64) bool { return math.Abs(float64(float32(eta))) < limit }
