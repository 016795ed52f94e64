package topref

// Selected is the event's selected lepton (section 3).
type Selected struct {
	Muon         bool // false: an electron
	Index        int  // position in the Electron or MuonTight collection
	PT, Eta, Phi float64
	Charge       int32
	Iso          Iso
}

// Select applies the event selection: among electrons and tight muons with
// pT > 23 and ChPFIso + GammaPFIso + NeuPFIso < 0.45, the one with the
// highest pT. Ties go to the candidate met first, electrons before muons,
// each in storage order. ok is false when no lepton passes.
func Select(ev *Event) (sel Selected, ok bool) {
	return SelectWith(ev, NewLists(ev))
}

// SelectWith is Select with the event's isolation lists already built.
func SelectWith(ev *Event, l *Lists) (sel Selected, ok bool) {
	consider := func(leps []Lepton, muon bool) {
		for i, lep := range leps {
			pt := float64(lep.PT)
			if !(pt > LeptonMinPT) {
				continue
			}
			eta, phi := float64(lep.Eta), float64(lep.Phi)
			iso := l.LeptonIsolation(pt, eta, phi)
			if !(iso.Sum() < MaxRelIso) {
				continue
			}
			if !ok || pt > sel.PT {
				sel = Selected{Muon: muon, Index: i, PT: pt, Eta: eta, Phi: phi, Charge: lep.Charge, Iso: iso}
				ok = true
			}
		}
	}
	consider(ev.Electrons, false)
	consider(ev.Muons, true)
	return sel, ok
}
