package sqlfuncs

import (
	"cmp"
	"math"
	"slices"

	"github.com/hepsql/hepsql/internal/capi"
)

// The UCluster input features (../shared/specs/ucluster.md, "The inputs"):
// a jet's constituents turned into the eight per-particle values the
// classifier reads, relative to the jet. jet_particles keeps them as a
// LIST of STRUCTs (compact in Parquet: no padding is stored);
// jet_particles_padded lays them out as the fixed, zero-padded P × 8 block
// the network takes.

// JetParticlesMax is the most constituents jet_particles keeps: the
// hardest ones, as the HLS4ML data set does.
const JetParticlesMax = 100

// JetParticleFeatures names the eight features, in the order of
// jet_particles' STRUCT fields and of each particle's values in
// jet_particles_padded.
var JetParticleFeatures = [...]string{"deta", "dphi", "log_pt", "log_e", "log_pt_rel", "log_e_rel", "dr", "pid"}

const jetFeatures = len(JetParticleFeatures)

var jetParticleType = func() capi.Type {
	t := capi.Type{ID: capi.Struct}
	for _, f := range JetParticleFeatures {
		t.Fields = append(t.Fields, capi.Field{Name: f, Type: tFloat})
	}
	return t
}()

var tJetParticles = capi.ListOf(jetParticleType)

// jetParticleFeatures computes one constituent's features relative to the
// jet, in JetParticleFeatures' order. Δφ is wrapped to (−π, π]: both ends
// of [−π, π] are the same direction, and one representative keeps equal
// inputs equal.
func jetParticleFeatures(pt, eta, phi, e float64, pid int32, jpt, jeta, jphi, je float64) [jetFeatures]float32 {
	deta := eta - jeta
	dphi := math.Remainder(phi-jphi, 2*math.Pi)
	if dphi <= -math.Pi {
		dphi = math.Pi
	}
	return [jetFeatures]float32{
		float32(deta), float32(dphi),
		float32(math.Log(pt)), float32(math.Log(e)),
		float32(math.Log(pt / jpt)), float32(math.Log(e / je)),
		float32(math.Hypot(deta, dphi)), PIDCode(pid),
	}
}

// PIDCode is jet_particles' pid feature: the particle-flow category of a
// constituent's PDG id as a small number, signed by its electric charge,
// so that the network sees a feature of order one rather than PDG ids
// from 11 to 2212 (the HLS4ML data carry the same categories as one-hot
// flags: isPhoton, isChargedHadron, isNeutralHadron, isElectron, isMuon):
//
//	photon 1, neutral hadron 2, charged hadron ±3, electron ±4, muon ±5
//	(+ for positive charge), anything else 0.
func PIDCode(pdg int32) float32 {
	// Negative ids are antiparticles: the charge's sign flips with the id's.
	sign := float32(1)
	if pdg < 0 {
		sign = -1
	}
	switch abs := max(pdg, -pdg); abs {
	case 22:
		return 1
	case 130, 310, 2112, 3122: // K⁰_L, K⁰_S, n, Λ (and their antiparticles)
		return 2
	case 211, 321, 2212, 3222: // π⁺, K⁺, p, Σ⁺: positive for a positive id
		return 3 * sign
	case 3112, 3312, 3334: // Σ⁻, Ξ⁻, Ω⁻: negative for a positive id
		return -3 * sign
	case 11: // e⁻ has id 11: negative for a positive id
		return -4 * sign
	case 13: // μ⁻
		return -5 * sign
	}
	return 0
}

// jetWork is a row's scratch: the constituents' order and features.
type jetWork struct {
	order []int32
	feats [][jetFeatures]float32
}

// features fills w.feats with the row's features: constituents of pT 0
// (padding) left out, the rest by decreasing pT (storage order on ties),
// at most JetParticlesMax.
func (w *jetWork) features(pt, eta, phi, e []float64, pid []int32, jpt, jeta, jphi, je float64) error {
	if !(jpt > 0) || math.IsInf(jpt, 0) {
		return dataErrorf("jet_pt = %g, want a positive finite value", jpt)
	}
	if !(je > 0) || math.IsInf(je, 0) {
		return dataErrorf("jet_e = %g, want a positive finite value", je)
	}
	w.order = w.order[:0]
	for i, p := range pt {
		switch {
		case p == 0:
			continue
		case !(p > 0) || math.IsInf(p, 0):
			return dataErrorf("part_pt: constituent %d has pT = %g, want a positive finite value (0 marks padding)", i+1, p)
		case !(e[i] > 0) || math.IsInf(e[i], 0):
			return dataErrorf("part_e: constituent %d has E = %g, want a positive finite value", i+1, e[i])
		}
		w.order = append(w.order, int32(i))
	}
	// Stored pT-ordered is the rule (NanoAOD, HLS4ML): check before sorting.
	if !slices.IsSortedFunc(w.order, func(a, b int32) int { return cmp.Compare(pt[b], pt[a]) }) {
		slices.SortStableFunc(w.order, func(a, b int32) int { return cmp.Compare(pt[b], pt[a]) })
	}
	w.order = w.order[:min(len(w.order), JetParticlesMax)]
	w.feats = w.feats[:0]
	for _, i := range w.order {
		w.feats = append(w.feats, jetParticleFeatures(pt[i], eta[i], phi[i], e[i], pid[i], jpt, jeta, jphi, je))
	}
	return nil
}

// widen copies a row's FLOAT or DOUBLE list into a float64 scratch slice.
func widen[T float](dst []float64, src []T) []float64 {
	dst = dst[:0]
	for _, v := range src {
		dst = append(dst, float64(v))
	}
	return dst
}

func execJetParticles[T float](in capi.Args, out capi.Vector) error {
	n := in.Rows()
	parts := readColl[T](in, 0, "constituent", "ffffi")
	jpt, jeta := readScalars[float64](in.Arg(5), n), readScalars[float64](in.Arg(6), n)
	jphi, je := readScalars[float64](in.Arg(7), n), readScalars[float64](in.Arg(8), n)
	res := newJetParticlesResult(out, n, n*48)
	var (
		w                 jetWork
		pt, eta, phi, ene []float64
	)
	for r := 0; r < n; r++ {
		ok, err := parts.row(r)
		if err != nil {
			return err
		}
		if !ok || !jpt.ok(r) || !jeta.ok(r) || !jphi.ok(r) || !je.ok(r) {
			res.null(r)
			continue
		}
		pt, eta, phi, ene = widen(pt, parts.f[0]), widen(eta, parts.f[1]), widen(phi, parts.f[2]), widen(ene, parts.f[3])
		if err := w.features(pt, eta, phi, ene, parts.i[0], jpt.data[r], jeta.data[r], jphi.data[r], je.data[r]); err != nil {
			return err
		}
		if !res.set(r, w.feats) {
			break
		}
	}
	return res.finish()
}

// jetParticlesResult writes LIST<jetParticleType> rows. Rows must be
// written in order.
type jetParticlesResult struct {
	v       capi.Vector
	nulls   *nullMask
	entries []capi.ListEntry
	fields  [jetFeatures][]float32 // the struct children's data, valid up to cap
	size    int
	err     error
}

func newJetParticlesResult(v capi.Vector, n, hint int) *jetParticlesResult {
	w := &jetParticlesResult{v: v, nulls: newNullMask(v, n), entries: capi.Slice[capi.ListEntry](v, n)}
	w.reserve(max(hint, 1))
	return w
}

func (w *jetParticlesResult) reserve(capacity int) {
	if w.err != nil {
		return
	}
	if err := w.v.ListReserve(capacity); err != nil {
		w.err = err
		return
	}
	// Reserving may move the children's buffers: re-take the views.
	child := w.v.ListChild()
	for f := range w.fields {
		w.fields[f] = capi.Slice[float32](child.StructChild(f), capacity)
	}
}

// set writes row r; false when the list could not grow (finish reports
// why).
func (w *jetParticlesResult) set(r int, feats [][jetFeatures]float32) bool {
	k := len(feats)
	if need := w.size + k; need > len(w.fields[0]) {
		w.reserve(max(need, 2*len(w.fields[0])))
		if w.err != nil {
			return false
		}
	}
	w.entries[r] = capi.ListEntry{Offset: uint64(w.size), Length: uint64(k)}
	for i, f := range feats {
		for c := range f {
			w.fields[c][w.size+i] = f[c]
		}
	}
	w.size += k
	return true
}

func (w *jetParticlesResult) null(r int) {
	w.entries[r] = capi.ListEntry{Offset: uint64(w.size)}
	w.nulls.set(r)
}

func (w *jetParticlesResult) finish() error {
	if w.err != nil {
		return w.err
	}
	return w.v.ListSetSize(w.size)
}

// execJetParticlesPadded lays jet_particles' lists out as n × 8 FLOATs.
func execJetParticlesPadded(withN bool) func(capi.Args, capi.Vector) error {
	return func(in capi.Args, out capi.Vector) error {
		rows := in.Rows()
		arg := in.Arg(0)
		entries, valid := capi.Slice[capi.ListEntry](arg, rows), arg.ReadValidity(rows)
		child, size := arg.ListChild(), arg.ListSize()
		itemValid := child.ReadValidity(size)
		var fields [jetFeatures]scalars[float32]
		for f := range fields {
			fields[f] = readScalars[float32](child.StructChild(f), size)
		}
		var ns scalars[int32]
		if withN {
			ns = readScalars[int32](in.Arg(1), rows)
		}
		res := newListResult[float32](out, rows, rows*JetParticlesMax*jetFeatures)
		for r := 0; r < rows; r++ {
			n := JetParticlesMax
			if withN {
				if !ns.ok(r) {
					res.null(r)
					continue
				}
				n = int(ns.data[r])
				if n < 0 || n > JetParticlesMax {
					return dataErrorf("n = %d, want 0 to %d", n, JetParticlesMax)
				}
			}
			if !capi.IsValid(valid, r) {
				res.null(r)
				continue
			}
			dst := res.begin(r, n*jetFeatures)
			if dst == nil {
				break
			}
			e := entries[r]
			k := min(int(e.Length), n)
			for i := range k {
				j := int(e.Offset) + i
				if !capi.IsValid(itemValid, j) {
					return dataErrorf("particle %d is NULL", i+1)
				}
				for f := range fields {
					if !fields[f].ok(j) {
						return dataErrorf("particle %d: %s is NULL", i+1, JetParticleFeatures[f])
					}
					dst[i*jetFeatures+f] = fields[f].data[j]
				}
			}
			clear(dst[k*jetFeatures:])
		}
		return res.finish()
	}
}

func execJetMassClass(in capi.Args, out capi.Vector) error {
	n := in.Rows()
	mass := readScalars[float64](in.Arg(0), n)
	edges := readLists[float64](in.Arg(1), n)
	res := newResult[int32](out, n)
	for r := 0; r < n; r++ {
		ed, ok := edges.row(r)
		if !ok || !mass.ok(r) {
			res.null(r)
			continue
		}
		for i, x := range ed {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return dataErrorf("edges: edge %d is %g, want finite values", i+1, x)
			}
			if i > 0 && x <= ed[i-1] {
				return dataErrorf("edges: edge %d (%g) is not above edge %d (%g); want strictly increasing edges", i+1, x, i, ed[i-1])
			}
		}
		m := mass.data[r]
		if math.IsNaN(m) {
			res.null(r)
			continue
		}
		// The class is the number of edges at or below the mass.
		c, found := slices.BinarySearch(ed, m)
		if found {
			c++
		}
		res.data[r] = int32(c)
	}
	return nil
}

func jetParticlesArgs(elem capi.Type) []Arg {
	l := capi.ListOf(elem)
	return args("part_pt", l, "part_eta", l, "part_phi", l, "part_e", l, "part_pid", tInts,
		"jet_pt", tDouble, "jet_eta", tDouble, "jet_phi", tDouble, "jet_e", tDouble)
}

// The example: a jet of three constituents, the last across φ = ±π.
const exJet = "[300.0, 120.0, 2.0]::FLOAT[], [0.52, 0.41, 0.9]::FLOAT[], [3.1, 3.0, -3.1]::FLOAT[], " +
	"[341.3, 130.4, 2.9]::FLOAT[], [211, 22, -211], 420.0, 0.5, 3.07, 473.0"

var _ = define(&Function{
	Name:  "jet_particles",
	Group: "jets",
	Summary: "The UCluster per-particle inputs of a jet, one STRUCT per constituent relative to the jet: " +
		"deta (η − η_jet), dphi (φ − φ_jet wrapped to (−π, π]), log_pt, log_e, log_pt_rel (log pT/pT_jet), log_e_rel (log E/E_jet), " +
		"dr (√(Δη² + Δφ²)) and pid (the constituent's particle-flow category from its PDG id, signed by its charge: " +
		"photon 1, neutral hadron 2 (K⁰_L, K⁰_S, n, Λ), charged hadron ±3 (π, K, p, Σ, Ξ, Ω), electron ±4, muon ±5, anything else 0). Constituents come by decreasing pT (storage order on ties; " +
		"pT-ordered input is not re-sorted), at most 100 (the hardest); a constituent of pT 0 is padding and left out. " +
		"The jet's energy is an argument, not the constituents' sum: the jet may hold more than the 100 kept. " +
		"A negative or non-finite pT, a non-positive E, or a non-positive jet pT or E is an error; the five lists must have equal lengths.",
	Example: "SELECT p.* FROM (SELECT unnest(jet_particles(" + exJet + ")) AS p)",
	Overloads: []Overload{
		{Args: jetParticlesArgs(tFloat), Returns: tJetParticles, Exec: execJetParticles[float32]},
		{Args: jetParticlesArgs(tDouble), Returns: tJetParticles, Exec: execJetParticles[float64]},
	},
})

var _ = define(&Function{
	Name:  "jet_particles_padded",
	Group: "jets",
	Summary: "jet_particles' list as the fixed block the network reads: n × 8 FLOATs, row-major (particle i's eight features, " +
		"in jet_particles' field order, at positions 8i+1 … 8i+8), the first n particles, zero rows after the last; n is 100 " +
		"(800 values, the HLS4ML shape) unless given, 0 to 100. A FLOAT[] rather than a FLOAT[800] ARRAY so that one function serves every n " +
		"(cast to FLOAT[800] where an ARRAY is wanted); len(particles) tells real rows from padding. A NULL particle or field is an error.",
	Example: "SELECT len(b) AS n, b[1:8] AS first, b[17:24] AS third, b[25:32] AS padding FROM (SELECT jet_particles_padded(jet_particles(" + exJet + "), 4) AS b)",
	Overloads: []Overload{
		{Args: args("particles", tJetParticles), Returns: tFloats, Exec: execJetParticlesPadded(false)},
		{Args: args("particles", tJetParticles, "n", tInt), Returns: tFloats, Exec: execJetParticlesPadded(true)},
	},
})

var _ = define(&Function{
	Name:  "jet_mass_class",
	Group: "jets",
	Summary: "The jet-mass bin of a mass, UCluster's auxiliary classification label: the number of edges at or below it, " +
		"so 0 below the first edge and len(edges) from the last one on. The edges must be finite and strictly increasing; a NaN mass gives NULL.",
	Example: "SELECT m, jet_mass_class(m, [40.0, 60.0, 85.0, 120.0, 160.0]) AS class FROM (VALUES (12.0), (60.0), (81.3), (91.0), (175.2)) t(m)",
	Overloads: []Overload{
		{Args: args("mass", tDouble, "edges", tDoubles), Returns: tInt, Exec: execJetMassClass},
	},
})
