package jets

import "go-hep.org/x/hep/groot/rtree"

// Jet is one entry of the Jets tree: the jet's four-momentum, its truth
// class and its constituents, hardest first. Types follow NanoAOD: a UInt_t
// counter, Float_t kinematics, Int_t ids.
type Jet struct {
	Pt, Eta, Phi, Mass, E float32
	Truth                 int32
	NPart                 uint32
	PartPt                []float32
	PartEta               []float32
	PartPhi               []float32
	PartE                 []float32
	PartPID               []int32
}

func (j *Jet) writeVars() []rtree.WriteVar {
	return []rtree.WriteVar{
		{Name: "Jet_pt", Value: &j.Pt},
		{Name: "Jet_eta", Value: &j.Eta},
		{Name: "Jet_phi", Value: &j.Phi},
		{Name: "Jet_mass", Value: &j.Mass},
		{Name: "Jet_e", Value: &j.E},
		{Name: "truth", Value: &j.Truth},
		{Name: "nPart", Value: &j.NPart},
		{Name: "Part_pt", Value: &j.PartPt, Count: "nPart"},
		{Name: "Part_eta", Value: &j.PartEta, Count: "nPart"},
		{Name: "Part_phi", Value: &j.PartPhi, Count: "nPart"},
		{Name: "Part_e", Value: &j.PartE, Count: "nPart"},
		{Name: "Part_pid", Value: &j.PartPID, Count: "nPart"},
	}
}

// Branches returns the names of the branches Generate writes, in tree
// order.
func Branches() []string {
	var j Jet
	vars := j.writeVars()
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	return names
}
