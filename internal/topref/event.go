package topref

import (
	"fmt"
	"slices"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/rtree"
)

// Track is one EFlowTrack: a charged particle with its production point
// (mm).
type Track struct {
	PT, Eta, Phi float32
	Charge, PID  int32
	X, Y, Z      float32
}

// Tower is one EFlowPhoton or EFlowNeutralHadron.
type Tower struct{ ET, Eta, Phi float32 }

// Lepton is one Electron or MuonTight.
type Lepton struct {
	PT, Eta, Phi float32
	Charge       int32
}

// Jet is one Jet; BTag > 0 means b-tagged.
type Jet struct {
	PT, Eta, Phi, Mass float32
	BTag               int32
}

// Event holds the collections of spec section 1, in storage order.
type Event struct {
	Tracks         []Track
	Photons        []Tower
	NeutralHadrons []Tower
	Electrons      []Lepton
	Muons          []Lepton
	Jets           []Jet
	MET, METPhi    float32
}

// TreeName is the tree the files hold.
const TreeName = "Events"

// branches mirrors the NanoAOD-style layout hepsql gen topology writes.
type branches struct {
	NTrack      uint32    `groot:"nEFlowTrack"`
	TrackPT     []float32 `groot:"EFlowTrack_PT[nEFlowTrack]"`
	TrackEta    []float32 `groot:"EFlowTrack_Eta[nEFlowTrack]"`
	TrackPhi    []float32 `groot:"EFlowTrack_Phi[nEFlowTrack]"`
	TrackCharge []int32   `groot:"EFlowTrack_Charge[nEFlowTrack]"`
	TrackPID    []int32   `groot:"EFlowTrack_PID[nEFlowTrack]"`
	TrackX      []float32 `groot:"EFlowTrack_X[nEFlowTrack]"`
	TrackY      []float32 `groot:"EFlowTrack_Y[nEFlowTrack]"`
	TrackZ      []float32 `groot:"EFlowTrack_Z[nEFlowTrack]"`

	NPhoton   uint32    `groot:"nEFlowPhoton"`
	PhotonET  []float32 `groot:"EFlowPhoton_ET[nEFlowPhoton]"`
	PhotonEta []float32 `groot:"EFlowPhoton_Eta[nEFlowPhoton]"`
	PhotonPhi []float32 `groot:"EFlowPhoton_Phi[nEFlowPhoton]"`

	NNeutral   uint32    `groot:"nEFlowNeutralHadron"`
	NeutralET  []float32 `groot:"EFlowNeutralHadron_ET[nEFlowNeutralHadron]"`
	NeutralEta []float32 `groot:"EFlowNeutralHadron_Eta[nEFlowNeutralHadron]"`
	NeutralPhi []float32 `groot:"EFlowNeutralHadron_Phi[nEFlowNeutralHadron]"`

	NElectron      uint32    `groot:"nElectron"`
	ElectronPT     []float32 `groot:"Electron_PT[nElectron]"`
	ElectronEta    []float32 `groot:"Electron_Eta[nElectron]"`
	ElectronPhi    []float32 `groot:"Electron_Phi[nElectron]"`
	ElectronCharge []int32   `groot:"Electron_Charge[nElectron]"`

	NMuon      uint32    `groot:"nMuonTight"`
	MuonPT     []float32 `groot:"MuonTight_PT[nMuonTight]"`
	MuonEta    []float32 `groot:"MuonTight_Eta[nMuonTight]"`
	MuonPhi    []float32 `groot:"MuonTight_Phi[nMuonTight]"`
	MuonCharge []int32   `groot:"MuonTight_Charge[nMuonTight]"`

	NJet    uint32    `groot:"nJet"`
	JetPT   []float32 `groot:"Jet_PT[nJet]"`
	JetEta  []float32 `groot:"Jet_Eta[nJet]"`
	JetPhi  []float32 `groot:"Jet_Phi[nJet]"`
	JetMass []float32 `groot:"Jet_Mass[nJet]"`
	JetBTag []int32   `groot:"Jet_BTag[nJet]"`

	MET    float32 `groot:"MissingET_MET"`
	METPhi float32 `groot:"MissingET_Phi"`
}

// fill copies the current entry into ev, reusing ev's slices.
func (b *branches) fill(ev *Event) {
	ev.Tracks = ev.Tracks[:0]
	for i := range b.TrackPT {
		ev.Tracks = append(ev.Tracks, Track{b.TrackPT[i], b.TrackEta[i], b.TrackPhi[i], b.TrackCharge[i], b.TrackPID[i], b.TrackX[i], b.TrackY[i], b.TrackZ[i]})
	}
	ev.Photons = towers(ev.Photons[:0], b.PhotonET, b.PhotonEta, b.PhotonPhi)
	ev.NeutralHadrons = towers(ev.NeutralHadrons[:0], b.NeutralET, b.NeutralEta, b.NeutralPhi)
	ev.Electrons = leptons(ev.Electrons[:0], b.ElectronPT, b.ElectronEta, b.ElectronPhi, b.ElectronCharge)
	ev.Muons = leptons(ev.Muons[:0], b.MuonPT, b.MuonEta, b.MuonPhi, b.MuonCharge)
	ev.Jets = ev.Jets[:0]
	for i := range b.JetPT {
		ev.Jets = append(ev.Jets, Jet{b.JetPT[i], b.JetEta[i], b.JetPhi[i], b.JetMass[i], b.JetBTag[i]})
	}
	ev.MET, ev.METPhi = b.MET, b.METPhi
}

func towers(dst []Tower, et, eta, phi []float32) []Tower {
	for i := range et {
		dst = append(dst, Tower{et[i], eta[i], phi[i]})
	}
	return dst
}

func leptons(dst []Lepton, pt, eta, phi []float32, charge []int32) []Lepton {
	for i := range pt {
		dst = append(dst, Lepton{pt[i], eta[i], phi[i], charge[i]})
	}
	return dst
}

// ForEach reads the Events tree of each file in turn with groot's
// per-entry reader and calls fn for every entry. ev is reused between
// calls: fn must copy what it keeps (Clone).
func ForEach(files []string, fn func(file string, entry int64, ev *Event) error) error {
	var ev Event
	for _, path := range files {
		if err := forEachInFile(path, &ev, fn); err != nil {
			return err
		}
	}
	return nil
}

func forEachInFile(path string, ev *Event, fn func(string, int64, *Event) error) error {
	f, err := groot.Open(path)
	if err != nil {
		return fmt.Errorf("topref: open %s: %w", path, err)
	}
	defer f.Close()
	obj, err := f.Get(TreeName)
	if err != nil {
		return fmt.Errorf("topref: %s: %w", path, err)
	}
	tree, ok := obj.(rtree.Tree)
	if !ok {
		return fmt.Errorf("topref: %s: %q is a %T, not a tree", path, TreeName, obj)
	}
	var b branches
	r, err := rtree.NewReader(tree, rtree.ReadVarsFromStruct(&b))
	if err != nil {
		return fmt.Errorf("topref: %s: %w", path, err)
	}
	defer r.Close()
	err = r.Read(func(ctx rtree.RCtx) error {
		b.fill(ev)
		return fn(path, ctx.Entry, ev)
	})
	if err != nil {
		return fmt.Errorf("topref: %s: %w", path, err)
	}
	return nil
}

// LoadROOT reads every event of the files, in file then entry order.
func LoadROOT(files []string) ([]Event, error) {
	var evs []Event
	err := ForEach(files, func(_ string, _ int64, ev *Event) error {
		evs = append(evs, ev.Clone())
		return nil
	})
	return evs, err
}

// Clone returns a deep copy of ev.
func (ev *Event) Clone() Event {
	c := *ev
	c.Tracks = slices.Clone(ev.Tracks)
	c.Photons = slices.Clone(ev.Photons)
	c.NeutralHadrons = slices.Clone(ev.NeutralHadrons)
	c.Electrons = slices.Clone(ev.Electrons)
	c.Muons = slices.Clone(ev.Muons)
	c.Jets = slices.Clone(ev.Jets)
	return c
}
