package adl

import "go-hep.org/x/hep/groot/rtree"

// event holds one entry of the Events tree. Field types are the Go types
// groot maps onto the CMS sample's leaves (Int_t → int32, UInt_t → uint32,
// ULong64_t → uint64, Bool_t → bool, Float_t → float32), so the written
// branches carry exactly the sample's leaf types.
type event struct {
	Run             int32
	LuminosityBlock uint32
	Event           uint64
	HLTIsoMu24      bool

	NMuon          uint32
	MuonPt         []float32
	MuonEta        []float32
	MuonPhi        []float32
	MuonMass       []float32
	MuonCharge     []int32
	MuonIso03      []float32
	MuonIso04      []float32
	MuonTightID    []bool
	MuonSoftID     []bool
	MuonDxy        []float32
	MuonDxyErr     []float32
	MuonDz         []float32
	MuonDzErr      []float32
	MuonJetIdx     []int32
	MuonGenPartIdx []int32

	NElectron          uint32
	ElectronPt         []float32
	ElectronEta        []float32
	ElectronPhi        []float32
	ElectronMass       []float32
	ElectronCharge     []int32
	ElectronIso03      []float32
	ElectronDxy        []float32
	ElectronDxyErr     []float32
	ElectronDz         []float32
	ElectronDzErr      []float32
	ElectronCutBasedID []bool
	ElectronPfID       []bool
	ElectronJetIdx     []int32
	ElectronGenPartIdx []int32

	METPt           float32
	METPhi          float32
	METSumet        float32
	METSignificance float32
	METCovXX        float32
	METCovXY        float32
	METCovYY        float32

	NJet    uint32
	JetPt   []float32
	JetEta  []float32
	JetPhi  []float32
	JetMass []float32
	JetPuID []bool
	JetBtag []float32
}

// writeVars binds the branches to e's fields, in the order of the CMS
// sample's tree (so a branch listing of both files lines up).
func (e *event) writeVars() []rtree.WriteVar {
	return []rtree.WriteVar{
		{Name: "run", Value: &e.Run},
		{Name: "luminosityBlock", Value: &e.LuminosityBlock},
		{Name: "event", Value: &e.Event},
		{Name: "HLT_IsoMu24", Value: &e.HLTIsoMu24},

		{Name: "nMuon", Value: &e.NMuon},
		{Name: "Muon_pt", Value: &e.MuonPt, Count: "nMuon"},
		{Name: "Muon_eta", Value: &e.MuonEta, Count: "nMuon"},
		{Name: "Muon_phi", Value: &e.MuonPhi, Count: "nMuon"},
		{Name: "Muon_mass", Value: &e.MuonMass, Count: "nMuon"},
		{Name: "Muon_charge", Value: &e.MuonCharge, Count: "nMuon"},
		{Name: "Muon_pfRelIso03_all", Value: &e.MuonIso03, Count: "nMuon"},
		{Name: "Muon_pfRelIso04_all", Value: &e.MuonIso04, Count: "nMuon"},
		{Name: "Muon_tightId", Value: &e.MuonTightID, Count: "nMuon"},
		{Name: "Muon_softId", Value: &e.MuonSoftID, Count: "nMuon"},
		{Name: "Muon_dxy", Value: &e.MuonDxy, Count: "nMuon"},
		{Name: "Muon_dxyErr", Value: &e.MuonDxyErr, Count: "nMuon"},
		{Name: "Muon_dz", Value: &e.MuonDz, Count: "nMuon"},
		{Name: "Muon_dzErr", Value: &e.MuonDzErr, Count: "nMuon"},
		{Name: "Muon_jetIdx", Value: &e.MuonJetIdx, Count: "nMuon"},
		{Name: "Muon_genPartIdx", Value: &e.MuonGenPartIdx, Count: "nMuon"},

		{Name: "nElectron", Value: &e.NElectron},
		{Name: "Electron_pt", Value: &e.ElectronPt, Count: "nElectron"},
		{Name: "Electron_eta", Value: &e.ElectronEta, Count: "nElectron"},
		{Name: "Electron_phi", Value: &e.ElectronPhi, Count: "nElectron"},
		{Name: "Electron_mass", Value: &e.ElectronMass, Count: "nElectron"},
		{Name: "Electron_charge", Value: &e.ElectronCharge, Count: "nElectron"},
		{Name: "Electron_pfRelIso03_all", Value: &e.ElectronIso03, Count: "nElectron"},
		{Name: "Electron_dxy", Value: &e.ElectronDxy, Count: "nElectron"},
		{Name: "Electron_dxyErr", Value: &e.ElectronDxyErr, Count: "nElectron"},
		{Name: "Electron_dz", Value: &e.ElectronDz, Count: "nElectron"},
		{Name: "Electron_dzErr", Value: &e.ElectronDzErr, Count: "nElectron"},
		{Name: "Electron_cutBasedId", Value: &e.ElectronCutBasedID, Count: "nElectron"},
		{Name: "Electron_pfId", Value: &e.ElectronPfID, Count: "nElectron"},
		{Name: "Electron_jetIdx", Value: &e.ElectronJetIdx, Count: "nElectron"},
		{Name: "Electron_genPartIdx", Value: &e.ElectronGenPartIdx, Count: "nElectron"},

		{Name: "MET_pt", Value: &e.METPt},
		{Name: "MET_phi", Value: &e.METPhi},
		{Name: "MET_sumet", Value: &e.METSumet},
		{Name: "MET_significance", Value: &e.METSignificance},
		{Name: "MET_CovXX", Value: &e.METCovXX},
		{Name: "MET_CovXY", Value: &e.METCovXY},
		{Name: "MET_CovYY", Value: &e.METCovYY},

		{Name: "nJet", Value: &e.NJet},
		{Name: "Jet_pt", Value: &e.JetPt, Count: "nJet"},
		{Name: "Jet_eta", Value: &e.JetEta, Count: "nJet"},
		{Name: "Jet_phi", Value: &e.JetPhi, Count: "nJet"},
		{Name: "Jet_mass", Value: &e.JetMass, Count: "nJet"},
		{Name: "Jet_puId", Value: &e.JetPuID, Count: "nJet"},
		{Name: "Jet_btag", Value: &e.JetBtag, Count: "nJet"},
	}
}

// Branches returns the names of the branches Generate writes, in tree
// order: the ADL-relevant subset of the CMS sample's branches.
func Branches() []string {
	var e event
	vars := e.writeVars()
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	return names
}
