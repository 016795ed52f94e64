package topref

import "math"

// Thresholds and cone sizes of spec sections 2–5.
const (
	TrackMinPT      = 0.5  // tracks in the isolation lists and the matrix: PT > 0.5
	TowerMinET      = 1    // photons and neutral hadrons: ET > 1
	ConeR           = 0.3  // isolation cone: ΔR < 0.3
	OwnTrackR       = 1e-4 // the lepton's own track: ΔR < 1e-4
	LeptonMinPT     = 23   // selection: pT > 23
	MaxRelIso       = 0.45 // selection: ChPFIso + GammaPFIso + NeuPFIso < 0.45
	JetMinPT        = 30   // counted jets: PT > 30
	JetMaxAbsEta    = 2.6  // counted jets: |η| < 2.6
	MaxTracks       = 450
	MaxPhotons      = 150
	MaxNeutral      = 200
	Rows            = 1 + MaxTracks + MaxPhotons + MaxNeutral // 801
	Columns         = 19
	NumHighLevel    = 14
	NumClasses      = 3
	TrainPercentage = 80
)

// DeltaPhi returns a − b moved by one full turn into [−π, π] when it lies
// outside; azimuths in [−π, π] never need more than one turn.
func DeltaPhi(a, b float64) float64 {
	d := a - b
	if d > math.Pi {
		d -= 2 * math.Pi
	} else if d < -math.Pi {
		d += 2 * math.Pi
	}
	return d
}

// DeltaR returns sqrt(Δη² + Δφ²), with Δφ from DeltaPhi. The explicit
// conversions keep Go from fusing the products into an FMA, so the value
// is the same on every architecture.
func DeltaR(eta1, phi1, eta2, phi2 float64) float64 {
	de, dp := eta1-eta2, DeltaPhi(phi1, phi2)
	return math.Sqrt(float64(de*de) + float64(dp*dp))
}

// Particle is an entry of an isolation list: pT (ET for towers), η, φ,
// widened to float64, and its index in its original collection.
type Particle struct {
	PT, Eta, Phi float64
	Index        int
}

// Lists are the three isolation lists of section 2, in storage order:
// whole filtered collections, never truncated.
type Lists struct {
	Charged []Particle // tracks with PT > 0.5
	Photons []Particle // photons with ET > 1
	Neutral []Particle // neutral hadrons with ET > 1
}

// NewLists filters ev's particle collections.
func NewLists(ev *Event) *Lists {
	l := &Lists{}
	for i, t := range ev.Tracks {
		if t.PT > TrackMinPT {
			l.Charged = append(l.Charged, Particle{float64(t.PT), float64(t.Eta), float64(t.Phi), i})
		}
	}
	l.Photons = filterTowers(ev.Photons)
	l.Neutral = filterTowers(ev.NeutralHadrons)
	return l
}

func filterTowers(ts []Tower) []Particle {
	var ps []Particle
	for i, t := range ts {
		if t.ET > TowerMinET {
			ps = append(ps, Particle{float64(t.ET), float64(t.Eta), float64(t.Phi), i})
		}
	}
	return ps
}

// Iso holds the three relative isolations of one object.
type Iso struct{ Ch, Gamma, Neu float64 }

// Sum is ChPFIso + GammaPFIso + NeuPFIso, added left to right.
func (i Iso) Sum() float64 { return i.Ch + i.Gamma + i.Neu }

// coneSum adds the pT of the list's particles within ΔR < 0.3 of p, in
// list order. skip is the position of p itself in the list (−1 if p is
// not in it); skipOwnTrack also leaves out every particle within
// ΔR < 1e-4 of p (the lepton's own track).
func coneSum(p Particle, list []Particle, skip int, skipOwnTrack bool) float64 {
	var sum float64
	for j, q := range list {
		if j == skip {
			continue
		}
		dr := DeltaR(p.Eta, p.Phi, q.Eta, q.Phi)
		if skipOwnTrack && dr < OwnTrackR {
			continue
		}
		if dr < ConeR {
			sum += q.PT
		}
	}
	return sum
}

// LeptonIsolation is the relative isolation of a lepton: its own track
// (every track within ΔR < 1e-4) does not count in ChPFIso; photons and
// neutral hadrons all count, since the lepton is in neither list.
func (l *Lists) LeptonIsolation(pt, eta, phi float64) Iso {
	p := Particle{PT: pt, Eta: eta, Phi: phi, Index: -1}
	return Iso{
		Ch:    coneSum(p, l.Charged, -1, true) / pt,
		Gamma: coneSum(p, l.Photons, -1, false) / pt,
		Neu:   coneSum(p, l.Neutral, -1, false) / pt,
	}
}

// Kind says which list a particle of the matrix comes from.
type Kind int

const (
	KindTrack Kind = iota
	KindPhoton
	KindNeutral
)

// ParticleIsolation is the relative isolation of the k-th particle of
// the list of the given kind: it is left out of its own list's cone sum
// by position (identity), not by distance, so another particle at the
// very same η and φ still counts.
func (l *Lists) ParticleIsolation(kind Kind, k int) Iso {
	selfCh, selfGamma, selfNeu := -1, -1, -1
	var p Particle
	switch kind {
	case KindTrack:
		p, selfCh = l.Charged[k], k
	case KindPhoton:
		p, selfGamma = l.Photons[k], k
	case KindNeutral:
		p, selfNeu = l.Neutral[k], k
	}
	return Iso{
		Ch:    coneSum(p, l.Charged, selfCh, false) / p.PT,
		Gamma: coneSum(p, l.Photons, selfGamma, false) / p.PT,
		Neu:   coneSum(p, l.Neutral, selfNeu, false) / p.PT,
	}
}
