package adl

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/rtree"
)

// cmsSample locates the CMS open-data sample next to the repository. It
// fails in CI, where the sample must be present, and skips elsewhere.
func cmsSample(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("adlgen test: go.mod not found above the test folder")
		}
		dir = parent
	}
	path := filepath.Join(dir, "..", "shared", "data", "Run2012B_SingleMu_10000.root")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CMS sample missing in CI: %v", err)
		}
		t.Skipf("CMS sample not available (%v); set it up at ../shared/data to run this test", err)
	}
	return path
}

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
	const n = 3000
	gen := func(seed int64, perFile int) []string {
		paths, err := Generate(Options{Events: n, Seed: seed, OutDir: t.TempDir(), EventsPerFile: perFile})
		if err != nil {
			t.Fatal(err)
		}
		return paths
	}
	a := readAll(t, openTree(t, gen(42, 0)...))
	b := readAll(t, openTree(t, gen(42, 0)...))
	if len(a) != n {
		t.Fatalf("got %d entries, want %d", len(a), n)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different events")
	}

	// Splitting into files must not change the event stream.
	split := gen(42, 700)
	if len(split) != 5 {
		t.Fatalf("got %d files for %d events at 700 per file, want 5", len(split), n)
	}
	if c := readAll(t, openTree(t, split...)); !reflect.DeepEqual(a, c) {
		t.Fatal("splitting into files changed the events")
	}

	if d := readAll(t, openTree(t, gen(43, 0)...)); reflect.DeepEqual(a, d) {
		t.Fatal("different seeds gave identical events")
	}
}

// isADLBranch selects, among the CMS sample's branches, those Generate
// reproduces.
func isADLBranch(name string) bool {
	switch name {
	case "run", "luminosityBlock", "event", "HLT_IsoMu24", "nMuon", "nElectron", "nJet":
		return true
	}
	for _, prefix := range []string{"MET_", "Jet_", "Muon_", "Electron_"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// describe renders a branch's layout: leaf class, ROOT type, title and
// counter, which must match between the sample and the generated file.
func describe(b rtree.Branch) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s:", b.Name())
	for _, l := range b.Leaves() {
		count := ""
		if lc := l.LeafCount(); lc != nil {
			count = lc.Name()
		}
		fmt.Fprintf(&sb, " %T %s title=%q count=%q unsigned=%v", l, l.TypeName(), l.Title(), count, l.IsUnsigned())
	}
	return sb.String()
}

func TestBranchesMatchCMSSample(t *testing.T) {
	f, err := groot.Open(cmsSample(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	obj, err := f.Get(TreeName)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, b := range obj.(rtree.Tree).Branches() {
		if isADLBranch(b.Name()) {
			want = append(want, describe(b))
		}
	}

	paths, err := Generate(Options{Events: 10, Seed: 1, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range openTree(t, paths...).Branches() {
		got = append(got, describe(b))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("branch layouts differ:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	if names := Branches(); len(names) != len(want) {
		t.Errorf("Branches() lists %d names, the sample has %d ADL branches", len(names), len(want))
	}
}

// sample is the subset of an event the range checks look at.
type sample struct {
	NMuon      uint32    `groot:"nMuon"`
	MuonPt     []float32 `groot:"Muon_pt[nMuon]"`
	MuonEta    []float32 `groot:"Muon_eta[nMuon]"`
	MuonPhi    []float32 `groot:"Muon_phi[nMuon]"`
	MuonMass   []float32 `groot:"Muon_mass[nMuon]"`
	MuonCharge []int32   `groot:"Muon_charge[nMuon]"`
	MuonIso    []float32 `groot:"Muon_pfRelIso03_all[nMuon]"`
	NEle       uint32    `groot:"nElectron"`
	ElePt      []float32 `groot:"Electron_pt[nElectron]"`
	EleEta     []float32 `groot:"Electron_eta[nElectron]"`
	EleCharge  []int32   `groot:"Electron_charge[nElectron]"`
	NJet       uint32    `groot:"nJet"`
	JetPt      []float32 `groot:"Jet_pt[nJet]"`
	JetEta     []float32 `groot:"Jet_eta[nJet]"`
	JetPhi     []float32 `groot:"Jet_phi[nJet]"`
	JetMass    []float32 `groot:"Jet_mass[nJet]"`
	JetBtag    []float32 `groot:"Jet_btag[nJet]"`
	METPt      float32   `groot:"MET_pt"`
	METPhi     float32   `groot:"MET_phi"`
	METSumet   float32   `groot:"MET_sumet"`
	Event      uint64    `groot:"event"`
}

func TestGeneratedValuesPlausible(t *testing.T) {
	const n = 20000
	paths, err := Generate(Options{Events: n, Seed: 2024, OutDir: t.TempDir(), EventsPerFile: 6000, Compression: "zstd:3"})
	if err != nil {
		t.Fatal(err)
	}
	var s sample
	r, err := rtree.NewReader(openTree(t, paths...), rtree.ReadVarsFromStruct(&s))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	var (
		jets, ge3Jets, oneMuon, multiMuon, zCands, zPeak, zSide int
		btagM1, btagM10, negIso                                 int
	)
	phiOK := func(phi float32) bool { return phi >= -math.Pi && phi <= math.Pi }
	err = r.Read(func(ctx rtree.RCtx) error {
		i := ctx.Entry
		if s.Event != uint64(i)+1 {
			return fmt.Errorf("entry %d: event number %d", i, s.Event)
		}
		if int(s.NMuon) != len(s.MuonPt) || int(s.NJet) != len(s.JetPt) || int(s.NEle) != len(s.ElePt) {
			return fmt.Errorf("entry %d: counters disagree with collection sizes", i)
		}
		if !(s.METPt >= 0 && s.METPt < 5000) || !phiOK(s.METPhi) || !(s.METSumet > 0) {
			return fmt.Errorf("entry %d: MET out of range: pt=%v phi=%v sumet=%v", i, s.METPt, s.METPhi, s.METSumet)
		}
		for k, pt := range s.JetPt {
			if pt < jetMinPt || pt > 7000 || math.Abs(float64(s.JetEta[k])) > jetMaxEta || !phiOK(s.JetPhi[k]) || s.JetMass[k] <= 0 {
				return fmt.Errorf("entry %d: jet %d out of range: pt=%v eta=%v phi=%v m=%v", i, k, pt, s.JetEta[k], s.JetPhi[k], s.JetMass[k])
			}
			if k > 0 && pt > s.JetPt[k-1] {
				return fmt.Errorf("entry %d: jets not ordered by decreasing pt", i)
			}
			switch b := s.JetBtag[k]; {
			case b == -1:
				btagM1++
			case b == -10:
				btagM10++
			case b < 0 || b > 1:
				return fmt.Errorf("entry %d: jet %d b-tag %v outside [0,1] and not a placeholder", i, k, b)
			}
		}
		for k, pt := range s.MuonPt {
			if pt < muonMinPt || math.Abs(float64(s.MuonEta[k])) > muonMaxEta || !phiOK(s.MuonPhi[k]) ||
				s.MuonMass[k] != float32(muonMass) || (s.MuonCharge[k] != 1 && s.MuonCharge[k] != -1) {
				return fmt.Errorf("entry %d: muon %d out of range", i, k)
			}
			if iso := s.MuonIso[k]; iso == placeholder {
				negIso++
			} else if iso < 0 {
				return fmt.Errorf("entry %d: muon %d isolation %v", i, k, iso)
			}
		}
		for k, pt := range s.ElePt {
			if pt < electronMinPt || math.Abs(float64(s.EleEta[k])) > electronMaxEta || (s.EleCharge[k] != 1 && s.EleCharge[k] != -1) {
				return fmt.Errorf("entry %d: electron %d out of range", i, k)
			}
		}

		jets += len(s.JetPt)
		if len(s.JetPt) >= 3 {
			ge3Jets++
		}
		switch {
		case s.NMuon == 1:
			oneMuon++
		case s.NMuon >= 2:
			multiMuon++
		}
		// Z→μμ: opposite-charge pairs, counted by invariant-mass window.
		for a := range s.MuonPt {
			for b := a + 1; b < len(s.MuonPt); b++ {
				if s.MuonCharge[a] == s.MuonCharge[b] {
					continue
				}
				m := pairMass(s.MuonPt[a], s.MuonEta[a], s.MuonPhi[a], s.MuonPt[b], s.MuonEta[b], s.MuonPhi[b], muonMass)
				switch {
				case m > 86 && m < 96:
					zPeak++
				case m > 60 && m < 70, m > 110 && m < 120:
					zSide++
				}
				if m > 60 && m < 120 {
					zCands++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	frac := func(k int) float64 { return float64(k) / n }
	checks := []struct {
		what   string
		got    float64
		lo, hi float64
	}{
		{"mean jet multiplicity", frac(jets), 1, 3},
		{"fraction of events with >= 3 jets", frac(ge3Jets), 0.1, 0.5},
		{"fraction of events with one muon", frac(oneMuon), 0.5, 0.9},
		{"fraction of events with >= 2 muons", frac(multiMuon), 0.05, 0.4},
		{"fraction of events with a Z→μμ candidate", frac(zCands), 0.02, 0.2},
		{"b-tag -1 placeholders per jet", float64(btagM1) / float64(jets), 0.02, 0.3},
		{"b-tag -10 placeholders per jet", float64(btagM10) / float64(jets), 0.02, 0.4},
		{"muon isolation placeholders per event", frac(negIso), 0.01, 0.5},
	}
	for _, c := range checks {
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s = %.4f, want within [%g, %g]", c.what, c.got, c.lo, c.hi)
		}
	}
	// The 10 GeV around the Z mass must outnumber the 20 GeV of side bands.
	if zPeak <= 2*zSide {
		t.Errorf("no Z peak: %d pairs within 86-96 GeV, %d in the 60-70 and 110-120 side bands", zPeak, zSide)
	}
}

func pairMass(pt1, eta1, phi1, pt2, eta2, phi2 float32, m float64) float64 {
	a := fromPtEtaPhiM(float64(pt1), float64(eta1), float64(phi1), m)
	b := fromPtEtaPhiM(float64(pt2), float64(eta2), float64(phi2), m)
	return a.Add(b).Mass()
}

func TestGenerateOptionErrors(t *testing.T) {
	dir := t.TempDir()
	for _, opts := range []Options{
		{Events: 0, OutDir: dir},
		{Events: 10},
		{Events: 10, OutDir: dir, EventsPerFile: -1},
		{Events: 10, OutDir: dir, Compression: "brotli"},
		{Events: 10, OutDir: dir, Compression: "zlib:0"},
		{Events: 10, OutDir: dir, Compression: "zstd:x"},
		{Events: 10, OutDir: dir, Compression: "none:1"},
		{Events: 10, OutDir: dir, Compression: "lz4"},
	} {
		if _, err := Generate(opts); err == nil || !strings.HasPrefix(err.Error(), "adlgen: ") {
			t.Errorf("Generate(%+v): got error %v, want an adlgen error", opts, err)
		}
	}
}

func TestCompressionCodecs(t *testing.T) {
	for _, c := range []Compression{"", "zlib:6", "lzma:1", "zstd", "none"} {
		paths, err := Generate(Options{Events: 50, Seed: 3, OutDir: t.TempDir(), Compression: c})
		if err != nil {
			t.Fatalf("compression %q: %v", c, err)
		}
		if got := len(readAll(t, openTree(t, paths...))); got != 50 {
			t.Errorf("compression %q: read back %d events, want 50", c, got)
		}
	}
}

func BenchmarkGenerate100k(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(Options{Events: 100_000, Seed: 1, OutDir: b.TempDir()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(100_000*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
