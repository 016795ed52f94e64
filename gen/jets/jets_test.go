package jets

import (
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/gen/internal/mc"
)

// sample draws n jets in memory with Fill, the function Generate writes.
func sample(n int, seed int64, qcd bool) []Jet {
	g := NewGenerator(seed, qcd)
	out := make([]Jet, n)
	for i := range out {
		g.Fill(&out[i], int64(i))
	}
	return out
}

// nsubjettiness returns τ1, τ2, τ3 of the jet's constituents, with axes from
// exclusive kT clustering (pT-weighted recombination, no beam distance) of
// its hardest 40 constituents: an independent substructure measure the
// generator knows nothing of.
func nsubjettiness(j *Jet) (tau [3]float64) {
	type pj struct{ pt, eta, phi float64 }
	var ps []pj
	for i := range min(len(j.PartPt), 40) {
		ps = append(ps, pj{float64(j.PartPt[i]), float64(j.PartEta[i]), float64(j.PartPhi[i])})
	}
	var axes [3][]pj
	for len(ps) > 0 {
		if k := len(ps); k <= 3 {
			axes[k-1] = slices.Clone(ps)
		}
		if len(ps) == 1 {
			break
		}
		bi, bj, best := 0, 1, math.Inf(1)
		for a := range ps {
			for b := a + 1; b < len(ps); b++ {
				d := min(ps[a].pt*ps[a].pt, ps[b].pt*ps[b].pt) * dr2(ps[a].eta, ps[a].phi, ps[b].eta, ps[b].phi)
				if d < best {
					bi, bj, best = a, b, d
				}
			}
		}
		a, b := ps[bi], ps[bj]
		pt := a.pt + b.pt
		dphi := math.Remainder(b.phi-a.phi, 2*math.Pi)
		ps[bi] = pj{pt, (a.pt*a.eta + b.pt*b.eta) / pt, a.phi + b.pt/pt*dphi}
		ps = append(ps[:bj], ps[bj+1:]...)
	}
	var norm float64
	for i := range j.PartPt {
		norm += float64(j.PartPt[i]) * jetR
	}
	for n := range 3 {
		if axes[n] == nil {
			continue // fewer constituents than axes: τ = 0
		}
		var s float64
		for i := range j.PartPt {
			d := math.Inf(1)
			for _, a := range axes[n] {
				d = min(d, dr2(float64(j.PartEta[i]), float64(j.PartPhi[i]), a.eta, a.phi))
			}
			s += float64(j.PartPt[i]) * math.Sqrt(d)
		}
		tau[n] = s / norm
	}
	return tau
}

func dr2(eta1, phi1, eta2, phi2 float64) float64 {
	dphi := math.Remainder(phi1-phi2, 2*math.Pi)
	return (eta1-eta2)*(eta1-eta2) + dphi*dphi
}

func quantile(v []float64, q float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return s[int(q*float64(len(s)-1))]
}

// classStats are the distributions of one class.
type classStats struct {
	mass, nPart, tau21, tau32, pt []float64
}

func stats(jets []Jet) map[Class]*classStats {
	out := map[Class]*classStats{}
	for i := range jets {
		j := &jets[i]
		c := Class(j.Truth)
		s := out[c]
		if s == nil {
			s = &classStats{}
			out[c] = s
		}
		tau := nsubjettiness(j)
		s.mass = append(s.mass, float64(j.Mass))
		s.pt = append(s.pt, float64(j.Pt))
		s.nPart = append(s.nPart, float64(j.NPart))
		if tau[0] > 0 {
			s.tau21 = append(s.tau21, tau[1]/tau[0])
		}
		if tau[1] > 0 {
			s.tau32 = append(s.tau32, tau[2]/tau[1])
		}
	}
	return out
}

// TestDistributions checks what doc.go promises: the mass peaks per class,
// the W–Z overlap, multiplicities, and the prong structure seen by
// N-subjettiness.
func TestDistributions(t *testing.T) {
	jets := sample(8000, 7, true)
	st := stats(jets)
	med := func(c Class, v func(*classStats) []float64) float64 { return quantile(v(st[c]), 0.5) }
	mass := func(s *classStats) []float64 { return s.mass }
	nPart := func(s *classStats) []float64 { return s.nPart }
	tau21 := func(s *classStats) []float64 { return s.tau21 }
	tau32 := func(s *classStats) []float64 { return s.tau32 }
	for _, c := range []Class{W, Z, Top, QCD} {
		s := st[c]
		if len(s.mass) != 2000 {
			t.Fatalf("%s: %d jets, want 2000 (the classes take turns)", c.Name(), len(s.mass))
		}
		t.Logf("%-3s mass q16/50/84 = %.1f/%.1f/%.1f  nPart q5/50/95 = %.0f/%.0f/%.0f  τ21 median %.3f  τ32 median %.3f  pT median %.0f",
			c.Name(), quantile(s.mass, 0.16), quantile(s.mass, 0.5), quantile(s.mass, 0.84),
			quantile(s.nPart, 0.05), quantile(s.nPart, 0.5), quantile(s.nPart, 0.95),
			quantile(s.tau21, 0.5), quantile(s.tau32, 0.5), quantile(s.pt, 0.5))
	}
	within := func(what string, v, lo, hi float64) {
		t.Helper()
		if v < lo || v > hi {
			t.Errorf("%s = %.3f, want within [%g, %g]", what, v, lo, hi)
		}
	}
	// Mass peaks near the resonances, shifted up a little by pile-up.
	within("W mass median", med(W, mass), 80, 92)
	within("Z mass median", med(Z, mass), 90, 103)
	within("top mass median", med(Top, mass), 165, 182)
	within("Z − W median mass", med(Z, mass)-med(W, mass), 7, 14)
	within("W mass half-width (q84 − q16)/2", (quantile(st[W].mass, 0.84)-quantile(st[W].mass, 0.16))/2, 5, 12)
	// W and Z overlap: a cut halfway between the medians misplaces many.
	cut := (med(W, mass) + med(Z, mass)) / 2
	var wrong int
	for _, m := range st[W].mass {
		if m > cut {
			wrong++
		}
	}
	for _, m := range st[Z].mass {
		if m <= cut {
			wrong++
		}
	}
	t.Logf("a mass cut at %.1f GeV misplaces %.1f%% of W and Z jets", cut, 100*float64(wrong)/4000)
	within("W/Z misassigned by a mass cut", float64(wrong)/4000, 0.15, 0.40)
	// Top jets whose b or quark falls outside the cone: a tail below.
	within("top mass q16", quantile(st[Top].mass, 0.16), 100, 160)
	// QCD jets have no peak: a broad spectrum.
	within("QCD mass q84 − q16", quantile(st[QCD].mass, 0.84)-quantile(st[QCD].mass, 0.16), 60, 250)

	within("W median multiplicity", med(W, nPart), 25, 50)
	within("top − W median multiplicity", med(Top, nPart)-med(W, nPart), 3, 20)
	// Prongs: two for W and Z (low τ21), three for top (low τ32).
	for _, c := range []Class{W, Z} {
		within(c.Name()+" τ21 median", med(c, tau21), 0.15, 0.4)
		within(c.Name()+" τ32 median", med(c, tau32), 0.65, 0.95)
		within("top − "+c.Name()+" τ21 median", med(Top, tau21)-med(c, tau21), 0.1, 1)
		within(c.Name()+" − top τ32 median", med(c, tau32)-med(Top, tau32), 0.2, 1)
	}
	within("top τ32 median", med(Top, tau32), 0.3, 0.55)
	within("QCD − W τ21 median", med(QCD, tau21)-med(W, tau21), 0.15, 1)

	// Per jet: constituents pT-ordered, massless, near the jet (within jetR
	// of the cone's axis, the parent's direction, which the jet's own
	// direction differs from), and the jet is their sum when none was cut.
	for i := range jets {
		j := &jets[i]
		if j.NPart == 0 || j.NPart > MaxParticles || int(j.NPart) != len(j.PartPt) {
			t.Fatalf("jet %d: nPart %d, %d pT values", i, j.NPart, len(j.PartPt))
		}
		var sum mc.P4
		for k := range j.PartPt {
			if k > 0 && j.PartPt[k] > j.PartPt[k-1] {
				t.Fatalf("jet %d: constituent %d harder than %d", i, k, k-1)
			}
			if d := math.Sqrt(dr2(float64(j.PartEta[k]), float64(j.PartPhi[k]), float64(j.Eta), float64(j.Phi))); d > 2*jetR {
				t.Fatalf("jet %d: constituent %d at ΔR %.2f from the jet", i, k, d)
			}
			pt, eta, e := float64(j.PartPt[k]), float64(j.PartEta[k]), float64(j.PartE[k])
			if math.Abs(e-pt*math.Cosh(eta)) > 1e-5*e {
				t.Fatalf("jet %d: constituent %d has E %v, pT cosh η %v", i, k, e, pt*math.Cosh(eta))
			}
			sum = sum.Add(masslessP4(pt, eta, float64(j.PartPhi[k])))
		}
		if j.NPart < MaxParticles && (math.Abs(sum.Pt()-float64(j.Pt)) > 1e-3*sum.Pt() || math.Abs(sum.Mass()-float64(j.Mass)) > 0.05) {
			t.Fatalf("jet %d: pT %v mass %v, its constituents sum to %v, %v", i, j.Pt, j.Mass, sum.Pt(), sum.Mass())
		}
	}
}

func TestDeterministic(t *testing.T) {
	read := func(seed int64, perFile int) []Jet {
		paths, err := Generate(Options{Jets: 500, Seed: seed, OutDir: t.TempDir(), JetsPerFile: perFile})
		if err != nil {
			t.Fatal(err)
		}
		return readJets(t, paths)
	}
	a := read(3, 0)
	if len(a) != 500 {
		t.Fatalf("read %d jets, want 500", len(a))
	}
	if b := read(3, 70); !reflect.DeepEqual(a, b) {
		t.Fatal("splitting into files changed the jets")
	}
	if c := read(4, 0); reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave identical jets")
	}
	// What Generate wrote is what Fill draws.
	if want := sample(500, 3, false); !reflect.DeepEqual(a, want) {
		t.Fatal("the files differ from the generator's jets")
	}
}

// readJets reads files with groot's reader, independently of the writer.
func readJets(t *testing.T, paths []string) []Jet {
	t.Helper()
	tree, closeFn, err := rtree.ChainOf(TreeName, paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var j Jet
	rvars := []rtree.ReadVar{
		{Name: "Jet_pt", Value: &j.Pt}, {Name: "Jet_eta", Value: &j.Eta}, {Name: "Jet_phi", Value: &j.Phi},
		{Name: "Jet_mass", Value: &j.Mass}, {Name: "Jet_e", Value: &j.E}, {Name: "truth", Value: &j.Truth},
		{Name: "nPart", Value: &j.NPart},
		{Name: "Part_pt", Value: &j.PartPt}, {Name: "Part_eta", Value: &j.PartEta}, {Name: "Part_phi", Value: &j.PartPhi},
		{Name: "Part_e", Value: &j.PartE}, {Name: "Part_pid", Value: &j.PartPID},
	}
	r, err := rtree.NewReader(tree, rvars)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []Jet
	err = r.Read(func(rtree.RCtx) error {
		c := j
		c.PartPt, c.PartEta, c.PartPhi = slices.Clone(j.PartPt), slices.Clone(j.PartEta), slices.Clone(j.PartPhi)
		c.PartE, c.PartPID = slices.Clone(j.PartE), slices.Clone(j.PartPID)
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func BenchmarkFill(b *testing.B) {
	g := NewGenerator(1, false)
	var j Jet
	for i := 0; b.Loop(); i++ {
		g.Fill(&j, int64(i))
	}
}

func TestBranchLayout(t *testing.T) {
	paths, err := Generate(Options{Jets: 7, Seed: 1, QCD: true, OutDir: t.TempDir(), JetsPerFile: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 || filepath.Base(paths[2]) != FileName(2) {
		t.Fatalf("files %v, want 3 named by FileName", paths)
	}
	f, err := groot.Open(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	obj, err := f.Get(TreeName)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range obj.(rtree.Tree).Branches() {
		for _, l := range b.Leaves() {
			count := ""
			if lc := l.LeafCount(); lc != nil {
				count = "[" + lc.Name() + "]"
			}
			got = append(got, b.Name()+count+"/"+l.TypeName())
		}
	}
	want := []string{"Jet_pt/float32", "Jet_eta/float32", "Jet_phi/float32", "Jet_mass/float32", "Jet_e/float32", "truth/int32", "nPart/uint32",
		"Part_pt[nPart]/float32", "Part_eta[nPart]/float32", "Part_phi[nPart]/float32", "Part_e[nPart]/float32", "Part_pid[nPart]/int32"}
	if !slices.Equal(got, want) {
		t.Fatalf("branches %v, want %v", got, want)
	}
	if !slices.Equal(Branches(), []string{"Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass", "Jet_e", "truth", "nPart", "Part_pt", "Part_eta", "Part_phi", "Part_e", "Part_pid"}) {
		t.Fatalf("Branches() = %v", Branches())
	}
	// The classes take turns, QCD included.
	var truths []int32
	for _, j := range readJets(t, paths) {
		truths = append(truths, j.Truth)
	}
	if !slices.Equal(truths, []int32{0, 1, 2, 3, 0, 1, 2}) {
		t.Fatalf("truth %v, want the classes in turn", truths)
	}
}

func TestOptionErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		opts Options
		err  string
	}{
		{Options{Jets: 0, OutDir: dir}, "jetgen: Jets must be at least 1, got 0"},
		{Options{Jets: 5, OutDir: dir, JetsPerFile: -1}, "jetgen: JetsPerFile must be >= 0, got -1"},
		{Options{Jets: 5}, "jetgen: OutDir is empty"},
		{Options{Jets: 5, OutDir: dir, Compression: "brotli"}, `jetgen: unknown compression "brotli"`},
	} {
		if _, err := Generate(c.opts); err == nil || !strings.HasPrefix(err.Error(), c.err) {
			t.Errorf("%+v: error %v, want %q", c.opts, err, c.err)
		}
	}
}

// masslessP4 is a constituent's four-momentum from the standard library's
// functions, independently of the generator's shortcuts.
func masslessP4(pt, eta, phi float64) mc.P4 {
	return mc.P4{Px: pt * math.Cos(phi), Py: pt * math.Sin(phi), Pz: pt * math.Sinh(eta), E: pt * math.Cosh(eta)}
}
