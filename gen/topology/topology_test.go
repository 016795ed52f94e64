package topology

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot/rtree"
)

// openTree opens the Events tree of a chain of files.
func openTree(t testing.TB, files ...string) rtree.Tree {
	t.Helper()
	tree, closeFn, err := rtree.ChainOf(TreeName, files...)
	if err != nil {
		t.Fatalf("open chain %v: %v", files, err)
	}
	t.Cleanup(func() { _ = closeFn() })
	return tree
}

// readAll returns every entry of the tree as one deep-copied value per
// branch, in branch order.
func readAll(t testing.TB, tree rtree.Tree) [][]any {
	t.Helper()
	rvars := rtree.NewReadVars(tree)
	r, err := rtree.NewReader(tree, rvars)
	if err != nil {
		t.Fatalf("reader: %v", err)
	}
	defer r.Close()
	var rows [][]any
	err = r.Read(func(rtree.RCtx) error {
		row := make([]any, len(rvars))
		for i, rv := range rvars {
			v := reflect.ValueOf(rv.Value).Elem()
			if v.Kind() == reflect.Slice {
				c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
				reflect.Copy(c, v)
				v = c
			}
			row[i] = v.Interface()
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return rows
}

func TestGenerateDeterministic(t *testing.T) {
	const n = 900
	gen := func(seed int64, perFile int) []string {
		paths, err := Generate(Options{Events: n, Seed: seed, OutDir: t.TempDir(), EventsPerFile: perFile})
		if err != nil {
			t.Fatal(err)
		}
		return paths
	}
	a := readAll(t, openTree(t, gen(42, 0)...))
	if len(a) != n {
		t.Fatalf("got %d entries, want %d", len(a), n)
	}
	if b := readAll(t, openTree(t, gen(42, 0)...)); !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different events")
	}
	split := gen(42, 70)
	if len(split) != 3*5 {
		t.Fatalf("got %d files for 3×300 events at 70 per file, want 15", len(split))
	}
	if c := readAll(t, openTree(t, split...)); !reflect.DeepEqual(a, c) {
		t.Fatal("splitting into files changed the events")
	}
	if d := readAll(t, openTree(t, gen(43, 0)...)); reflect.DeepEqual(a, d) {
		t.Fatal("different seeds gave identical events")
	}
}

func TestFilesAndClasses(t *testing.T) {
	dir := t.TempDir()
	paths, err := Generate(Options{Events: 11, Seed: 1, OutDir: dir, EventsPerFile: 2})
	if err != nil {
		t.Fatal(err)
	}
	// 11 events: 4 QCD, 4 tt̄, 3 W+jets, two per file.
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	want := []string{"qcd_0000.root", "qcd_0001.root", "ttbar_0000.root", "ttbar_0001.root", "wjets_0000.root", "wjets_0001.root"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	counts := map[Class]int{}
	for _, p := range paths {
		c, err := ClassOf(p)
		if err != nil {
			t.Fatal(err)
		}
		counts[c] += int(openTree(t, p).Entries())
	}
	if counts[QCD] != 4 || counts[TTbar] != 4 || counts[WJets] != 3 {
		t.Errorf("events per class %v, want QCD 4, tt̄ 4, W+jets 3", counts)
	}
	for _, c := range Classes {
		if PerClass(11, c) != counts[c] {
			t.Errorf("PerClass(11, %s) = %d, files hold %d", c.Name(), PerClass(11, c), counts[c])
		}
	}
	if _, err := ClassOf("/x/zjets_0000.root"); err == nil || !strings.HasPrefix(err.Error(), "topogen: ") {
		t.Errorf("ClassOf of a foreign file: got %v", err)
	}
}

func TestBranchLayout(t *testing.T) {
	paths, err := Generate(Options{Events: 3, Seed: 1, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range openTree(t, paths[0]).Branches() {
		for _, l := range b.Leaves() {
			count := ""
			if lc := l.LeafCount(); lc != nil {
				count = "[" + lc.Name() + "]"
			}
			got = append(got, fmt.Sprintf("%s%s/%s", b.Name(), count, l.TypeName()))
		}
	}
	var want []string
	for _, name := range Branches() {
		switch {
		case strings.HasPrefix(name, "n"):
			want = append(want, name+"/uint32")
		case strings.HasPrefix(name, "MissingET_"):
			want = append(want, name+"/float32")
		default:
			coll, field, _ := strings.Cut(name, "_")
			typ := "float32"
			if field == "Charge" || field == "PID" || field == "BTag" {
				typ = "int32"
			}
			want = append(want, fmt.Sprintf("%s[n%s]/%s", name, coll, typ))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("branches\n got %v\nwant %v", got, want)
	}
	if len(want) != 35 {
		t.Errorf("%d branches, want 35 (8 track fields, 3+3 tower fields, 4+4 lepton fields, 5 jet fields, 6 counters, 2 MET)", len(want))
	}
}

// sample mirrors the written branches for the physics checks.
type sample struct {
	TrackPT     []float32 `groot:"EFlowTrack_PT[nEFlowTrack]"`
	TrackEta    []float32 `groot:"EFlowTrack_Eta[nEFlowTrack]"`
	TrackPhi    []float32 `groot:"EFlowTrack_Phi[nEFlowTrack]"`
	TrackCharge []int32   `groot:"EFlowTrack_Charge[nEFlowTrack]"`
	TrackPID    []int32   `groot:"EFlowTrack_PID[nEFlowTrack]"`
	TrackZ      []float32 `groot:"EFlowTrack_Z[nEFlowTrack]"`
	PhotonET    []float32 `groot:"EFlowPhoton_ET[nEFlowPhoton]"`
	PhotonEta   []float32 `groot:"EFlowPhoton_Eta[nEFlowPhoton]"`
	NeutralET   []float32 `groot:"EFlowNeutralHadron_ET[nEFlowNeutralHadron]"`
	NeutralEta  []float32 `groot:"EFlowNeutralHadron_Eta[nEFlowNeutralHadron]"`
	ElePT       []float32 `groot:"Electron_PT[nElectron]"`
	EleEta      []float32 `groot:"Electron_Eta[nElectron]"`
	ElePhi      []float32 `groot:"Electron_Phi[nElectron]"`
	EleCharge   []int32   `groot:"Electron_Charge[nElectron]"`
	MuPT        []float32 `groot:"MuonTight_PT[nMuonTight]"`
	MuEta       []float32 `groot:"MuonTight_Eta[nMuonTight]"`
	MuPhi       []float32 `groot:"MuonTight_Phi[nMuonTight]"`
	MuCharge    []int32   `groot:"MuonTight_Charge[nMuonTight]"`
	JetPT       []float32 `groot:"Jet_PT[nJet]"`
	JetEta      []float32 `groot:"Jet_Eta[nJet]"`
	JetPhi      []float32 `groot:"Jet_Phi[nJet]"`
	JetMass     []float32 `groot:"Jet_Mass[nJet]"`
	JetBTag     []int32   `groot:"Jet_BTag[nJet]"`
	MET         float32   `groot:"MissingET_MET"`
	METPhi      float32   `groot:"MissingET_Phi"`
}

// classStats accumulates, per class, the quantities the model promises.
type classStats struct {
	events, withLepton          int
	tracks, tracks05, photons   []int
	photons1, neutral, neutral1 []int
	met, ht, jets30, bjets30    float64
	taggedJets, jets            int
	leadLepPT                   [20]int // 5 GeV bins from 0
	trackZ, trackZ2, trackZn    float64
	wideZ                       int // events whose tracks spread over > 20 mm in z
}

// checkEvent asserts the per-event invariants and accumulates statistics.
func (st *classStats) checkEvent(s *sample) error {
	phiOK := func(phi float32) bool { return math.Abs(float64(phi)) <= float64(float32(math.Pi)) }
	for i, pt := range s.TrackPT {
		if !(pt > 0) || math.Abs(float64(s.TrackEta[i])) >= trackerMaxEta || !phiOK(s.TrackPhi[i]) {
			return fmt.Errorf("track %d out of range: pt=%v eta=%v phi=%v", i, pt, s.TrackEta[i], s.TrackPhi[i])
		}
		q, pid := s.TrackCharge[i], s.TrackPID[i]
		abs := max(pid, -pid)
		switch {
		case q != 1 && q != -1:
			return fmt.Errorf("track %d charge %d", i, q)
		case abs == pdgElectron || abs == pdgMuon:
			if pid != -abs*q {
				return fmt.Errorf("lepton track %d: PID %d with charge %d (e⁻ and μ⁻ have positive PDG ids)", i, pid, q)
			}
		case abs == pdgPion || abs == pdgKaon || abs == pdgProton:
			if pid != abs*q {
				return fmt.Errorf("hadron track %d: PID %d with charge %d", i, pid, q)
			}
		default:
			return fmt.Errorf("track %d: unexpected PID %d", i, pid)
		}
	}
	for _, c := range []struct {
		et, eta []float32
	}{{s.PhotonET, s.PhotonEta}, {s.NeutralET, s.NeutralEta}} {
		for i, et := range c.et {
			if !(et > 0) || math.Abs(float64(c.eta[i])) >= caloMaxEta {
				return fmt.Errorf("tower %d out of range: et=%v eta=%v", i, et, c.eta[i])
			}
		}
	}
	// Every reconstructed lepton has its own track, at the same direction.
	hasTrack := func(pt, eta, phi float32, q int32, muon bool) bool {
		for i := range s.TrackPT {
			if s.TrackEta[i] == eta && s.TrackPhi[i] == phi && s.TrackCharge[i] == q && (!muon || s.TrackPT[i] == pt) {
				return true
			}
		}
		return false
	}
	lead := float32(0)
	for _, l := range []struct {
		pt, eta, phi []float32
		q            []int32
		muon         bool
	}{{s.ElePT, s.EleEta, s.ElePhi, s.EleCharge, false}, {s.MuPT, s.MuEta, s.MuPhi, s.MuCharge, true}} {
		for i, pt := range l.pt {
			if pt < leptonMinPt || !phiOK(l.phi[i]) || math.Abs(float64(l.eta[i])) >= trackerMaxEta {
				return fmt.Errorf("lepton %d out of range: pt=%v eta=%v", i, pt, l.eta[i])
			}
			if i > 0 && pt > l.pt[i-1] {
				return fmt.Errorf("leptons not in decreasing pT: %v", l.pt)
			}
			if !hasTrack(pt, l.eta[i], l.phi[i], l.q[i], l.muon) {
				return fmt.Errorf("lepton %d (muon %v, pt %v) has no track at its direction", i, l.muon, pt)
			}
			lead = max(lead, pt)
		}
	}
	if !(s.MET >= 0) || !phiOK(s.METPhi) {
		return fmt.Errorf("MET %v, φ %v", s.MET, s.METPhi)
	}
	for i, pt := range s.JetPT {
		eta := math.Abs(float64(s.JetEta[i]))
		if pt < jetMinPt || eta >= jetMaxEta || !phiOK(s.JetPhi[i]) || s.JetMass[i] < 0 || (i > 0 && pt > s.JetPT[i-1]) {
			return fmt.Errorf("jet %d out of range or order: pt=%v eta=%v m=%v", i, pt, s.JetEta[i], s.JetMass[i])
		}
		if b := s.JetBTag[i]; b != 0 && (b != 1 || eta >= trackerMaxEta) {
			return fmt.Errorf("jet %d: b-tag %d at η %v", i, b, s.JetEta[i])
		}
		st.jets++
		st.taggedJets += int(s.JetBTag[i])
		if pt > 30 && eta < 2.6 {
			st.ht += float64(pt)
			st.jets30++
			st.bjets30 += float64(s.JetBTag[i])
		}
	}

	st.events++
	st.met += float64(s.MET)
	if lead > 0 {
		st.withLepton++
		st.leadLepPT[min(int(lead/5), len(st.leadLepPT)-1)]++
	}
	n05, n1, m1 := 0, 0, 0
	zlo, zhi := math.Inf(1), math.Inf(-1)
	for i, pt := range s.TrackPT {
		if pt > 0.5 {
			n05++
		}
		z := float64(s.TrackZ[i])
		st.trackZ += z
		st.trackZ2 += z * z
		st.trackZn++
		zlo, zhi = min(zlo, z), max(zhi, z)
	}
	if zhi-zlo > 20 {
		st.wideZ++
	}
	for _, et := range s.PhotonET {
		if et > 1 {
			n1++
		}
	}
	for _, et := range s.NeutralET {
		if et > 1 {
			m1++
		}
	}
	st.tracks = append(st.tracks, len(s.TrackPT))
	st.tracks05 = append(st.tracks05, n05)
	st.photons = append(st.photons, len(s.PhotonET))
	st.photons1 = append(st.photons1, n1)
	st.neutral = append(st.neutral, len(s.NeutralET))
	st.neutral1 = append(st.neutral1, m1)
	return nil
}

// inRange is the fraction of counts within [lo, hi].
func inRange(v []int, lo, hi int) float64 {
	k := 0
	for _, x := range v {
		if x >= lo && x <= hi {
			k++
		}
	}
	return float64(k) / float64(len(v))
}

func TestPhysics(t *testing.T) {
	const n = 10_000
	paths, err := Generate(Options{Events: n, Seed: 2024, OutDir: t.TempDir(), EventsPerFile: 1500})
	if err != nil {
		t.Fatal(err)
	}
	var stats [NumClasses]classStats
	for _, p := range paths {
		c, err := ClassOf(p)
		if err != nil {
			t.Fatal(err)
		}
		var s sample
		r, err := rtree.NewReader(openTree(t, p), rtree.ReadVarsFromStruct(&s))
		if err != nil {
			t.Fatal(err)
		}
		err = r.Read(func(ctx rtree.RCtx) error {
			if err := stats[c].checkEvent(&s); err != nil {
				return fmt.Errorf("%s entry %d: %w", filepath.Base(p), ctx.Entry, err)
			}
			return nil
		})
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}

	type check struct {
		what   string
		got    float64
		lo, hi float64
	}
	var checks []check
	var all classStats
	for c, st := range stats {
		name := Class(c).Name()
		ev := float64(st.events)
		all.tracks = append(all.tracks, st.tracks...)
		all.tracks05 = append(all.tracks05, st.tracks05...)
		all.photons = append(all.photons, st.photons...)
		all.photons1 = append(all.photons1, st.photons1...)
		all.neutral = append(all.neutral, st.neutral...)
		all.neutral1 = append(all.neutral1, st.neutral1...)
		zMean := st.trackZ / st.trackZn
		checks = append(checks,
			check{name + ": spread of track z (mm)", math.Sqrt(st.trackZ2/st.trackZn - zMean*zMean), 25, 60},
			check{name + ": events with tracks spread over > 20 mm in z", float64(st.wideZ) / ev, 0.95, 1},
		)
		t.Logf("%-5s: events %d, with a lepton %.2f, mean MET %.1f, HT %.0f, jets %.2f, b-tagged %.2f (PT > 30, |η| < 2.6)",
			name, st.events, float64(st.withLepton)/ev, st.met/ev, st.ht/ev, st.jets30/ev, st.bjets30/ev)
	}
	qcd, tt, w := &stats[QCD], &stats[TTbar], &stats[WJets]
	per := func(st *classStats, x float64) float64 { return x / float64(st.events) }
	checks = append(checks,
		// Spec section 1: most events within the quoted multiplicity ranges.
		check{"events with 160–470 tracks", inRange(all.tracks, 160, 470), 0.8, 1},
		check{"events with 110–370 tracks above 0.5 GeV", inRange(all.tracks05, 110, 370), 0.8, 1},
		check{"events with 230–580 photons", inRange(all.photons, 230, 580), 0.75, 1},
		check{"events with 30–80 photons above 1 GeV", inRange(all.photons1, 30, 80), 0.75, 1},
		check{"events with 210–430 neutral hadrons", inRange(all.neutral, 210, 430), 0.7, 1},
		check{"events with 50–140 neutral hadrons above 1 GeV", inRange(all.neutral1, 50, 140), 0.75, 1},
		// Real MET from neutrinos in W and tt̄, resolution only in QCD.
		check{"QCD mean MET", per(qcd, qcd.met), 10, 25},
		check{"W+jets mean MET / QCD mean MET", w.met / qcd.met, 1.8, 4},
		check{"tt̄ mean MET / QCD mean MET", tt.met / qcd.met, 2, 5},
		// tt̄: two b jets tagged at 70%, four jets, high HT.
		check{"tt̄ mean b-tagged jets", per(tt, tt.bjets30), 1, 1.6},
		check{"tt̄ mean jets", per(tt, tt.jets30), 2.8, 4.5},
		check{"tt̄ mean HT / W+jets mean HT", tt.ht / w.ht, 4, 30},
		check{"W+jets b-tagged fraction of jets", float64(w.taggedJets) / float64(w.jets), 0, 0.06},
		// Leptons: nearly always in tt̄ and W+jets, less often in QCD.
		check{"tt̄ events with a lepton", per(tt, float64(tt.withLepton)), 0.8, 1},
		check{"W+jets events with a lepton", per(w, float64(w.withLepton)), 0.6, 0.9},
		check{"QCD events with a lepton", per(qcd, float64(qcd.withLepton)), 0.1, 0.5},
	)
	for _, c := range checks {
		if !(c.got >= c.lo && c.got <= c.hi) {
			t.Errorf("%s = %.3f, want within [%g, %g]", c.what, c.got, c.lo, c.hi)
		}
	}
	// W → ℓν: the leading lepton's pT has its Jacobian peak at 35–45 GeV,
	// just under half the W mass, above both its flanks.
	peak := w.leadLepPT[7] + w.leadLepPT[8]
	if low, high := w.leadLepPT[3]+w.leadLepPT[4], w.leadLepPT[11]+w.leadLepPT[12]; peak <= low || peak <= 2*high {
		t.Errorf("no Jacobian peak: %d leptons at 35–45 GeV, %d at 15–25, %d at 55–65", peak, low, high)
	}
	t.Logf("W+jets leading lepton pT, 5 GeV bins: %v", w.leadLepPT)
}

func TestGenerateOptionErrors(t *testing.T) {
	dir := t.TempDir()
	for _, opts := range []Options{
		{Events: 2, OutDir: dir},
		{Events: 10},
		{Events: 10, OutDir: dir, EventsPerFile: -1},
		{Events: 10, OutDir: dir, Compression: "brotli"},
		{Events: 10, OutDir: dir, Compression: "zlib:0"},
		{Events: 10, OutDir: dir, Compression: "zstd:x"},
		{Events: 10, OutDir: dir, Compression: "none:1"},
		{Events: 10, OutDir: dir, Compression: "lz4"},
	} {
		if _, err := Generate(opts); err == nil || !strings.HasPrefix(err.Error(), "topogen: ") {
			t.Errorf("Generate(%+v): got error %v, want a topogen error", opts, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed calls left %d files behind", len(entries))
	}
}

func TestCompressionCodecs(t *testing.T) {
	for _, c := range []Compression{"", "zlib:6", "lzma:1", "zstd", "none"} {
		paths, err := Generate(Options{Events: 30, Seed: 3, OutDir: t.TempDir(), Compression: c})
		if err != nil {
			t.Fatalf("compression %q: %v", c, err)
		}
		if got := len(readAll(t, openTree(t, paths...))); got != 30 {
			t.Errorf("compression %q: read back %d events, want 30", c, got)
		}
	}
}

// BenchmarkGenerate reports generation speed and file size per event for
// the default codec; run with -benchtime=1x for a single 30k-event sample.
func BenchmarkGenerate(b *testing.B) {
	const n = 30_000
	var size int64
	for b.Loop() {
		dir := b.TempDir()
		paths, err := Generate(Options{Events: n, Seed: 1, OutDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		size = 0
		for _, p := range paths {
			st, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			size += st.Size()
		}
	}
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/n, "bytes/event")
}
