package rootscan

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/rntuple"
)

// RNTuples (ROOT's successor of TTree) are read by rootio/rntuple and
// appear through read_root exactly as TTrees do: the same sources, chains,
// `tree := 'name'` naming the RNTuple, the _file and _entry columns,
// projection (only the fields a query names are read) and one unit of
// work per cluster. A file's TTrees take precedence: read_root turns to
// its RNTuples when no TTree answers the call (bindRNTuple), so that
// binding a TTree costs nothing more than before.

// ntupleFile is one file's RNTuple, opened for reading.
type ntupleFile struct {
	path string
	r    *rfile.CountingFile
	nt   *rntuple.NTuple
}

func (f *ntupleFile) Close() error { return f.r.File.Close() }

// openNTuple opens the RNTuple named ntName ("": the only one) of a file.
func openNTuple(name, ntName string, o rfile.SourceOptions) (*ntupleFile, error) {
	cf, err := openRaw(name, o)
	if err != nil {
		return nil, err
	}
	nt, err := rntuple.Open(cf, cf.FileSize, ntName)
	if err != nil {
		cf.File.Close()
		return nil, fmt.Errorf("read_root: %s: %w", name, err)
	}
	return &ntupleFile{path: name, r: cf, nt: nt}, nil
}

// ntuplesIn lists a file's RNTuples, or nil when it cannot say.
func ntuplesIn(name string, o rfile.SourceOptions) []string {
	cf, err := openRaw(name, o)
	if err != nil {
		return nil
	}
	defer cf.File.Close()
	names, _ := rntuple.NTuples(cf, cf.FileSize)
	return names
}

// ntColumn is one top-level field of an RNTuple as a table column.
type ntColumn struct {
	name  string // the field's name, the column's
	field int
	cpp   string // C++ type
	rt    *rntuple.Type
	typ   capi.Type
	why   string // why it cannot be read; "" when it can
}

// ntColumns maps an RNTuple's top-level fields to columns.
func ntColumns(nt *rntuple.NTuple) []ntColumn {
	return ntColumnsNamed(nt, nil)
}

// ntColumnsNamed is ntColumns for the fields named in want (nil: all),
// so that a chain's later files resolve only the fields a query reads.
func ntColumnsNamed(nt *rntuple.NTuple, want map[string]bool) []ntColumn {
	var cols []ntColumn
	for i := range nt.Fields {
		f := &nt.Fields[i]
		if !f.TopLevel() || (want != nil && !want[rfile.SafeText(f.Name)]) {
			continue
		}
		c := ntColumn{name: rfile.SafeText(f.Name), field: i, cpp: rfile.SafeText(f.Type)}
		rt, err := nt.TypeOf(i)
		if err == nil {
			c.rt = rt
			c.typ, err = sqlTypeOf(rt)
		}
		if err != nil {
			c.why = rfile.SafeText(err.Error())
		}
		cols = append(cols, c)
	}
	return cols
}

// sqlTypeOf maps an RNTuple type to DuckDB's: std::map and
// std::unordered_map to MAP (their keys are unique; multimaps, whose keys
// are not, stay lists of STRUCT(_0, _1) pairs, and sets lists), other
// lists to LIST, fixed arrays
// to ARRAY, records to STRUCT, optionals to their value (NULL when empty),
// variants to a STRUCT of their alternatives of which only the active one
// is not NULL.
func sqlTypeOf(t *rntuple.Type) (capi.Type, error) {
	switch t.Kind {
	case rntuple.KindBool:
		return capi.Scalar(capi.Boolean), nil
	case rntuple.KindInt8:
		return capi.Scalar(capi.TinyInt), nil
	case rntuple.KindInt16:
		return capi.Scalar(capi.SmallInt), nil
	case rntuple.KindInt32:
		return capi.Scalar(capi.Integer), nil
	case rntuple.KindInt64:
		return capi.Scalar(capi.BigInt), nil
	case rntuple.KindUint8:
		return capi.Scalar(capi.UTinyInt), nil
	case rntuple.KindUint16:
		return capi.Scalar(capi.USmallInt), nil
	case rntuple.KindUint32:
		return capi.Scalar(capi.UInteger), nil
	case rntuple.KindUint64:
		return capi.Scalar(capi.UBigInt), nil
	case rntuple.KindFloat32:
		return capi.Scalar(capi.Float), nil
	case rntuple.KindFloat64:
		return capi.Scalar(capi.Double), nil
	case rntuple.KindString:
		return capi.Scalar(capi.Varchar), nil
	case rntuple.KindList, rntuple.KindArray, rntuple.KindOptional:
		et, err := sqlTypeOf(t.Elem)
		if err != nil {
			return capi.Type{}, err
		}
		switch t.Kind {
		case rntuple.KindList:
			if rntuple.IsMap(t) {
				return capi.MapOf(et.Fields[0].Type, et.Fields[1].Type), nil
			}
			return capi.ListOf(et), nil
		case rntuple.KindArray:
			return capi.ArrayOf(et, t.Size), nil
		}
		return et, nil
	case rntuple.KindStruct, rntuple.KindVariant:
		if len(t.Members) == 0 {
			return capi.Type{}, fmt.Errorf("%s is an empty record, which has no SQL type (DuckDB has no STRUCT without fields)", typeName(t))
		}
		st := capi.Type{ID: capi.Struct}
		for i, m := range t.Members {
			mt, err := sqlTypeOf(m)
			if err != nil {
				return capi.Type{}, err
			}
			st.Fields = append(st.Fields, capi.Field{Name: t.Names[i], Type: mt})
		}
		return st, nil
	}
	return capi.Type{}, fmt.Errorf("%s has no SQL type", typeName(t))
}

func typeName(t *rntuple.Type) string {
	if t.Name == "" {
		return "an untyped record"
	}
	return t.Name
}

// ntupleTable is a bound read_root call over RNTuples.
type ntupleTable struct {
	names   []string
	ntName  string // the RNTuple's name, as chosen in the first file
	first   *ntupleFile
	cols    []ntColumn // the readable top-level fields
	leftOut []ntColumn
	opts    rfile.SourceOptions
}

// bindRNTuple binds read_root to RNTuples when the first file holds one
// by the name asked for (or the file's only one when no name is given);
// ok is false when it holds none, and the TTree reader's error, treeErr,
// stands; when it holds others, that error names them.
func bindRNTuple(args *capi.BindArgs, treeErr error) (t *ntupleTable, ok bool, err error) {
	src, err := args.Arg(0)
	if err != nil {
		return nil, false, nil
	}
	tree, err := stringArg(args, "tree")
	if err != nil {
		return nil, false, nil
	}
	opts, err := sourceOptions(args)
	if err != nil {
		return nil, false, nil
	}
	names, err := expandSources(src, opts)
	if err != nil {
		return nil, false, nil
	}
	have := ntuplesIn(names[0], opts)
	if len(have) == 0 {
		return nil, false, nil
	}
	if (tree != "" && !slices.Contains(have, tree)) || (tree == "" && len(have) > 1) {
		return nil, true, fmt.Errorf("%w; RNTuples: %s", treeErr, strings.Join(have, ", "))
	}
	if nest, _ := boolArg(args, "nest"); nest {
		return nil, true, errors.New("read_root: nest := true groups TTree branches; an RNTuple's collections are lists of structs already")
	}
	first, err := openNTuple(names[0], tree, opts)
	if err != nil {
		return nil, true, err
	}
	t = &ntupleTable{names: names, ntName: first.nt.Name, first: first, opts: opts}
	if tree != "" {
		t.ntName = tree
	}
	for _, c := range ntColumns(first.nt) {
		if c.why == "" {
			c.why = provenanceClash(c.name)
		}
		if c.why == "" {
			t.cols = append(t.cols, c)
		} else {
			t.leftOut = append(t.leftOut, c)
		}
	}
	return t, true, nil
}

func (t *ntupleTable) leftOutNote() LeftOut {
	l := LeftOut{File: t.names[0], Tree: t.ntName}
	for _, c := range t.leftOut {
		l.Columns = append(l.Columns, Unsupported{Name: c.name, Branch: c.name, RootType: c.cpp, Why: c.why})
	}
	return l
}

func (t *ntupleTable) Close() error {
	if t.first != nil {
		return t.first.Close()
	}
	return nil
}

func (t *ntupleTable) Columns() []capi.Column {
	out := make([]capi.Column, 0, len(t.cols)+2)
	for _, c := range t.cols {
		out = append(out, capi.Column{Name: c.name, Type: c.typ})
	}
	return append(out,
		capi.Column{Name: FileColumn, Type: capi.Scalar(capi.Varchar)},
		capi.Column{Name: EntryColumn, Type: capi.Scalar(capi.BigInt)})
}

func (t *ntupleTable) Cardinality() (int64, bool) {
	return t.first.nt.Entries * int64(len(t.names)), len(t.names) == 1
}

// ntProj is what one output vector holds: a field (index into cols) or a
// provenance column.
type ntProj struct {
	col     int // -1 for none
	virtual string
}

// ntScan hands out the units of the chain's files, the earliest file
// first, one to a thread at a time; files are opened as the threads reach
// them, outside the lock (so that one thread opening a file does not stop
// the others reading theirs), and closed when their last unit is read.
type ntScan struct {
	t    *ntupleTable
	proj []ntProj

	mu      sync.Mutex
	ready   *sync.Cond // a file finished opening, or the scan failed
	files   []*ntScanFile
	claimed int // files [0, claimed) are open or being opened
	opening int // files being opened right now
	lowest  int // files before it have handed out every unit
	err     error
	closed  bool

	cancelled <-chan struct{} // the query's, taken at Start (SourceOptions.queryDone)
}

type ntScanFile struct {
	f      *ntupleFile
	types  []*rntuple.Type // per projection, resolved in this file
	stream []bool          // per projection: read through a Stream (else as an Array)
	owned  bool
	units  []ntUnit
	next   int // next unit to hand out
	active int
}

// ntUnit is the part of a cluster one thread reads at a time: a whole
// cluster, or a slice of one larger than ntUnitEntries, so that a huge
// cluster neither sits in memory whole nor on one thread.
type ntUnit struct {
	cluster  int
	first, n int64 // entries, counted from the cluster's first
}

// ntUnitEntries bounds the entries of a unit. A part that starts or ends
// inside a page decodes that page again in the next part; at a million
// entries a part spans several pages of every column.
var ntUnitEntries int64 = 1 << 20

func (t *ntupleTable) Start(projected []int) (capi.Scan, error) {
	s := &ntScan{t: t, files: make([]*ntScanFile, len(t.names)), claimed: 1, cancelled: t.opts.QueryDone()}
	s.ready = sync.NewCond(&s.mu)
	for _, idx := range projected {
		switch {
		case idx >= 0 && idx < len(t.cols):
			s.proj = append(s.proj, ntProj{col: idx})
		case idx == len(t.cols):
			s.proj = append(s.proj, ntProj{col: -1, virtual: FileColumn})
		case idx == len(t.cols)+1:
			s.proj = append(s.proj, ntProj{col: -1, virtual: EntryColumn})
		default:
			s.proj = append(s.proj, ntProj{col: -1})
		}
	}
	sf, err := s.plan(t.first)
	if err != nil {
		return nil, err
	}
	s.files[0] = sf
	return s, nil
}

// plan resolves the projected fields in file f, checking them against the
// first file's (TChain semantics: the fields a query reads must exist
// with the same type; others may differ).
func (s *ntScan) plan(f *ntupleFile) (*ntScanFile, error) {
	sf := &ntScanFile{f: f, owned: f != s.t.first, types: make([]*rntuple.Type, len(s.proj)), stream: make([]bool, len(s.proj))}
	defer func() {
		for i, t := range sf.types {
			sf.stream[i] = t != nil && rntuple.Streamable(t)
		}
	}()
	for ci, c := range f.nt.Clusters {
		for first := int64(0); first < c.Entries; first += ntUnitEntries {
			sf.units = append(sf.units, ntUnit{cluster: ci, first: first, n: min(ntUnitEntries, c.Entries-first)})
		}
	}
	var byName map[string]ntColumn
	if f != s.t.first {
		byName = map[string]ntColumn{}
		want := map[string]bool{}
		for _, p := range s.proj {
			if p.col >= 0 {
				want[s.t.cols[p.col].name] = true
			}
		}
		for _, c := range ntColumnsNamed(f.nt, want) {
			byName[c.name] = c
		}
	}
	for i, p := range s.proj {
		if p.col < 0 {
			continue
		}
		c := s.t.cols[p.col]
		if byName == nil {
			sf.types[i] = c.rt
			continue
		}
		other, ok := byName[c.name]
		switch {
		case !ok:
			return nil, fmt.Errorf("read_root: %s: field %q (in %s) is missing", f.path, c.name, s.t.names[0])
		case other.why != "" || other.typ.String() != c.typ.String():
			return nil, fmt.Errorf("read_root: %s: field %q is %s (%s), but %s in %s", f.path, c.name, other.typ, other.cpp, c.typ, s.t.names[0])
		}
		sf.types[i] = other.rt
	}
	return sf, nil
}

func (s *ntScan) MaxThreads() int {
	return max(1, len(s.files[0].units)) * len(s.t.names)
}

func (s *ntScan) NewWorker() (capi.Worker, error) { return &ntWorker{s: s}, nil }

// take finishes the caller's unit of file done (nil: none) and returns
// the next unit to read; sf is nil when none is left.
func (s *ntScan) take(done *ntScanFile) (sf *ntScanFile, u ntUnit, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if done != nil {
		done.active--
		s.closeIfDone(done)
	}
	for {
		if s.err != nil {
			return nil, ntUnit{}, s.err
		}
		// A unit of a file already open, the earliest first.
		for i := s.lowest; i < s.claimed; i++ {
			sf := s.files[i]
			if sf == nil {
				continue // being opened
			}
			if sf.next < len(sf.units) {
				sf.next++
				sf.active++
				return sf, sf.units[sf.next-1], nil
			}
			if i == s.lowest {
				s.lowest++
			}
		}
		if s.claimed < len(s.files) {
			// DuckDB checks for an interrupt only between task quanta: the
			// scan stops at the next file itself.
			if err := cancelledErr(s.cancelled); err != nil {
				s.err = err
				continue
			}
			fi := s.claimed
			s.claimed++
			s.opening++
			s.mu.Unlock()
			f, err := openNTuple(s.t.names[fi], s.t.ntName, s.t.opts)
			var sf *ntScanFile
			if err == nil {
				if sf, err = s.plan(f); err != nil {
					f.Close()
				}
			}
			s.mu.Lock()
			s.opening--
			s.ready.Broadcast()
			switch {
			case err != nil:
				if s.err == nil {
					s.err = err
				}
			case s.closed:
				sf.f.Close()
				sf.f = nil
			default:
				s.files[fi] = sf
				s.closeIfDone(sf)
			}
			continue
		}
		if s.opening == 0 {
			return nil, ntUnit{}, nil
		}
		s.ready.Wait() // for another thread's file, which may bring units
	}
}

func (s *ntScan) closeIfDone(sf *ntScanFile) {
	if sf.owned && sf.f != nil && sf.next == len(sf.units) && sf.active == 0 {
		sf.f.Close()
		sf.f = nil
	}
}

func (s *ntScan) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for _, sf := range s.files {
		if sf != nil && sf.owned && sf.f != nil {
			errs = append(errs, sf.f.Close())
			sf.f = nil
		}
	}
	return errors.Join(errs...)
}

// ntWorker reads one unit at a time and hands it to DuckDB in chunks.
// Fields a Stream can read (numbers, strings, lists, arrays and records of
// them: all of a NanoAOD) are decoded chunk by chunk straight into the
// chunk's vectors at their own width; the others (optionals, variants,
// maps, cardinalities, bitsets) are read as a whole unit's Array first,
// then written to the vectors chunk by chunk.
type ntWorker struct {
	s        *ntScan
	sf       *ntScanFile
	path     string
	first    int64 // the unit's first entry in the file
	arrays   []rntuple.Array
	streams  []*rntuple.Stream // per projection: the unit's Stream, or nil
	streamed []*rntuple.Type   // per projection: the type of a streamed field, or nil
	pos, n   int
	scratch  writeScratch
}

// closeStreams hands the unit's Streams' page buffers back.
func (w *ntWorker) closeStreams() {
	for _, st := range w.streams {
		st.Close()
	}
	w.streams = nil
}

func (w *ntWorker) Fill(out capi.Chunk) (int, error) {
	for w.sf == nil || w.pos >= w.n {
		w.closeStreams()
		sf, u, err := w.s.take(w.sf)
		w.sf = nil
		if err != nil || sf == nil {
			return 0, err
		}
		w.sf, w.path = sf, sf.f.path
		w.first, w.pos, w.n = sf.f.nt.Clusters[u.cluster].FirstEntry+u.first, 0, int(u.n)
		if w.arrays == nil {
			w.arrays = make([]rntuple.Array, len(w.s.proj))
			w.streamed = make([]*rntuple.Type, len(w.s.proj))
		}
		// The streamed fields side by side, so that they share pages
		// stored alike (a NanoAOD's collections' index columns).
		for i, t := range sf.types {
			w.streamed[i] = nil
			if sf.stream[i] {
				w.streamed[i] = t
			}
		}
		if w.streams, err = sf.f.nt.NewStreams(w.streamed, u.cluster, u.first); err != nil {
			return 0, fmt.Errorf("read_root: %s: RNTuple %q: %w", sf.f.path, sf.f.nt.Name, err)
		}
		for i, t := range sf.types {
			if t == nil || sf.stream[i] {
				continue
			}
			// The previous unit's arrays have been written to DuckDB:
			// their memory takes this unit's values.
			a, err := sf.f.nt.ReadRangeInto(t, u.cluster, u.first, u.n, &w.arrays[i])
			if err != nil {
				return 0, fmt.Errorf("read_root: %s: RNTuple %q: %w", sf.f.path, sf.f.nt.Name, err)
			}
			w.arrays[i] = a
		}
	}
	n := min(capi.VectorSize, w.n-w.pos)
	for i, p := range w.s.proj {
		v := out.Vector(i)
		switch {
		case p.col >= 0 && w.streams != nil && w.streams[i] != nil:
			if err := w.scratch.stream(v, w.streams[i], n, 0); err != nil {
				return 0, fmt.Errorf("read_root: %s: field %q, entries %d+%d: %w", w.path, w.s.t.cols[p.col].name, w.first+int64(w.pos), n, err)
			}
		case p.col >= 0:
			if err := w.scratch.write(v, &w.arrays[i], rows{lo: w.pos, n: n}, 0); err != nil {
				return 0, fmt.Errorf("read_root: %s: field %q: %w", w.path, w.s.t.cols[p.col].name, err)
			}
		case p.virtual == FileColumn:
			v.SetConstantString(w.path)
		case p.virtual == EntryColumn:
			d := capi.Slice[int64](v, n)
			for r := range d {
				d[r] = w.first + int64(w.pos+r)
			}
		}
	}
	w.pos += n
	return n, nil
}

// writeScratch holds the buffers a worker reuses from chunk to chunk.
type writeScratch struct {
	data []byte
	ends []uint64
	lens []uint64
}

// stream reads the next n values of st into vector v's rows at, at+1,
// ...: leaves decoded into the vector's memory at their width, lists and
// strings through their lengths, records member by member.
func (s *writeScratch) stream(v capi.Vector, st *rntuple.Stream, n, at int) error {
	if n == 0 {
		return nil
	}
	end := at + n
	switch st.Type.Kind {
	case rntuple.KindBool:
		return st.ReadBools(capi.Slice[bool](v, end)[at:])
	case rntuple.KindInt8:
		return rntuple.ReadValues(st, capi.Slice[int8](v, end)[at:])
	case rntuple.KindInt16:
		return rntuple.ReadValues(st, capi.Slice[int16](v, end)[at:])
	case rntuple.KindInt32:
		return rntuple.ReadValues(st, capi.Slice[int32](v, end)[at:])
	case rntuple.KindInt64:
		return rntuple.ReadValues(st, capi.Slice[int64](v, end)[at:])
	case rntuple.KindUint8:
		return rntuple.ReadValues(st, capi.Slice[uint8](v, end)[at:])
	case rntuple.KindUint16:
		return rntuple.ReadValues(st, capi.Slice[uint16](v, end)[at:])
	case rntuple.KindUint32:
		return rntuple.ReadValues(st, capi.Slice[uint32](v, end)[at:])
	case rntuple.KindUint64:
		return rntuple.ReadValues(st, capi.Slice[uint64](v, end)[at:])
	case rntuple.KindFloat32:
		return rntuple.ReadValues(st, capi.Slice[float32](v, end)[at:])
	case rntuple.KindFloat64:
		return rntuple.ReadValues(st, capi.Slice[float64](v, end)[at:])
	case rntuple.KindString:
		lens := s.lengths(n)
		items, err := st.ReadLengths(lens)
		if err != nil {
			return err
		}
		// The characters a piece at a time: a hostile length fails at
		// the page that is not there, before it is allocated.
		s.data = s.data[:0]
		for done := 0; done < items; {
			k := min(items-done, streamPiece)
			s.data = slices.Grow(s.data, k)[:done+k]
			if err := st.ReadChars(s.data[done:]); err != nil {
				return err
			}
			done += k
		}
		// lens becomes the strings' ends, in place.
		var e uint64
		for k, l := range lens {
			e += l
			lens[k] = e
		}
		v.AssignStrings(at, s.data, lens)
		return nil
	case rntuple.KindList:
		lens := s.lengths(n)
		items, err := st.ReadLengths(lens)
		if err != nil {
			return err
		}
		base := v.ListSize()
		entries := capi.Slice[capi.ListEntry](v, end)[at:]
		off := uint64(base)
		for k, l := range lens {
			entries[k] = capi.ListEntry{Offset: off, Length: l}
			off += l
		}
		// lens is free again: the items' own lists may use it. The items
		// are reserved and read a piece at a time, so that a hostile
		// length fails at the page that is not there before DuckDB
		// allocates for it.
		for done := 0; done < items; {
			k := min(items-done, streamPiece)
			if err := v.ListReserve(base + done + k); err != nil {
				return err
			}
			if err := s.stream(v.ListChild(), st.Children[0], k, base+done); err != nil {
				return err
			}
			done += k
		}
		return v.ListSetSize(base + items)
	case rntuple.KindArray:
		size := st.Type.Size
		return s.stream(v.ArrayChild(), st.Children[0], n*size, at*size)
	case rntuple.KindStruct:
		for m, c := range st.Children {
			if err := s.stream(v.StructChild(m), c, n, at); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("no SQL reader for %s", typeName(st.Type))
}

// streamPiece bounds the items of a list, or characters of strings, that
// are allocated before they are read.
var streamPiece = 1 << 16

// lengths is the scratch of n lengths of a list or string.
func (s *writeScratch) lengths(n int) []uint64 {
	s.lens = slices.Grow(s.lens[:0], n)[:n]
	return s.lens
}

// rows are the rows of an Array to write: lo, lo+1, ..., lo+n-1 when idx
// is nil (a whole unit, a list's items: the common case, copied without
// an index), else idx (optionals' and variants' items).
type rows struct {
	lo, n int
	idx   []int
}

func (r rows) at(k int) int {
	if r.idx == nil {
		return r.lo + k
	}
	return r.idx[k]
}

// write stores the values of a at rows rs into vector v's rows at,
// at+1, ...: leaves converted to the column's width, lists through their
// child vector, records member by member.
func (s *writeScratch) write(v capi.Vector, a *rntuple.Array, rs rows, at int) error {
	n := at + rs.n
	switch a.Type.Kind {
	case rntuple.KindBool:
		d := capi.Slice[bool](v, n)[at:]
		for k := range rs.n {
			d[k] = a.Bools[rs.at(k)]
		}
	case rntuple.KindInt8:
		putInts(capi.Slice[int8](v, n)[at:], a.Ints, rs)
	case rntuple.KindInt16:
		putInts(capi.Slice[int16](v, n)[at:], a.Ints, rs)
	case rntuple.KindInt32:
		putInts(capi.Slice[int32](v, n)[at:], a.Ints, rs)
	case rntuple.KindInt64:
		putInts(capi.Slice[int64](v, n)[at:], a.Ints, rs)
	case rntuple.KindUint8:
		putInts(capi.Slice[uint8](v, n)[at:], a.Uints, rs)
	case rntuple.KindUint16:
		putInts(capi.Slice[uint16](v, n)[at:], a.Uints, rs)
	case rntuple.KindUint32:
		putInts(capi.Slice[uint32](v, n)[at:], a.Uints, rs)
	case rntuple.KindUint64:
		putInts(capi.Slice[uint64](v, n)[at:], a.Uints, rs)
	case rntuple.KindFloat32:
		d := capi.Slice[float32](v, n)[at:]
		if rs.idx == nil {
			for k, f := range a.Floats[rs.lo : rs.lo+rs.n] {
				d[k] = float32(f)
			}
			break
		}
		for k, i := range rs.idx {
			d[k] = float32(a.Floats[i])
		}
	case rntuple.KindFloat64:
		d := capi.Slice[float64](v, n)[at:]
		if rs.idx == nil {
			copy(d, a.Floats[rs.lo:rs.lo+rs.n])
			break
		}
		for k, i := range rs.idx {
			d[k] = a.Floats[i]
		}
	case rntuple.KindString:
		s.data, s.ends = s.data[:0], s.ends[:0]
		for k := range rs.n {
			s.data = append(s.data, a.Strings[rs.at(k)]...)
			s.ends = append(s.ends, uint64(len(s.data)))
		}
		v.AssignStrings(at, s.data, s.ends)
	case rntuple.KindList:
		base := v.ListSize()
		var child rows
		if rs.idx == nil {
			lo, hi := a.Offsets[rs.lo], a.Offsets[rs.lo+rs.n]
			child = rows{lo: int(lo), n: int(hi - lo)}
		} else {
			for _, i := range rs.idx {
				for k := a.Offsets[i]; k < a.Offsets[i+1]; k++ {
					child.idx = append(child.idx, int(k))
				}
			}
			child.n = len(child.idx)
		}
		if err := v.ListReserve(base + child.n); err != nil {
			return err
		}
		entries := capi.Slice[capi.ListEntry](v, n)[at:]
		off := base
		for k := range rs.n {
			i := rs.at(k)
			l := int(a.Offsets[i+1] - a.Offsets[i])
			entries[k] = capi.ListEntry{Offset: uint64(off), Length: uint64(l)}
			off += l
		}
		if err := s.write(v.ListChild(), &a.Children[0], child, base); err != nil {
			return err
		}
		return v.ListSetSize(base + child.n)
	case rntuple.KindArray:
		size := a.Type.Size
		child := rows{lo: rs.lo * size, n: rs.n * size}
		if rs.idx != nil {
			child.idx = make([]int, 0, rs.n*size)
			for _, i := range rs.idx {
				for k := range size {
					child.idx = append(child.idx, i*size+k)
				}
			}
		}
		return s.write(v.ArrayChild(), &a.Children[0], child, at*size)
	case rntuple.KindOptional:
		for k := range rs.n {
			i := rs.at(k)
			if a.Offsets[i+1] == a.Offsets[i] {
				v.SetNull(at + k)
				continue
			}
			if err := s.write(v, &a.Children[0], rows{lo: int(a.Offsets[i]), n: 1}, at+k); err != nil {
				return err
			}
		}
	case rntuple.KindStruct:
		for m := range a.Children {
			if err := s.write(v.StructChild(m), &a.Children[m], rs, at); err != nil {
				return err
			}
		}
	case rntuple.KindVariant:
		for k := range rs.n {
			i := rs.at(k)
			tag := int(a.Tags[i])
			if tag == 0 {
				v.SetNull(at + k)
			}
			for m := range a.Children {
				cv := v.StructChild(m)
				if m+1 != tag {
					cv.SetNull(at + k)
					continue
				}
				if err := s.write(cv, &a.Children[m], rows{lo: int(a.Index[i]), n: 1}, at+k); err != nil {
					return err
				}
			}
		}
	default:
		return fmt.Errorf("no SQL writer for %s", typeName(a.Type))
	}
	return nil
}

func putInts[D int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64, S int64 | uint64](d []D, src []S, rs rows) {
	if rs.idx == nil {
		for k, v := range src[rs.lo : rs.lo+rs.n] {
			d[k] = D(v)
		}
		return
	}
	for k, i := range rs.idx {
		d[k] = D(src[i])
	}
}

// rntupleTrees lists a file's RNTuples for root_trees.
func rntupleTrees(name string, o rfile.SourceOptions) ([][]any, error) {
	var rows [][]any
	for _, n := range ntuplesIn(name, o) {
		f, err := openNTuple(name, n, o)
		if err != nil {
			return nil, err
		}
		rows = append(rows, []any{name, rfile.SafeText(n), rfile.SafeText(f.nt.Description), f.nt.Entries, int64(len(ntColumns(f.nt))), "RNTuple"})
		f.Close()
	}
	return rows, nil
}

// rntupleBranches describes an RNTuple's top-level fields for
// root_branches, or ok false when the file has no RNTuple by that name.
func rntupleBranches(name, tree string, o rfile.SourceOptions) (rows [][]any, ok bool, err error) {
	have := ntuplesIn(name, o)
	if len(have) == 0 || (tree != "" && !slices.Contains(have, tree)) || (tree == "" && len(have) > 1) {
		return nil, false, nil
	}
	f, err := openNTuple(name, tree, o)
	if err != nil {
		return nil, true, err
	}
	defer f.Close()
	nt := f.nt
	for _, c := range ntColumns(nt) {
		zip, unzip, pages, comp := fieldBytes(nt, c.field)
		if c.why == "" {
			c.why = provenanceClash(c.name)
		}
		sqlType := ""
		if c.why == "" {
			sqlType = c.typ.String()
		}
		rows = append(rows, []any{name, rfile.SafeText(nt.Name), c.name, c.name, c.cpp, sqlType,
			zip, unzip, pages, comp, c.why == "", c.why})
	}
	return rows, true, nil
}

// fieldBytes sums the pages of a field and its subfields: stored and
// uncompressed bytes, page count, and the compression of its first page
// range ("none" when stored uncompressed).
func fieldBytes(nt *rntuple.NTuple, id int) (zip, unzip, pages int64, comp string) {
	comp = "none"
	var visit func(id, depth int)
	visit = func(id, depth int) {
		if depth > 64 {
			return
		}
		f := &nt.Fields[id]
		if !f.Projected() {
			for _, col := range f.Columns {
				z, u, p, c := nt.ColumnBytes(col)
				zip, unzip, pages = zip+z, unzip+u, pages+p
				if c >= 0 && comp == "none" && c%100 != 0 {
					comp = compressionName(int(c))
				}
			}
		}
		for _, ch := range f.Children {
			visit(ch, depth+1)
		}
	}
	visit(id, 0)
	return zip, unzip, pages, strings.TrimSpace(comp)
}
