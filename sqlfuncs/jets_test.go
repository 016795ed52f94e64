package sqlfuncs_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/gen/jets"
)

// refJetParticles is jet_particles written plainly from the spec's table,
// independently of sqlfuncs/jets.go: padding (pT 0) out, hardest first,
// at most 100, Δφ folded into (−π, π] by whole turns, logs of ratios as
// differences of logs.
func refJetParticles(pt, eta, phi, e, pid []float64, jpt, jeta, jphi, je float64) []any {
	var idx []int
	for i := range pt {
		if pt[i] != 0 {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return pt[idx[a]] > pt[idx[b]] })
	if len(idx) > 100 {
		idx = idx[:100]
	}
	out := []any{}
	for _, i := range idx {
		deta := eta[i] - jeta
		dphi := phi[i] - jphi
		for dphi > math.Pi {
			dphi -= 2 * math.Pi
		}
		for dphi <= -math.Pi {
			dphi += 2 * math.Pi
		}
		out = append(out, map[string]any{
			"deta": approx32(deta), "dphi": approx32(dphi),
			"log_pt": approx32(math.Log(pt[i])), "log_e": approx32(math.Log(e[i])),
			"log_pt_rel": approx32(math.Log(pt[i]) - math.Log(jpt)), "log_e_rel": approx32(math.Log(e[i]) - math.Log(je)),
			"dr": approx32(math.Sqrt(deta*deta + dphi*dphi)), "pid": approx32(refPIDCode(pid[i])),
		})
	}
	return out
}

// refPIDCode is the documented pid code, as a table of the PDG ids the
// tests draw: photon 1, neutral hadron 2, charged hadron ±3, electron ±4,
// muon ±5 (signed by the charge), anything else 0.
func refPIDCode(pdg float64) float64 {
	code, ok := map[float64]float64{
		22: 1, 130: 2, 2112: 2, -2112: 2, 310: 2,
		211: 3, -211: -3, 321: 3, -321: -3, 2212: 3, -2212: -3,
		11: -4, -11: 4, 13: -5, -13: 5,
	}[pdg]
	if !ok {
		return 0
	}
	return code
}

var genPID = func(r *rand.Rand) float64 {
	return float64([]int{22, 211, -211, 321, -321, 130, 2112, 2212, -11, 13}[r.IntN(10)])
}

// jetHarnessCases are the jets group's harness cases, run by
// TestHarness with the rest.
func jetHarnessCases() []harnessCase {
	var cases []harnessCase
	for _, lt := range []string{"FLOAT[]", "DOUBLE[]"} {
		cases = append(cases, harnessCase{
			name: "jet_particles " + strings.TrimSuffix(lt, "[]"),
			fn:   "jet_particles",
			args: []argKind{list(lt, 0, genPt), list(lt, 0, genEta), list(lt, 0, genPhi), list(lt, 0, genPt), list("INTEGER[]", 0, genPID),
				scalar(genPt), scalar(genEta), scalar(genPhi), scalar(genPt)},
			ref: func(a []any) any {
				return refJetParticles(floats(a[0]), floats(a[1]), floats(a[2]), floats(a[3]), floats(a[4]),
					a[5].(float64), a[6].(float64), a[7].(float64), a[8].(float64))
			},
		})
	}
	edges := []float64{-5, 0, 2.5, 7}
	return append(cases, harnessCase{
		name: "jet_mass_class",
		fn:   "jet_mass_class",
		args: []argKind{scalar(genDouble), fixed("DOUBLE[]", "[-5.0, 0.0, 2.5, 7.0]")},
		ref: func(a []any) any {
			m, c := a[0].(float64), int64(0)
			for _, e := range edges {
				if m >= e {
					c++
				}
			}
			return c
		},
	})
}

// jetHarnessExempt names the tests of the functions the harness cannot
// feed.
var jetHarnessExempt = map[string]string{
	"jet_particles_padded": "TestJetParticlesOnGeneratedJets and TestJetParticlesCases (its argument is a list of 8-field structs)",
}

// TestJetParticlesOnGeneratedJets runs the features over gen/jets files
// read by read_root, against the reference on the generator's own jets,
// and checks that the padded block is the list laid out.
func TestJetParticlesOnGeneratedJets(t *testing.T) {
	const n = 600
	dir := t.TempDir()
	if _, err := jets.Generate(jets.Options{Jets: n, Seed: 11, QCD: true, OutDir: dir, JetsPerFile: 250}); err != nil {
		t.Fatal(err)
	}
	g := jets.NewGenerator(11, true)
	want := make([]jets.Jet, n)
	for i := range want {
		g.Fill(&want[i], int64(i))
	}
	db := openDB(t)
	rows, err := db.Query(fmt.Sprintf(`
		SELECT regexp_extract(parse_filename(_file), '_(\d+)\.root$', 1)::INT * 250 + _entry AS idx, p,
		       jet_particles_padded(p) AS block, jet_particles_padded(p, 7) AS block7
		FROM (SELECT _file, _entry, jet_particles(Part_pt, Part_eta, Part_phi, Part_e, Part_pid, Jet_pt, Jet_eta, Jet_phi, Jet_e) AS p
		      FROM read_root('%s', tree := 'Jets'))`, filepath.Join(dir, "*.root")))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	f64 := func(v []float32) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	for rows.Next() {
		var idx int
		var p, block, block7 any
		if err := rows.Scan(&idx, &p, &block, &block7); err != nil {
			t.Fatal(err)
		}
		j := &want[idx]
		pid := make([]float64, len(j.PartPID))
		for i, x := range j.PartPID {
			pid[i] = float64(x)
		}
		ref := refJetParticles(f64(j.PartPt), f64(j.PartEta), f64(j.PartPhi), f64(j.PartE), pid,
			float64(j.Pt), float64(j.Eta), float64(j.Phi), float64(j.E))
		mustEqual(t, fmt.Sprintf("jet %d", idx), p, ref)
		list := p.([]any)
		for _, c := range []struct {
			got  any
			rows int
		}{{block, 100}, {block7, 7}} {
			want := make([]any, 0, c.rows*8)
			for i := range c.rows {
				for _, f := range []string{"deta", "dphi", "log_pt", "log_e", "log_pt_rel", "log_e_rel", "dr", "pid"} {
					v := float32(0)
					if i < len(list) {
						v = list[i].(map[string]any)[f].(float32)
					}
					want = append(want, v)
				}
			}
			mustEqual(t, fmt.Sprintf("jet %d: padded to %d", idx, c.rows), c.got, want)
		}
		seen++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != n {
		t.Fatalf("read %d jets, want %d", seen, n)
	}
}

// TestJetParticlesCases: hand-computed values and the errors.
func TestJetParticlesCases(t *testing.T) {
	db := openDB(t)
	one := func(q string) any {
		t.Helper()
		var v any
		if err := db.QueryRow("SELECT " + q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	jp := func(pt, eta, phi, e, pid, jet string) string {
		return fmt.Sprintf("jet_particles(%s::FLOAT[], %s::FLOAT[], %s::FLOAT[], %s::FLOAT[], %s::INTEGER[], %s)", pt, eta, phi, e, pid, jet)
	}
	field := func(v any, i int, f string) float64 { return float64(v.([]any)[i].(map[string]any)[f].(float32)) }

	// Δφ across the seam: a jet at φ = 3, constituents at −3 (0.2832 away,
	// not −6), 0 (−3: no wrap) and −0.5 (2.7832, not −3.5); exactly the
	// opposite side is +π, not −π.
	v := one(jp("[10, 8, 6]", "[0.1, 0.0, 0.0]", "[-3.0, 0.0, -0.5]", "[20, 8, 6]", "[211, 22, 130]", "100, 0.0, 3.0, 200"))
	for i, want := range []float64{2*math.Pi - 6, -3, 2*math.Pi - 3.5} {
		if got := field(v, i, "dphi"); math.Abs(got-want) > 1e-6 {
			t.Errorf("constituent %d: dphi %v, want %v", i+1, got, want)
		}
	}
	if got := one("[f.dphi FOR f IN " + jp("[1]", "[0]", "[0.0]", "[1]", "[1]", "10, 0, pi(), 10") + "][1]"); float64(got.(float32)) != float64(float32(math.Pi)) {
		t.Errorf("Δφ of exactly −π: %v, want +π", got)
	}
	// Everything else by hand: pT 30 at (0.5, 0.2) in a jet (300, 0.3, 0.0,
	// E 600), E 45.
	v = one(jp("[30]", "[0.5]", "[0.2]", "[45]", "[-321]", "300, 0.3, 0.0, 600"))
	for f, want := range map[string]float64{
		"deta": 0.2, "dphi": 0.2, "log_pt": math.Log(30), "log_e": math.Log(45), "log_pt_rel": math.Log(0.1),
		"log_e_rel": math.Log(0.075), "dr": math.Sqrt(0.08), "pid": -3,
	} {
		if got := field(v, 0, f); math.Abs(got-want) > 2e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, want %v", f, got, want)
		}
	}
	// Order: unsorted input comes out by decreasing pT, ties in storage
	// order; pT 0 is padding.
	v = one(jp("[0, 5, 9, 5, 0]", "[0, 1, 2, 3, 0]", "[0, 0, 0, 0, 0]", "[1, 5, 9, 5, 1]", "[0, 1, 2, 3, 0]", "20, 0, 0, 30"))
	var detas []float64
	for i := range v.([]any) {
		detas = append(detas, field(v, i, "deta"))
	}
	if !slices.Equal(detas, []float64{2, 1, 3}) {
		t.Errorf("order by deta %v, want [2 1 3]", detas)
	}
	// Empty jets give empty lists, and an all-zero block.
	if got := one(jp("[]", "[]", "[]", "[]", "[]", "1, 0, 0, 1")); len(got.([]any)) != 0 {
		t.Errorf("empty jet: %v", got)
	}
	if got := one("list_sum(list_transform(jet_particles_padded(" + jp("[]", "[]", "[]", "[]", "[]", "1, 0, 0, 1") + "), x -> abs(x))) = 0 AND len(jet_particles_padded(" + jp("[]", "[]", "[]", "[]", "[]", "1, 0, 0, 1") + ")) = 800"); got != true {
		t.Errorf("empty jet's block: %v", got)
	}
	// More than 100 constituents: the hardest 100.
	got := one("len(" + jp("range(1, 151)::FLOAT[]", "[0.1 FOR i IN range(150)]", "[0.1 FOR i IN range(150)]", "range(1, 151)::FLOAT[]", "range(150)::INTEGER[]", "10000, 0, 0, 10000") + ")")
	if got != int64(100) {
		t.Errorf("150 constituents: %v kept, want 100", got)
	}
	if got := one("(" + jp("range(1, 151)::FLOAT[]", "[0.1 FOR i IN range(150)]", "[0.1 FOR i IN range(150)]", "range(1, 151)::FLOAT[]", "range(150)::INTEGER[]", "10000, 0, 0, 10000") + ")[100].log_pt"); got != float32(math.Log(51)) {
		t.Errorf("the 100th of 150 constituents has log pT %v, want log 51", got)
	}
	// NULLs: a NULL list, element or jet value gives NULL.
	for _, q := range []string{
		jp("NULL", "[0]", "[0]", "[1]", "[1]", "1, 0, 0, 1"),
		jp("[1, NULL]", "[0, 0]", "[0, 0]", "[1, 1]", "[1, 1]", "1, 0, 0, 1"),
		jp("[1]", "[0]", "[0]", "[1]", "[1]", "1, 0, NULL, 1"),
		"jet_particles_padded(NULL)",
		"jet_particles_padded(" + jp("[1]", "[0]", "[0]", "[1]", "[1]", "1, 0, 0, 1") + ", NULL)",
		"jet_mass_class(NULL, [1.0])", "jet_mass_class(5, NULL)", "jet_mass_class('NaN'::DOUBLE, [1.0])",
	} {
		if got := one(q); got != nil {
			t.Errorf("%s = %v, want NULL", q, got)
		}
	}
	for _, c := range []struct{ q, err string }{
		{jp("[1, 2, 3]", "[0, 0]", "[0, 0, 0]", "[1, 2, 3]", "[1, 1, 1]", "1, 0, 0, 1"), "jet_particles: part_pt has 3 values and part_eta has 2 (in the same row)"},
		{jp("[1, 2]", "[0, 0]", "[0, 0]", "[1, 2]", "[1]", "1, 0, 0, 1"), "part_pt has 2 values and part_pid has 1"},
		{jp("[1, -2]", "[0, 0]", "[0, 0]", "[1, 2]", "[1, 1]", "1, 0, 0, 1"), "part_pt: constituent 2 has pT = -2"},
		{jp("[1, 2]", "[0, 0]", "[0, 0]", "[1, 0]", "[1, 1]", "1, 0, 0, 1"), "part_e: constituent 2 has E = 0"},
		{jp("[1]", "[0]", "[0]", "[1]", "[1]", "0, 0, 0, 1"), "jet_pt = 0, want a positive finite value"},
		{jp("[1]", "[0]", "[0]", "[1]", "[1]", "1, 0, 0, -1"), "jet_e = -1"},
		{"jet_particles_padded(" + jp("[1]", "[0]", "[0]", "[1]", "[1]", "1, 0, 0, 1") + ", 101)", "n = 101, want 0 to 100"},
		{"jet_particles_padded([NULL]::" + particleSQL + "[])", "particle 1 is NULL"},
		{"jet_particles_padded([{'deta': 0, 'dphi': 0, 'log_pt': NULL, 'log_e': 0, 'log_pt_rel': 0, 'log_e_rel': 0, 'dr': 0, 'pid': 0}]::" + particleSQL + "[])", "particle 1: log_pt is NULL"},
		{"jet_mass_class(5, [1.0, 1.0])", "edges: edge 2 (1) is not above edge 1 (1)"},
		{"jet_mass_class(5, [1.0, 'inf'::DOUBLE])", "edges: edge 2 is +Inf"},
	} {
		if _, err := db.Exec("SELECT " + c.q); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %v, want %q", c.q, err, c.err)
		}
	}
	// Mass classes by hand: the edges are inclusive below.
	for m, want := range map[float64]int32{-1: 0, 40: 1, 59.9: 1, 60: 2, 300: 3} {
		if got := one("jet_mass_class(" + strconv.FormatFloat(m, 'f', -1, 64) + ", [40.0, 60.0, 120.0])"); got != want {
			t.Errorf("jet_mass_class(%v) = %v, want %d", m, got, want)
		}
	}
}

const particleSQL = `STRUCT(deta FLOAT, dphi FLOAT, log_pt FLOAT, log_e FLOAT, log_pt_rel FLOAT, log_e_rel FLOAT, dr FLOAT, pid FLOAT)`
