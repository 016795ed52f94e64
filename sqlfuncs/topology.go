package sqlfuncs

import (
	"cmp"
	"math"
	"math/bits"
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
	return math.Sqrt(topoDeltaR2(eta1, phi1, eta2, phi2))
}

// topoDeltaR2 is topoDeltaR's radicand, ΔR². The cone tests compare it with
// coneR2 and ownTrackR2 instead of taking the square root; they must use
// this very expression for the two to agree (the explicit float64
// conversions also forbid fusing into an FMA).
func topoDeltaR2(eta1, phi1, eta2, phi2 float64) float64 {
	de, dp := eta1-eta2, phi1-phi2
	if dp > math.Pi {
		dp -= 2 * math.Pi
	} else if dp < -math.Pi {
		dp += 2 * math.Pi
	}
	return float64(de*de) + float64(dp*dp)
}

// coneR2 and ownTrackR2 are the ΔR² bounds of the isolation cone and of the
// lepton's own track: x < coneR2 exactly when sqrt(x) < topoConeR, so the
// square-root-free test decides as topoDeltaR < topoConeR does.
var (
	coneR2     = sqrtBound(topoConeR)
	ownTrackR2 = sqrtBound(topoOwnTrackR)
)

// sqrtBound is the least float64 t with math.Sqrt(t) >= r (r > 0). Sqrt is
// correctly rounded, hence non-decreasing, so for every x (NaN included)
// math.Sqrt(x) < r ⟺ x < t. r·r is within an ulp or two of t; the loops
// step to it.
func sqrtBound(r float64) float64 {
	t := r * r
	for math.Sqrt(t) >= r {
		t = math.Nextafter(t, 0)
	}
	for math.Sqrt(t) < r {
		t = math.Nextafter(t, math.Inf(1))
	}
	return t
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
// η–φ grid of rows wider than the cone and columns at least R/gridReach
// wide. A cone then touches at most 3 rows × (2·gridReach + 1) columns, so
// the three cone sums of every particle cost one walk over that block,
// O(N + matches) per event instead of N² (an η-sorted sweep per list
// looked at the whole 0.6-wide η strip, about 8× the cone's area).
//
// The particles of the three lists are numbered by one id, the lists one
// after the other in storage order (list li's k-th particle is first[li]+k).
type isoGrid struct {
	etaLo     float64 // lower edge of η row 0
	etaScale  float64 // η rows per unit of η
	etaRows   int
	first     [numLists + 1]int32 // first id of each list; first[numLists] is the count
	cellStart []int32             // cell c (row·gridPhiCells + column) holds entries [cellStart[c], cellStart[c+1])
	entries   []gridEntry         // in cell order; within a cell in id order
	cellOf    []int32             // each id's cell, −1 when left out
	slot      []int32             // each binned id's index in entries
}

// gridEntry is a binned particle: what the cone test reads, together, so
// that a candidate costs one cache line.
type gridEntry struct {
	eta, phi float64
	id       int32
	list     int32
}

const (
	// gridReach is how many columns on each side of its own a cone can
	// reach. A row's columns are consecutive in memory, so narrower columns
	// cut the walked area (2R + width on average) at no extra spans, only
	// a larger grid to clear and count.
	gridReach = 3
	// gridPhiCells divides the turn into columns of 2π/(20·gridReach), at
	// least (R + 0.014)/gridReach wide.
	gridPhiCells = 20 * gridReach
	// gridEtaWidth is an η row's width: R plus a margin far above any
	// rounding of the row index.
	gridEtaWidth = 0.31
	// gridMaxEtaRows bounds the grid when η spans a huge range (corrupt
	// or exotic input): rows then widen, which stays correct.
	gridMaxEtaRows = 256
)

// finite is !IsNaN(x) && !IsInf(x, 0): x − x is NaN exactly for those.
func finite(x float64) bool { return x-x == 0 }

// phiCell is φ's grid column. It reduces φ modulo a turn, as the cone test
// does, so that particles on either side of φ = ±π land in neighbouring
// columns (gridPhiCells − 1 and 0).
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

// loadIsoList keeps the particles above cut. Every particle is written at
// the list's end and kept by advancing the end, which spares the
// unpredictable branch of an append per particle. (Local slices keep the
// compiler from reloading l's headers after every store.)
func loadIsoList[T float](l *isoList, pt, eta, phi []T, cut float64) {
	n := len(pt)
	eta, phi = eta[:n], phi[:n]
	lpt, leta := slices.Grow(l.pt[:0], n)[:n], slices.Grow(l.eta[:0], n)[:n]
	lphi, lsrc := slices.Grow(l.phi[:0], n)[:n], slices.Grow(l.src[:0], n)[:n]
	m := 0
	for i, p := range pt {
		lpt[m], leta[m], lphi[m], lsrc[m] = float64(p), float64(eta[i]), float64(phi[i]), int32(i)
		if float64(p) > cut {
			m++
		}
	}
	l.pt, l.eta, l.phi, l.src = lpt[:m], leta[:m], lphi[:m], lsrc[:m]
}

// build bins the lists' particles by a counting sort. Particles with a
// non-finite η or φ are left out: their ΔR to anything is NaN or infinite,
// so no cone can hold them.
func (g *isoGrid) build(lists *[numLists]isoList) {
	n := int32(0)
	lo, hi := math.Inf(1), math.Inf(-1)
	for li := range lists {
		l := &lists[li]
		g.first[li] = n
		n += int32(len(l.pt))
		for k, e := range l.eta {
			if finite(e) && finite(l.phi[k]) {
				lo, hi = min(lo, e), max(hi, e)
			}
		}
	}
	g.first[numLists] = n
	g.etaRows = 0
	if lo <= hi {
		width := max(gridEtaWidth, (hi-lo)/(gridMaxEtaRows-1))
		g.etaLo, g.etaScale = lo, 1/width
		g.etaRows = min(int((hi-lo)*g.etaScale)+1, gridMaxEtaRows)
	}
	cells := g.etaRows * gridPhiCells
	g.cellStart = slices.Grow(g.cellStart[:0], cells+1)[:cells+1]
	clear(g.cellStart)
	g.cellOf = slices.Grow(g.cellOf[:0], int(n))[:n]
	g.slot = slices.Grow(g.slot[:0], int(n))[:n]
	id := 0
	for li := range lists {
		l := &lists[li]
		for k, e := range l.eta {
			c := int32(-1)
			if f := l.phi[k]; finite(e) && finite(f) {
				row := min(int((e-g.etaLo)*g.etaScale), g.etaRows-1)
				c = int32(row*gridPhiCells + phiCell(f))
				g.cellStart[c+1]++
			}
			g.cellOf[id] = c
			id++
		}
	}
	for c := 1; c <= cells; c++ {
		g.cellStart[c] += g.cellStart[c-1]
	}
	binned := int(g.cellStart[cells])
	g.entries = slices.Grow(g.entries[:0], binned)[:binned]
	// Fill cells in id order; cellStart[c] walks to the end of cell c and
	// is shifted back afterwards.
	id = 0
	for li := range lists {
		l := &lists[li]
		for k := range l.eta {
			if c := g.cellOf[id]; c >= 0 {
				g.slot[id] = g.cellStart[c]
				g.entries[g.cellStart[c]] = gridEntry{eta: l.eta[k], phi: l.phi[k], id: int32(id), list: int32(li)}
				g.cellStart[c]++
			}
			id++
		}
	}
	copy(g.cellStart[1:], g.cellStart[:cells])
	g.cellStart[0] = 0
}

// gridSpan is a run of entries [lo, hi).
type gridSpan struct{ lo, hi int32 }

// maxSpans bounds block's result: two runs in each of three rows.
const maxSpans = 2 * 3

// block returns, in spans, the runs of entries in the cells within a row
// and gridReach columns of row, col: those that a cone around a point of
// that cell can touch. Columns wrap around the turn; the cells of a row
// are consecutive, so its columns are one run of entries, or two across
// φ = ±π.
func (g *isoGrid) block(row, col int, spans *[maxSpans]gridSpan) []gridSpan {
	out := spans[:0]
	for r := max(row-1, 0); r <= min(row+1, g.etaRows-1); r++ {
		base := r * gridPhiCells
		lo, hi := col-gridReach, col+gridReach+1 // columns [lo, hi), maybe past an end
		if lo < 0 {
			out = append(out, gridSpan{g.cellStart[base+lo+gridPhiCells], g.cellStart[base+gridPhiCells]})
			lo = 0
		}
		if hi > gridPhiCells {
			out = append(out, gridSpan{g.cellStart[base], g.cellStart[base+hi-gridPhiCells]})
			hi = gridPhiCells
		}
		out = append(out, gridSpan{g.cellStart[base+lo], g.cellStart[base+hi]})
	}
	return out
}

// collect appends to hits[list] the position of every particle within
// ΔR < 0.3 of (eta, phi), except the particle with id self (−1 for none)
// and, when ownTrack, tracks within ΔR < 1e-4 (a lepton's own track).
func (g *isoGrid) collect(eta, phi float64, self int32, ownTrack bool, hits *[numLists][]int32) {
	if g.etaRows == 0 || !finite(eta) || !finite(phi) {
		return // nothing binned, or a cone around a non-finite point holds nothing
	}
	row := math.Floor((eta - g.etaLo) * g.etaScale)
	if row < -1 || row > float64(g.etaRows) {
		return // out of reach of every particle
	}
	var spans [maxSpans]gridSpan
	for _, s := range g.block(int(row), phiCell(phi), &spans) {
		for _, e := range g.entries[s.lo:s.hi] {
			x := topoDeltaR2(eta, phi, e.eta, e.phi)
			if x < coneR2 && e.id != self && !(ownTrack && e.list == listCh && x < ownTrackR2) {
				hits[e.list] = append(hits[e.list], e.id-g.first[e.list])
			}
		}
	}
}

// coneSums computes the three cone sums of every binned particle at once,
// in w.sums[list][id], each particle left out of its own list. The sums are
// those of isoAt, bit for bit: a particle p is added to the sums of the
// particles in its cone, and the particles p are taken in id order, so
// each sum adds its terms in storage order.
//
// The walk has no data-dependent branch: a miss adds +0, which leaves a
// sum's bits as they are (sums start at +0 and add positive terms, so they
// are never −0). The compiler would branch on the cone test (it makes no
// conditional move of a float, or of an index that feeds a load), and a
// mispredicted branch per miss costs more than the test.
func (w *topoWork) coneSums() {
	g := w.builtGrid()
	n := int(g.first[numLists])
	for li := range w.sums {
		w.sums[li] = slices.Grow(w.sums[li][:0], n)[:n]
		clear(w.sums[li])
	}
	r2 := math.Float64bits(coneR2)
	var spans [maxSpans]gridSpan
	for li := range w.lists {
		l, sum := &w.lists[li], w.sums[li]
		for k, pt := range l.pt {
			id := g.first[li] + int32(k)
			c := int(g.cellOf[id])
			if c < 0 {
				continue // not binned: in no cone
			}
			eta, phi, ptBits := l.eta[k], l.phi[k], math.Float64bits(pt)
			// p leaves itself out by hiding its entry at η = +∞ during its
			// walk, where its ΔR² is +∞: cheaper than testing every id.
			self := &g.entries[g.slot[id]]
			self.eta = math.Inf(1)
			for _, s := range g.block(c/gridPhiCells, c%gridPhiCells, &spans) {
				for _, e := range g.entries[s.lo:s.hi] {
					// The receiver's point comes first, as in isoAt's query.
					// Binned coordinates are finite, so ΔR² is +0 to +∞,
					// never NaN: it orders like its bits, which are below
					// 2⁶³ as r2's are, so x − r2 borrows into bit 63 exactly
					// when x < r2: in is all ones then, else zero.
					x := math.Float64bits(topoDeltaR2(e.eta, e.phi, eta, phi))
					in := uint64(int64(x-r2) >> 63)
					sum[e.id] += math.Float64frombits(ptBits & in)
				}
			}
			self.eta = eta
		}
	}
}

// iso is the three relative isolations of an object.
type iso struct{ ch, gamma, neu float64 }

// topoWork is one event's isolation lists and scratch, reused across rows.
type topoWork struct {
	lists    [numLists]isoList
	grid     isoGrid
	gridOK   bool // grid bins the current lists
	hits     [numLists][]int32
	sums     [numLists][]float64 // coneSums' result, by id
	sumsOK   bool                // sums are the current lists'
	order    []int32
	rankKeys []rankKey
	keys     []uint64
	tmpKeys  []uint64
	parts    []llParticle
}

func loadLists[T float](w *topoWork, trkPt, trkEta, trkPhi, phoEt, phoEta, phoPhi, nhEt, nhEta, nhPhi []T) {
	loadIsoList(&w.lists[listCh], trkPt, trkEta, trkPhi, topoTrackMinPT)
	loadIsoList(&w.lists[listGamma], phoEt, phoEta, phoPhi, topoTowerMinET)
	loadIsoList(&w.lists[listNeu], nhEt, nhEta, nhPhi, topoTowerMinET)
	w.gridOK, w.sumsOK = false, false
}

// builtGrid is the grid of the current lists, built on first use: events
// that select no lepton never need it.
func (w *topoWork) builtGrid() *isoGrid {
	if !w.gridOK {
		w.grid.build(&w.lists)
		w.gridOK = true
	}
	return &w.grid
}

// isoAt is the relative isolation of an object at (eta, phi) with the
// given pT, leaving out the particle with id self (−1 for none): each
// list's cone sum in storage order, so that the float sum, hence the 0.45
// cut, does not depend on how the grid was walked.
func (w *topoWork) isoAt(pt, eta, phi float64, self int32, ownTrack bool) iso {
	for li := range w.hits {
		w.hits[li] = w.hits[li][:0]
	}
	w.builtGrid().collect(eta, phi, self, ownTrack, &w.hits)
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
// An event has a lepton or two to test, so they scan the lists, in
// storage order (isoAt's sums), rather than build the grid.
func (w *topoWork) leptonIso(pt, eta, phi float64) iso {
	var sum [numLists]float64
	for li := range w.lists {
		l := &w.lists[li]
		etas, phis := l.eta[:len(l.pt)], l.phi[:len(l.pt)]
		// Particles within the own-track bound are left out of the tracks'
		// sum; a zero bound leaves out nothing.
		r2, own2 := math.Float64bits(coneR2), uint64(0)
		if li == listCh {
			own2 = math.Float64bits(ownTrackR2)
		}
		for k, p := range l.pt {
			// Branch-free, as in coneSums, but NaN coordinates are not
			// binned out here: |ΔR²|'s bits order like its value, and a NaN
			// of either sign is above both bounds, as it fails both tests.
			x := math.Float64bits(math.Abs(topoDeltaR2(eta, phi, etas[k], phis[k])))
			in := uint64(int64(x-r2)>>63) &^ uint64(int64(x-own2)>>63)
			sum[li] += math.Float64frombits(math.Float64bits(p) & in)
		}
	}
	return iso{ch: sum[listCh] / pt, gamma: sum[listGamma] / pt, neu: sum[listNeu] / pt}
}

// particleIso is the isolation of the k-th particle of list li, left out
// of its own list by position. It is isoAt's value, taken from the cone
// sums of all particles, computed once per event on first use: the low-level
// matrix needs (nearly) every particle's.
func (w *topoWork) particleIso(li, k int) iso {
	if !w.sumsOK {
		w.coneSums()
		w.sumsOK = true
	}
	id, pt := int(w.grid.first[li])+k, w.lists[li].pt[k]
	return iso{ch: w.sums[listCh][id] / pt, gamma: w.sums[listGamma][id] / pt, neu: w.sums[listNeu][id] / pt}
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
	n := len(l.pt)
	if keep != nil {
		n = len(keep)
	}
	// The pairs sort as one integer when the positions fit in low bits
	// that every pT leaves zero, as float32 values widened to float64 do.
	posBits := bits.Len(uint(len(l.pt)))
	posMask := uint64(1)<<posBits - 1
	var low uint64
	for _, pt := range l.pt {
		low |= math.Float64bits(pt)
	}
	if low&posMask != 0 {
		return w.rankPairs(l, keep, limit)
	}
	keys := slices.Grow(w.keys[:0], n)[:n]
	for i := range keys {
		k := int32(i)
		if keep != nil {
			k = keep[i]
		}
		// A list's pT is above its cut, so positive (+Inf included) and
		// never NaN, and orders like its IEEE bits; their complement
		// orders pT descending, and the position breaks ties.
		keys[i] = ^math.Float64bits(l.pt[k])&^posMask | uint64(k)
	}
	w.keys, w.tmpKeys = keys, slices.Grow(w.tmpKeys[:0], n)[:n]
	keys = bucketSort(keys, w.tmpKeys)
	w.order = w.order[:0]
	for _, key := range keys[:min(n, limit)] {
		w.order = append(w.order, int32(key&posMask))
	}
	return w.order
}

// bucketSort returns keys sorted in ascending order, in keys or in tmp
// (scratch of the same length). A counting sort distributes them over 256
// buckets by their leading bits above the least key, then each bucket is
// sorted: pT's bits grow like its logarithm, so a list's few hundred keys
// spread over many buckets, and the few comparisons left mispredict far
// less than a comparison sort's (which cost more than the whole walk of
// coneSums' grid did).
func bucketSort(keys, tmp []uint64) []uint64 {
	if len(keys) < 2 {
		return keys
	}
	lo, hi := keys[0], keys[0]
	for _, k := range keys {
		lo, hi = min(lo, k), max(hi, k)
	}
	shift := max(bits.Len64(hi-lo)-8, 0)
	var start [257]int32
	for _, k := range keys {
		start[(k-lo)>>shift+1]++
	}
	for b := 1; b <= 256; b++ {
		start[b] += start[b-1]
	}
	next := start
	for _, k := range keys {
		b := (k - lo) >> shift
		tmp[next[b]] = k
		next[b]++
	}
	for b := range 256 {
		if bucket := tmp[start[b]:start[b+1]]; len(bucket) > 1 {
			slices.Sort(bucket)
		}
	}
	return tmp
}

// rankPairs is rank's general case, sorting (pT, position) pairs.
func (w *topoWork) rankPairs(l *isoList, keep []int32, limit int) []int32 {
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
		// ΔR ≥ 1e-4, as ΔR² ≥ ownTrackR2 (both false for NaN).
		if topoDeltaR2(ch.eta[k], ch.phi[k], lep.eta, lep.phi) >= ownTrackR2 {
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
