package topref

import (
	"math"
	"slices"
	"testing"
)

// near compares with a relative tolerance for values recomputed here in a
// different order of operations.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b)) }

func lepton(pt, eta, phi float32, q int32) Lepton {
	return Lepton{PT: pt, Eta: eta, Phi: phi, Charge: q}
}
func track(pt, eta, phi float32) Track { return Track{PT: pt, Eta: eta, Phi: phi, Charge: 1, PID: 211} }
func tower(et, eta, phi float32) Tower { return Tower{ET: et, Eta: eta, Phi: phi} }

func TestDeltaPhiWraps(t *testing.T) {
	for _, c := range []struct{ a, b, want float64 }{
		{3.0, -3.0, 6.0 - 2*math.Pi},
		{-3.0, 3.0, 2*math.Pi - 6.0},
		{1.0, 0.5, 0.5},
		{-math.Pi, math.Pi, -2*math.Pi + 2*math.Pi},
	} {
		if got := DeltaPhi(c.a, c.b); !near(got, c.want) {
			t.Errorf("DeltaPhi(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	if got := DeltaR(0.1, 3.1, -0.2, -3.1); !near(got, math.Hypot(0.3, 6.2-2*math.Pi)) {
		t.Errorf("DeltaR across the seam = %v", got)
	}
}

func TestSelectNoLepton(t *testing.T) {
	for name, ev := range map[string]Event{
		"empty":        {},
		"tracks only":  {Tracks: []Track{track(30, 0, 0)}},
		"soft lepton":  {Electrons: []Lepton{lepton(23, 0, 0, -1)}}, // pT must exceed 23
		"not isolated": {Muons: []Lepton{lepton(40, 0, 0, 1)}, Tracks: []Track{track(18, 0.1, 0)}},
	} {
		if sel, ok := Select(&ev); ok {
			t.Errorf("%s: selected %+v, want no lepton", name, sel)
		}
	}
}

func TestSelectHighestPT(t *testing.T) {
	ev := Event{
		Electrons: []Lepton{lepton(30, 0, 0, -1), lepton(50, 1, 1, 1)},
		Muons:     []Lepton{lepton(45, -1, 2, 1), lepton(60, 0.5, -2, -1)},
	}
	sel, ok := Select(&ev)
	if !ok || !sel.Muon || sel.Index != 1 || sel.PT != 60 || sel.Charge != -1 {
		t.Errorf("got %+v (ok %v), want muon 1 at 60 GeV", sel, ok)
	}
	// The hardest muon fails isolation: the hardest electron wins.
	ev.Tracks = []Track{track(30, 0.6, -2)}
	sel, ok = Select(&ev)
	if !ok || sel.Muon || sel.Index != 1 || sel.PT != 50 {
		t.Errorf("got %+v (ok %v), want electron 1 at 50 GeV", sel, ok)
	}
	// Equal pT: the electron, listed first, is kept.
	ev = Event{Electrons: []Lepton{lepton(40, 0, 0, 1)}, Muons: []Lepton{lepton(40, 1, 1, 1)}}
	if sel, _ = Select(&ev); sel.Muon {
		t.Errorf("tie between flavours: got the muon, want the electron")
	}
}

// isoEvent has a 40 GeV muon at η = 0.2, φ = 3.1 with neighbours on both
// sides of the φ = ±π seam.
func isoEvent() Event {
	return Event{
		Muons: []Lepton{lepton(40, 0.2, 3.1, 1)},
		Tracks: []Track{
			{PT: 40, Eta: 0.2, Phi: 3.1, Charge: 1, PID: -13, X: 0.01, Y: -0.02, Z: 12}, // the muon's own track
			track(2, 0.3, -3.1),   // ΔR = hypot(0.1, 0.083) across the seam: in
			track(3, 0.2, 2.9),    // ΔR = 0.2: in
			track(5, 0.2, -2.7),   // Δφ = 0.483 across the seam: out
			track(0.4, 0.2, 3.05), // below 0.5 GeV: not in the list
			track(7, 0.2, 3.1002), // ΔR = 2e-4: not the muon's own track
		},
		Photons:        []Tower{tower(1.5, 0.1, -3.13), tower(0.9, 0.2, 3.1), tower(4, 1.5, 0)},
		NeutralHadrons: []Tower{tower(2, 0.35, 3.0)},
	}
}

func TestLeptonIsolation(t *testing.T) {
	ev := isoEvent()
	sel, ok := Select(&ev)
	if !ok {
		t.Fatal("isolated muon not selected")
	}
	want := Iso{Ch: (2 + 3 + 7) / 40.0, Gamma: 1.5 / 40, Neu: 2.0 / 40}
	if !near(sel.Iso.Ch, want.Ch) || !near(sel.Iso.Gamma, want.Gamma) || !near(sel.Iso.Neu, want.Neu) {
		t.Errorf("isolation %+v, want %+v", sel.Iso, want)
	}
	if !near(sel.Iso.Sum(), 15.5/40) {
		t.Errorf("sum %v, want %v", sel.Iso.Sum(), 15.5/40)
	}
	// One more GeV of neutral hadron in the cone takes the sum over 0.45.
	ev.NeutralHadrons = append(ev.NeutralHadrons, tower(3, 0.2, 3.0))
	if _, ok := Select(&ev); ok {
		t.Errorf("sum %v ≥ 0.45 still selected", (15.5+3)/40)
	}
}

func TestLowLevelRows(t *testing.T) {
	ev := isoEvent()
	sel, _ := Select(&ev)
	m, n := LowLevel(&ev, sel)
	// Lepton, 4 tracks (its own and the soft one dropped), 2 photons, 1
	// neutral hadron.
	if n != 8 {
		t.Fatalf("%d rows, want 8", n)
	}
	// Lepton row: kinematics, no vertex, its isolation, isMuon, charge.
	pt, eta, phi := 40.0, float64(float32(0.2)), float64(float32(3.1))
	wantLep := [Columns]float32{
		float32(pt * math.Cosh(eta)), float32(pt * math.Cos(phi)), float32(pt * math.Sin(phi)), float32(pt * math.Sinh(eta)),
		40, 0.2, 3.1, 0, 0, 0,
		float32(sel.Iso.Ch), float32(sel.Iso.Gamma), float32(sel.Iso.Neu),
		0, 0, 0, 0, 1, 1,
	}
	if m[0] != wantLep {
		t.Errorf("lepton row\n got %v\nwant %v", m[0], wantLep)
	}
	// Tracks by decreasing pT: 7, 5, 3, 2.
	var pts []float32
	for r := 1; r <= 4; r++ {
		pts = append(pts, m[r][ColPT])
		if m[r][ColIsChargedHadron] != 1 || m[r][ColCharge] != 1 {
			t.Errorf("track row %d: one-hot or charge wrong: %v", r, m[r])
		}
	}
	if !slices.Equal(pts, []float32{7, 5, 3, 2}) {
		t.Errorf("track rows pT %v, want [7 5 3 2]", pts)
	}
	// The 7 GeV track at 2e-4 from the lepton: its charged cone holds the
	// lepton's own track (40), the 3 and 2 GeV tracks, not itself.
	if got, want := m[1][ColChIso], float32((40+3+2)/7.0); got != want {
		t.Errorf("7 GeV track ChPFIso %v, want %v", got, want)
	}
	if got, want := m[1][ColGammaIso], float32(1.5/7.0); got != want {
		t.Errorf("7 GeV track GammaPFIso %v, want %v", got, want)
	}
	// Photons: 4 then 1.5 (the 0.9 is below threshold); a photon excludes
	// itself from GammaPFIso.
	if m[5][ColPT] != 4 || m[6][ColPT] != 1.5 || m[5][ColIsPhoton] != 1 || m[5][ColCharge] != 0 || m[5][ColZ] != 0 {
		t.Errorf("photon rows %v / %v", m[5], m[6])
	}
	if m[5][ColGammaIso] != 0 || m[6][ColGammaIso] != 0 {
		t.Errorf("photons far apart should have GammaPFIso 0, got %v and %v", m[5][ColGammaIso], m[6][ColGammaIso])
	}
	if m[7][ColIsNeutralHadron] != 1 || m[7][ColPT] != 2 || m[7][ColNeuIso] != 0 {
		t.Errorf("neutral hadron row %v", m[7])
	}
	// The 2 GeV track across the seam: cone holds the 40 and 7 GeV tracks
	// (ΔR ≈ 0.13); the 3 GeV one, at ΔR ≈ 0.3003, is just out.
	two := m[4]
	if two[ColX] != 0 || two[ColZ] != 0 {
		t.Errorf("hand-built track has vertex %v", two[ColX:ColZ+1])
	}
	if got, want := two[ColChIso], float32((40+7)/2.0); got != want {
		t.Errorf("2 GeV track ChPFIso %v, want %v", got, want)
	}
	for r := n; r < Rows; r++ {
		if m[r] != ([Columns]float32{}) {
			t.Fatalf("padding row %d not zero: %v", r, m[r])
		}
	}
}

func TestLowLevelTruncation(t *testing.T) {
	ev := Event{Electrons: []Lepton{lepton(50, 0, 0, -1)}}
	// 500 tracks, 170 photons, 230 neutral hadrons far from the lepton, in
	// scrambled pT order; pT i/100 + 1 keeps them distinct.
	for i := range 500 {
		k := (i * 7) % 500
		ev.Tracks = append(ev.Tracks, Track{PT: 1 + float32(k)/100, Eta: 2, Phi: -1.5, Charge: -1, PID: -211, X: float32(k)})
	}
	for i := range 170 {
		ev.Photons = append(ev.Photons, tower(2+float32((i*13)%170)/100, -2, 1.5))
	}
	for i := range 230 {
		ev.NeutralHadrons = append(ev.NeutralHadrons, tower(2+float32((i*11)%230)/100, -2, -1.5))
	}
	sel, ok := Select(&ev)
	if !ok {
		t.Fatal("lepton not selected")
	}
	m, n := LowLevel(&ev, sel)
	if n != Rows {
		t.Fatalf("%d rows, want all %d", n, Rows)
	}
	for r := 1; r <= MaxTracks; r++ {
		want := 1 + float32(499-(r-1))/100
		if m[r][ColPT] != want || m[r][ColX] != float32(499-(r-1)) || m[r][ColCharge] != -1 {
			t.Fatalf("track row %d: pT %v x %v, want pT %v", r, m[r][ColPT], m[r][ColX], want)
		}
	}
	if first, last := m[1+MaxTracks], m[MaxTracks+MaxPhotons]; first[ColIsPhoton] != 1 || first[ColPT] != 2+float32(169)/100 || last[ColPT] != 2+float32(20)/100 {
		t.Errorf("photon rows from %v down to %v", first[ColPT], last[ColPT])
	}
	if last := m[Rows-1]; last[ColIsNeutralHadron] != 1 || last[ColPT] != 2+float32(30)/100 {
		t.Errorf("last neutral row pT %v, want 2.30", last[ColPT])
	}
	// Isolation uses the whole lists, not the 450 kept: the softest kept
	// track sees all 499 others (they share one point).
	var others float64
	for k := range 500 {
		if k != 50 {
			others += float64(float32(1 + float32(k)/100))
		}
	}
	if got, want := m[MaxTracks][ColChIso], float32(others/float64(float32(1.5))); got != want {
		t.Errorf("softest kept track ChPFIso %v, want %v", got, want)
	}
}

func TestEmptyCollections(t *testing.T) {
	ev := Event{Muons: []Lepton{lepton(30, -0.5, -3.14, -1)}, MET: 25, METPhi: 0.1}
	sel, ok := Select(&ev)
	if !ok || sel.Iso != (Iso{}) {
		t.Fatalf("lone muon: %+v %v", sel, ok)
	}
	m, n := LowLevel(&ev, sel)
	if n != 1 || m[1] != ([Columns]float32{}) {
		t.Errorf("lone muon gives %d rows", n)
	}
	h := HighLevel(&ev, sel)
	if h[HLFHT] != 0 || h[HLFNJets] != 0 || h[HLFNBJets] != 0 || h[HLFIsElectron] != 0 || h[HLFLepCharge] != -1 {
		t.Errorf("high-level features of a jetless event: %v", h)
	}
	seq, mask := Sequence(m, n)
	if !mask[0] || mask[1] || *seq != (Matrix{}) {
		t.Errorf("one-row sequence: mask %v…, rows not all zero", mask[:2])
	}
}

func TestHighLevel(t *testing.T) {
	ev := Event{
		Electrons: []Lepton{lepton(40, 1.1, 0, 1)},
		Jets: []Jet{
			{PT: 35, Eta: 2.5, BTag: 1}, // counted, tagged
			{PT: 29.9, Eta: 0, BTag: 1}, // too soft
			{PT: 50, Eta: 2.7, BTag: 1}, // too forward
			{PT: 30, Eta: 0},            // PT must exceed 30
			{PT: 100, Eta: -2.59},       // counted
			{PT: 40, Eta: 0.3, BTag: 2}, // counted, tagged
			{PT: 60, Eta: -2.6, Phi: 1}, // counted: float32(2.6) is 2.5999999 < 2.6
		},
		MET: 30, METPhi: math.Pi / 2,
	}
	sel, ok := Select(&ev)
	if !ok {
		t.Fatal("electron not selected")
	}
	h := HighLevel(&ev, sel)
	wantMT := math.Sqrt(2 * 40 * 30 * (1 - math.Cos(0-float64(float32(math.Pi/2)))))
	want := [NumHighLevel]float64{235, 30, float64(float32(math.Pi / 2)), wantMT, 4, 2, 40, float64(float32(1.1)), 0, 0, 0, 0, 1, 1}
	if h != want {
		t.Errorf("high-level features\n got %v\nwant %v", h, want)
	}
	if math.Abs(wantMT-math.Sqrt(2400)) > 1e-5 { // φ(MET) is float32(π/2)
		t.Errorf("mT at Δφ = π/2: %v, want sqrt(2400)", wantMT)
	}
	// Back to back: mT = 2·sqrt(pT·MET).
	ev.METPhi = float32(math.Pi)
	if h = HighLevel(&ev, sel); !near(h[HLFMT], 2*math.Sqrt(40*30)) {
		t.Errorf("back-to-back mT %v, want %v", h[HLFMT], 2*math.Sqrt(1200))
	}
}

func TestSequence(t *testing.T) {
	var m Matrix
	// Lepton at (0, 3); particles at ΔR 0.5, 1.0 (across the seam) and 0.2.
	rows := [][3]float32{{0, 3, 10}, {0.5, 3, 1}, {0, 3 + 1 - 2*math.Pi, 4}, {0.2, 3, 7}}
	for i, r := range rows {
		m[i][ColEta], m[i][ColPhi], m[i][ColPT] = r[0], r[1], r[2]
		m[i][ColCharge] = 1 // constant column
	}
	seq, mask := Sequence(&m, len(rows))
	// pT column in ΔR order 1.0, 0.5, 0.2, 0: values 4, 1, 7, 10;
	// mean 5.5, population std sqrt(((1.5²+4.5²+1.5²+4.5²)/4)) = sqrt(11.25).
	std := math.Sqrt(11.25)
	for i, v := range []float64{4, 1, 7, 10} {
		if got, want := seq[i][ColPT], float32((v-5.5)/std); got != want {
			t.Errorf("row %d pT %v, want %v", i, got, want)
		}
		if seq[i][ColCharge] != 0 || seq[i][ColX] != 0 {
			t.Errorf("row %d: constant columns should be 0, got %v %v", i, seq[i][ColCharge], seq[i][ColX])
		}
		if !mask[i] {
			t.Errorf("row %d not marked", i)
		}
	}
	if mask[4] || seq[4] != ([Columns]float32{}) || seq[Rows-1] != ([Columns]float32{}) {
		t.Error("padding rows must stay zero and unmarked")
	}
	if OneHot(2) != [3]float32{0, 0, 1} {
		t.Error("OneHot(2)")
	}
}

func TestPrepare(t *testing.T) {
	var samples []Sample
	for i := range 25 {
		label := 0
		switch {
		case i >= 13:
			label = 2 // 12 W+jets
		case i >= 5:
			label = 1 // 8 tt̄
		}
		var hlf [NumHighLevel]float64
		for f := range hlf {
			hlf[f] = float64((i*(f+3))%17) - 4
		}
		hlf[HLFIsElectron] = 1 // constant: scales to 0.5
		samples = append(samples, Sample{ID: uint64(1000 + i*i), Label: label, HLF: hlf})
	}
	p, err := Prepare(samples, 7)
	if err != nil {
		t.Fatal(err)
	}
	if p.PerClass != [3]int{5, 8, 12} || p.Kept != 5 || len(p.Train) != 12 || len(p.Test) != 3 {
		t.Fatalf("per class %v, kept %d, train %d, test %d; want [5 8 12], 5, 12, 3", p.PerClass, p.Kept, len(p.Train), len(p.Test))
	}
	var counts [3]int
	orig := map[uint64]Sample{}
	for _, s := range samples {
		orig[s.ID] = s
	}
	for _, s := range append(slices.Clone(p.Train), p.Test...) {
		counts[s.Label]++
		if s.Label != orig[s.ID].Label {
			t.Errorf("sample %d changed label", s.ID)
		}
	}
	if counts != [3]int{5, 5, 5} {
		t.Errorf("classes after undersampling %v, want 5 each", counts)
	}
	// Min and max come from the training set alone.
	for f := range NumHighLevel {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range p.Train {
			lo, hi = min(lo, orig[s.ID].HLF[f]), max(hi, orig[s.ID].HLF[f])
		}
		if p.Min[f] != lo || p.Max[f] != hi {
			t.Errorf("feature %d: fitted [%v, %v], training range [%v, %v]", f, p.Min[f], p.Max[f], lo, hi)
		}
		for _, s := range append(slices.Clone(p.Train), p.Test...) {
			want := 0.5
			if hi != lo {
				want = (orig[s.ID].HLF[f] - lo) / (hi - lo)
			}
			if s.HLF[f] != want {
				t.Errorf("sample %d feature %d scaled to %v, want %v", s.ID, f, s.HLF[f], want)
			}
		}
	}
	// The same seed gives the same split whatever the input order; another
	// seed gives another.
	rev := slices.Clone(samples)
	slices.Reverse(rev)
	q, _ := Prepare(rev, 7)
	if !slices.Equal(p.Train, q.Train) || !slices.Equal(p.Test, q.Test) {
		t.Error("input order changed the result")
	}
	if r, _ := Prepare(samples, 8); slices.Equal(p.Train, r.Train) {
		t.Error("seeds 7 and 8 gave the same training set")
	}
	if samples[0].HLF[HLFIsElectron] != 1 {
		t.Error("Prepare modified its input")
	}
	if _, err := Prepare([]Sample{{Label: 3}}, 1); err == nil {
		t.Error("label 3 accepted")
	}
}
