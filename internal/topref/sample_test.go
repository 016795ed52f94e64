package topref

import (
	"math"
	"slices"
	"testing"

	"github.com/hepsql/hepsql/gen/topology"
)

// TestGeneratedSample runs the reference over a generated sample: the
// selection's efficiency and class mix should look like spec section 3's,
// the classes should be separable by their high-level features but not
// trivially, and the matrices should keep their invariants on real-sized
// events.
func TestGeneratedSample(t *testing.T) {
	const perClass = 2000
	paths, err := topology.Generate(topology.Options{Events: 3 * perClass, Seed: 11, OutDir: t.TempDir(), EventsPerFile: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var (
		total, passed [NumClasses]int
		leptons       [NumClasses]int // reconstructed leptons
		nonIsolated   [NumClasses]int // of which with ChPFIso + GammaPFIso + NeuPFIso ≥ 0.45
		samples       []Sample
		matrices      int
	)
	err = ForEach(paths, func(file string, entry int64, ev *Event) error {
		c, err := topology.ClassOf(file)
		if err != nil {
			return err
		}
		label := c.Label()
		total[label]++
		lists := NewLists(ev)
		for _, l := range slices.Concat(ev.Electrons, ev.Muons) {
			leptons[label]++
			if lists.LeptonIsolation(float64(l.PT), float64(l.Eta), float64(l.Phi)).Sum() >= MaxRelIso {
				nonIsolated[label]++
			}
		}
		sel, ok := SelectWith(ev, lists)
		if !ok {
			return nil
		}
		passed[label]++
		id := uint64(label)<<40 | uint64(total[label]-1)
		samples = append(samples, Sample{ID: id, Label: label, HLF: HighLevel(ev, sel)})
		// The matrix is O(particles²) here: check a slice of the events.
		if total[label]%10 == 0 {
			matrices++
			checkMatrix(t, ev, lists, sel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var all, sum int
	for c := range NumClasses {
		all += total[c]
		sum += passed[c]
	}
	eff := float64(sum) / float64(all)
	t.Logf("selection efficiency %.3f (spec: 0.47); per class QCD %.3f, tt̄ %.3f, W+jets %.3f",
		eff, frac(passed[0], total[0]), frac(passed[1], total[1]), frac(passed[2], total[2]))
	t.Logf("class mix after selection: QCD %.3f, tt̄ %.3f, W+jets %.3f (spec: 0.056, 0.560, 0.384)",
		frac(passed[0], sum), frac(passed[1], sum), frac(passed[2], sum))
	t.Logf("non-isolated leptons: QCD %.2f, tt̄ %.2f, W+jets %.2f",
		frac(nonIsolated[0], leptons[0]), frac(nonIsolated[1], leptons[1]), frac(nonIsolated[2], leptons[2]))
	checks := []struct {
		what   string
		got    float64
		lo, hi float64
	}{
		{"selection efficiency", eff, 0.35, 0.6},
		{"QCD share after selection", frac(passed[0], sum), 0.02, 0.12},
		{"tt̄ share after selection", frac(passed[1], sum), 0.4, 0.65},
		{"W+jets share after selection", frac(passed[2], sum), 0.3, 0.55},
		{"QCD leptons not isolated", frac(nonIsolated[0], leptons[0]), 0.6, 0.95},
		{"W+jets leptons not isolated", frac(nonIsolated[2], leptons[2]), 0, 0.15},
	}
	for _, c := range checks {
		if !(c.got >= c.lo && c.got <= c.hi) {
			t.Errorf("%s = %.3f, want within [%g, %g]", c.what, c.got, c.lo, c.hi)
		}
	}
	if matrices < 100 {
		t.Errorf("only %d matrices checked", matrices)
	}

	// One feature at a time separates pairs of classes well, not perfectly.
	for _, c := range []struct {
		feature  int
		sig, bkg int
		lo, hi   float64
		what     string
	}{
		{HLFNBJets, 1, 2, 0.75, 0.95, "nBJets, tt̄ vs W+jets"},
		{HLFHT, 1, 2, 0.8, 0.99, "HT, tt̄ vs W+jets"},
		{HLFNJets, 1, 0, 0.6, 0.95, "nJets, tt̄ vs QCD"},
		{HLFMT, 2, 0, 0.7, 0.97, "mT, W+jets vs QCD"},
		{HLFMET, 2, 0, 0.7, 0.97, "MET, W+jets vs QCD"},
		{HLFLepChIso, 0, 2, 0.6, 0.95, "lepton ChPFIso, QCD vs W+jets"},
	} {
		auc := aucOf(samples, c.feature, c.sig, c.bkg)
		t.Logf("AUC %-32s %.3f", c.what, auc)
		if !(auc >= c.lo && auc <= c.hi) {
			t.Errorf("AUC of %s = %.3f, want within [%g, %g]", c.what, auc, c.lo, c.hi)
		}
	}

	// A linear softmax classifier on the prepared, scaled features: the
	// classes separate, short of the reference's deep models.
	p, err := Prepare(samples, 5)
	if err != nil {
		t.Fatal(err)
	}
	acc := softmaxAccuracy(p.Train, p.Test)
	t.Logf("balanced sample: %d per class (of %v); train %d, test %d; linear softmax test accuracy %.3f (reference DNN: 0.916)",
		p.Kept, p.PerClass, len(p.Train), len(p.Test), acc)
	if !(acc > 0.7 && acc < 0.98) {
		t.Errorf("linear classifier accuracy %.3f, want within (0.7, 0.98)", acc)
	}
}

func frac(a, b int) float64 { return float64(a) / float64(b) }

// checkMatrix asserts the matrix invariants that hold for any event.
func checkMatrix(t *testing.T, ev *Event, l *Lists, sel Selected) {
	t.Helper()
	m, n := LowLevelWith(ev, l, sel)
	own := 0
	for _, p := range l.Charged {
		if DeltaR(p.Eta, p.Phi, sel.Eta, sel.Phi) < OwnTrackR {
			own++
		}
	}
	// The generator gives every lepton a track at its direction.
	if own != 1 {
		t.Errorf("selected lepton has %d own tracks, want 1", own)
	}
	nt := min(len(l.Charged)-own, MaxTracks)
	np := min(len(l.Photons), MaxPhotons)
	nn := min(len(l.Neutral), MaxNeutral)
	if n != 1+nt+np+nn {
		t.Fatalf("%d rows, want 1+%d+%d+%d", n, nt, np, nn)
	}
	groups := []struct {
		beg, end, hot int
	}{{1, 1 + nt, ColIsChargedHadron}, {1 + nt, 1 + nt + np, ColIsPhoton}, {1 + nt + np, n, ColIsNeutralHadron}}
	for _, g := range groups {
		for r := g.beg; r < g.end; r++ {
			if m[r][g.hot] != 1 || (r > g.beg && m[r][ColPT] > m[r-1][ColPT]) {
				t.Fatalf("row %d: wrong kind or not ranked by pT", r)
			}
			if g.hot == ColIsChargedHadron && DeltaR(float64(m[r][ColEta]), float64(m[r][ColPhi]), sel.Eta, sel.Phi) < OwnTrackR {
				t.Fatalf("row %d is the lepton's own track", r)
			}
		}
	}
	seq, mask := Sequence(m, n)
	var marked int
	for _, b := range mask {
		if b {
			marked++
		}
	}
	if marked != n || !mask[n-1] {
		t.Fatalf("%d rows marked, want the first %d", marked, n)
	}
	// Standardised: a non-constant column has mean 0 and spread 1.
	var mean, sq float64
	for r := range n {
		v := float64(seq[r][ColPT])
		mean += v
		sq += v * v
	}
	if math.Abs(mean/float64(n)) > 1e-4 || math.Abs(sq/float64(n)-1) > 1e-4 {
		t.Errorf("standardised pT column: mean %v, mean square %v", mean/float64(n), sq/float64(n))
	}
	// The lepton (ΔR 0) is the last marked row.
	if seq[n-1][ColIsElectron] == seq[n-1][ColIsMuon] {
		t.Errorf("last sequence row is not the lepton")
	}
}

// aucOf is the probability that a random event of class sig has a larger
// feature value than one of class bkg, ties counting one half.
func aucOf(samples []Sample, feature, sig, bkg int) float64 {
	var s, b []float64
	for _, x := range samples {
		switch x.Label {
		case sig:
			s = append(s, x.HLF[feature])
		case bkg:
			b = append(b, x.HLF[feature])
		}
	}
	slices.Sort(b)
	var wins float64
	for _, v := range s {
		lo, _ := slices.BinarySearch(b, v)
		hi := lo
		for hi < len(b) && b[hi] == v {
			hi++
		}
		wins += float64(lo) + 0.5*float64(hi-lo)
	}
	return wins / float64(len(s)*len(b))
}

// softmaxAccuracy trains a linear softmax classifier by full-batch
// gradient descent and returns its accuracy on test.
func softmaxAccuracy(train, test []Sample) float64 {
	var w [NumClasses][NumHighLevel + 1]float64
	scores := func(x *[NumHighLevel]float64) [NumClasses]float64 {
		var z [NumClasses]float64
		for k := range NumClasses {
			z[k] = w[k][NumHighLevel]
			for f := range NumHighLevel {
				z[k] += w[k][f] * x[f]
			}
		}
		return z
	}
	for range 400 {
		var grad [NumClasses][NumHighLevel + 1]float64
		for i := range train {
			z := scores(&train[i].HLF)
			top := slices.Max(z[:])
			var norm float64
			for k := range z {
				z[k] = math.Exp(z[k] - top)
				norm += z[k]
			}
			for k := range NumClasses {
				d := z[k] / norm
				if k == train[i].Label {
					d--
				}
				for f := range NumHighLevel {
					grad[k][f] += d * train[i].HLF[f]
				}
				grad[k][NumHighLevel] += d
			}
		}
		for k := range NumClasses {
			for f := range NumHighLevel + 1 {
				w[k][f] -= 2 * grad[k][f] / float64(len(train))
			}
		}
	}
	right := 0
	for i := range test {
		z := scores(&test[i].HLF)
		if slices.Index(z[:], slices.Max(z[:])) == test[i].Label {
			right++
		}
	}
	return float64(right) / float64(len(test))
}
