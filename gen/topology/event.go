package topology

import "go-hep.org/x/hep/groot/rtree"

// event holds one entry of the Events tree. Counters are UInt_t and array
// fields Float_t or Int_t, as in NanoAOD; the field names follow the Delphes
// collections of the topology classifier's samples.
type event struct {
	NTrack      uint32
	TrackPT     []float32
	TrackEta    []float32
	TrackPhi    []float32
	TrackCharge []int32
	TrackPID    []int32
	TrackX      []float32
	TrackY      []float32
	TrackZ      []float32

	NPhoton   uint32
	PhotonET  []float32
	PhotonEta []float32
	PhotonPhi []float32

	NNeutral   uint32
	NeutralET  []float32
	NeutralEta []float32
	NeutralPhi []float32

	NElectron      uint32
	ElectronPT     []float32
	ElectronEta    []float32
	ElectronPhi    []float32
	ElectronCharge []int32

	NMuon      uint32
	MuonPT     []float32
	MuonEta    []float32
	MuonPhi    []float32
	MuonCharge []int32

	NJet    uint32
	JetPT   []float32
	JetEta  []float32
	JetPhi  []float32
	JetMass []float32
	JetBTag []int32

	MET    float32
	METPhi float32
}

// reset empties every collection, keeping the allocated arrays.
func (e *event) reset() {
	e.TrackPT, e.TrackEta, e.TrackPhi = e.TrackPT[:0], e.TrackEta[:0], e.TrackPhi[:0]
	e.TrackCharge, e.TrackPID = e.TrackCharge[:0], e.TrackPID[:0]
	e.TrackX, e.TrackY, e.TrackZ = e.TrackX[:0], e.TrackY[:0], e.TrackZ[:0]
	e.PhotonET, e.PhotonEta, e.PhotonPhi = e.PhotonET[:0], e.PhotonEta[:0], e.PhotonPhi[:0]
	e.NeutralET, e.NeutralEta, e.NeutralPhi = e.NeutralET[:0], e.NeutralEta[:0], e.NeutralPhi[:0]
	e.ElectronPT, e.ElectronEta, e.ElectronPhi, e.ElectronCharge = e.ElectronPT[:0], e.ElectronEta[:0], e.ElectronPhi[:0], e.ElectronCharge[:0]
	e.MuonPT, e.MuonEta, e.MuonPhi, e.MuonCharge = e.MuonPT[:0], e.MuonEta[:0], e.MuonPhi[:0], e.MuonCharge[:0]
	e.JetPT, e.JetEta, e.JetPhi, e.JetMass, e.JetBTag = e.JetPT[:0], e.JetEta[:0], e.JetPhi[:0], e.JetMass[:0], e.JetBTag[:0]
	e.MET, e.METPhi = 0, 0
}

// setCounts copies the collection lengths into the counter branches.
func (e *event) setCounts() {
	e.NTrack = uint32(len(e.TrackPT))
	e.NPhoton = uint32(len(e.PhotonET))
	e.NNeutral = uint32(len(e.NeutralET))
	e.NElectron = uint32(len(e.ElectronPT))
	e.NMuon = uint32(len(e.MuonPT))
	e.NJet = uint32(len(e.JetPT))
}

// writeVars binds the branches to e's fields, in tree order.
func (e *event) writeVars() []rtree.WriteVar {
	return []rtree.WriteVar{
		{Name: "nEFlowTrack", Value: &e.NTrack},
		{Name: "EFlowTrack_PT", Value: &e.TrackPT, Count: "nEFlowTrack"},
		{Name: "EFlowTrack_Eta", Value: &e.TrackEta, Count: "nEFlowTrack"},
		{Name: "EFlowTrack_Phi", Value: &e.TrackPhi, Count: "nEFlowTrack"},
		{Name: "EFlowTrack_Charge", Value: &e.TrackCharge, Count: "nEFlowTrack"},
		{Name: "EFlowTrack_PID", Value: &e.TrackPID, Count: "nEFlowTrack"},
		{Name: "EFlowTrack_X", Value: &e.TrackX, Count: "nEFlowTrack"},
		{Name: "EFlowTrack_Y", Value: &e.TrackY, Count: "nEFlowTrack"},
		{Name: "EFlowTrack_Z", Value: &e.TrackZ, Count: "nEFlowTrack"},

		{Name: "nEFlowPhoton", Value: &e.NPhoton},
		{Name: "EFlowPhoton_ET", Value: &e.PhotonET, Count: "nEFlowPhoton"},
		{Name: "EFlowPhoton_Eta", Value: &e.PhotonEta, Count: "nEFlowPhoton"},
		{Name: "EFlowPhoton_Phi", Value: &e.PhotonPhi, Count: "nEFlowPhoton"},

		{Name: "nEFlowNeutralHadron", Value: &e.NNeutral},
		{Name: "EFlowNeutralHadron_ET", Value: &e.NeutralET, Count: "nEFlowNeutralHadron"},
		{Name: "EFlowNeutralHadron_Eta", Value: &e.NeutralEta, Count: "nEFlowNeutralHadron"},
		{Name: "EFlowNeutralHadron_Phi", Value: &e.NeutralPhi, Count: "nEFlowNeutralHadron"},

		{Name: "nElectron", Value: &e.NElectron},
		{Name: "Electron_PT", Value: &e.ElectronPT, Count: "nElectron"},
		{Name: "Electron_Eta", Value: &e.ElectronEta, Count: "nElectron"},
		{Name: "Electron_Phi", Value: &e.ElectronPhi, Count: "nElectron"},
		{Name: "Electron_Charge", Value: &e.ElectronCharge, Count: "nElectron"},

		{Name: "nMuonTight", Value: &e.NMuon},
		{Name: "MuonTight_PT", Value: &e.MuonPT, Count: "nMuonTight"},
		{Name: "MuonTight_Eta", Value: &e.MuonEta, Count: "nMuonTight"},
		{Name: "MuonTight_Phi", Value: &e.MuonPhi, Count: "nMuonTight"},
		{Name: "MuonTight_Charge", Value: &e.MuonCharge, Count: "nMuonTight"},

		{Name: "nJet", Value: &e.NJet},
		{Name: "Jet_PT", Value: &e.JetPT, Count: "nJet"},
		{Name: "Jet_Eta", Value: &e.JetEta, Count: "nJet"},
		{Name: "Jet_Phi", Value: &e.JetPhi, Count: "nJet"},
		{Name: "Jet_Mass", Value: &e.JetMass, Count: "nJet"},
		{Name: "Jet_BTag", Value: &e.JetBTag, Count: "nJet"},

		{Name: "MissingET_MET", Value: &e.MET},
		{Name: "MissingET_Phi", Value: &e.METPhi},
	}
}

// Branches returns the names of the branches Generate writes, in tree
// order.
func Branches() []string {
	var e event
	vars := e.writeVars()
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	return names
}
