package sqlfuncs

import (
	"github.com/hepsql/hepsql/internal/capi"
)

// The topology classifier's SQL functions. Each collection is passed as its
// NanoAOD-style branches in a fixed order (tracks: pt, eta, phi, charge, x,
// y, z; photons and neutral hadrons: et, eta, phi; electrons and muons: pt,
// eta, phi, charge; jets: pt, eta, btag), all FLOAT[] (or all DOUBLE[]) with
// INTEGER[] charges and b-tags. topo_event does the whole event at once;
// the others are its building blocks.

// The object collection whose isolation a topo_*_iso function computes.
const (
	isoOfLepton = iota
	isoOfTrack
	isoOfPhoton
	isoOfNeutral
)

func execTopoIso[T float](of int) func(capi.Args, capi.Vector) error {
	return func(in capi.Args, out capi.Vector) error {
		n := in.Rows()
		outNulls := newNullMask(out, n)
		first := 0
		var lep *collReader[T]
		if of == isoOfLepton {
			lep, first = readColl[T](in, 0, "lepton", kinLayout), 3
		}
		trk := readColl[T](in, first, "track", kinLayout)
		pho := readColl[T](in, first+3, "photon", kinLayout)
		nh := readColl[T](in, first+6, "neutral hadron", kinLayout)
		colls := []*collReader[T]{trk, pho, nh}
		obj := lep
		if of != isoOfLepton {
			obj = colls[of-isoOfTrack]
		}
		if lep != nil {
			colls = append(colls, lep)
		}
		var ws [3]*listResult[float64]
		for k := range ws {
			ws[k] = newListResult[float64](out.StructChild(k), n, len(obj.fl[0].child))
		}
		var w topoWork
		for r := 0; r < n; r++ {
			ok, err := rowsOf(r, colls...)
			if err != nil {
				return err
			}
			if !ok {
				outNulls.set(r)
				for _, x := range ws {
					x.null(r)
				}
				continue
			}
			loadLists(&w, trk.f[0], trk.f[1], trk.f[2], pho.f[0], pho.f[1], pho.f[2], nh.f[0], nh.f[1], nh.f[2])
			k := len(obj.f[0])
			ch, gamma, neu := ws[0].begin(r, k), ws[1].begin(r, k), ws[2].begin(r, k)
			for i := range k {
				pt, eta, phi := float64(obj.f[0][i]), float64(obj.f[1][i]), float64(obj.f[2][i])
				var is iso
				if of == isoOfLepton {
					is = w.leptonIso(pt, eta, phi)
				} else {
					is = w.objectIso(of-isoOfTrack, i, pt, eta, phi)
				}
				ch[i], gamma[i], neu[i] = is.ch, is.gamma, is.neu
			}
		}
		for _, x := range ws {
			if err := x.finish(); err != nil {
				return err
			}
		}
		return nil
	}
}

// rowsOf loads row r of every collection.
func rowsOf[T float](r int, colls ...*collReader[T]) (bool, error) {
	all := true
	for _, c := range colls {
		ok, err := c.row(r)
		if err != nil {
			return false, err
		}
		all = all && ok
	}
	return all, nil
}

func execTopoSelect[T float](in capi.Args, out capi.Vector) error {
	n := in.Rows()
	ele := readColl[T](in, 0, "electron", lepLayout)
	mu := readColl[T](in, 4, "muon", lepLayout)
	trk := readColl[T](in, 8, "track", kinLayout)
	pho := readColl[T](in, 11, "photon", kinLayout)
	nh := readColl[T](in, 14, "neutral hadron", kinLayout)
	res := newLeptonResult(out, n)
	var w topoWork
	for r := 0; r < n; r++ {
		ok, err := rowsOf(r, ele, mu, trk, pho, nh)
		if err != nil {
			return err
		}
		var lep topoLepton
		if ok {
			loadLists(&w, trk.f[0], trk.f[1], trk.f[2], pho.f[0], pho.f[1], pho.f[2], nh.f[0], nh.f[1], nh.f[2])
			selectFrom(&w, &lep, false, ele.f[0], ele.f[1], ele.f[2], ele.i[0])
			selectFrom(&w, &lep, true, mu.f[0], mu.f[1], mu.f[2], mu.i[0])
		}
		if !lep.ok {
			res.null(r)
			continue
		}
		res.set(r, lep)
	}
	return nil
}

func execTopoHLF[T float](in capi.Args, out capi.Vector) error {
	n := in.Rows()
	leps := readLepton(in.Arg(0), n)
	jets := readColl[T](in, 1, "jet", jetLayout)
	met, metPhi := readScalars[float64](in.Arg(4), n), readScalars[float64](in.Arg(5), n)
	res := newHLFResult(out, n)
	for r := 0; r < n; r++ {
		ok, err := jets.row(r)
		if err != nil {
			return err
		}
		lep, okLep := leps.row(r)
		if !ok || !okLep || !met.ok(r) || !metPhi.ok(r) {
			res.null(r)
			continue
		}
		res.set(r, highLevel(lep, jets.f[0], jets.f[1], jets.i[0], met.data[r], metPhi.data[r]))
	}
	return nil
}

const llfSize = TopoRows * TopoColumns

func execTopoLLF[T float](in capi.Args, out capi.Vector) error {
	n := in.Rows()
	leps := readLepton(in.Arg(0), n)
	trk := readColl[T](in, 1, "track", trkLayout)
	pho := readColl[T](in, 8, "photon", kinLayout)
	nh := readColl[T](in, 11, "neutral hadron", kinLayout)
	res := newListResult[float32](out, n, n*llfSize)
	var w topoWork
	for r := 0; r < n; r++ {
		ok, err := rowsOf(r, trk, pho, nh)
		if err != nil {
			return err
		}
		lep, okLep := leps.row(r)
		if !ok || !okLep {
			res.null(r)
			continue
		}
		loadLists(&w, trk.f[0], trk.f[1], trk.f[2], pho.f[0], pho.f[1], pho.f[2], nh.f[0], nh.f[1], nh.f[2])
		dst := res.begin(r, llfSize)
		if dst == nil {
			break // reserve failed: finish reports it
		}
		parts := lowLevel(&w, lep, trk.i[0], trk.f[3], trk.f[4], trk.f[5])
		llfRows(parts, dst)
		clear(dst[len(parts)*TopoColumns:])
	}
	return res.finish()
}

func execTopoEvent[T float](in capi.Args, out capi.Vector) error {
	n := in.Rows()
	outNulls := newNullMask(out, n)
	trk := readColl[T](in, 0, "track", trkLayout)
	pho := readColl[T](in, 7, "photon", kinLayout)
	nh := readColl[T](in, 10, "neutral hadron", kinLayout)
	ele := readColl[T](in, 13, "electron", lepLayout)
	mu := readColl[T](in, 17, "muon", lepLayout)
	jets := readColl[T](in, 21, "jet", jetLayout)
	met, metPhi := readScalars[float64](in.Arg(24), n), readScalars[float64](in.Arg(25), n)

	lepRes := newLeptonResult(out.StructChild(0), n)
	hlfRes := newHLFResult(out.StructChild(1), n)
	rows := newResult[int32](out.StructChild(2), n)
	// A selected event has a few hundred particles; the list grows
	// geometrically past that.
	particles := newParticlesResult(out.StructChild(3), n, n*256)
	var w topoWork
	for r := 0; r < n; r++ {
		ok, err := rowsOf(r, trk, pho, nh, ele, mu, jets)
		if err != nil {
			return err
		}
		var lep topoLepton
		if ok && met.ok(r) && metPhi.ok(r) {
			loadLists(&w, trk.f[0], trk.f[1], trk.f[2], pho.f[0], pho.f[1], pho.f[2], nh.f[0], nh.f[1], nh.f[2])
			selectFrom(&w, &lep, false, ele.f[0], ele.f[1], ele.f[2], ele.i[0])
			selectFrom(&w, &lep, true, mu.f[0], mu.f[1], mu.f[2], mu.i[0])
		}
		if !lep.ok {
			outNulls.set(r)
			lepRes.null(r)
			hlfRes.null(r)
			rows.null(r)
			particles.null(r)
			continue
		}
		lepRes.set(r, lep)
		hlfRes.set(r, highLevel(lep, jets.f[0], jets.f[1], jets.i[0], met.data[r], metPhi.data[r]))
		parts := lowLevel(&w, lep, trk.i[0], trk.f[3], trk.f[4], trk.f[5])
		rows.data[r] = int32(len(parts))
		if !particles.set(r, parts) {
			break
		}
	}
	return particles.finish()
}

// execTopoSequence reads flat 801 × 19 matrices (topo_llf's result).
func execTopoSequence(in capi.Args, out capi.Vector) error {
	n := in.Rows()
	m := readLists[float32](in.Arg(0), n)
	return writeSequences(out, n, func(r int) ([]float32, int, bool, error) {
		v, ok := m.row(r)
		if !ok {
			return nil, 0, false, nil
		}
		if len(v) != llfSize {
			return nil, 0, false, dataErrorf("the matrix has %d values, want %d × %d = %d", len(v), TopoRows, TopoColumns, llfSize)
		}
		// Particle rows come first and have pT > 0.5; padding rows are zero.
		k := 0
		for k < TopoRows && v[k*TopoColumns+llfPT] != 0 {
			k++
		}
		return v, k, true, nil
	})
}

// execTopoSequenceParticles reads particle lists (topo_event's particles).
func execTopoSequenceParticles(in capi.Args, out capi.Vector) error {
	n := in.Rows()
	return writeSequences(out, n, readParticles(in.Arg(0), n).row)
}

// writeSequences writes topo_sequence's result from each row's particle
// rows (row-major, k of them).
func writeSequences(out capi.Vector, n int, rowOf func(r int) (m []float32, k int, ok bool, err error)) error {
	outNulls := newNullMask(out, n)
	seq := newListResult[float32](out.StructChild(0), n, n*llfSize)
	mask := newListResult[bool](out.StructChild(1), n, n*TopoRows)
	var (
		order []int32
		dr    []float64
	)
	for r := 0; r < n; r++ {
		v, k, ok, err := rowOf(r)
		if err != nil {
			return err
		}
		if !ok {
			outNulls.set(r)
			seq.null(r)
			mask.null(r)
			continue
		}
		s, b := seq.begin(r, llfSize), mask.begin(r, TopoRows)
		if s == nil || b == nil {
			break
		}
		order, dr = sequence(v, k, s, b, order, dr)
	}
	if err := seq.finish(); err != nil {
		return err
	}
	return mask.finish()
}

// execTopoMatrix pads particle lists back into the flat 801 × 19 matrix.
func execTopoMatrix(in capi.Args, out capi.Vector) error {
	n := in.Rows()
	p := readParticles(in.Arg(0), n)
	res := newListResult[float32](out, n, n*llfSize)
	for r := 0; r < n; r++ {
		v, k, ok, err := p.row(r)
		if err != nil {
			return err
		}
		if !ok {
			res.null(r)
			continue
		}
		dst := res.begin(r, llfSize)
		if dst == nil {
			break
		}
		clear(dst[copy(dst, v[:k*TopoColumns]):])
	}
	return res.finish()
}

func execHashKey(in capi.Args, out capi.Vector) error {
	n := in.Rows()
	seed, salt, id := readScalars[uint64](in.Arg(0), n), readScalars[uint64](in.Arg(1), n), readScalars[uint64](in.Arg(2), n)
	res := newResult[uint64](out, n)
	for r := 0; r < n; r++ {
		if !seed.ok(r) || !salt.ok(r) || !id.ok(r) {
			res.null(r)
			continue
		}
		res.data[r] = hashKey(seed.data[r], salt.data[r], id.data[r])
	}
	return nil
}

// topoOverloads builds the FLOAT[] and DOUBLE[] overloads of a function
// whose float lists all share one element type.
func topoOverloads(returns capi.Type, argsOf func(elem capi.Type) []Arg, exec32, exec64 func(capi.Args, capi.Vector) error) []Overload {
	return []Overload{
		{Args: argsOf(tFloat), Returns: returns, Exec: exec32},
		{Args: argsOf(tDouble), Returns: returns, Exec: exec64},
	}
}

func concatArgs(groups ...[]Arg) []Arg {
	var out []Arg
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

var leptonArg = []Arg{{Name: "lepton", Type: leptonType}}

func eventArgs(elem capi.Type) []Arg {
	return concatArgs(collArgs(elem, "trk", trkFields...), collArgs(elem, "pho", towFields...), collArgs(elem, "nh", towFields...),
		collArgs(elem, "ele", lepFields...), collArgs(elem, "mu", lepFields...), collArgs(elem, "jet", jetFields...),
		args("met", tDouble, "met_phi", tDouble))
}

// Examples: one event with a muon, its own track, a photon in its cone and
// a jet; tracks, photons and neutral hadrons are far from the muon unless
// stated.
const (
	exTracks    = "[40.0, 3.0, 1.0]::FLOAT[], [0.5, 0.6, -1.0]::FLOAT[], [1.0, 1.1, 2.0]::FLOAT[]"
	exTracksXYZ = "[40.0, 3.0, 1.0]::FLOAT[], [0.5, 0.6, -1.0]::FLOAT[], [1.0, 1.1, 2.0]::FLOAT[], [1, -1, 1], [0.0, 0.0, 0.0]::FLOAT[], [0.0, 0.0, 0.0]::FLOAT[], [1.0, 2.0, 3.0]::FLOAT[]"
	exTowers    = "[2.0]::FLOAT[], [0.4]::FLOAT[], [1.0]::FLOAT[], [5.0]::FLOAT[], [-2.0]::FLOAT[], [0.0]::FLOAT[]"
	exNoEle     = "[]::FLOAT[], []::FLOAT[], []::FLOAT[], []::INTEGER[]"
	exMuon      = "[40.0]::FLOAT[], [0.5]::FLOAT[], [1.0]::FLOAT[], [1]"
	exMuonKin   = "[40.0]::FLOAT[], [0.5]::FLOAT[], [1.0]::FLOAT[]"
	exJets      = "[120.0, 45.0, 20.0]::FLOAT[], [0.3, -2.7, 1.0]::FLOAT[], [1, 0, 0]"
)

var _ = define(&Function{
	Name:  "topo_lepton_iso",
	Group: "topology",
	Summary: "Relative isolation (spec section 2) of each lepton: STRUCT(ch, gamma, neu) of lists, the pT sums of tracks with PT > 0.5, " +
		"photons and neutral hadrons with ET > 1 within ΔR < 0.3, divided by the lepton's pT; tracks within ΔR < 1e-4 (its own track) are left out. " +
		"η-sorted sweep: O(N log N) per event.",
	Example: "SELECT topo_lepton_iso(" + exMuonKin + ", " + exTracks + ", " + exTowers + ") AS iso",
	Overloads: topoOverloads(isoType, func(e capi.Type) []Arg { return concatArgs(collArgs(e, "lep", kinFields...), isoFields3(e)) },
		execTopoIso[float32](isoOfLepton), execTopoIso[float64](isoOfLepton)),
})

var _ = define(&Function{
	Name:  "topo_track_iso",
	Group: "topology",
	Summary: "Relative isolation of every track against the three isolation lists, as STRUCT(ch, gamma, neu) of lists aligned with the tracks; " +
		"a track in the charged list (PT > 0.5) leaves itself out by position, not by distance.",
	Example:   "SELECT topo_track_iso(" + exTracks + ", " + exTowers + ") AS iso",
	Overloads: topoOverloads(isoType, isoFields3, execTopoIso[float32](isoOfTrack), execTopoIso[float64](isoOfTrack)),
})

var _ = define(&Function{
	Name:      "topo_photon_iso",
	Group:     "topology",
	Summary:   "Relative isolation of every photon, as topo_track_iso; a photon with ET > 1 leaves itself out of the photon list.",
	Example:   "SELECT topo_photon_iso(" + exTracks + ", " + exTowers + ") AS iso",
	Overloads: topoOverloads(isoType, isoFields3, execTopoIso[float32](isoOfPhoton), execTopoIso[float64](isoOfPhoton)),
})

var _ = define(&Function{
	Name:      "topo_neutral_iso",
	Group:     "topology",
	Summary:   "Relative isolation of every neutral hadron, as topo_track_iso; one with ET > 1 leaves itself out of the neutral-hadron list.",
	Example:   "SELECT topo_neutral_iso(" + exTracks + ", " + exTowers + ") AS iso",
	Overloads: topoOverloads(isoType, isoFields3, execTopoIso[float32](isoOfNeutral), execTopoIso[float64](isoOfNeutral)),
})

var _ = define(&Function{
	Name:  "topo_select",
	Group: "topology",
	Summary: "The event selection (spec section 3): among electrons and tight muons with pT > 23 and ChPFIso + GammaPFIso + NeuPFIso < 0.45, " +
		"the highest-pT one (ties: electrons first, storage order), as STRUCT(is_muon, idx (1-based), pt, eta, phi, charge, ch_iso, gamma_iso, neu_iso); " +
		"NULL when none passes.",
	Example: "SELECT topo_select(" + exNoEle + ", " + exMuon + ", " + exTracks + ", " + exTowers + ") AS lepton",
	Overloads: topoOverloads(leptonType, func(e capi.Type) []Arg {
		return concatArgs(collArgs(e, "ele", lepFields...), collArgs(e, "mu", lepFields...), isoFields3(e))
	}, execTopoSelect[float32], execTopoSelect[float64]),
})

var _ = define(&Function{
	Name:  "topo_hlf",
	Group: "topology",
	Summary: "The 14 high-level features (spec section 5) of an event with its selected lepton (topo_select's STRUCT), as " +
		"STRUCT(ht, met, met_phi, mt, n_jets, n_bjets, lep_pt, lep_eta, lep_phi, lep_ch_iso, lep_gamma_iso, lep_neu_iso, lep_charge, is_electron), " +
		"all DOUBLE in this order; jets count with PT > 30 and |η| < 2.6, b-jets with btag > 0; mt = sqrt(2·pT·MET·(1 − cos Δφ)).",
	Example: "SELECT topo_hlf(topo_select(" + exNoEle + ", " + exMuon + ", " + exTracks + ", " + exTowers + "), " + exJets + ", 35.0, -2.0) AS hlf",
	Overloads: topoOverloads(hlfType, func(e capi.Type) []Arg {
		return concatArgs(leptonArg, collArgs(e, "jet", jetFields...), args("met", tDouble, "met_phi", tDouble))
	}, execTopoHLF[float32], execTopoHLF[float64]),
})

var _ = define(&Function{
	Name:  "topo_llf",
	Group: "topology",
	Summary: "The 801 × 19 low-level matrix (spec section 4) around the selected lepton, as one flat FLOAT[] of 15219 values, row-major: " +
		"element 1 + 19·row + col (0-based row and col) is row row, column col. Rows: the lepton; tracks with PT > 0.5 other than its own " +
		"(ΔR ≥ 1e-4), photons and neutral hadrons with ET > 1, each ranked by decreasing pT and cut at 450, 150, 200; zero rows. " +
		"Columns: e, px, py, pz, pt, eta, phi, x, y, z, ch_iso, gamma_iso, neu_iso, is_charged_hadron, is_neutral_hadron, is_photon, " +
		"is_electron, is_muon, charge. A flat list writes to Parquet as one list column and feeds a trainer row-major without reshaping.",
	Example: "SELECT len(m) AS n, m[1:19] AS lepton_row, m[20:38] AS first_track FROM (SELECT topo_llf(topo_select(" + exNoEle + ", " + exMuon + ", " +
		exTracks + ", " + exTowers + "), " + exTracksXYZ + ", " + exTowers + ") AS m)",
	Overloads: topoOverloads(tFloats, func(e capi.Type) []Arg {
		return concatArgs(leptonArg, collArgs(e, "trk", trkFields...), collArgs(e, "pho", towFields...), collArgs(e, "nh", towFields...))
	}, execTopoLLF[float32], execTopoLLF[float64]),
})

var _ = define(&Function{
	Name:  "topo_event",
	Group: "topology",
	Summary: "Selection and features of a whole event in one pass (the isolation lists built once): " +
		"STRUCT(lepton (as topo_select), hlf (as topo_hlf), n_rows (matrix rows holding a particle), particles); " +
		"particles is the low-level matrix's particle rows without its zero padding, in their independent quantities: " +
		"LIST<STRUCT(kind TINYINT (0 charged hadron, 1 neutral hadron, 2 photon, 3 electron, 4 muon), pt, eta, phi, x, y, z, ch_iso, gamma_iso, neu_iso FLOAT, charge TINYINT)>, " +
		"row 1 the lepton; topo_matrix rebuilds topo_llf's 801 × 19 matrix from it (E, px, py, pz and the one-hot columns derived as topo_llf derives them; " +
		"bit for bit for FLOAT inputs), topo_sequence takes it as it is. " +
		"NULL when no lepton passes the selection. Arguments: tracks, photons, neutral hadrons, electrons, muons, jets, MET, φ(MET).",
	Example: "SELECT e.lepton.pt, e.hlf.n_jets, e.hlf.mt, e.n_rows, e.particles[2].kind AS kind, e.particles[2].pt AS leading_track_pt FROM (SELECT topo_event(" + exTracksXYZ + ", " + exTowers + ", " +
		exNoEle + ", " + exMuon + ", " + exJets + ", 35.0, -2.0) AS e)",
	Overloads: topoOverloads(eventType, eventArgs, execTopoEvent[float32], execTopoEvent[float64]),
})

var _ = define(&Function{
	Name:  "topo_sequence",
	Group: "topology",
	Summary: "The recurrent models' input (spec section 6.4) from a topo_llf matrix or topo_event's particles: STRUCT(seq FLOAT[] (801 × 19, row-major), mask BOOLEAN[] (801)). " +
		"The particle rows (a matrix's rows before the first with pt = 0) are ordered by decreasing ΔR from the lepton (row 0; ties in matrix order) and each column " +
		"is standardised over them (population z-score; a constant column becomes 0); padding rows stay zero with mask false.",
	Example: "SELECT list_slice(s.seq, 1, 19) AS first_row, list_slice(s.mask, 1, 5) AS mask FROM (SELECT topo_sequence(topo_llf(topo_select(" + exNoEle + ", " + exMuon + ", " +
		exTracks + ", " + exTowers + "), " + exTracksXYZ + ", " + exTowers + ")) AS s)",
	Overloads: []Overload{
		{Args: args("llf", tFloats), Returns: sequenceType, Exec: execTopoSequence},
		{Args: args("particles", tParticles), Returns: sequenceType, Exec: execTopoSequenceParticles},
	},
})

var _ = define(&Function{
	Name:  "topo_matrix",
	Group: "topology",
	Summary: "The 801 × 19 low-level matrix (as topo_llf: FLOAT[], row-major, zero padding after the particle rows) from topo_event's particles, " +
		"for stored features that kept the particle rows only.",
	Example: "SELECT len(m) AS n, m[1:19] AS lepton_row, m[20:38] AS first_track FROM (SELECT topo_matrix(topo_event(" + exTracksXYZ + ", " + exTowers + ", " +
		exNoEle + ", " + exMuon + ", " + exJets + ", 35.0, -2.0).particles) AS m)",
	Overloads: []Overload{{Args: args("particles", tParticles), Returns: tFloats, Exec: execTopoMatrix}},
})

var _ = define(&Function{
	Name:  "hash_key",
	Group: "topology",
	Summary: "A seeded pseudo-random sort key of an event: mix(mix(seed XOR salt) XOR id) with SplitMix64's finaliser (as internal/topref.Key). " +
		"ORDER BY hash_key(seed, salt, id) shuffles reproducibly and independently of the order rows arrive in; salt 1 undersamples, 2 shuffles.",
	Example: "SELECT hash_key(42, 2, 7) AS k, hash_key(42, 2, 7) = hash_key(42, 2, 7) AS stable",
	Overloads: []Overload{{Args: args("seed", capi.Scalar(capi.UBigInt), "salt", capi.Scalar(capi.UBigInt), "id", capi.Scalar(capi.UBigInt)),
		Returns: capi.Scalar(capi.UBigInt), Exec: execHashKey}},
})
