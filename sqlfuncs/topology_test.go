package sqlfuncs_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/gen/topology"
	"github.com/hepsql/hepsql/internal/topref"
)

// The topology functions are checked against internal/topref, the plain-Go
// O(N²) reference of the spec: through the perturbation harness on random
// events, through SQL over generated ROOT files, and on hand-made edge
// cases. Values must agree exactly: both follow topref's conventions
// (float32 widened to float64, storage-order sums, one rounding to float32).

// topologyHarnessExempt names functions the harness cannot drive, with the
// test that covers them instead.
var topologyHarnessExempt = map[string]string{
	"topo_sequence": "TestTopoSequence (its argument is a 15219-value matrix)",
	"topo_matrix":   "TestTopoSequence and TestTopologyOnGeneratedEvents (its argument is a list of 19-field structs)",
}

const leptonStructType = `STRUCT(is_muon BOOLEAN, idx INTEGER, pt DOUBLE, eta DOUBLE, phi DOUBLE, charge INTEGER, ch_iso DOUBLE, gamma_iso DOUBLE, neu_iso DOUBLE)`

// harnessLepton is the fixed lepton of the topo_hlf and topo_llf cases.
var harnessLepton = topref.Selected{Muon: false, Index: 0, PT: 40.5, Eta: 0.25, Phi: -3.0, Charge: -1, Iso: topref.Iso{Ch: 0.125, Gamma: 0.0625, Neu: 0}}

const harnessLeptonSQL = `{'is_muon': false, 'idx': 1, 'pt': 40.5, 'eta': 0.25, 'phi': -3.0, 'charge': -1, 'ch_iso': 0.125, 'gamma_iso': 0.0625, 'neu_iso': 0.0}`

func f32(a any) []float32 {
	v := floats(a)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func i32(a any) []int32 {
	v := floats(a)
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

// Builders of topref events from harness arguments.
func refTracks(a []any) []topref.Track {
	pt := f32(a[0])
	out := make([]topref.Track, len(pt))
	for i := range out {
		out[i] = topref.Track{PT: pt[i], Eta: f32(a[1])[i], Phi: f32(a[2])[i]}
		if len(a) == 7 {
			out[i].Charge, out[i].X, out[i].Y, out[i].Z = i32(a[3])[i], f32(a[4])[i], f32(a[5])[i], f32(a[6])[i]
		}
	}
	return out
}

func refTowers(a []any) []topref.Tower {
	et := f32(a[0])
	out := make([]topref.Tower, len(et))
	for i := range out {
		out[i] = topref.Tower{ET: et[i], Eta: f32(a[1])[i], Phi: f32(a[2])[i]}
	}
	return out
}

func refLeptons(a []any) []topref.Lepton {
	pt := f32(a[0])
	out := make([]topref.Lepton, len(pt))
	for i := range out {
		out[i] = topref.Lepton{PT: pt[i], Eta: f32(a[1])[i], Phi: f32(a[2])[i]}
		if len(a) == 4 {
			out[i].Charge = i32(a[3])[i]
		}
	}
	return out
}

func refJets(a []any) []topref.Jet {
	pt := f32(a[0])
	out := make([]topref.Jet, len(pt))
	for i := range out {
		out[i] = topref.Jet{PT: pt[i], Eta: f32(a[1])[i], BTag: i32(a[2])[i]}
	}
	return out
}

func leptonMap(s topref.Selected) map[string]any {
	return map[string]any{
		"is_muon": s.Muon, "idx": int64(s.Index + 1), "pt": s.PT, "eta": s.Eta, "phi": s.Phi, "charge": int64(s.Charge),
		"ch_iso": s.Iso.Ch, "gamma_iso": s.Iso.Gamma, "neu_iso": s.Iso.Neu,
	}
}

var hlfNames = []string{"ht", "met", "met_phi", "mt", "n_jets", "n_bjets", "lep_pt", "lep_eta", "lep_phi",
	"lep_ch_iso", "lep_gamma_iso", "lep_neu_iso", "lep_charge", "is_electron"}

func hlfMap(f [topref.NumHighLevel]float64) map[string]any {
	m := map[string]any{}
	for i, n := range hlfNames {
		m[n] = f[i]
	}
	return m
}

func matrixList(m *topref.Matrix) []any {
	out := make([]any, 0, topref.Rows*topref.Columns)
	for _, row := range m {
		for _, v := range row {
			out = append(out, v)
		}
	}
	return out
}

// Particle kinds of topo_event's particle list: the matrix's one-hot
// columns (spec section 4) in order.
var particleKinds = [...]int{topref.ColIsChargedHadron, topref.ColIsNeutralHadron, topref.ColIsPhoton, topref.ColIsElectron, topref.ColIsMuon}

// particleFloatColumns are the particle STRUCT's FLOAT fields and the
// matrix columns they hold.
var particleFloatColumns = []struct {
	name string
	col  int
}{
	{"pt", topref.ColPT}, {"eta", topref.ColEta}, {"phi", topref.ColPhi}, {"x", topref.ColX}, {"y", topref.ColY}, {"z", topref.ColZ},
	{"ch_iso", topref.ColChIso}, {"gamma_iso", topref.ColGammaIso}, {"neu_iso", topref.ColNeuIso},
}

// kindOf is a matrix row's particle kind: the index of its hot column.
func kindOf(row *[topref.Columns]float32) int8 {
	for k, c := range particleKinds {
		if row[c] == 1 {
			return int8(k)
		}
	}
	panic("a particle row with no kind")
}

// particlesList is topo_event's particles: the matrix's first n rows, one
// STRUCT of independent quantities per row.
func particlesList(m *topref.Matrix, n int) []any {
	out := make([]any, 0, n)
	for i := range m[:n] {
		row := &m[i]
		p := map[string]any{"kind": kindOf(row), "charge": int8(row[topref.ColCharge])}
		for _, f := range particleFloatColumns {
			p[f.name] = row[f.col]
		}
		out = append(out, p)
	}
	return out
}

// particleSQLType is topo_event's particle STRUCT.
const particleSQLType = "STRUCT(kind TINYINT, pt FLOAT, eta FLOAT, phi FLOAT, x FLOAT, y FLOAT, z FLOAT, " +
	"ch_iso FLOAT, gamma_iso FLOAT, neu_iso FLOAT, charge TINYINT)"

// particlesSQL writes the matrix's first n rows as a particle-list literal.
func particlesSQL(m *topref.Matrix, n int) string {
	rows := make([]string, n)
	for i := range n {
		row := &m[i]
		fields := []string{fmt.Sprintf("'kind': %d", kindOf(row))}
		for _, f := range particleFloatColumns {
			fields = append(fields, fmt.Sprintf("'%s': %s", f.name, strconv.FormatFloat(float64(row[f.col]), 'e', -1, 32)))
		}
		fields = append(fields, fmt.Sprintf("'charge': %d", int(row[topref.ColCharge])))
		rows[i] = "{" + strings.Join(fields, ", ") + "}"
	}
	return "[" + strings.Join(rows, ", ") + "]::" + particleSQLType + "[]"
}

// specRow fills a matrix row by spec section 4's formulas for a massless
// particle (float64 arithmetic on the float32 inputs, one rounding).
func specRow(row *[topref.Columns]float32, kind int, pt, eta, phi, x, y, z, chIso, gammaIso, neuIso float32, charge int) {
	p, e, f := float64(pt), float64(eta), float64(phi)
	*row = [topref.Columns]float32{}
	row[topref.ColE] = float32(p * math.Cosh(e))
	row[topref.ColPx] = float32(p * math.Cos(f))
	row[topref.ColPy] = float32(p * math.Sin(f))
	row[topref.ColPz] = float32(p * math.Sinh(e))
	row[topref.ColPT], row[topref.ColEta], row[topref.ColPhi] = pt, eta, phi
	row[topref.ColX], row[topref.ColY], row[topref.ColZ] = x, y, z
	row[topref.ColChIso], row[topref.ColGammaIso], row[topref.ColNeuIso] = chIso, gammaIso, neuIso
	row[particleKinds[kind]] = 1
	row[topref.ColCharge] = float32(charge)
}

func isoMap(isos []topref.Iso) map[string]any {
	ch, gamma, neu := []any{}, []any{}, []any{}
	for _, is := range isos {
		ch, gamma, neu = append(ch, is.Ch), append(gamma, is.Gamma), append(neu, is.Neu)
	}
	return map[string]any{"ch": ch, "gamma": gamma, "neu": neu}
}

// bruteIso is the isolation of an object that is in none of the lists
// (a particle below threshold): plain cone sums over the lists.
func bruteIso(l *topref.Lists, pt, eta, phi float64) topref.Iso {
	sum := func(list []topref.Particle) float64 {
		s := 0.0
		for _, q := range list {
			if topref.DeltaR(eta, phi, q.Eta, q.Phi) < topref.ConeR {
				s += q.PT
			}
		}
		return s
	}
	return topref.Iso{Ch: sum(l.Charged) / pt, Gamma: sum(l.Photons) / pt, Neu: sum(l.Neutral) / pt}
}

// objectIsos is the reference for topo_{track,photon,neutral}_iso.
func objectIsos(ev *topref.Event, kind topref.Kind) []topref.Iso {
	l := topref.NewLists(ev)
	var list []topref.Particle
	var n int
	at := func(i int) (float64, float64, float64) { return 0, 0, 0 }
	switch kind {
	case topref.KindTrack:
		list, n = l.Charged, len(ev.Tracks)
		at = func(i int) (float64, float64, float64) {
			t := ev.Tracks[i]
			return float64(t.PT), float64(t.Eta), float64(t.Phi)
		}
	case topref.KindPhoton:
		list, n = l.Photons, len(ev.Photons)
		at = func(i int) (float64, float64, float64) {
			t := ev.Photons[i]
			return float64(t.ET), float64(t.Eta), float64(t.Phi)
		}
	case topref.KindNeutral:
		list, n = l.Neutral, len(ev.NeutralHadrons)
		at = func(i int) (float64, float64, float64) {
			t := ev.NeutralHadrons[i]
			return float64(t.ET), float64(t.Eta), float64(t.Phi)
		}
	}
	out := make([]topref.Iso, n)
	for i := range out {
		k := -1
		for j, p := range list {
			if p.Index == i {
				k = j
			}
		}
		if k >= 0 {
			out[i] = l.ParticleIsolation(kind, k)
		} else {
			pt, eta, phi := at(i)
			out[i] = bruteIso(l, pt, eta, phi)
		}
	}
	return out
}

// Harness generators: particle pT straddles the thresholds (0.5, 1), a
// narrow η range makes cones overlap, lepton pT straddles 23.
var (
	genSoftPt  = func(r *rand.Rand) float64 { return float64(float32(0.2 + 6*r.Float64())) }
	genNarrow  = func(r *rand.Rand) float64 { return float64(float32(-0.4 + 0.8*r.Float64())) }
	genLepPt   = func(r *rand.Rand) float64 { return float64(float32(15 + 40*r.Float64())) }
	genVertexZ = func(r *rand.Rand) float64 { return float64(float32(-50 + 100*r.Float64())) }
)

func particleArgs(t string, g int, pt func(*rand.Rand) float64) []argKind {
	return []argKind{list(t, g, pt), list(t, g, genNarrow), list(t, g, genPhi)}
}

func topologyHarnessCases() []harnessCase {
	iso3 := func(t string) []argKind {
		return concat(particleArgs(t, 1, genSoftPt), particleArgs(t, 2, genSoftPt), particleArgs(t, 3, genSoftPt))
	}
	evOf := func(trk, pho, nh []any) topref.Event {
		return topref.Event{Tracks: refTracks(trk), Photons: refTowers(pho), NeutralHadrons: refTowers(nh)}
	}
	objCase := func(name string, kind topref.Kind) harnessCase {
		return harnessCase{name: name, fn: name, maxLen: 30, args: iso3("FLOAT[]"), ref: func(a []any) any {
			ev := evOf(a[0:3], a[3:6], a[6:9])
			return isoMap(objectIsos(&ev, kind))
		}}
	}
	lepArgs := func(t string, g int) []argKind {
		return []argKind{list(t, g, genLepPt), list(t, g, genNarrow), list(t, g, genPhi), list("INTEGER[]", g, genCharge)}
	}
	trkArgs := func(t string, g int) []argKind {
		return concat(particleArgs(t, g, genSoftPt), []argKind{list("INTEGER[]", g, genCharge), list(t, g, genEta), list(t, g, genEta), list(t, g, genVertexZ)})
	}
	return []harnessCase{
		{name: "topo_lepton_iso", fn: "topo_lepton_iso", maxLen: 30,
			args: concat(particleArgs("DOUBLE[]", 0, genLepPt), iso3("DOUBLE[]")), ref: func(a []any) any {
				ev := evOf(a[3:6], a[6:9], a[9:12])
				l := topref.NewLists(&ev)
				var isos []topref.Iso
				for _, lep := range refLeptons(a[0:3]) {
					isos = append(isos, l.LeptonIsolation(float64(lep.PT), float64(lep.Eta), float64(lep.Phi)))
				}
				return isoMap(isos)
			}},
		objCase("topo_track_iso", topref.KindTrack),
		objCase("topo_photon_iso", topref.KindPhoton),
		objCase("topo_neutral_iso", topref.KindNeutral),
		{name: "topo_select", fn: "topo_select", maxLen: 12,
			args: concat(lepArgs("FLOAT[]", 4), lepArgs("FLOAT[]", 5), iso3("FLOAT[]")), ref: func(a []any) any {
				ev := evOf(a[8:11], a[11:14], a[14:17])
				ev.Electrons, ev.Muons = refLeptons(a[0:4]), refLeptons(a[4:8])
				sel, ok := topref.Select(&ev)
				if !ok {
					return nil
				}
				return leptonMap(sel)
			}},
		{name: "topo_hlf", fn: "topo_hlf",
			args: concat([]argKind{fixed(leptonStructType, harnessLeptonSQL)},
				[]argKind{list("FLOAT[]", 1, func(r *rand.Rand) float64 { return float64(float32(10 + 60*r.Float64())) }),
					list("FLOAT[]", 1, func(r *rand.Rand) float64 { return float64(float32(-3.5 + 7*r.Float64())) }),
					list("INTEGER[]", 1, func(r *rand.Rand) float64 { return float64(r.IntN(3) - 1) })},
				[]argKind{scalar(genPt), scalar(genPhi)}),
			ref: func(a []any) any {
				ev := topref.Event{Jets: refJets(a[1:4]), MET: float32(a[4].(float64)), METPhi: float32(a[5].(float64))}
				f := topref.HighLevel(&ev, harnessLepton)
				// MET arrives as DOUBLE, not widened from FLOAT.
				f[topref.HLFMET], f[topref.HLFMETPhi] = a[4].(float64), a[5].(float64)
				f[topref.HLFMT] = math.Sqrt(2 * harnessLepton.PT * a[4].(float64) * (1 - math.Cos(harnessLepton.Phi-a[5].(float64))))
				return hlfMap(f)
			}},
		{name: "topo_llf", fn: "topo_llf", maxLen: 12,
			args: concat([]argKind{fixed(leptonStructType, harnessLeptonSQL)}, trkArgs("FLOAT[]", 1), particleArgs("FLOAT[]", 2, genSoftPt), particleArgs("FLOAT[]", 3, genSoftPt)),
			ref: func(a []any) any {
				ev := evOf(a[1:8], a[8:11], a[11:14])
				m, _ := topref.LowLevel(&ev, harnessLepton)
				return matrixList(m)
			}},
		{name: "topo_event", fn: "topo_event", maxLen: 10,
			args: concat(trkArgs("FLOAT[]", 1), particleArgs("FLOAT[]", 2, genSoftPt), particleArgs("FLOAT[]", 3, genSoftPt),
				lepArgs("FLOAT[]", 4), lepArgs("FLOAT[]", 5),
				[]argKind{list("FLOAT[]", 6, genPt), list("FLOAT[]", 6, genEta), list("INTEGER[]", 6, genCharge)},
				[]argKind{scalar(genPt), scalar(genPhi)}),
			ref: func(a []any) any {
				ev := evOf(a[0:7], a[7:10], a[10:13])
				ev.Electrons, ev.Muons, ev.Jets = refLeptons(a[13:17]), refLeptons(a[17:21]), refJets(a[21:24])
				met, metPhi := a[24].(float64), a[25].(float64)
				sel, ok := topref.Select(&ev)
				if !ok {
					return nil
				}
				m, n := topref.LowLevel(&ev, sel)
				f := topref.HighLevel(&ev, sel)
				f[topref.HLFMET], f[topref.HLFMETPhi] = met, metPhi
				f[topref.HLFMT] = math.Sqrt(2 * sel.PT * met * (1 - math.Cos(sel.Phi-metPhi)))
				return map[string]any{"lepton": leptonMap(sel), "hlf": hlfMap(f), "n_rows": int64(n), "particles": particlesList(m, n)}
			}},
		{name: "hash_key", fn: "hash_key",
			args: []argKind{
				{sqlType: "UBIGINT", gen: func(r *rand.Rand) float64 { return float64(r.IntN(1 << 20)) }},
				{sqlType: "UBIGINT", gen: func(r *rand.Rand) float64 { return float64(1 + r.IntN(2)) }},
				{sqlType: "UBIGINT", gen: func(r *rand.Rand) float64 { return float64(r.Int64N(1 << 50)) }},
			},
			ref: func(a []any) any {
				return topref.Key(uint64(a[0].(float64)), uint64(a[1].(float64)), uint64(a[2].(float64)))
			}},
	}
}

func concat(groups ...[]argKind) []argKind {
	var out []argKind
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// rootColumns are the branches topo_event takes, in its argument order.
const rootColumns = `EFlowTrack_PT, EFlowTrack_Eta, EFlowTrack_Phi, EFlowTrack_Charge, EFlowTrack_X, EFlowTrack_Y, EFlowTrack_Z,
	EFlowPhoton_ET, EFlowPhoton_Eta, EFlowPhoton_Phi, EFlowNeutralHadron_ET, EFlowNeutralHadron_Eta, EFlowNeutralHadron_Phi,
	Electron_PT, Electron_Eta, Electron_Phi, Electron_Charge, MuonTight_PT, MuonTight_Eta, MuonTight_Phi, MuonTight_Charge,
	Jet_PT, Jet_Eta, Jet_BTag, MissingET_MET, MissingET_Phi`

const isoColumns = `EFlowTrack_PT, EFlowTrack_Eta, EFlowTrack_Phi, EFlowPhoton_ET, EFlowPhoton_Eta, EFlowPhoton_Phi,
	EFlowNeutralHadron_ET, EFlowNeutralHadron_Eta, EFlowNeutralHadron_Phi`

// TestTopologyOnGeneratedEvents runs the functions over generated ROOT
// files (real-sized events, hundreds of particles) and compares every
// value with topref on the same events read by groot's own reader.
func TestTopologyOnGeneratedEvents(t *testing.T) {
	dir := t.TempDir()
	paths, err := topology.Generate(topology.Options{Events: 450, Seed: 5, OutDir: dir, EventsPerFile: 60})
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		file  string
		entry int64
	}
	events := map[key]topref.Event{}
	if err := topref.ForEach(paths, func(file string, entry int64, ev *topref.Event) error {
		events[key{filepath.Base(file), entry}] = ev.Clone()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	q := fmt.Sprintf(`SELECT _file, _entry, topo_event(%[1]s) AS e,
		topo_hlf(topo_select(Electron_PT, Electron_Eta, Electron_Phi, Electron_Charge, MuonTight_PT, MuonTight_Eta, MuonTight_Phi, MuonTight_Charge, %[2]s),
			Jet_PT, Jet_Eta, Jet_BTag, MissingET_MET, MissingET_Phi) AS hlf,
		topo_llf(topo_select(Electron_PT, Electron_Eta, Electron_Phi, Electron_Charge, MuonTight_PT, MuonTight_Eta, MuonTight_Phi, MuonTight_Charge, %[2]s),
			EFlowTrack_PT, EFlowTrack_Eta, EFlowTrack_Phi, EFlowTrack_Charge, EFlowTrack_X, EFlowTrack_Y, EFlowTrack_Z,
			EFlowPhoton_ET, EFlowPhoton_Eta, EFlowPhoton_Phi, EFlowNeutralHadron_ET, EFlowNeutralHadron_Eta, EFlowNeutralHadron_Phi) AS llf,
		topo_sequence(struct_extract(e, 'particles')) AS s,
		topo_matrix(struct_extract(e, 'particles')) AS padded,
		topo_lepton_iso(Electron_PT, Electron_Eta, Electron_Phi, %[2]s) AS ele_iso,
		topo_lepton_iso(MuonTight_PT, MuonTight_Eta, MuonTight_Phi, %[2]s) AS mu_iso,
		CASE WHEN _entry %% 7 = 0 THEN topo_track_iso(%[2]s) END AS trk_iso,
		CASE WHEN _entry %% 7 = 0 THEN topo_photon_iso(%[2]s) END AS pho_iso,
		CASE WHEN _entry %% 7 = 0 THEN topo_neutral_iso(%[2]s) END AS nh_iso
		FROM read_root('%[3]s', tree := 'Events')`, rootColumns, isoColumns, filepath.Join(dir, "*.root"))
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen, selected := 0, 0
	for rows.Next() {
		var (
			file                                                string
			entry                                               int64
			e, hlf, llf, s, padded, eleIso, muIso, trk, pho, nh any
		)
		if err := rows.Scan(&file, &entry, &e, &hlf, &llf, &s, &padded, &eleIso, &muIso, &trk, &pho, &nh); err != nil {
			t.Fatal(err)
		}
		seen++
		ev, ok := events[key{filepath.Base(file), entry}]
		if !ok {
			t.Fatalf("%s:%d: no such event in the reference", file, entry)
		}
		where := fmt.Sprintf("%s entry %d", filepath.Base(file), entry)
		l := topref.NewLists(&ev)
		var eIsos, mIsos []topref.Iso
		for _, x := range ev.Electrons {
			eIsos = append(eIsos, l.LeptonIsolation(float64(x.PT), float64(x.Eta), float64(x.Phi)))
		}
		for _, x := range ev.Muons {
			mIsos = append(mIsos, l.LeptonIsolation(float64(x.PT), float64(x.Eta), float64(x.Phi)))
		}
		mustEqual(t, where+" electron iso", eleIso, isoMap(eIsos))
		mustEqual(t, where+" muon iso", muIso, isoMap(mIsos))
		if entry%7 == 0 {
			mustEqual(t, where+" track iso", trk, isoMap(objectIsos(&ev, topref.KindTrack)))
			mustEqual(t, where+" photon iso", pho, isoMap(objectIsos(&ev, topref.KindPhoton)))
			mustEqual(t, where+" neutral iso", nh, isoMap(objectIsos(&ev, topref.KindNeutral)))
		}
		sel, ok := topref.SelectWith(&ev, l)
		if !ok {
			if e != nil || hlf != nil || llf != nil || s != nil || padded != nil {
				t.Fatalf("%s: no lepton passes, yet topo_event = %v", where, e != nil)
			}
			continue
		}
		selected++
		m, n := topref.LowLevelWith(&ev, l, sel)
		f := topref.HighLevel(&ev, sel)
		want := map[string]any{"lepton": leptonMap(sel), "hlf": hlfMap(f), "n_rows": int64(n), "particles": particlesList(m, n)}
		mustEqual(t, where+" topo_event", e, want)
		mustEqual(t, where+" topo_hlf", hlf, want["hlf"])
		mustEqual(t, where+" topo_llf", llf, matrixList(m))
		mustEqual(t, where+" topo_matrix", padded, matrixList(m))
		seq, mask := topref.Sequence(m, n)
		maskList := make([]any, len(mask))
		for i, b := range mask {
			maskList[i] = b
		}
		mustEqual(t, where+" topo_sequence", s, map[string]any{"seq": matrixList(seq), "mask": maskList})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(events) || selected < seen/5 {
		t.Fatalf("%d events read (want %d), %d selected", seen, len(events), selected)
	}
	t.Logf("%d events, %d selected", seen, selected)
}

func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if msg := compare(got, want); msg != "" {
		t.Fatalf("%s: %s", what, msg)
	}
}

// edgeEvent runs topo_event on one event given as Go values and compares
// it with topref.
func edgeEvent(t *testing.T, name string, ev topref.Event) map[string]any {
	t.Helper()
	db := openDB(t)
	fl := func(v []float32) string {
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.FormatFloat(float64(x), 'e', -1, 32)
		}
		return "[" + strings.Join(parts, ", ") + "]::FLOAT[]"
	}
	il := func(v []int32) string {
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.Itoa(int(x))
		}
		return "[" + strings.Join(parts, ", ") + "]::INTEGER[]"
	}
	var a []string
	col := func(n int, f func(i int) float32) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	coli := func(n int, f func(i int) int32) []int32 {
		out := make([]int32, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	tr := ev.Tracks
	a = append(a, fl(col(len(tr), func(i int) float32 { return tr[i].PT })), fl(col(len(tr), func(i int) float32 { return tr[i].Eta })),
		fl(col(len(tr), func(i int) float32 { return tr[i].Phi })), il(coli(len(tr), func(i int) int32 { return tr[i].Charge })),
		fl(col(len(tr), func(i int) float32 { return tr[i].X })), fl(col(len(tr), func(i int) float32 { return tr[i].Y })),
		fl(col(len(tr), func(i int) float32 { return tr[i].Z })))
	for _, tw := range [][]topref.Tower{ev.Photons, ev.NeutralHadrons} {
		a = append(a, fl(col(len(tw), func(i int) float32 { return tw[i].ET })), fl(col(len(tw), func(i int) float32 { return tw[i].Eta })),
			fl(col(len(tw), func(i int) float32 { return tw[i].Phi })))
	}
	for _, ls := range [][]topref.Lepton{ev.Electrons, ev.Muons} {
		a = append(a, fl(col(len(ls), func(i int) float32 { return ls[i].PT })), fl(col(len(ls), func(i int) float32 { return ls[i].Eta })),
			fl(col(len(ls), func(i int) float32 { return ls[i].Phi })), il(coli(len(ls), func(i int) int32 { return ls[i].Charge })))
	}
	j := ev.Jets
	a = append(a, fl(col(len(j), func(i int) float32 { return j[i].PT })), fl(col(len(j), func(i int) float32 { return j[i].Eta })),
		il(coli(len(j), func(i int) int32 { return j[i].BTag })),
		strconv.FormatFloat(float64(ev.MET), 'e', -1, 32)+"::FLOAT", strconv.FormatFloat(float64(ev.METPhi), 'e', -1, 32)+"::FLOAT")
	var got any
	if err := db.QueryRow("SELECT topo_event(" + strings.Join(a, ", ") + ")").Scan(&got); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sel, ok := topref.Select(&ev)
	if !ok {
		if got != nil {
			t.Fatalf("%s: no lepton passes, got %v", name, got.(map[string]any)["lepton"])
		}
		return nil
	}
	m, n := topref.LowLevel(&ev, sel)
	want := map[string]any{"lepton": leptonMap(sel), "hlf": hlfMap(topref.HighLevel(&ev, sel)), "n_rows": int64(n), "particles": particlesList(m, n)}
	mustEqual(t, name, got, want)
	return got.(map[string]any)
}

func TestTopologyEdgeCases(t *testing.T) {
	muon := topref.Lepton{PT: 40, Eta: 0.3, Phi: 1, Charge: -1}
	t.Run("no lepton", func(t *testing.T) {
		ev := topref.Event{Tracks: []topref.Track{{PT: 5, Eta: 0.1, Phi: 0.2, Charge: 1}}, Jets: []topref.Jet{{PT: 50, Eta: 0.5}}}
		if got := edgeEvent(t, "no lepton", ev); got != nil {
			t.Fatal("selected a lepton in an event without one")
		}
		ev.Electrons = []topref.Lepton{{PT: 20, Eta: 0, Phi: 0}} // below 23 GeV
		ev.Muons = []topref.Lepton{{PT: 30, Eta: 0.1, Phi: 0.2}} // not isolated: the 5 GeV track is inside
		ev.Tracks = append(ev.Tracks, topref.Track{PT: 20, Eta: 0.15, Phi: 0.25})
		if got := edgeEvent(t, "no passing lepton", ev); got != nil {
			t.Fatal("selected a failing lepton")
		}
	})
	t.Run("both flavours", func(t *testing.T) {
		ev := topref.Event{Electrons: []topref.Lepton{{PT: 50, Eta: 1, Phi: 2, Charge: 1}}, Muons: []topref.Lepton{muon, {PT: 60, Eta: -1, Phi: -2, Charge: 1}}}
		got := edgeEvent(t, "both flavours", ev)
		if l := got["lepton"].(map[string]any); l["is_muon"] != true || l["idx"] != int32(2) {
			t.Fatalf("selected %v, want the 60 GeV muon", l)
		}
		ev.Muons[1].PT = 50 // a tie: the electron, met first, wins
		got = edgeEvent(t, "tie", ev)
		if l := got["lepton"].(map[string]any); l["is_muon"] != false {
			t.Fatalf("selected %v, want the electron", l)
		}
	})
	t.Run("phi seam", func(t *testing.T) {
		lep := topref.Lepton{PT: 30, Eta: 0.5, Phi: 3.1, Charge: 1}
		ev := topref.Event{Muons: []topref.Lepton{lep},
			Tracks:         []topref.Track{{PT: 2, Eta: 0.5, Phi: -3.1}, {PT: 3, Eta: 0.45, Phi: -3.0}, {PT: 7, Eta: 0.5, Phi: 2.0}},
			Photons:        []topref.Tower{{ET: 1.5, Eta: 0.55, Phi: -3.13}},
			NeutralHadrons: []topref.Tower{{ET: 2.5, Eta: 0.4, Phi: -3.05}},
		}
		got := edgeEvent(t, "seam", ev)
		l := got["lepton"].(map[string]any)
		if !(l["ch_iso"].(float64) > 0.16 && l["gamma_iso"].(float64) > 0 && l["neu_iso"].(float64) > 0) {
			t.Fatalf("neighbours across φ = ±π not in the cone: %v", l)
		}
	})
	t.Run("truncation", func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		ev := topref.Event{Electrons: []topref.Lepton{{PT: 35, Eta: -0.2, Phi: 0.3, Charge: -1}}}
		for range 600 { // outside the electron's cone, so that it stays isolated
			ev.Tracks = append(ev.Tracks, topref.Track{PT: float32(0.6 + 10*r.Float64()), Eta: float32(0.2 + 2*r.Float64()),
				Phi: float32(-math.Pi + 2*math.Pi*r.Float64()), Charge: int32(2*r.IntN(2) - 1), Z: float32(r.NormFloat64())})
		}
		for range 200 {
			ev.Photons = append(ev.Photons, topref.Tower{ET: float32(1.1 + 5*r.Float64()), Eta: float32(-2.5 + 2*r.Float64()), Phi: float32(-3 + 6*r.Float64())})
			ev.NeutralHadrons = append(ev.NeutralHadrons, topref.Tower{ET: float32(1.1 + 5*r.Float64()), Eta: float32(0.2 + 2*r.Float64()), Phi: float32(-3 + 6*r.Float64())})
		}
		ev.Tracks[17].PT = 3 // a tie in pT with the next one keeps storage order
		ev.Tracks[18].PT = 3
		got := edgeEvent(t, "truncation", ev)
		if got == nil || got["n_rows"] != int32(1+450+150+200) {
			t.Fatalf("n_rows = %v, want 801 (all groups truncated)", got["n_rows"])
		}
	})
	t.Run("empty collections", func(t *testing.T) {
		got := edgeEvent(t, "empty", topref.Event{Muons: []topref.Lepton{muon}})
		if got["n_rows"] != int32(1) {
			t.Fatalf("n_rows = %v, want 1 (the lepton alone)", got["n_rows"])
		}
	})
	t.Run("own track", func(t *testing.T) {
		ev := topref.Event{Muons: []topref.Lepton{muon}, Tracks: []topref.Track{
			{PT: 40, Eta: muon.Eta, Phi: muon.Phi, Charge: -1},             // its own track
			{PT: 39, Eta: muon.Eta + 5e-5, Phi: muon.Phi, Charge: -1},      // within 1e-4: also left out
			{PT: 2, Eta: muon.Eta + 0.1, Phi: muon.Phi, Charge: 1, Z: 3},   // in the cone
			{PT: 0.4, Eta: muon.Eta + 0.1, Phi: muon.Phi + 0.1, Charge: 1}, // below 0.5: not in the list
		}}
		got := edgeEvent(t, "own track", ev)
		if got["n_rows"] != int32(2) {
			t.Fatalf("n_rows = %v, want 2 (lepton and the 2 GeV track)", got["n_rows"])
		}
		if ch := got["lepton"].(map[string]any)["ch_iso"].(float64); ch != 2.0/40 {
			t.Fatalf("ChPFIso = %v, want 2/40 (own track left out)", ch)
		}
	})
}

// TestTopoSequence checks topo_sequence on hand-made and generated-like
// matrices against topref.Sequence, with NULLs and a wrong size.
func TestTopoSequence(t *testing.T) {
	db := openDB(t)
	r := rand.New(rand.NewPCG(9, 9))
	g := func() float32 { return float32(r.NormFloat64()) }
	for _, n := range []int{0, 1, 2, 37, 801} {
		var m topref.Matrix
		for i := range n {
			kind := r.IntN(3)
			if i == 0 {
				kind = 3 + r.IntN(2) // the lepton
			}
			eta, phi := g(), float32(r.Float64()*2*math.Pi-math.Pi)
			if i == 2 {
				eta, phi = m[1][topref.ColEta], m[1][topref.ColPhi] // a tie in ΔR
			}
			// z = 0 everywhere: a constant column becomes 0.
			specRow(&m[i], kind, float32(1+r.Float64()), eta, phi, g(), g(), 0, float32(r.Float64()), float32(r.Float64()), float32(r.Float64()), r.IntN(3)-1)
		}
		parts := make([]string, 0, topref.Rows*topref.Columns)
		for _, row := range m {
			for _, v := range row {
				parts = append(parts, strconv.FormatFloat(float64(v), 'e', -1, 32))
			}
		}
		var got any
		if err := db.QueryRow("SELECT topo_sequence([" + strings.Join(parts, ",") + "]::FLOAT[])").Scan(&got); err != nil {
			t.Fatal(err)
		}
		seq, mask := topref.Sequence(&m, n)
		maskList := make([]any, len(mask))
		for i, b := range mask {
			maskList[i] = b
		}
		want := map[string]any{"seq": matrixList(seq), "mask": maskList}
		mustEqual(t, fmt.Sprintf("%d rows", n), got, want)

		// The same rows as topo_event's particle list.
		particles := particlesSQL(&m, n)
		var fromList, padded any
		if err := db.QueryRow("SELECT topo_sequence(p), topo_matrix(p) FROM (SELECT "+particles+" AS p)").Scan(&fromList, &padded); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, fmt.Sprintf("%d particles: topo_sequence", n), fromList, want)
		mustEqual(t, fmt.Sprintf("%d particles: topo_matrix", n), padded, matrixList(&m))
	}
	one := "{'kind': 0, 'pt': 1.5, 'eta': 0.1, 'phi': 0.2, 'x': 0, 'y': 0, 'z': 0, 'ch_iso': 0, 'gamma_iso': 0, 'neu_iso': 0, 'charge': 1}"
	for _, q := range []struct{ sql, err string }{
		{"topo_matrix(list_transform(range(802), i -> " + one + "::" + particleSQLType + "))", "802 particles, more than the matrix's 801 rows"},
		{"topo_sequence([NULL, NULL]::" + particleSQLType + "[])", "particle 1 is NULL"},
		{"topo_matrix([" + one + ", " + strings.Replace(one, "'pt': 1.5", "'pt': NULL", 1) + "]::" + particleSQLType + "[])", "particle 2: pt is NULL"},
		{"topo_matrix([" + strings.Replace(one, "'charge': 1", "'charge': NULL", 1) + "]::" + particleSQLType + "[])", "particle 1: kind or charge is NULL"},
		{"topo_matrix([" + strings.Replace(one, "'kind': 0", "'kind': 7", 1) + "]::" + particleSQLType + "[])", "particle 1: kind 7, want 0 to 4"},
	} {
		if _, err := db.Exec("SELECT " + q.sql); err == nil || !strings.Contains(err.Error(), q.err) {
			t.Errorf("%s: error %v, want %q", q.sql, err, q.err)
		}
	}
	var got any
	if err := db.QueryRow("SELECT topo_matrix(NULL::" + particleSQLType + "[])").Scan(&got); err != nil || got != nil {
		t.Fatalf("NULL particles: %v, %v", got, err)
	}
	if err := db.QueryRow("SELECT topo_sequence(NULL::FLOAT[])").Scan(&got); err != nil || got != nil {
		t.Fatalf("NULL matrix: %v, %v", got, err)
	}
	if _, err := db.Exec("SELECT topo_sequence([1.0, 2.0]::FLOAT[])"); err == nil || !strings.Contains(err.Error(), "the matrix has 2 values, want 801 × 19 = 15219") {
		t.Fatalf("wrong size: %v", err)
	}
}
