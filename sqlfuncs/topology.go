package sqlfuncs

import (
	"cmp"
	"math"
	"slices"
)

// The topology classifier's physics (../shared/specs/topology.md, sections
// 2–5): isolation, event selection, the 801 × 19 low-level matrix and the 14
// high-level features, computed per event on reused buffers. The SQL
// functions of topology_funcs.go call into this file.
//
// Conventions (the same as internal/topref's, so that values agree bit for
// bit): branch values are widened to float64 and every cut compares the
// widened value; Δφ is moved by one full turn into [−π, π]; cone sums add
// in storage order; a particle leaves itself out of its own list by
// position, the lepton leaves out every track within ΔR < 1e-4 (its own
// track); ranking is by decreasing pT with ties in storage order; matrix
// values are float64 results rounded to float32 once.
//
// The reference code's deviations (spec section 8) are not reproduced:
// no unwrapped Δφ, no "minus one" self-removal for every object, no choice
// of the lepton by signed η, no mT², no sign(PID) charge, no storage-order
// particles, no rejection of events without particles.

// Cuts and sizes of the spec.
const (
	topoTrackMinPT = 0.5  // tracks in the isolation lists and the matrix
	topoTowerMinET = 1    // photons and neutral hadrons
	topoConeR      = 0.3  // isolation cone
	topoOwnTrackR  = 1e-4 // the lepton's own track
	topoLepMinPT   = 23   // selected lepton pT
	topoMaxRelIso  = 0.45 // selected lepton ChPFIso + GammaPFIso + NeuPFIso
	topoJetMinPT   = 30   // counted jets
	topoJetMaxEta  = 2.6  // counted jets |η|
	topoMaxTracks  = 450
	topoMaxPhotons = 150
	topoMaxNeutral = 200
	// TopoRows and TopoColumns are the low-level matrix's shape; the SQL
	// result is its rows concatenated (row-major).
	TopoRows    = 1 + topoMaxTracks + topoMaxPhotons + topoMaxNeutral
	TopoColumns = 19
	// TopoHighLevel is the number of high-level features.
	TopoHighLevel = 14
)

// Columns of the low-level matrix that the code names.
const (
	llfPT              = 4
	llfEta             = 5
	llfPhi             = 6
	llfIsChargedHadron = 13
	llfIsNeutralHadron = 14
	llfIsPhoton        = 15
	llfIsElectron      = 16
	llfIsMuon          = 17
)

// TopoColumnNames names the low-level matrix's 19 columns in order.
var TopoColumnNames = [TopoColumns]string{
	"e", "px", "py", "pz", "pt", "eta", "phi", "x", "y", "z",
	"ch_iso", "gamma_iso", "neu_iso",
	"is_charged_hadron", "is_neutral_hadron", "is_photon", "is_electron", "is_muon", "charge",
}

// TopoHighLevelNames names the 14 high-level features in order; they are
// the fields of topo_hlf's STRUCT.
var TopoHighLevelNames = [TopoHighLevel]string{
	"ht", "met", "met_phi", "mt", "n_jets", "n_bjets", "lep_pt", "lep_eta", "lep_phi",
	"lep_ch_iso", "lep_gamma_iso", "lep_neu_iso", "lep_charge", "is_electron",
}

// topoDeltaR is ΔR with Δφ moved by at most one turn: azimuths lie in
// [−π, π], so one turn always suffices, and the result is the same bits as
// the reference's (wrapPhi's modulo would round differently).
func topoDeltaR(eta1, phi1, eta2, phi2 float64) float64 {
	de, dp := eta1-eta2, phi1-phi2
	if dp > math.Pi {
		dp -= 2 * math.Pi
	} else if dp < -math.Pi {
		dp += 2 * math.Pi
	}
	return math.Sqrt(float64(de*de) + float64(dp*dp))
}

// isoList is one isolation list (section 2): the particles of a collection
// above threshold, in storage order.
type isoList struct {
	pt, eta, phi []float64 // storage order
	src          []int32   // position in the collection
}

// Which list a grid entry belongs to, and its index in iso sums.
const (
	listCh = iota
	listGamma
	listNeu
	numLists
)

// isoGrid bins the particles of all three isolation lists together in an
// η–φ grid whose cells are wider than the cone in both directions. A cone
// then touches at most 3 × 3 cells, so the three cone sums of every
// particle cost one walk over that block, O(N + matches) per event instead
// of N² (an η-sorted sweep per list looked at the whole 0.6-wide η strip,
// about 8× the cone's area; the block is about 3×).
type isoGrid struct {
	etaLo     float64 // lower edge of η row 0
	etaScale  float64 // η rows per unit of η
	etaRows   int
	cellStart []int32   // cell c holds entries [cellStart[c], cellStart[c+1])
	cellEta   []float64 // η, φ and reference of each entry, in cell order;
	cellPhi   []float64 // within a cell, lists in order and each list in
	cellRef   []int32   // storage order; ref = position·numLists + list
	cellOf    []int32   // scratch: each reference's cell, −1 when left out
}

const (
	// gridPhiCells divides the turn into cells of 2π/20 ≈ 0.314 > R.
	gridPhiCells = 20
	// gridEtaWidth is an η row's width: R plus a margin far above any
	// rounding of the row index.
	gridEtaWidth = 0.31
	// gridMaxEtaRows bounds the grid when η spans a huge range (corrupt
	// or exotic input): rows then widen, which stays correct.
	gridMaxEtaRows = 256
	// coneMargin widens the cheap Δη/Δφ rejection so that rounding can
	// never hide a particle the exact ΔR test would accept.
	coneMargin = 1e-9
)

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// phiCell is φ's grid column. It reduces φ modulo a turn, as the cone test
// does, so that particles on either side of φ = ±π land in neighbouring
// columns (19 and 0).
func phiCell(phi float64) int {
	x := phi + math.Pi
	if !(x >= 0 && x < 2*math.Pi) {
		x = math.Mod(x, 2*math.Pi)
		if x < 0 {
			x += 2 * math.Pi
		}
	}
	return min(int(x*(gridPhiCells/(2*math.Pi))), gridPhiCells-1)
}

func loadIsoList[T float](l *isoList, pt, eta, phi []T, cut float64) {
	l.pt, l.eta, l.phi, l.src = l.pt[:0], l.eta[:0], l.phi[:0], l.src[:0]
	for i := range pt {
		if p := float64(pt[i]); p > cut {
			l.pt = append(l.pt, p)
			l.eta = append(l.eta, float64(eta[i]))
			l.phi = append(l.phi, float64(phi[i]))
			l.src = append(l.src, int32(i))
		}
	}
}

// build bins the lists' particles by a counting sort. Particles with a
// non-finite η or φ are left out: their ΔR to anything is NaN or infinite,
// so no cone can hold them.
func (g *isoGrid) build(lists *[numLists]isoList) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for li := range lists {
		l := &lists[li]
		for k, e := range l.eta {
			if finite(e) && finite(l.phi[k]) {
				lo, hi = min(lo, e), max(hi, e)
			}
		}
	}
	g.etaRows = 0
	if lo <= hi {
		width := max(gridEtaWidth, (hi-lo)/(gridMaxEtaRows-1))
		g.etaLo, g.etaScale = lo, 1/width
		g.etaRows = min(int((hi-lo)*g.etaScale)+1, gridMaxEtaRows)
	}
	cells := g.etaRows * gridPhiCells
	g.cellStart = slices.Grow(g.cellStart[:0], cells+1)[:cells+1]
	clear(g.cellStart)
	g.cellOf = g.cellOf[:0]
	for li := range lists {
		l := &lists[li]
		for k, e := range l.eta {
			c := int32(-1)
			if f := l.phi[k]; finite(e) && finite(f) {
				row := min(int((e-g.etaLo)*g.etaScale), g.etaRows-1)
				c = int32(row*gridPhiCells + phiCell(f))
				g.cellStart[c+1]++
			}
			g.cellOf = append(g.cellOf, c)
		}
	}
	for c := 1; c <= cells; c++ {
		g.cellStart[c] += g.cellStart[c-1]
	}
	n := int(g.cellStart[cells])
	g.cellEta = slices.Grow(g.cellEta[:0], n)[:n]
	g.cellPhi = slices.Grow(g.cellPhi[:0], n)[:n]
	g.cellRef = slices.Grow(g.cellRef[:0], n)[:n]
	// Fill cells in list and storage order; cellStart[c] walks to the end
	// of cell c and is shifted back afterwards.
	i := 0
	for li := range lists {
		l := &lists[li]
		for k := range l.eta {
			if c := g.cellOf[i]; c >= 0 {
				j := g.cellStart[c]
				g.cellEta[j], g.cellPhi[j], g.cellRef[j] = l.eta[k], l.phi[k], int32(k*numLists+li)
				g.cellStart[c]++
			}
			i++
		}
	}
	copy(g.cellStart[1:], g.cellStart[:cells])
	g.cellStart[0] = 0
}

// collect appends to hits[list] the position of every particle within
// ΔR < 0.3 of (eta, phi), except the reference self (−1 for none) and,
// when ownTrack, tracks within ΔR < 1e-4 (a lepton's own track).
func (g *isoGrid) collect(eta, phi float64, self int32, ownTrack bool, hits *[numLists][]int32) {
	if g.etaRows == 0 || !finite(eta) || !finite(phi) {
		return // nothing binned, or a cone around a non-finite point holds nothing
	}
	row := math.Floor((eta - g.etaLo) * g.etaScale)
	if row < -1 || row > float64(g.etaRows) {
		return // more than a row away from every particle
	}
	firstRow, lastRow := max(int(row)-1, 0), min(int(row)+1, g.etaRows-1)
	col := phiCell(phi)
	cols := [3]int{(col + gridPhiCells - 1) % gridPhiCells, col, (col + 1) % gridPhiCells}
	const reach = topoConeR + coneMargin
	for r := firstRow; r <= lastRow; r++ {
		for _, c := range cols {
			c += r * gridPhiCells
			for j := g.cellStart[c]; j < g.cellStart[c+1]; j++ {
				// Cheap rejection of the block's corners before the exact ΔR,
				// with a margin so that the exact test alone decides near 0.3.
				pe, pf := g.cellEta[j], g.cellPhi[j]
				if de := eta - pe; de > reach || de < -reach {
					continue
				}
				dp := phi - pf
				if dp > math.Pi {
					dp -= 2 * math.Pi
				} else if dp < -math.Pi {
					dp += 2 * math.Pi
				}
				if dp > reach || dp < -reach {
					continue
				}
				ref := g.cellRef[j]
				if ref == self {
					continue
				}
				d := topoDeltaR(eta, phi, pe, pf)
				list := ref % numLists
				if d < topoConeR && !(ownTrack && list == listCh && d < topoOwnTrackR) {
					hits[list] = append(hits[list], ref/numLists)
				}
			}
		}
	}
}

// iso is the three relative isolations of an object.
type iso struct{ ch, gamma, neu float64 }

// topoWork is one event's isolation lists and scratch, reused across rows.
type topoWork struct {
	lists    [numLists]isoList
	grid     isoGrid
	hits     [numLists][]int32
	order    []int32
	rankKeys []rankKey
	parts    []llParticle
}

func loadLists[T float](w *topoWork, trkPt, trkEta, trkPhi, phoEt, phoEta, phoPhi, nhEt, nhEta, nhPhi []T) {
	loadIsoList(&w.lists[listCh], trkPt, trkEta, trkPhi, topoTrackMinPT)
	loadIsoList(&w.lists[listGamma], phoEt, phoEta, phoPhi, topoTowerMinET)
	loadIsoList(&w.lists[listNeu], nhEt, nhEta, nhPhi, topoTowerMinET)
	w.grid.build(&w.lists)
}

// isoAt is the relative isolation of an object at (eta, phi) with the
// given pT: each list's cone sum in storage order, so that the float sum,
// hence the 0.45 cut, does not depend on how the grid was walked.
func (w *topoWork) isoAt(pt, eta, phi float64, self int32, ownTrack bool) iso {
	for li := range w.hits {
		w.hits[li] = w.hits[li][:0]
	}
	w.grid.collect(eta, phi, self, ownTrack, &w.hits)
	var sum [numLists]float64
	for li, h := range w.hits {
		if len(h) > 1 {
			slices.Sort(h)
		}
		pts := w.lists[li].pt
		for _, p := range h {
			sum[li] += pts[p]
		}
	}
	return iso{ch: sum[listCh] / pt, gamma: sum[listGamma] / pt, neu: sum[listNeu] / pt}
}

// leptonIso is a lepton's isolation: its own track (every track within
// ΔR < 1e-4) is left out of ChPFIso; it belongs to neither tower list.
func (w *topoWork) leptonIso(pt, eta, phi float64) iso {
	return w.isoAt(pt, eta, phi, -1, true)
}

// particleIso is the isolation of the k-th particle of list li, left out
// of its own list by position.
func (w *topoWork) particleIso(li, k int) iso {
	l := &w.lists[li]
	return w.isoAt(l.pt[k], l.eta[k], l.phi[k], int32(k*numLists+li), false)
}

// objectIso is the isolation of an arbitrary object of a collection that
// may or may not be in list li: position i of the collection is left out
// when it made the list.
func (w *topoWork) objectIso(li, i int, pt, eta, phi float64) iso {
	if k, found := slices.BinarySearch(w.lists[li].src, int32(i)); found {
		return w.particleIso(li, k)
	}
	return w.isoAt(pt, eta, phi, -1, false)
}

// topoLepton is the selected lepton.
type topoLepton struct {
	muon         bool
	idx          int // 0-based position in its collection
	pt, eta, phi float64
	charge       int32
	iso          iso
	ok           bool // a lepton was selected
}

// selectFrom considers one flavour's leptons (section 3): pT > 23 and
// summed relative isolation < 0.45; a candidate replaces the current
// choice only with a strictly higher pT, so ties go to the one met first.
func selectFrom[T float](w *topoWork, best *topoLepton, muon bool, pt, eta, phi []T, charge []int32) {
	for i := range pt {
		p := float64(pt[i])
		if !(p > topoLepMinPT) {
			continue
		}
		e, f := float64(eta[i]), float64(phi[i])
		is := w.leptonIso(p, e, f)
		if !(is.ch+is.gamma+is.neu < topoMaxRelIso) {
			continue
		}
		if !best.ok || p > best.pt {
			*best = topoLepton{muon: muon, idx: i, pt: p, eta: e, phi: f, charge: charge[i], iso: is, ok: true}
		}
	}
}

// rank returns the list's positions in keep (all when keep is nil)
// ordered by decreasing pT, ties in storage order, cut at limit, in
// w.order; keep may share w.order's storage, as it is read first. Sorting
// (pT, position) pairs, which are distinct, gives that order without a
// stable sort's merging.
func (w *topoWork) rank(l *isoList, keep []int32, limit int) []int32 {
	keys := w.rankKeys[:0]
	if keep == nil {
		for k, pt := range l.pt {
			keys = append(keys, rankKey{pt, int32(k)})
		}
	} else {
		for _, k := range keep {
			keys = append(keys, rankKey{l.pt[k], k})
		}
	}
	slices.SortFunc(keys, func(a, b rankKey) int {
		if c := cmp.Compare(b.pt, a.pt); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	w.rankKeys = keys
	w.order = w.order[:0]
	for _, k := range keys[:min(len(keys), limit)] {
		w.order = append(w.order, k.pos)
	}
	return w.order
}

// rankKey is a particle's pT and list position, rank's sort key.
type rankKey struct {
	pt  float64
	pos int32
}

// setLLFRow fills one matrix row from a massless particle; the one-hot
// columns other than hot are zeroed here, so the row need not be.
func setLLFRow(r []float32, pt, eta, phi, x, y, z float64, is iso, hot int, charge float64) {
	clear(r[llfIsChargedHadron : llfIsMuon+1])
	r[0] = float32(pt * math.Cosh(eta))
	r[1] = float32(pt * math.Cos(phi))
	r[2] = float32(pt * math.Sin(phi))
	r[3] = float32(pt * math.Sinh(eta))
	r[4] = float32(pt)
	r[5] = float32(eta)
	r[6] = float32(phi)
	r[7] = float32(x)
	r[8] = float32(y)
	r[9] = float32(z)
	r[10] = float32(is.ch)
	r[11] = float32(is.gamma)
	r[12] = float32(is.neu)
	r[hot] = 1
	r[18] = float32(charge)
}

// llParticle is one particle row of the low-level matrix in its
// independent quantities. topo_event stores exactly these; only topo_llf
// needs E, px, py, pz and the one-hot columns, which setLLFRow derives.
type llParticle struct {
	pt, eta, phi, x, y, z float64
	is                    iso
	charge                float64
	kind                  int8 // one-hot column − llfIsChargedHadron
}

// lowLevel returns the particle rows of the event's 801 × 19 matrix, in
// w.parts: the lepton, then tracks other than its own, photons and
// neutral hadrons, each ranked by pT and truncated. The track fields are
// the whole collection's (the track list's src indexes them).
func lowLevel[T float](w *topoWork, lep topoLepton, trkCharge []int32, x, y, z []T) []llParticle {
	kind := int8(llfIsElectron - llfIsChargedHadron)
	if lep.muon {
		kind = llfIsMuon - llfIsChargedHadron
	}
	parts := append(w.parts[:0], llParticle{pt: lep.pt, eta: lep.eta, phi: lep.phi, is: lep.iso, charge: float64(lep.charge), kind: kind})
	ch, gamma, neu := &w.lists[listCh], &w.lists[listGamma], &w.lists[listNeu]
	keep := w.order[:0]
	for k := range ch.pt {
		if topoDeltaR(ch.eta[k], ch.phi[k], lep.eta, lep.phi) >= topoOwnTrackR {
			keep = append(keep, int32(k))
		}
	}
	for _, k := range w.rank(ch, keep, topoMaxTracks) {
		i := ch.src[k]
		parts = append(parts, llParticle{pt: ch.pt[k], eta: ch.eta[k], phi: ch.phi[k],
			x: float64(x[i]), y: float64(y[i]), z: float64(z[i]),
			is: w.particleIso(listCh, int(k)), charge: float64(trkCharge[i]), kind: llfIsChargedHadron - llfIsChargedHadron})
	}
	for _, k := range w.rank(gamma, nil, topoMaxPhotons) {
		parts = append(parts, llParticle{pt: gamma.pt[k], eta: gamma.eta[k], phi: gamma.phi[k],
			is: w.particleIso(listGamma, int(k)), kind: llfIsPhoton - llfIsChargedHadron})
	}
	for _, k := range w.rank(neu, nil, topoMaxNeutral) {
		parts = append(parts, llParticle{pt: neu.pt[k], eta: neu.eta[k], phi: neu.phi[k],
			is: w.particleIso(listNeu, int(k)), kind: llfIsNeutralHadron - llfIsChargedHadron})
	}
	w.parts = parts
	return parts
}

// llfRows writes parts as the first len(parts) rows of a matrix (row-major,
// TopoColumns wide); the rows after them are left as they were.
func llfRows(parts []llParticle, dst []float32) {
	for i, p := range parts {
		setLLFRow(dst[i*TopoColumns:(i+1)*TopoColumns], p.pt, p.eta, p.phi, p.x, p.y, p.z, p.is,
			llfIsChargedHadron+int(p.kind), p.charge)
	}
}

// highLevel computes the 14 features of section 5 in TopoHighLevelNames
// order: counted jets have PT > 30 and |η| < 2.6, HT adds them in storage
// order, mT = sqrt(2·pT·MET·(1 − cos Δφ)) multiplied left to right.
func highLevel[T float](lep topoLepton, jetPt, jetEta []T, btag []int32, met, metPhi float64) [TopoHighLevel]float64 {
	var f [TopoHighLevel]float64
	for i := range jetPt {
		if pt := float64(jetPt[i]); pt > topoJetMinPT && math.Abs(float64(jetEta[i])) < topoJetMaxEta {
			f[0] += pt
			f[4]++
			if btag[i] > 0 {
				f[5]++
			}
		}
	}
	f[1], f[2] = met, metPhi
	f[3] = math.Sqrt(2 * lep.pt * met * (1 - math.Cos(lep.phi-metPhi)))
	f[6], f[7], f[8] = lep.pt, lep.eta, lep.phi
	f[9], f[10], f[11] = lep.iso.ch, lep.iso.gamma, lep.iso.neu
	f[12] = float64(lep.charge)
	if !lep.muon {
		f[13] = 1
	}
	return f
}

// sequence writes the recurrent models' input (section 6, step 4) for the
// matrix m with n particle rows: those rows ordered by decreasing ΔR from
// the lepton (row 0; ties in matrix order), each column standardised over
// them (population deviation; a column of equal values becomes 0), then
// the zero padding. order is scratch.
func sequence(m []float32, n int, dst []float32, mask []bool, order []int32, dr []float64) ([]int32, []float64) {
	clear(dst)
	clear(mask)
	if n == 0 {
		return order, dr
	}
	at := func(i, c int) float32 { return m[i*TopoColumns+c] }
	lepEta, lepPhi := float64(at(0, llfEta)), float64(at(0, llfPhi))
	order, dr = order[:0], dr[:0]
	for i := range n {
		order = append(order, int32(i))
		dr = append(dr, topoDeltaR(float64(at(i, llfEta)), float64(at(i, llfPhi)), lepEta, lepPhi))
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(dr[b], dr[a]) })
	for c := range TopoColumns {
		var sum float64
		lo, hi := at(0, c), at(0, c)
		for i := range n {
			v := at(i, c)
			sum += float64(v)
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo == hi {
			continue // already zero
		}
		mean := sum / float64(n)
		var ss float64
		for i := range n {
			d := float64(at(i, c)) - mean
			ss += float64(d * d)
		}
		std := math.Sqrt(ss / float64(n))
		for out, i := range order {
			dst[out*TopoColumns+c] = float32((float64(at(int(i), c)) - mean) / std)
		}
	}
	for i := range n {
		mask[i] = true
	}
	return order, dr
}

// hashKey is internal/topref's Key: mix(mix(seed ^ salt) ^ id) with
// SplitMix64's finaliser, the seeded sort key of the data preparation.
func hashKey(seed, salt, id uint64) uint64 { return splitMix(splitMix(seed^salt) ^ id) }

func splitMix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
