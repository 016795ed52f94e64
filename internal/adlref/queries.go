package adlref

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"go-hep.org/x/hep/groot/rtree"
)

// Tree is the name of the tree the benchmark reads.
const Tree = "Events"

// event holds the branches the eight queries read, with the sample's types.
type event struct {
	METPt, METPhi float32

	JetPt, JetEta, JetPhi, JetMass, JetBtag []float32

	MuonPt, MuonEta, MuonPhi, MuonMass []float32
	MuonCharge                         []int32

	ElectronPt, ElectronEta, ElectronPhi, ElectronMass []float32
	ElectronCharge                                     []int32
}

func (e *event) readVars() []rtree.ReadVar {
	return []rtree.ReadVar{
		{Name: "MET_pt", Value: &e.METPt},
		{Name: "MET_phi", Value: &e.METPhi},
		{Name: "Jet_pt", Value: &e.JetPt},
		{Name: "Jet_eta", Value: &e.JetEta},
		{Name: "Jet_phi", Value: &e.JetPhi},
		{Name: "Jet_mass", Value: &e.JetMass},
		{Name: "Jet_btag", Value: &e.JetBtag},
		{Name: "Muon_pt", Value: &e.MuonPt},
		{Name: "Muon_eta", Value: &e.MuonEta},
		{Name: "Muon_phi", Value: &e.MuonPhi},
		{Name: "Muon_mass", Value: &e.MuonMass},
		{Name: "Muon_charge", Value: &e.MuonCharge},
		{Name: "Electron_pt", Value: &e.ElectronPt},
		{Name: "Electron_eta", Value: &e.ElectronEta},
		{Name: "Electron_phi", Value: &e.ElectronPhi},
		{Name: "Electron_mass", Value: &e.ElectronMass},
		{Name: "Electron_charge", Value: &e.ElectronCharge},
	}
}

// query is one benchmark histogram: its binning and how an event fills it.
type query struct {
	name   string
	lo, hi float64
	nbins  int
	fill   func(e *event, h *Hist)
}

var queries = []query{
	{"q1", 0, 2000, 100, fillQ1},
	{"q2", 15, 60, 100, fillQ2},
	{"q3", 15, 60, 100, fillQ3},
	{"q4", 0, 2000, 100, fillQ4},
	{"q5", 0, 2000, 100, fillQ5},
	{"q6-1", 15, 40, 100, fillQ6Pt},
	{"q6-2", 0, 1, 100, fillQ6Btag},
	{"q7", 15, 200, 100, fillQ7},
	{"q8", 15, 250, 100, fillQ8},
}

// Queries returns the query names Compute accepts, in benchmark order.
func Queries() []string {
	names := make([]string, len(queries))
	for i, q := range queries {
		names[i] = q.name
	}
	return names
}

// Compute returns the histogram of the named query ("q1" … "q8", with
// "q6-1" and "q6-2" for the two halves of Q6) over the Events trees of
// files, read in order as one chain.
func Compute(name string, files []string) ([]Bin, error) {
	i := slices.IndexFunc(queries, func(q query) bool { return q.name == name })
	if i < 0 {
		return nil, fmt.Errorf("adlref: unknown query %q (want one of %s)", name, strings.Join(Queries(), ", "))
	}
	hists, err := run(files, queries[i:i+1])
	if err != nil {
		return nil, err
	}
	return hists[0].Bins(), nil
}

// ComputeAll returns every query's histogram, keyed by query name, reading
// the files once.
func ComputeAll(files []string) (map[string][]Bin, error) {
	hists, err := run(files, queries)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]Bin, len(queries))
	for i, q := range queries {
		out[q.name] = hists[i].Bins()
	}
	return out, nil
}

func run(files []string, qs []query) (hists []*Hist, err error) {
	if len(files) == 0 {
		return nil, errors.New("adlref: no input files")
	}
	tree, closeChain, err := rtree.ChainOf(Tree, files...)
	if err != nil {
		return nil, fmt.Errorf("adlref: open tree %q in %v: %w", Tree, files, err)
	}
	defer func() {
		if cerr := closeChain(); cerr != nil && err == nil {
			err = fmt.Errorf("adlref: close %v: %w", files, cerr)
		}
	}()

	var evt event
	r, err := rtree.NewReader(tree, evt.readVars())
	if err != nil {
		return nil, fmt.Errorf("adlref: read tree %q in %v: %w", Tree, files, err)
	}
	defer r.Close()

	hists = make([]*Hist, len(qs))
	for i, q := range qs {
		hists[i] = NewHist(q.lo, q.hi, q.nbins)
	}
	err = r.Read(func(ctx rtree.RCtx) error {
		if err := evt.check(); err != nil {
			return fmt.Errorf("entry %d: %w", ctx.Entry, err)
		}
		for i, q := range qs {
			q.fill(&evt, hists[i])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("adlref: read %v: %w", files, err)
	}
	return hists, nil
}

// check guards the index arithmetic below against collections whose
// branches disagree in length, which would mean a corrupt file.
func (e *event) check() error {
	n := len(e.JetPt)
	if len(e.JetEta) != n || len(e.JetPhi) != n || len(e.JetMass) != n || len(e.JetBtag) != n {
		return errors.New("jet branches of unequal length")
	}
	n = len(e.MuonPt)
	if len(e.MuonEta) != n || len(e.MuonPhi) != n || len(e.MuonMass) != n || len(e.MuonCharge) != n {
		return errors.New("muon branches of unequal length")
	}
	n = len(e.ElectronPt)
	if len(e.ElectronEta) != n || len(e.ElectronPhi) != n || len(e.ElectronMass) != n || len(e.ElectronCharge) != n {
		return errors.New("electron branches of unequal length")
	}
	return nil
}

func f64(v float32) float64 { return float64(v) }

func (e *event) jet(i int) P4 {
	return PtEtaPhiM(f64(e.JetPt[i]), f64(e.JetEta[i]), f64(e.JetPhi[i]), f64(e.JetMass[i]))
}

func (e *event) muon(i int) P4 {
	return PtEtaPhiM(f64(e.MuonPt[i]), f64(e.MuonEta[i]), f64(e.MuonPhi[i]), f64(e.MuonMass[i]))
}

// Q1: MET of every event.
func fillQ1(e *event, h *Hist) { h.Fill(f64(e.METPt)) }

// Q2: pT of every jet.
func fillQ2(e *event, h *Hist) {
	for _, pt := range e.JetPt {
		h.Fill(f64(pt))
	}
}

// Q3: pT of the jets with |η| < 1.
func fillQ3(e *event, h *Hist) {
	for i, pt := range e.JetPt {
		if math.Abs(f64(e.JetEta[i])) < 1 {
			h.Fill(f64(pt))
		}
	}
}

// Q4: MET of events with at least two jets above 40 GeV.
func fillQ4(e *event, h *Hist) {
	n := 0
	for _, pt := range e.JetPt {
		if f64(pt) > 40 {
			n++
		}
	}
	if n >= 2 {
		h.Fill(f64(e.METPt))
	}
}

// Q5: MET of events with an opposite-charge muon pair of mass in
// (60, 120) GeV; the event counts once however many pairs qualify.
func fillQ5(e *event, h *Hist) {
	if hasZMuMu(e) {
		h.Fill(f64(e.METPt))
	}
}

func hasZMuMu(e *event) bool {
	for i := range e.MuonPt {
		for j := i + 1; j < len(e.MuonPt); j++ {
			if e.MuonCharge[i]*e.MuonCharge[j] >= 0 {
				continue
			}
			if m := e.muon(i).Add(e.muon(j)).Mass(); m > 60 && m < 120 {
				return true
			}
		}
	}
	return false
}

// trijet is the Q6 candidate: the summed four-vector of three jets and
// their largest b-tag value.
type trijet struct {
	p4      P4
	maxBtag float64
}

// bestTrijet returns, for events with at least three jets, the trijet
// whose mass is closest to 172.5 GeV. Candidates are scanned in
// lexicographic order of their jet indices i < j < k and a later one
// replaces the best only if strictly closer, so ties go to the first.
func bestTrijet(e *event) (trijet, bool) {
	n := len(e.JetPt)
	if n < 3 {
		return trijet{}, false
	}
	var (
		best     trijet
		bestDist = math.Inf(1)
	)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			for k := j + 1; k < n; k++ {
				sum := e.jet(i).Add(e.jet(j)).Add(e.jet(k))
				if d := math.Abs(sum.Mass() - 172.5); d < bestDist {
					bestDist = d
					best = trijet{p4: sum, maxBtag: f64(max(e.JetBtag[i], e.JetBtag[j], e.JetBtag[k]))}
				}
			}
		}
	}
	return best, true
}

// Q6-1: pT of the best trijet.
func fillQ6Pt(e *event, h *Hist) {
	if t, ok := bestTrijet(e); ok {
		h.Fill(t.p4.Pt())
	}
}

// Q6-2: largest b-tag among the best trijet's jets.
func fillQ6Btag(e *event, h *Hist) {
	if t, ok := bestTrijet(e); ok {
		h.Fill(t.maxBtag)
	}
}

// Q7: scalar sum of the pT of jets above 30 GeV that have no lepton above
// 10 GeV within ΔR < 0.4; events without such a jet are not entered.
func fillQ7(e *event, h *Hist) {
	var (
		ht   float64
		kept int
	)
	for i, pt := range e.JetPt {
		if f64(pt) > 30 && isolatedJet(e, i) {
			ht += f64(pt)
			kept++
		}
	}
	if kept > 0 {
		h.Fill(ht)
	}
}

func isolatedJet(e *event, i int) bool {
	eta, phi := f64(e.JetEta[i]), f64(e.JetPhi[i])
	for k, pt := range e.ElectronPt {
		if f64(pt) > 10 && DeltaR(eta, phi, f64(e.ElectronEta[k]), f64(e.ElectronPhi[k])) < 0.4 {
			return false
		}
	}
	for k, pt := range e.MuonPt {
		if f64(pt) > 10 && DeltaR(eta, phi, f64(e.MuonEta[k]), f64(e.MuonPhi[k])) < 0.4 {
			return false
		}
	}
	return true
}

// lepton is a light lepton for Q8; flavour tells electrons (0) from
// muons (1).
type lepton struct {
	p4      P4
	pt, phi float64
	charge  int32
	flavour int
}

// leptons lists the electrons, then the muons, each in file order: the
// order that breaks ties in Q8.
func leptons(e *event) []lepton {
	ls := make([]lepton, 0, len(e.ElectronPt)+len(e.MuonPt))
	for i, pt := range e.ElectronPt {
		ls = append(ls, lepton{
			p4: PtEtaPhiM(f64(pt), f64(e.ElectronEta[i]), f64(e.ElectronPhi[i]), f64(e.ElectronMass[i])),
			pt: f64(pt), phi: f64(e.ElectronPhi[i]), charge: e.ElectronCharge[i], flavour: 0,
		})
	}
	for i, pt := range e.MuonPt {
		ls = append(ls, lepton{p4: e.muon(i), pt: f64(pt), phi: f64(e.MuonPhi[i]), charge: e.MuonCharge[i], flavour: 1})
	}
	return ls
}

// Q8: in events with at least three light leptons and a same-flavour
// opposite-charge (SFOS) pair, take the SFOS pair with mass closest to
// 91.2 GeV (first pair (i < j) in lexicographic order on ties), then the
// highest-pT other lepton (first on ties), and enter the transverse mass
// of that lepton and the MET.
func fillQ8(e *event, h *Hist) {
	if mt, ok := q8TransverseMass(e); ok {
		h.Fill(mt)
	}
}

func q8TransverseMass(e *event) (float64, bool) {
	ls := leptons(e)
	if len(ls) < 3 {
		return 0, false
	}
	bi, bj, bestDist := -1, -1, math.Inf(1)
	for i := range ls {
		for j := i + 1; j < len(ls); j++ {
			if ls[i].flavour != ls[j].flavour || ls[i].charge*ls[j].charge >= 0 {
				continue
			}
			if d := math.Abs(ls[i].p4.Add(ls[j].p4).Mass() - 91.2); d < bestDist {
				bi, bj, bestDist = i, j, d
			}
		}
	}
	if bi < 0 {
		return 0, false
	}
	other := -1
	for k := range ls {
		if k != bi && k != bj && (other < 0 || ls[k].pt > ls[other].pt) {
			other = k
		}
	}
	return TransverseMass(ls[other].pt, ls[other].phi, f64(e.METPt), f64(e.METPhi)), true
}
