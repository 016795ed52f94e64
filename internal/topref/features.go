package topref

import (
	"cmp"
	"math"
	"slices"
)

// Columns of the low-level matrix (section 4).
const (
	ColE = iota
	ColPx
	ColPy
	ColPz
	ColPT
	ColEta
	ColPhi
	ColX
	ColY
	ColZ
	ColChIso
	ColGammaIso
	ColNeuIso
	ColIsChargedHadron
	ColIsNeutralHadron
	ColIsPhoton
	ColIsElectron
	ColIsMuon
	ColCharge
)

// Matrix is the 801 × 19 low-level feature matrix of one event.
type Matrix [Rows][Columns]float32

// LowLevel builds the event's matrix around its selected lepton and
// returns it with the number of rows that hold a particle (the rest are
// zero padding).
func LowLevel(ev *Event, sel Selected) (*Matrix, int) {
	return LowLevelWith(ev, NewLists(ev), sel)
}

// LowLevelWith is LowLevel with the event's isolation lists already built.
//
// Row 0 is the lepton; then the tracks with PT > 0.5 other than the
// lepton's own (ΔR ≥ 1e-4 from it), the photons and the neutral hadrons
// with ET > 1, each group ranked by decreasing pT (ties in storage order)
// and cut at 450, 150 and 200 rows. Each particle's isolation is taken
// against the whole, untruncated lists.
func LowLevelWith(ev *Event, l *Lists, sel Selected) (*Matrix, int) {
	m := new(Matrix)
	hot := ColIsElectron
	if sel.Muon {
		hot = ColIsMuon
	}
	setRow(&m[0], sel.PT, sel.Eta, sel.Phi, 0, 0, 0, sel.Iso, hot, float64(sel.Charge))
	n := 1

	var tracks []int
	for k, p := range l.Charged {
		if DeltaR(p.Eta, p.Phi, sel.Eta, sel.Phi) >= OwnTrackR {
			tracks = append(tracks, k)
		}
	}
	for _, k := range ranked(l.Charged, tracks, MaxTracks) {
		p := l.Charged[k]
		t := ev.Tracks[p.Index]
		setRow(&m[n], p.PT, p.Eta, p.Phi, float64(t.X), float64(t.Y), float64(t.Z),
			l.ParticleIsolation(KindTrack, k), ColIsChargedHadron, float64(t.Charge))
		n++
	}
	for _, k := range ranked(l.Photons, nil, MaxPhotons) {
		p := l.Photons[k]
		setRow(&m[n], p.PT, p.Eta, p.Phi, 0, 0, 0, l.ParticleIsolation(KindPhoton, k), ColIsPhoton, 0)
		n++
	}
	for _, k := range ranked(l.Neutral, nil, MaxNeutral) {
		p := l.Neutral[k]
		setRow(&m[n], p.PT, p.Eta, p.Phi, 0, 0, 0, l.ParticleIsolation(KindNeutral, k), ColIsNeutralHadron, 0)
		n++
	}
	return m, n
}

// ranked returns positions in list (those in keep, or all when keep is
// nil) ordered by decreasing pT, ties in list order, at most limit of
// them.
func ranked(list []Particle, keep []int, limit int) []int {
	if keep == nil {
		keep = make([]int, len(list))
		for k := range keep {
			keep[k] = k
		}
	}
	slices.SortStableFunc(keep, func(a, b int) int { return cmp.Compare(list[b].PT, list[a].PT) })
	return keep[:min(len(keep), limit)]
}

// setRow fills one matrix row from a massless particle's pT, η, φ.
func setRow(r *[Columns]float32, pt, eta, phi, x, y, z float64, iso Iso, oneHot int, charge float64) {
	r[ColE] = float32(pt * math.Cosh(eta))
	r[ColPx] = float32(pt * math.Cos(phi))
	r[ColPy] = float32(pt * math.Sin(phi))
	r[ColPz] = float32(pt * math.Sinh(eta))
	r[ColPT] = float32(pt)
	r[ColEta] = float32(eta)
	r[ColPhi] = float32(phi)
	r[ColX] = float32(x)
	r[ColY] = float32(y)
	r[ColZ] = float32(z)
	r[ColChIso] = float32(iso.Ch)
	r[ColGammaIso] = float32(iso.Gamma)
	r[ColNeuIso] = float32(iso.Neu)
	r[oneHot] = 1
	r[ColCharge] = float32(charge)
}

// High-level feature indices (section 5).
const (
	HLFHT = iota
	HLFMET
	HLFMETPhi
	HLFMT
	HLFNJets
	HLFNBJets
	HLFLepPT
	HLFLepEta
	HLFLepPhi
	HLFLepChIso
	HLFLepGammaIso
	HLFLepNeuIso
	HLFLepCharge
	HLFIsElectron
)

// HighLevelNames names the 14 features in order.
var HighLevelNames = [NumHighLevel]string{
	"HT", "MET", "phiMET", "MT", "nJets", "nBJets", "lepPT", "lepEta", "lepPhi",
	"lepChIso", "lepGammaIso", "lepNeuIso", "lepCharge", "isElectron",
}

// HighLevel computes the 14 high-level features of a selected event.
// Counted jets have PT > 30 and |η| < 2.6; HT adds their PT in storage
// order; mT = sqrt(2·pT·MET·(1 − cos(φℓ − φMET))), multiplied left to
// right.
func HighLevel(ev *Event, sel Selected) [NumHighLevel]float64 {
	var f [NumHighLevel]float64
	for _, j := range ev.Jets {
		if float64(j.PT) > JetMinPT && math.Abs(float64(j.Eta)) < JetMaxAbsEta {
			f[HLFHT] += float64(j.PT)
			f[HLFNJets]++
			if j.BTag > 0 {
				f[HLFNBJets]++
			}
		}
	}
	met, metPhi := float64(ev.MET), float64(ev.METPhi)
	f[HLFMET] = met
	f[HLFMETPhi] = metPhi
	f[HLFMT] = math.Sqrt(2 * sel.PT * met * (1 - math.Cos(sel.Phi-metPhi)))
	f[HLFLepPT] = sel.PT
	f[HLFLepEta] = sel.Eta
	f[HLFLepPhi] = sel.Phi
	f[HLFLepChIso] = sel.Iso.Ch
	f[HLFLepGammaIso] = sel.Iso.Gamma
	f[HLFLepNeuIso] = sel.Iso.Neu
	f[HLFLepCharge] = float64(sel.Charge)
	if !sel.Muon {
		f[HLFIsElectron] = 1
	}
	return f
}
