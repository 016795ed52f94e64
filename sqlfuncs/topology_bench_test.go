package sqlfuncs

import (
	"testing"

	"github.com/hepsql/hepsql/gen/topology"
	"github.com/hepsql/hepsql/internal/topref"
)

// soaEvent is one generated event in the column layout the SQL functions
// receive (one slice per branch).
type soaEvent struct {
	trkPt, trkEta, trkPhi, trkX, trkY, trkZ []float32
	trkCharge                               []int32
	phoEt, phoEta, phoPhi                   []float32
	nhEt, nhEta, nhPhi                      []float32
	elePt, eleEta, elePhi                   []float32
	eleCharge                               []int32
	muPt, muEta, muPhi                      []float32
	muCharge                                []int32
	jetPt, jetEta                           []float32
	jetBTag                                 []int32
	met, metPhi                             float64
}

func toSoA(ev *topref.Event) soaEvent {
	var s soaEvent
	for _, t := range ev.Tracks {
		s.trkPt, s.trkEta, s.trkPhi = append(s.trkPt, t.PT), append(s.trkEta, t.Eta), append(s.trkPhi, t.Phi)
		s.trkX, s.trkY, s.trkZ = append(s.trkX, t.X), append(s.trkY, t.Y), append(s.trkZ, t.Z)
		s.trkCharge = append(s.trkCharge, t.Charge)
	}
	for _, t := range ev.Photons {
		s.phoEt, s.phoEta, s.phoPhi = append(s.phoEt, t.ET), append(s.phoEta, t.Eta), append(s.phoPhi, t.Phi)
	}
	for _, t := range ev.NeutralHadrons {
		s.nhEt, s.nhEta, s.nhPhi = append(s.nhEt, t.ET), append(s.nhEta, t.Eta), append(s.nhPhi, t.Phi)
	}
	for _, l := range ev.Electrons {
		s.elePt, s.eleEta, s.elePhi, s.eleCharge = append(s.elePt, l.PT), append(s.eleEta, l.Eta), append(s.elePhi, l.Phi), append(s.eleCharge, l.Charge)
	}
	for _, l := range ev.Muons {
		s.muPt, s.muEta, s.muPhi, s.muCharge = append(s.muPt, l.PT), append(s.muEta, l.Eta), append(s.muPhi, l.Phi), append(s.muCharge, l.Charge)
	}
	for _, j := range ev.Jets {
		s.jetPt, s.jetEta, s.jetBTag = append(s.jetPt, j.PT), append(s.jetEta, j.Eta), append(s.jetBTag, j.BTag)
	}
	s.met, s.metPhi = float64(ev.MET), float64(ev.METPhi)
	return s
}

// BenchmarkTopoEventKernel times topo_event's per-event work (isolation
// lists, selection, high-level features, the low-level matrix) without
// DuckDB, per generated event.
func BenchmarkTopoEventKernel(b *testing.B) {
	paths, err := topology.Generate(topology.Options{Events: 600, Seed: 3, OutDir: b.TempDir(), EventsPerFile: 200})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := topref.LoadROOT(paths)
	if err != nil {
		b.Fatal(err)
	}
	events := make([]soaEvent, len(raw))
	for i := range raw {
		events[i] = toSoA(&raw[i])
	}
	var w topoWork
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := &events[i%len(events)]
		loadLists(&w, ev.trkPt, ev.trkEta, ev.trkPhi, ev.phoEt, ev.phoEta, ev.phoPhi, ev.nhEt, ev.nhEta, ev.nhPhi)
		var lep topoLepton
		selectFrom(&w, &lep, false, ev.elePt, ev.eleEta, ev.elePhi, ev.eleCharge)
		selectFrom(&w, &lep, true, ev.muPt, ev.muEta, ev.muPhi, ev.muCharge)
		if !lep.ok {
			continue
		}
		_ = highLevel(lep, ev.jetPt, ev.jetEta, ev.jetBTag, ev.met, ev.metPhi)
		lowLevel(&w, lep, ev.trkCharge, ev.trkX, ev.trkY, ev.trkZ)
	}
}
