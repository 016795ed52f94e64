package adl

import (
	"cmp"
	"math"
	"slices"

	"github.com/hepsql/hepsql/gen/internal/mc"
)

// Particle masses and resonance parameters (GeV), PDG values rounded.
const (
	muonMass     = 0.1056583745
	electronMass = 0.00051099895
	bQuarkMass   = 4.8
	lightMass    = 0.3

	zMass, zWidth     = 91.1876, 2.4952
	wMass, wWidth     = 80.379, 2.085
	topMass, topWidth = 172.5, 1.42
)

// Process fractions, cumulative. Most SingleMu events hold one prompt muon
// from a W; the Z→μμ fraction is large enough to give Q5 a clear peak, and
// the Z→ee and top samples feed Q8 and Q6.
const (
	fracZmumu = 0.06
	fracZee   = fracZmumu + 0.01
	fracTop   = fracZee + 0.04
	fracWmunu = fracTop + 0.55 // the rest: multijet events with a non-prompt muon
)

// Acceptance (pT threshold in GeV, |η| limit) of the reconstructed objects,
// read off the CMS sample: muons from 3 GeV, electrons from 5 GeV, jets from
// 15 GeV out to the forward calorimeter.
const (
	muonMinPt, muonMaxEta         = 3, 2.4
	electronMinPt, electronMaxEta = 5, 2.5
	jetMinPt, jetMaxEta           = 15, 4.7
	trackerMaxEta                 = 2.4
)

// placeholder is what NanoAOD stores for a quantity that was not computed
// (isolation or impact parameter of some muons, isolation of most
// electrons).
const placeholder = -999

type p4 = mc.P4

func fromPtEtaPhiM(pt, eta, phi, m float64) p4 {
	return p4{
		Px: pt * math.Cos(phi),
		Py: pt * math.Sin(phi),
		Pz: pt * math.Sinh(eta),
		E:  math.Sqrt(pt*pt*math.Cosh(eta)*math.Cosh(eta) + m*m),
	}
}

// fromMassPtRapidity builds a resonance from its mass, transverse momentum,
// rapidity and azimuth: the natural variables of a produced boson.
func fromMassPtRapidity(m, pt, y, phi float64) p4 {
	mt := math.Sqrt(m*m + pt*pt)
	return p4{Px: pt * math.Cos(phi), Py: pt * math.Sin(phi), Pz: mt * math.Sinh(y), E: mt * math.Cosh(y)}
}

// particle is a reconstructed lepton or jet before it is written out.
type particle struct {
	pt, eta, phi, mass float64
	charge             int32
	prompt             bool // lepton from a W/Z decay, or jet from a b quark
}

type generator struct {
	mc.Stream
	seed uint64

	muons, electrons, jets []particle
	nuX, nuY               float64 // summed transverse momentum of neutrinos
}

func newGenerator(seed int64) *generator {
	return &generator{Stream: mc.NewStream(), seed: mc.SplitMix64(uint64(seed))}
}

// truncGauss draws a centred gaussian restricted to |x| < limit, the shape
// of η within a detector's acceptance.
func (g *generator) truncGauss(sigma, limit float64) float64 {
	for {
		if x := sigma * g.R.NormFloat64(); math.Abs(x) < limit {
			return x
		}
	}
}

// boson draws a W or Z at rest-frame mass m with a soft pT spectrum.
func (g *generator) boson(m float64) p4 {
	return fromMassPtRapidity(m, g.Exp(9), g.Gauss(0, 1.5), g.Azimuth())
}

// addMuon smears a generated muon and keeps it if it is reconstructed.
func (g *generator) addMuon(p p4, charge int32, prompt bool) {
	pt := p.Pt() * (1 + g.Gauss(0, 0.015))
	if eta := p.Eta(); pt > muonMinPt && math.Abs(eta) < muonMaxEta {
		g.muons = append(g.muons, particle{pt: pt, eta: eta, phi: p.Phi(), mass: muonMass, charge: charge, prompt: prompt})
	}
}

func (g *generator) addElectron(p p4, charge int32, prompt bool) {
	pt := p.Pt() * (1 + g.Gauss(0, 0.025))
	if eta := p.Eta(); pt > electronMinPt && math.Abs(eta) < electronMaxEta {
		// Electron masses in NanoAOD are tiny and can be negative, as in
		// the CMS sample (-0.19 to 0.09 GeV).
		g.electrons = append(g.electrons, particle{pt: pt, eta: eta, phi: p.Phi(), mass: g.Gauss(0, 0.015), charge: charge, prompt: prompt})
	}
}

// addJet smears a parton (or any hadronic deposit) into a jet.
func (g *generator) addJet(pt, eta, phi float64, fromB bool) {
	pt *= 1 + g.Gauss(0, 0.12)
	if pt > jetMinPt && math.Abs(eta) < jetMaxEta {
		g.jets = append(g.jets, particle{pt: pt, eta: eta, phi: phi, prompt: fromB})
	}
}

func (g *generator) addPartonJet(p p4, fromB bool) { g.addJet(p.Pt(), p.Eta(), p.Phi(), fromB) }

func (g *generator) randomCharge() int32 {
	if g.Chance(0.5) {
		return 1
	}
	return -1
}

// wToMuNu adds a W→μν decay; the W+ excess of pp collisions shows up as
// more positive muons, as in the sample.
func (g *generator) wToMuNu() {
	w := g.boson(g.BreitWigner(wMass, wWidth, 50, 150))
	mu, nu := g.Decay(w, muonMass, 0)
	charge := int32(-1)
	if g.Chance(0.57) {
		charge = 1
	}
	g.addMuon(mu, charge, true)
	g.nuX += nu.Px
	g.nuY += nu.Py
}

func (g *generator) zToLL(electrons bool) {
	z := g.boson(g.BreitWigner(zMass, zWidth, 50, 150))
	q := g.randomCharge()
	if electrons {
		a, b := g.Decay(z, electronMass, electronMass)
		g.addElectron(a, q, true)
		g.addElectron(b, -q, true)
		return
	}
	a, b := g.Decay(z, muonMass, muonMass)
	g.addMuon(a, q, true)
	g.addMuon(b, -q, true)
}

// hadronicTop adds t → bW, W → qq': three jets whose mass is near the top
// mass, the configuration Q6 looks for.
func (g *generator) hadronicTop() {
	t := fromMassPtRapidity(g.BreitWigner(topMass, topWidth, 150, 195), g.Exp(70), g.Gauss(0, 1.1), g.Azimuth())
	wm := g.BreitWigner(wMass, wWidth, 60, 100)
	b, w := g.Decay(t, bQuarkMass, wm)
	q1, q2 := g.Decay(w, lightMass, lightMass)
	g.addPartonJet(b, true)
	g.addPartonJet(q1, false)
	g.addPartonJet(q2, false)
}

// nonPromptMuon is a muon from a heavy-flavour decay or a punch-through:
// soft, not isolated, often inside a jet.
func (g *generator) nonPromptMuon(minPt, meanPt float64) {
	pt := minPt + g.Exp(meanPt)
	g.addMuon(fromPtEtaPhiM(pt, g.truncGauss(1.3, muonMaxEta), g.Azimuth(), muonMass), g.randomCharge(), false)
}

func (g *generator) fakeElectron() {
	pt := electronMinPt + g.Exp(9)
	g.addElectron(fromPtEtaPhiM(pt, g.truncGauss(1.3, electronMaxEta), g.Azimuth(), 0), g.randomCharge(), false)
}

// jetPt draws from a falling power law dN/dpT ∝ pT^-2.5 above threshold,
// with an exponential cut-off so that multi-TeV jets stay as rare as in
// the sample.
func (g *generator) jetPt() float64 {
	for {
		pt := jetMinPt * math.Pow(1-g.R.Float64(), -1/1.5)
		if g.Chance(math.Exp(-(pt - jetMinPt) / 250)) {
			return pt
		}
	}
}

// leptons draws the hard process and the soft leptons, resetting what an
// earlier draw left.
func (g *generator) leptons() {
	g.muons, g.electrons, g.jets = g.muons[:0], g.electrons[:0], g.jets[:0]
	g.nuX, g.nuY = 0, 0
	switch u := g.R.Float64(); {
	case u < fracZmumu:
		g.zToLL(false)
	case u < fracZee:
		g.zToLL(true)
		g.wToMuNu() // stands in for the trigger muon of the SingleMu stream
	case u < fracTop:
		g.hadronicTop()
		g.wToMuNu()
	case u < fracWmunu:
		g.wToMuNu()
	default:
		g.nonPromptMuon(15, 15)
	}
	for range g.Poisson(0.28) {
		g.nonPromptMuon(muonMinPt, 5)
	}
	for range g.Poisson(0.17) {
		g.fakeElectron()
	}
}

// fill draws event idx (global index) into e.
func (g *generator) fill(e *event, idx int64) {
	g.Reseed(g.seed, idx)
	// The sample is a single-muon trigger stream: nearly every event holds a
	// reconstructed muon. Redrawing the leptons until one is in acceptance
	// emulates that selection (the stream of draws stays seeded by idx).
	for range 1000 {
		g.leptons()
		if len(g.muons) > 0 {
			break
		}
	}

	// Underlying jets: a Poisson count whose mean itself fluctuates
	// (a gamma of shape 2), giving the long multiplicity tail of the data.
	for range g.Poisson(0.85 * (g.R.ExpFloat64() + g.R.ExpFloat64())) {
		g.addJet(g.jetPt(), g.truncGauss(2.3, jetMaxEta), g.Azimuth(), g.Chance(0.03))
	}
	// Leptons are often reconstructed inside a jet as well (always for
	// hadron decays, sometimes for prompt ones): these are the overlaps Q7
	// removes with its ΔR < 0.4 cleaning.
	for _, leptons := range [][]particle{g.muons, g.electrons} {
		for _, l := range leptons {
			p := 0.05
			if !l.prompt {
				p = 0.5
			}
			if l.pt > 10 && g.Chance(p) {
				g.addJet(l.pt*(1.2+g.Exp(0.8)), l.eta+g.Gauss(0, 0.08), mc.WrapPhi(l.phi+g.Gauss(0, 0.08)), !l.prompt && g.Chance(0.3))
			}
		}
	}

	// NanoAOD collections are ordered by decreasing pT.
	byPt := func(a, b particle) int { return -cmp.Compare(a.pt, b.pt) }
	slices.SortStableFunc(g.muons, byPt)
	slices.SortStableFunc(g.electrons, byPt)
	slices.SortStableFunc(g.jets, byPt)

	e.Run = 1
	e.LuminosityBlock = uint32(idx/1000) + 1
	e.Event = uint64(idx) + 1
	g.fillMuons(e)
	g.fillElectrons(e)
	g.fillJets(e)
	g.fillMET(e)
	e.HLTIsoMu24 = g.trigger(e)
}

func (g *generator) fillMuons(e *event) {
	e.NMuon = uint32(len(g.muons))
	e.MuonPt, e.MuonEta, e.MuonPhi, e.MuonMass = e.MuonPt[:0], e.MuonEta[:0], e.MuonPhi[:0], e.MuonMass[:0]
	e.MuonCharge, e.MuonIso03, e.MuonIso04 = e.MuonCharge[:0], e.MuonIso03[:0], e.MuonIso04[:0]
	e.MuonTightID, e.MuonSoftID = e.MuonTightID[:0], e.MuonSoftID[:0]
	e.MuonDxy, e.MuonDxyErr, e.MuonDz, e.MuonDzErr = e.MuonDxy[:0], e.MuonDxyErr[:0], e.MuonDz[:0], e.MuonDzErr[:0]
	e.MuonJetIdx, e.MuonGenPartIdx = e.MuonJetIdx[:0], e.MuonGenPartIdx[:0]
	for _, m := range g.muons {
		e.MuonPt = append(e.MuonPt, float32(m.pt))
		e.MuonEta = append(e.MuonEta, float32(m.eta))
		e.MuonPhi = append(e.MuonPhi, float32(m.phi))
		e.MuonMass = append(e.MuonMass, float32(m.mass))
		e.MuonCharge = append(e.MuonCharge, m.charge)

		// In the sample, the -999 isolation placeholders sit mostly on
		// soft muons, and most of them lack impact parameters as well.
		noIso := g.Chance(0.05)
		if m.pt < 10 {
			noIso = g.Chance(0.45)
		}
		noIP := g.Chance(0.015)
		if noIso {
			noIP = g.Chance(0.8)
		}
		isoMean := 0.6
		if m.prompt {
			isoMean = 0.05
		}
		iso03 := float32(placeholder)
		iso04 := float32(placeholder)
		if !noIso {
			v := g.Exp(isoMean)
			iso03 = float32(v)
			iso04 = float32(v * g.Uniform(1.1, 1.5)) // the wider cone collects more
		}
		e.MuonIso03 = append(e.MuonIso03, iso03)
		e.MuonIso04 = append(e.MuonIso04, iso04)

		good := m.prompt && !noIso
		e.MuonTightID = append(e.MuonTightID, g.Chance(pick(good, 0.95, 0.35)))
		e.MuonSoftID = append(e.MuonSoftID, g.Chance(pick(good, 0.9, 0.6)))

		if noIP {
			e.MuonDxy = append(e.MuonDxy, placeholder)
			e.MuonDxyErr = append(e.MuonDxyErr, placeholder)
			e.MuonDz = append(e.MuonDz, placeholder)
			e.MuonDzErr = append(e.MuonDzErr, placeholder)
		} else {
			e.MuonDxy = append(e.MuonDxy, float32(g.Gauss(0, pick(m.prompt, 0.003, 0.05))))
			e.MuonDxyErr = append(e.MuonDxyErr, float32(0.001+g.Exp(0.003)))
			e.MuonDz = append(e.MuonDz, float32(g.Gauss(0, pick(m.prompt, 0.02, 0.3))))
			e.MuonDzErr = append(e.MuonDzErr, float32(0.002+g.Exp(0.005)))
		}
		// Links to jets and generator particles are absent in real data.
		e.MuonJetIdx = append(e.MuonJetIdx, -1)
		e.MuonGenPartIdx = append(e.MuonGenPartIdx, -1)
	}
}

func pick(cond bool, yes, no float64) float64 {
	if cond {
		return yes
	}
	return no
}

func (g *generator) fillElectrons(e *event) {
	e.NElectron = uint32(len(g.electrons))
	e.ElectronPt, e.ElectronEta, e.ElectronPhi, e.ElectronMass = e.ElectronPt[:0], e.ElectronEta[:0], e.ElectronPhi[:0], e.ElectronMass[:0]
	e.ElectronCharge, e.ElectronIso03 = e.ElectronCharge[:0], e.ElectronIso03[:0]
	e.ElectronDxy, e.ElectronDxyErr, e.ElectronDz, e.ElectronDzErr = e.ElectronDxy[:0], e.ElectronDxyErr[:0], e.ElectronDz[:0], e.ElectronDzErr[:0]
	e.ElectronCutBasedID, e.ElectronPfID = e.ElectronCutBasedID[:0], e.ElectronPfID[:0]
	e.ElectronJetIdx, e.ElectronGenPartIdx = e.ElectronJetIdx[:0], e.ElectronGenPartIdx[:0]
	for _, el := range g.electrons {
		e.ElectronPt = append(e.ElectronPt, float32(el.pt))
		e.ElectronEta = append(e.ElectronEta, float32(el.eta))
		e.ElectronPhi = append(e.ElectronPhi, float32(el.phi))
		e.ElectronMass = append(e.ElectronMass, float32(el.mass))
		e.ElectronCharge = append(e.ElectronCharge, el.charge)
		// The sample has no electron isolation for 60% of its electrons.
		iso := float32(placeholder)
		if !g.Chance(0.6) {
			iso = float32(g.Exp(pick(el.prompt, 0.05, 0.5)))
		}
		e.ElectronIso03 = append(e.ElectronIso03, iso)
		e.ElectronDxy = append(e.ElectronDxy, float32(g.Gauss(0, pick(el.prompt, 0.01, 0.1))))
		e.ElectronDxyErr = append(e.ElectronDxyErr, float32(0.001+g.Exp(0.03)))
		e.ElectronDz = append(e.ElectronDz, float32(g.Gauss(0, pick(el.prompt, 0.05, 1))))
		e.ElectronDzErr = append(e.ElectronDzErr, float32(0.001+g.Exp(0.05)))
		e.ElectronCutBasedID = append(e.ElectronCutBasedID, g.Chance(0.98))
		e.ElectronPfID = append(e.ElectronPfID, g.Chance(pick(el.prompt, 0.7, 0.35)))
		e.ElectronJetIdx = append(e.ElectronJetIdx, -1)
		e.ElectronGenPartIdx = append(e.ElectronGenPartIdx, -1)
	}
}

func (g *generator) fillJets(e *event) {
	e.NJet = uint32(len(g.jets))
	e.JetPt, e.JetEta, e.JetPhi, e.JetMass = e.JetPt[:0], e.JetEta[:0], e.JetPhi[:0], e.JetMass[:0]
	e.JetPuID, e.JetBtag = e.JetPuID[:0], e.JetBtag[:0]
	for _, j := range g.jets {
		e.JetPt = append(e.JetPt, float32(j.pt))
		e.JetEta = append(e.JetEta, float32(j.eta))
		e.JetPhi = append(e.JetPhi, float32(j.phi))
		// Jet mass grows with pT: m/pT ≈ 0.2 on average in the sample.
		ratio := min(0.05+g.Exp(0.16), 0.7)
		e.JetMass = append(e.JetMass, float32(max(j.pt*ratio, 0.5)))
		e.JetPuID = append(e.JetPuID, g.Chance(0.997))
		e.JetBtag = append(e.JetBtag, g.btag(j))
	}
}

// btag draws the b-tag discriminant. Outside the tracker it is mostly the
// placeholder -10 (no tracks to tag with), and -1 marks jets where the
// tagger did not run, as in the sample; otherwise light jets fall near 0
// and b jets pile up near 1.
func (g *generator) btag(j particle) float32 {
	u := g.R.Float64()
	if math.Abs(j.eta) > trackerMaxEta {
		switch {
		case u < 0.78:
			return -10
		case u < 0.94:
			return -1
		}
	} else if u < 0.1 {
		return -1
	}
	nearOne := g.Chance(pick(j.prompt, 0.8, 0.2))
	if nearOne {
		return float32(min(0.9+0.1*g.R.Float64(), 1))
	}
	v := g.R.Float64()
	return float32(0.9 * v * v)
}

// fillMET builds the missing transverse momentum from the neutrinos plus a
// gaussian resolution growing with the scalar sum of deposited energy, and
// a rare mismeasurement tail.
func (g *generator) fillMET(e *event) {
	sumet := 120 + g.Exp(330)
	for _, set := range [][]particle{g.muons, g.electrons, g.jets} {
		for _, p := range set {
			sumet += p.pt
		}
	}
	sigma := 0.55 * math.Sqrt(sumet)
	mx := g.nuX + g.Gauss(0, sigma)
	my := g.nuY + g.Gauss(0, sigma)
	if g.Chance(0.01) {
		tail, phi := g.Exp(60), g.Azimuth()
		mx += tail * math.Cos(phi)
		my += tail * math.Sin(phi)
	}
	sxx := sigma * sigma * g.Uniform(0.8, 1.2)
	syy := sigma * sigma * g.Uniform(0.8, 1.2)
	sxy := g.Uniform(-0.3, 0.3) * math.Sqrt(sxx*syy)

	e.METPt = float32(math.Hypot(mx, my))
	e.METPhi = float32(math.Atan2(my, mx))
	e.METSumet = float32(sumet)
	e.METCovXX = float32(sxx)
	e.METCovXY = float32(sxy)
	e.METCovYY = float32(syy)
	// Significance: χ² of the measured MET vector under its covariance.
	det := sxx*syy - sxy*sxy
	e.METSignificance = float32((mx*mx*syy - 2*mx*my*sxy + my*my*sxx) / det)
}

// trigger emulates HLT_IsoMu24: an isolated muon above 24 GeV within
// |η| < 2.1, with an efficiency below one and a small rate of passes from
// other objects.
func (g *generator) trigger(e *event) bool {
	for i, pt := range e.MuonPt {
		iso := e.MuonIso03[i]
		if pt > 24 && math.Abs(float64(e.MuonEta[i])) < 2.1 && iso >= 0 && iso < 0.15 {
			return g.Chance(0.93)
		}
	}
	return g.Chance(0.03)
}
