package sqlfuncs

import (
	"slices"

	"github.com/hepsql/hepsql/internal/capi"
)

// Readers and writers of the topology functions' arguments and results:
// collections spread over several list arguments, the selected lepton as a
// STRUCT, and the STRUCT results.

// collReader reads one collection whose fields are consecutive list
// arguments; layout has one letter per field, 'f' for the float element
// type T and 'i' for INTEGER. Every list of a row must have the same
// length.
type collReader[T float] struct {
	name   string
	layout string
	first  int // the first field's argument index
	fl     []lists[T]
	il     []lists[int32]
	f      [][]T     // the current row's float fields, in layout order
	i      [][]int32 // the current row's integer fields
}

func readColl[T float](in capi.Args, first int, name, layout string) *collReader[T] {
	n := in.Rows()
	c := &collReader[T]{name: name, layout: layout, first: first}
	for k, t := range layout {
		if t == 'f' {
			c.fl = append(c.fl, readLists[T](in.Arg(first+k), n))
		} else {
			c.il = append(c.il, readLists[int32](in.Arg(first+k), n))
		}
	}
	c.f, c.i = make([][]T, len(c.fl)), make([][]int32, len(c.il))
	return c
}

// row loads row r; false when a list is NULL or holds a NULL.
func (c *collReader[T]) row(r int) (bool, error) {
	ok := true
	for k := range c.fl {
		v, valid := c.fl[k].row(r)
		c.f[k], ok = v, ok && valid
	}
	for k := range c.il {
		v, valid := c.il[k].row(r)
		c.i[k], ok = v, ok && valid
	}
	if !ok {
		return false, nil
	}
	// Fields are in layout order; c.f and c.i split them by type.
	n, fi, ii := len(c.f[0]), 0, 0
	for k, t := range c.layout {
		var m int
		if t == 'f' {
			m, fi = len(c.f[fi]), fi+1
		} else {
			m, ii = len(c.i[ii]), ii+1
		}
		if m != n {
			return false, &lengthError{a: c.first, b: c.first + k, na: n, nb: m}
		}
	}
	return true, nil
}

// width is the number of arguments the collection takes.
func (c *collReader[T]) width() int { return len(c.layout) }

// collArgs names a collection's arguments prefix_field, with FLOAT or
// DOUBLE lists (elem) for 'f' fields and INTEGER lists for 'i'.
func collArgs(elem capi.Type, prefix string, fields ...string) []Arg {
	out := make([]Arg, len(fields))
	for k, f := range fields {
		t := capi.ListOf(elem)
		if f == "charge" || f == "btag" {
			t = tInts
		}
		out[k] = Arg{Name: prefix + "_" + f, Type: t}
	}
	return out
}

// Argument groups and their layouts.
var (
	trkFields  = []string{"pt", "eta", "phi", "charge", "x", "y", "z"}
	trkLayout  = "fffifff"
	kinFields  = []string{"pt", "eta", "phi"}
	towFields  = []string{"et", "eta", "phi"}
	lepFields  = []string{"pt", "eta", "phi", "charge"}
	lepLayout  = "fffi"
	jetFields  = []string{"pt", "eta", "btag"}
	jetLayout  = "ffi"
	kinLayout  = "fff"
	isoFields3 = func(elem capi.Type) []Arg {
		return append(append(collArgs(elem, "trk", kinFields...), collArgs(elem, "pho", towFields...)...), collArgs(elem, "nh", towFields...)...)
	}
)

// leptonType is the selected lepton: flavour, 1-based position in its
// collection, kinematics, charge and relative isolation.
var leptonType = capi.Type{ID: capi.Struct, Fields: []capi.Field{
	{Name: "is_muon", Type: tBool}, {Name: "idx", Type: tInt},
	{Name: "pt", Type: tDouble}, {Name: "eta", Type: tDouble}, {Name: "phi", Type: tDouble},
	{Name: "charge", Type: tInt},
	{Name: "ch_iso", Type: tDouble}, {Name: "gamma_iso", Type: tDouble}, {Name: "neu_iso", Type: tDouble},
}}

// hlfType is the 14 high-level features, named as TopoHighLevelNames.
var hlfType = func() capi.Type {
	t := capi.Type{ID: capi.Struct}
	for _, n := range TopoHighLevelNames {
		t.Fields = append(t.Fields, capi.Field{Name: n, Type: tDouble})
	}
	return t
}()

// isoType is the relative isolations of each object of a collection.
var isoType = capi.Type{ID: capi.Struct, Fields: []capi.Field{
	{Name: "ch", Type: tDoubles}, {Name: "gamma", Type: tDoubles}, {Name: "neu", Type: tDoubles},
}}

// eventType is topo_event's result.
var eventType = capi.Type{ID: capi.Struct, Fields: []capi.Field{
	{Name: "lepton", Type: leptonType}, {Name: "hlf", Type: hlfType},
	{Name: "n_rows", Type: tInt}, {Name: "particles", Type: tParticles},
}}

// sequenceType is topo_sequence's result.
var sequenceType = capi.Type{ID: capi.Struct, Fields: []capi.Field{
	{Name: "seq", Type: tFloats}, {Name: "mask", Type: tBools},
}}

// leptonResult writes leptonType rows.
type leptonResult struct {
	parent         capi.Vector
	isMuon         result[bool]
	idx, charge    result[int32]
	pt, eta, phi   result[float64]
	ch, gamma, neu result[float64]
}

func newLeptonResult(v capi.Vector, n int) *leptonResult {
	return &leptonResult{
		parent: v,
		isMuon: newResult[bool](v.StructChild(0), n), idx: newResult[int32](v.StructChild(1), n),
		pt: newResult[float64](v.StructChild(2), n), eta: newResult[float64](v.StructChild(3), n),
		phi: newResult[float64](v.StructChild(4), n), charge: newResult[int32](v.StructChild(5), n),
		ch: newResult[float64](v.StructChild(6), n), gamma: newResult[float64](v.StructChild(7), n),
		neu: newResult[float64](v.StructChild(8), n),
	}
}

func (w *leptonResult) set(r int, l topoLepton) {
	w.isMuon.data[r], w.idx.data[r] = l.muon, int32(l.idx+1)
	w.pt.data[r], w.eta.data[r], w.phi.data[r] = l.pt, l.eta, l.phi
	w.charge.data[r] = l.charge
	w.ch.data[r], w.gamma.data[r], w.neu.data[r] = l.iso.ch, l.iso.gamma, l.iso.neu
}

// null marks the struct and every field NULL (DuckDB reads fields
// directly in struct_extract, so they must agree).
func (w *leptonResult) null(r int) {
	w.parent.SetNull(r)
	w.isMuon.null(r)
	w.idx.null(r)
	w.charge.null(r)
	for _, f := range []result[float64]{w.pt, w.eta, w.phi, w.ch, w.gamma, w.neu} {
		f.null(r)
	}
}

// hlfResult writes hlfType rows.
type hlfResult struct {
	parent capi.Vector
	fields [TopoHighLevel]result[float64]
}

func newHLFResult(v capi.Vector, n int) *hlfResult {
	w := &hlfResult{parent: v}
	for i := range w.fields {
		w.fields[i] = newResult[float64](v.StructChild(i), n)
	}
	return w
}

func (w *hlfResult) set(r int, f [TopoHighLevel]float64) {
	for i := range f {
		w.fields[i].data[r] = f[i]
	}
}

func (w *hlfResult) null(r int) {
	w.parent.SetNull(r)
	for _, f := range w.fields {
		f.null(r)
	}
}

// leptonInput reads a leptonType argument.
type leptonInput struct {
	valid          []uint64
	isMuon         scalars[bool]
	idx, charge    scalars[int32]
	pt, eta, phi   scalars[float64]
	ch, gamma, neu scalars[float64]
}

func readLepton(v capi.Vector, n int) leptonInput {
	return leptonInput{
		valid:  v.ReadValidity(n),
		isMuon: readScalars[bool](v.StructChild(0), n), idx: readScalars[int32](v.StructChild(1), n),
		pt: readScalars[float64](v.StructChild(2), n), eta: readScalars[float64](v.StructChild(3), n),
		phi: readScalars[float64](v.StructChild(4), n), charge: readScalars[int32](v.StructChild(5), n),
		ch: readScalars[float64](v.StructChild(6), n), gamma: readScalars[float64](v.StructChild(7), n),
		neu: readScalars[float64](v.StructChild(8), n),
	}
}

// row returns row r's lepton; false when it or a field is NULL.
func (l *leptonInput) row(r int) (topoLepton, bool) {
	if !capi.IsValid(l.valid, r) || !l.isMuon.ok(r) || !l.idx.ok(r) || !l.charge.ok(r) {
		return topoLepton{}, false
	}
	for _, s := range []scalars[float64]{l.pt, l.eta, l.phi, l.ch, l.gamma, l.neu} {
		if !s.ok(r) {
			return topoLepton{}, false
		}
	}
	return topoLepton{
		muon: l.isMuon.data[r], idx: int(l.idx.data[r]) - 1,
		pt: l.pt.data[r], eta: l.eta.data[r], phi: l.phi.data[r], charge: l.charge.data[r],
		iso: iso{l.ch.data[r], l.gamma.data[r], l.neu.data[r]}, ok: true,
	}, true
}

// particleType is one particle row of the low-level matrix in its
// independent quantities: kind (the one-hot columns as a code), pT, η, φ,
// production point, the three relative isolations and the charge. The
// matrix's other columns follow from these (E, px, py, pz of a massless
// particle; the one-hot flags), and topo_matrix and topo_sequence rebuild
// them with the same arithmetic as topo_llf. A LIST of particles holds an
// event's rows without the matrix's zero padding: Parquet then stores 11
// narrow columns of a few hundred values per event instead of 15219 floats,
// which DuckDB's writer spent most of the ingestion's time on.
var particleType = capi.Type{ID: capi.Struct, Fields: []capi.Field{
	{Name: "kind", Type: tTinyInt},
	{Name: "pt", Type: tFloat}, {Name: "eta", Type: tFloat}, {Name: "phi", Type: tFloat},
	{Name: "x", Type: tFloat}, {Name: "y", Type: tFloat}, {Name: "z", Type: tFloat},
	{Name: "ch_iso", Type: tFloat}, {Name: "gamma_iso", Type: tFloat}, {Name: "neu_iso", Type: tFloat},
	{Name: "charge", Type: tTinyInt},
}}

var tParticles = capi.ListOf(particleType)

// Particle kinds, in the order of the matrix's one-hot columns
// (llfIsChargedHadron + kind is the hot column).
const (
	kindChargedHadron = iota
	kindNeutralHadron
	kindPhoton
	kindElectron
	kindMuon
	numKinds
)

// particleFloats maps particleType's FLOAT fields (1 to 9: pt, eta, phi,
// x, y, z, ch_iso, gamma_iso, neu_iso) to their matrix columns.
var particleFloats = [...]int{llfPT, llfEta, llfPhi, 7, 8, 9, 10, 11, 12}

// particlesResult writes LIST<particleType> rows from lowLevel's
// particles. Rows must be written in order.
type particlesResult struct {
	v       capi.Vector
	nulls   *nullMask
	entries []capi.ListEntry
	kind    []int8
	floats  [len(particleFloats)][]float32 // the struct children's data, valid up to cap
	charge  []int8
	size    int // particles in use
	err     error
}

func newParticlesResult(v capi.Vector, n, hint int) *particlesResult {
	w := &particlesResult{v: v, nulls: newNullMask(v, n), entries: capi.Slice[capi.ListEntry](v, n)}
	w.reserve(max(hint, 1))
	return w
}

func (w *particlesResult) reserve(capacity int) {
	if w.err != nil {
		return
	}
	if err := w.v.ListReserve(capacity); err != nil {
		w.err = err
		return
	}
	// Reserving may move the children's buffers: re-take the views.
	child := w.v.ListChild()
	w.kind = capi.Slice[int8](child.StructChild(0), capacity)
	for f := range w.floats {
		w.floats[f] = capi.Slice[float32](child.StructChild(1+f), capacity)
	}
	w.charge = capi.Slice[int8](child.StructChild(1+len(particleFloats)), capacity)
}

// set writes row r's particles. It reports false when the list could not
// grow; finish then returns the error.
func (w *particlesResult) set(r int, parts []llParticle) bool {
	k := len(parts)
	if need := w.size + k; need > len(w.kind) {
		w.reserve(max(need, 2*len(w.kind)))
		if w.err != nil {
			return false
		}
	}
	w.entries[r] = capi.ListEntry{Offset: uint64(w.size), Length: uint64(k)}
	f := &w.floats
	for i, p := range parts {
		j := w.size + i
		charge := float32(p.charge)
		if charge != float32(int8(charge)) {
			w.err = dataErrorf("track charge %v does not fit the particle list's TINYINT", charge)
			return false
		}
		w.kind[j], w.charge[j] = p.kind, int8(charge)
		// In particleFloats' order.
		f[0][j], f[1][j], f[2][j] = float32(p.pt), float32(p.eta), float32(p.phi)
		f[3][j], f[4][j], f[5][j] = float32(p.x), float32(p.y), float32(p.z)
		f[6][j], f[7][j], f[8][j] = float32(p.is.ch), float32(p.is.gamma), float32(p.is.neu)
	}
	w.size += k
	return true
}

func (w *particlesResult) null(r int) {
	w.entries[r] = capi.ListEntry{Offset: uint64(w.size)}
	w.nulls.set(r)
}

func (w *particlesResult) finish() error {
	if w.err != nil {
		return w.err
	}
	return w.v.ListSetSize(w.size)
}

// particlesReader reads a LIST<particleType> argument back into row-major
// matrix rows.
type particlesReader struct {
	entries   []capi.ListEntry
	valid     []uint64
	itemValid []uint64
	kind      scalars[int8]
	floats    [len(particleFloats)]scalars[float32]
	charge    scalars[int8]
	rows      []float32 // scratch: the current row's matrix rows
}

func readParticles(v capi.Vector, n int) *particlesReader {
	p := &particlesReader{entries: capi.Slice[capi.ListEntry](v, n), valid: v.ReadValidity(n)}
	child, size := v.ListChild(), v.ListSize()
	p.itemValid = child.ReadValidity(size)
	p.kind = readScalars[int8](child.StructChild(0), size)
	for f := range p.floats {
		p.floats[f] = readScalars[float32](child.StructChild(1+f), size)
	}
	p.charge = readScalars[int8](child.StructChild(1+len(particleFloats)), size)
	return p
}

// row returns row r's particles as row-major matrix rows and their number;
// ok is false when the list is NULL. A NULL particle or field, an unknown
// kind, or more particles than the matrix holds, is an error.
func (p *particlesReader) row(r int) (m []float32, k int, ok bool, err error) {
	if !capi.IsValid(p.valid, r) {
		return nil, 0, false, nil
	}
	e := p.entries[r]
	k = int(e.Length)
	if k > TopoRows {
		return nil, 0, false, dataErrorf("%d particles, more than the matrix's %d rows", k, TopoRows)
	}
	p.rows = slices.Grow(p.rows[:0], k*TopoColumns)[:k*TopoColumns]
	for i := range k {
		j := int(e.Offset) + i
		if !capi.IsValid(p.itemValid, j) {
			return nil, 0, false, dataErrorf("particle %d is NULL", i+1)
		}
		var v [len(particleFloats)]float64
		for f := range p.floats {
			if !p.floats[f].ok(j) {
				return nil, 0, false, dataErrorf("particle %d: %s is NULL", i+1, particleType.Fields[1+f].Name)
			}
			v[f] = float64(p.floats[f].data[j])
		}
		if !p.kind.ok(j) || !p.charge.ok(j) {
			return nil, 0, false, dataErrorf("particle %d: kind or charge is NULL", i+1)
		}
		kind := p.kind.data[j]
		if kind < 0 || kind >= numKinds {
			return nil, 0, false, dataErrorf("particle %d: kind %d, want 0 to %d", i+1, kind, numKinds-1)
		}
		// The stored values are the matrix's own float32 ones; widened, they
		// give back its derived columns bit for bit (for FLOAT inputs).
		setLLFRow(p.rows[i*TopoColumns:(i+1)*TopoColumns], v[0], v[1], v[2], v[3], v[4], v[5],
			iso{ch: v[6], gamma: v[7], neu: v[8]}, llfIsChargedHadron+int(kind), float64(p.charge.data[j]))
	}
	return p.rows, k, true, nil
}
