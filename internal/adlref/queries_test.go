package adlref

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// fill runs one query on hand-built events and returns its histogram.
func fill(t *testing.T, name string, events ...event) []Bin {
	t.Helper()
	for _, q := range queries {
		if q.name == name {
			h := NewHist(q.lo, q.hi, q.nbins)
			for i := range events {
				if err := events[i].check(); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				q.fill(&events[i], h)
			}
			return h.Bins()
		}
	}
	t.Fatalf("no query %q", name)
	return nil
}

func f32s(v ...float32) []float32 { return v }
func i32s(v ...int32) []int32     { return v }

const mMu = 0.10566

func TestQ1ToQ4(t *testing.T) {
	evts := []event{
		{METPt: 25, JetPt: f32s(45, 41, 39), JetEta: f32s(0.5, -1.5, 0.99), JetPhi: f32s(0, 1, 2), JetMass: f32s(5, 5, 5), JetBtag: f32s(0, 0, 0)},
		{METPt: 2500, JetPt: f32s(45, 40), JetEta: f32s(-0.2, 1), JetPhi: f32s(0, 1), JetMass: f32s(5, 5), JetBtag: f32s(0, 0)},
		{METPt: 55},
	}
	for _, c := range []struct {
		q    string
		want []Bin
	}{
		// w = 20: 25 → bin 1 (centre 30), 55 → bin 2 (50), 2500 → overflow (2010).
		{"q1", []Bin{{30, 1}, {50, 1}, {2010, 1}}},
		// w = 0.45: 39 → bin 53 (centre 39.075), 40 → 55 (39.975),
		// 41 → 57 (40.875), 45 → 66 (44.925) twice.
		{"q2", []Bin{{39.075, 1}, {39.975, 1}, {40.875, 1}, {44.925, 2}}},
		// |η| < 1 is strict: η = 1 is out, 0.99 in.
		{"q3", []Bin{{39.075, 1}, {44.925, 2}}},
		// Jet_pt > 40 is strict: only the first event has two such jets.
		{"q4", []Bin{{30, 1}}},
	} {
		got := fill(t, c.q, evts...)
		if len(got) != len(c.want) {
			t.Errorf("%s = %v, want %v", c.q, got, c.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i].X-c.want[i].X) > 1e-9 || got[i].Y != c.want[i].Y {
				t.Errorf("%s = %v, want %v", c.q, got, c.want)
				break
			}
		}
	}
}

// dimuon returns an event with two back-to-back central muons of the given
// pT (pair mass ≈ 2·pt) and charges.
func dimuon(met, pt float32, q1, q2 int32) event {
	return event{
		METPt: met, MuonPt: f32s(pt, pt), MuonEta: f32s(0, 0), MuonPhi: f32s(0, math.Pi),
		MuonMass: f32s(mMu, mMu), MuonCharge: i32s(q1, q2),
	}
}

func TestQ5(t *testing.T) {
	withThird := dimuon(75, 45, 1, 1) // same-sign pair, but a third muon completes a Z
	withThird.MuonPt = append(withThird.MuonPt, 45)
	withThird.MuonEta = append(withThird.MuonEta, 0)
	withThird.MuonPhi = append(withThird.MuonPhi, math.Pi)
	withThird.MuonMass = append(withThird.MuonMass, mMu)
	withThird.MuonCharge = append(withThird.MuonCharge, -1)

	got := fill(t, "q5",
		dimuon(5, 45, 1, -1),   // m ≈ 90, opposite charges: in
		dimuon(25, 45, -1, -1), // same charges: out
		dimuon(45, 65, 1, -1),  // m ≈ 130: out
		dimuon(65, 29, -1, 1),  // m ≈ 58: out
		withThird,              // in, once
	)
	want := []Bin{{10, 1}, {70, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("q5 = %v, want %v", got, want)
	}
}

// jetEvent builds jets from (pt, eta, phi, mass, btag) tuples.
func jetEvent(jets ...[5]float32) event {
	var e event
	for _, j := range jets {
		e.JetPt = append(e.JetPt, j[0])
		e.JetEta = append(e.JetEta, j[1])
		e.JetPhi = append(e.JetPhi, j[2])
		e.JetMass = append(e.JetMass, j[3])
		e.JetBtag = append(e.JetBtag, j[4])
	}
	return e
}

func TestQ6(t *testing.T) {
	const third = 2 * math.Pi / 3
	// Three 60 GeV massless jets at 120° give a 180 GeV trijet at rest
	// (|m − 172.5| = 7.5); any trijet with the 20 GeV jet has m < 140.
	e := jetEvent(
		[5]float32{60, 0, 0, 0, 0.2},
		[5]float32{60, 0, third, 0, 0.7},
		[5]float32{20, 0, 0, 0, 0.95},
		[5]float32{60, 0, -third, 0, -1},
	)
	tj, ok := bestTrijet(&e)
	if !ok {
		t.Fatal("no trijet in a four-jet event")
	}
	near(t, "trijet mass", tj.p4.Mass(), 180, 1e-5)
	near(t, "trijet pt", tj.p4.Pt(), 0, 1e-5)
	near(t, "max btag", tj.maxBtag, 0.7, 1e-7)

	// Two trijets tie exactly (the last jet repeats the third one): the
	// first in (i, j, k) order wins, so the b-tag comes from jet 2.
	tie := jetEvent(
		[5]float32{60, 0, 0, 0, 0},
		[5]float32{60, 0, third, 0, 0},
		[5]float32{60, 0, -third, 0, 0.9},
		[5]float32{60, 0, -third, 0, 0.1},
	)
	if tj, _ := bestTrijet(&tie); tj.maxBtag != float64(float32(0.9)) {
		t.Errorf("tie: max btag %v, want 0.9 from the first trijet", tj.maxBtag)
	}

	two := jetEvent([5]float32{60, 0, 0, 0, 0}, [5]float32{60, 0, 1, 0, 0})
	if _, ok := bestTrijet(&two); ok {
		t.Error("a two-jet event gave a trijet")
	}
	// Q6-1 puts the near-zero pt in the underflow; Q6-2 puts 0.7 in bin 70.
	if got := fill(t, "q6-1", e, two); len(got) != 1 || got[0].Y != 1 || math.Abs(got[0].X-14.875) > 1e-12 {
		t.Errorf("q6-1 = %v, want one underflow entry at 14.875", got)
	}
	if got := fill(t, "q6-2", e, two); len(got) != 1 || got[0].Y != 1 || math.Abs(got[0].X-0.695) > 1e-12 {
		t.Errorf("q6-2 = %v, want one entry at 0.695", got)
	}
}

func TestQ7(t *testing.T) {
	base := jetEvent(
		[5]float32{50, 0, 0, 5, 0},   // has a 20 GeV muon at ΔR ≈ 0.14
		[5]float32{40, 1, 3.1, 5, 0}, // electron across the φ = ±π seam, ΔR ≈ 0.083
		[5]float32{25, 2, 1, 5, 0},   // below 30 GeV
	)
	base.MuonPt, base.MuonEta, base.MuonPhi, base.MuonMass, base.MuonCharge = f32s(20), f32s(0.1), f32s(0.1), f32s(mMu), i32s(1)

	soft := base // the electron is below 10 GeV: jet 2 stays, HT = 40
	soft.ElectronPt, soft.ElectronEta, soft.ElectronPhi, soft.ElectronMass, soft.ElectronCharge = f32s(5), f32s(1), f32s(-3.1), f32s(0), i32s(-1)

	hard := soft // the electron is above 10 GeV: no jet left, event not entered
	hard.ElectronPt = f32s(15)

	far := hard // muon moved out of the cone: HT = 50
	far.MuonEta = f32s(0.5)

	got := fill(t, "q7", soft, hard, far)
	// w = 1.85: HT 40 → bin 13 (centre 39.975), HT 50 → bin 18 (49.225).
	want := []Bin{{39.975, 1}, {49.225, 1}}
	if len(got) != len(want) {
		t.Fatalf("q7 = %v, want %v", got, want)
	}
	for i := range got {
		if math.Abs(got[i].X-want[i].X) > 1e-9 || got[i].Y != want[i].Y {
			t.Errorf("q7 = %v, want %v", got, want)
		}
	}
}

func TestQ8(t *testing.T) {
	// An e⁺e⁻ pair at 90 GeV beats the μ⁺μ⁻ pair at ≈ 41 GeV; the
	// remaining leptons are the two muons and the harder (30 GeV, φ = 1)
	// is paired with a 40 GeV MET back to back: mT = sqrt(2·30·40·2).
	e := event{
		METPt: 40, METPhi: 1 - math.Pi,
		ElectronPt: f32s(45, 45), ElectronEta: f32s(0, 0), ElectronPhi: f32s(0, math.Pi),
		ElectronMass: f32s(0, 0), ElectronCharge: i32s(-1, 1),
		MuonPt: f32s(20, 30), MuonEta: f32s(0, 0), MuonPhi: f32s(-1, 1),
		MuonMass: f32s(mMu, mMu), MuonCharge: i32s(-1, 1),
	}
	mt, ok := q8TransverseMass(&e)
	if !ok {
		t.Fatal("no Q8 candidate")
	}
	near(t, "mT", mt, math.Sqrt(4800), 1e-4)

	noSFOS := e
	noSFOS.ElectronCharge = i32s(1, 1)
	noSFOS.MuonCharge = i32s(1, 1)
	if _, ok := q8TransverseMass(&noSFOS); ok {
		t.Error("event without an SFOS pair passed Q8")
	}
	// Opposite charges but different flavours do not make an SFOS pair.
	mixed := e
	mixed.ElectronPt, mixed.ElectronEta, mixed.ElectronPhi, mixed.ElectronMass, mixed.ElectronCharge = f32s(45), f32s(0), f32s(0), f32s(0), i32s(1)
	mixed.MuonCharge = i32s(1, 1)
	if _, ok := q8TransverseMass(&mixed); ok {
		t.Error("an e⁺μ⁻ pair counted as SFOS")
	}
	twoLeptons := dimuon(40, 45, 1, -1)
	if _, ok := q8TransverseMass(&twoLeptons); ok {
		t.Error("a two-lepton event passed Q8")
	}
	// sqrt(4800) = 69.28 → bin 23 of 15-250 (w = 2.35), centre 70.225.
	if got := fill(t, "q8", e, noSFOS, twoLeptons); len(got) != 1 || got[0].Y != 1 || math.Abs(got[0].X-70.225) > 1e-9 {
		t.Errorf("q8 = %v, want one entry at 70.225", got)
	}
}

func TestComputeErrors(t *testing.T) {
	if _, err := Compute("q9", []string{"x.root"}); err == nil || !strings.Contains(err.Error(), `unknown query "q9"`) {
		t.Errorf("unknown query: got %v", err)
	}
	if _, err := Compute("q1", nil); err == nil || !strings.HasPrefix(err.Error(), "adlref: ") {
		t.Errorf("no files: got %v", err)
	}
	if _, err := Compute("q1", []string{"/nonexistent/file.root"}); err == nil || !strings.HasPrefix(err.Error(), "adlref: ") {
		t.Errorf("missing file: got %v", err)
	}
	if got := Queries(); !reflect.DeepEqual(got, []string{"q1", "q2", "q3", "q4", "q5", "q6-1", "q6-2", "q7", "q8"}) {
		t.Errorf("Queries() = %v", got)
	}
}
