package rntuple

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hepsql/hepsql/rootio/compress"
	"github.com/zeebo/xxh3"
)

// A Writer writes one RNTuple (format 1.0.0.0) in a new ROOT file: the
// fields of a schema given as Types, then values given as Arrays shaped
// as the reader returns them, appended (Append) a chunk at a time and cut
// into clusters (CommitCluster; WriteCluster does both). As in ROOT, each
// column's open page is sealed, encoded and compressed, as it fills (see
// wpage.go): a cluster waits compressed. Pages, page lists and the
// header and footer are RBlob keys; the anchor is a ROOT::RNTuple key in
// the top directory. Columns use ROOT's default encodings: split (and
// zigzag, delta) when compressing, plain when not, Bit for booleans, and
// 64-bit indexes.
type Writer struct {
	w      io.WriterAt
	pos    int64 // the file's end
	name   string
	opts   WriteOptions
	fields []wfield
	cols   []wcol
	tops   []int // top-level field ids, in schema order
	types  []*Type

	clusters []wcluster   // of the current group
	pending  [][]wcluster // groups whose page lists wait for the header (deferred)
	groups   []wgroup
	// deferred: some field is Nullable, so the schema (and with it the
	// header and the page lists, which carry its checksum) is known only
	// at Close.
	deferred bool
	maxKey   int64
	// fileName and dirReserve: the top directory's name, and the room
	// its key takes before the first RBlob.
	fileName   string
	dirReserve int
	// varCounts: per variant's Switch column, the items of each
	// alternative written in the current cluster.
	varCounts  map[int][]int64
	fieldID    []int    // the header's id of each field, -1 if left out
	finalNames []string // the C++ type name of each field, as written
	colID      []int    // the header's id of each column, -1 if left out
	entries    int64
	hdrSum     uint64
	hdrLoc     Locator
	hdrLen     int64
	blobs      int
	closed     bool
	// unzippedEst: the uncompressed bytes of a cluster expected to
	// compress to ClusterSize (see ClusterFull).
	unzippedEst int64
	// appended: the entries appended since the last cluster was written.
	appended int64
	scratch  []uint64 // index values on their way to a column
	enc      []byte   // a page being encoded
}

// WriteOptions are a Writer's settings.
type WriteOptions struct {
	// Compression is ROOT's setting, algorithm*100 + level: 505 (zstd,
	// ROOT's default), 101–109 zlib, 201–209 lzma, 401–409 lz4; 0 stores
	// pages uncompressed.
	Compression int
	// PageSize is the uncompressed bytes a page holds (default
	// DefaultPageSize, ROOT's 1 MiB): a column's pages hold PageSize/width
	// elements, at least one (see sizing.go).
	PageSize int64
	// PageElements, if set, also bounds the elements of a page.
	PageElements int
	// ClusterSize is the approximate compressed bytes of a cluster
	// (default DefaultClusterSize, ROOT's 128 MiB) and
	// MaxUnzippedClusterSize the most uncompressed bytes it may gather
	// (default MaxUnzippedClusterFactor × ClusterSize, as ROOT's):
	// ClusterFull tells a caller gathering rows when to write a cluster.
	ClusterSize, MaxUnzippedClusterSize int64
	// ClustersPerGroup starts a new cluster group (and page list) after
	// that many clusters (default: one group).
	ClustersPerGroup int
	// NoPageChecksums leaves out the XXH3 after each page.
	NoPageChecksums bool
	// MaxKeySize is the anchor's maximum key size (default ROOT's, 1 GiB):
	// a page or envelope stored larger is split over several RBlob keys,
	// as ROOT splits it.
	MaxKeySize int64
	// FileName is the name the file's top directory records (ROOT
	// records the path it was opened with); default "rntuple.root".
	FileName string
	// Nullable marks top-level fields that may hold no value: their type
	// must be KindOptional, and they are stored as std::optional<T> if
	// some entry is absent, as plain T otherwise, as an optional type
	// with Elide set is at any depth (the choice is made at Close, so the
	// header is then written after the pages: the format sets no order).
	// Without such fields the header comes first, as ROOT writes it.
	Nullable []bool
}

type wfield struct {
	parent         int
	role, flags    uint16
	name, typeName string
	arraySize      uint64
	elide          bool // a Nullable wrapper, dropped if no entry is absent
	sawNull        bool
}

type wcol struct {
	typ   uint16
	bits  uint16
	field int
	l     colLayout
	per   int // elements a page holds (pageElements)
	// page: the open page's n elements at the column's width (see
	// wpage.go); sealed: the current cluster's finished pages.
	page   []byte
	n      int
	sealed []sealedPage
	// clusterN: the elements of the current cluster (sealed and open);
	// last: the last value appended (an index column's running offset).
	clusterN int64
	last     uint64
	first    int64 // elements in earlier clusters
	// implicit (implicitN entries): the current cluster's values all
	// are present, so this
	// (elidable) optional's index column has no pages yet: they are
	// made at Close if the field turns out to need them.
	implicit  bool
	implicitN int64
}

type wpage struct {
	n   int64
	loc Locator
	sum bool
}

type wcluster struct {
	first, entries int64
	pages          [][]wpage // per column
	offsets        []int64   // per column: first element
	implicit       []int64   // per column: elements of the index pages made at Close (see wcol.implicit)
}

type wgroup struct {
	minEntry, span int64
	clusters       int
	length         int64
	loc            Locator
}

// NewWriter starts a ROOT file on w holding one RNTuple named name with
// one top-level field per name and type.
func NewWriter(w io.WriterAt, name string, names []string, types []*Type, opts WriteOptions) (*Writer, error) {
	if len(names) != len(types) {
		return nil, errors.New("rntuple: as many names as types")
	}
	if opts.PageSize == 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.ClusterSize == 0 {
		opts.ClusterSize = DefaultClusterSize
	}
	if opts.MaxUnzippedClusterSize == 0 {
		opts.MaxUnzippedClusterSize = MaxUnzippedClusterFactor * opts.ClusterSize
	}
	switch {
	case opts.PageSize < 1 || opts.PageSize > maxPage:
		return nil, fmt.Errorf("rntuple: page size %d bytes (1 to %d)", opts.PageSize, int64(maxPage))
	case opts.ClusterSize < 1 || opts.ClusterSize > 1<<40:
		return nil, fmt.Errorf("rntuple: cluster size %d bytes (1 to 2^40)", opts.ClusterSize)
	case opts.MaxUnzippedClusterSize < opts.ClusterSize:
		return nil, fmt.Errorf("rntuple: maximum uncompressed cluster size %d below the cluster size %d", opts.MaxUnzippedClusterSize, opts.ClusterSize)
	case opts.PageElements < 0:
		return nil, fmt.Errorf("rntuple: page elements %d (at least 1)", opts.PageElements)
	}
	if _, err := compress.Compress(opts.Compression, []byte("probe the settings")); err != nil {
		return nil, fmt.Errorf("rntuple: compression %d: %w", opts.Compression, err)
	}
	if len(opts.Nullable) > len(types) {
		return nil, errors.New("rntuple: more Nullable flags than fields")
	}
	if opts.MaxKeySize == 0 {
		opts.MaxKeySize = defaultMaxKey
	}
	if opts.MaxKeySize < 64 {
		return nil, fmt.Errorf("rntuple: maximum key size %d (at least 64 bytes)", opts.MaxKeySize)
	}
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("rntuple: %w", err)
	}
	// The top directory's key records the file's name twice: room for it.
	if opts.FileName == "" {
		opts.FileName = fileName
	}
	if len(opts.FileName) > 200 || strings.ContainsFunc(opts.FileName, unicode.IsControl) {
		return nil, fmt.Errorf("rntuple: file name %q (at most 200 bytes, no control codes)", opts.FileName)
	}
	reserve := dirKeyReserve + 3*max(0, len(opts.FileName)-64)
	wr := &Writer{w: w, name: name, opts: opts, pos: int64(fileBegin + reserve), maxKey: opts.MaxKeySize, fileName: opts.FileName, dirReserve: reserve}
	// ROOT's first estimate: a compression factor of 2 if compressing.
	wr.unzippedEst = opts.ClusterSize
	if opts.Compression != 0 {
		wr.unzippedEst = min(2*opts.ClusterSize, opts.MaxUnzippedClusterSize)
	}
	for i, t := range types {
		id := len(wr.fields)
		wr.tops = append(wr.tops, id)
		if err := wr.addField(names[i], t, id, 0); err != nil {
			return nil, err
		}
		if i < len(opts.Nullable) && opts.Nullable[i] {
			if t.Kind != KindOptional {
				return nil, fmt.Errorf("rntuple: field %q: Nullable needs an optional type", names[i])
			}
			wr.fields[id].elide = true
			wr.deferred = true
		}
	}
	for _, f := range wr.fields {
		wr.deferred = wr.deferred || f.elide
	}
	wr.types = types
	return wr, nil
}

// isWrapper reports whether a leaf type is written as an enum or a
// std::atomic: a field of its own C++ name over a child _0 of the
// underlying type (an integer type named other than a standard integer
// is an enum's, as the reader returns it).
func isWrapper(t *Type) bool {
	if strings.HasPrefix(t.Name, "std::atomic<") {
		return t.Kind <= KindFloat64
	}
	switch t.Kind {
	case KindInt8, KindInt16, KindInt32, KindInt64, KindUint8, KindUint16, KindUint32, KindUint64:
		_, std := leafKinds[t.Name]
		return t.Name != "" && !std
	}
	return false
}

// ValidName checks an RNTuple's or a field's name against the
// specification's naming rules: not empty, UTF-8, no control codes, no
// full stop, space, backslash or slash.
func ValidName(name string) error {
	if name == "" {
		return errors.New("an empty name")
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("name %q is not UTF-8", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || strings.ContainsRune(". \\/", r) {
			return fmt.Errorf("name %q holds %q, which RNTuple names may not (no control codes, '.', ' ', '\\' or '/')", name, r)
		}
	}
	return nil
}

// cppName is the C++ type name RNTuple stores for a logical type.
func cppName(t *Type) (string, error) {
	if isWrapper(t) {
		return t.Name, nil
	}
	switch t.Kind {
	case KindList, KindOptional, KindArray:
		e, err := cppName(t.Elem)
		if err != nil {
			return "", err
		}
		switch t.Kind {
		case KindList:
			// Associative containers and sets are collections too; their
			// name comes from the type's, their arguments from the items
			// (a map's are std::pair<K,V>).
			for _, c := range []string{"std::map<", "std::unordered_map<", "std::multimap<", "std::unordered_multimap<"} {
				if strings.HasPrefix(t.Name, c) {
					if !strings.HasPrefix(e, "std::pair<") {
						return "", fmt.Errorf("rntuple: %s items must be std::pair, not %s", c+"...>", e)
					}
					return c + strings.TrimSuffix(strings.TrimPrefix(e, "std::pair<"), ">") + ">", nil
				}
			}
			for _, c := range []string{"std::set<", "std::unordered_set<", "std::multiset<", "std::unordered_multiset<"} {
				if strings.HasPrefix(t.Name, c) {
					return c + e + ">", nil
				}
			}
			return "std::vector<" + e + ">", nil
		case KindOptional:
			return "std::optional<" + e + ">", nil
		}
		return "std::array<" + e + "," + strconv.Itoa(t.Size) + ">", nil
	case KindStruct:
		if strings.HasPrefix(t.Name, "std::pair<") {
			if len(t.Members) != 2 || t.Names[0] != "_0" || t.Names[1] != "_1" {
				return "", errors.New("rntuple: a std::pair has two members, _0 and _1")
			}
			k, err := cppName(t.Members[0])
			if err != nil {
				return "", err
			}
			v, err := cppName(t.Members[1])
			if err != nil {
				return "", err
			}
			return "std::pair<" + k + "," + v + ">", nil
		}
		return t.Name, nil
	case KindVariant:
		s := "std::variant<"
		for i, m := range t.Members {
			e, err := cppName(m)
			if err != nil {
				return "", err
			}
			if i > 0 {
				s += ","
			}
			s += e
		}
		return s + ">", nil
	}
	for name, k := range map[string]Kind{"bool": KindBool, "std::int8_t": KindInt8, "std::int16_t": KindInt16,
		"std::int32_t": KindInt32, "std::int64_t": KindInt64, "std::uint8_t": KindUint8, "std::uint16_t": KindUint16,
		"std::uint32_t": KindUint32, "std::uint64_t": KindUint64, "float": KindFloat32, "double": KindFloat64, "std::string": KindString} {
		if k == t.Kind {
			return name, nil
		}
	}
	return "", fmt.Errorf("rntuple: no C++ type for kind %d", t.Kind)
}

// leafColumn is the column type a leaf kind is written with.
func (wr *Writer) leafColumn(k Kind) (uint16, uint16) {
	split := wr.opts.Compression%100 != 0
	pick := func(plain, sp uint16) uint16 {
		if split {
			return sp
		}
		return plain
	}
	switch k {
	case KindBool:
		return ColBit, 1
	case KindInt8:
		return ColInt8, 8
	case KindUint8:
		return ColUInt8, 8
	case KindInt16:
		return pick(ColInt16, ColSplitInt16), 16
	case KindUint16:
		return pick(ColUInt16, ColSplitUInt16), 16
	case KindInt32:
		return pick(ColInt32, ColSplitInt32), 32
	case KindUint32:
		return pick(ColUInt32, ColSplitUInt32), 32
	case KindInt64:
		return pick(ColInt64, ColSplitInt64), 64
	case KindUint64:
		return pick(ColUInt64, ColSplitUInt64), 64
	case KindFloat32:
		return pick(ColReal32, ColSplitReal32), 32
	case KindFloat64:
		return pick(ColReal64, ColSplitReal64), 64
	}
	return pick(ColIndex64, ColSplitIndex64), 64 // offsets
}

func (wr *Writer) addColumn(field int, typ, bits uint16) {
	c := wcol{typ: typ, bits: bits, field: field}
	c.l, _ = layoutOf(&Column{Type: typ, Bits: bits})
	c.per = wr.pageElements(&c)
	wr.cols = append(wr.cols, c)
}

// addField appends field id (and its subfields) for type t.
func (wr *Writer) addField(name string, t *Type, parent, depth int) error {
	if depth > maxNesting {
		return errors.New("rntuple: types nested too deep")
	}
	if err := ValidName(name); err != nil {
		return fmt.Errorf("rntuple: field: %w", err)
	}
	typeName, err := cppName(t)
	if err != nil {
		return err
	}
	id := len(wr.fields)
	f := wfield{parent: parent, name: name, typeName: typeName}
	if isWrapper(t) { // no columns; the value is its child's
		wr.fields = append(wr.fields, f)
		inner := *t
		inner.Name = ""
		return wr.addField("_0", &inner, id, depth+1)
	}
	switch t.Kind {
	case KindList, KindOptional:
		f.role = RoleCollection
		f.elide = t.Kind == KindOptional && t.Elide
	case KindArray:
		f.role, f.flags, f.arraySize = RoleLeaf, flagRepetitive, uint64(t.Size)
	case KindStruct:
		f.role = RoleRecord
	case KindVariant:
		f.role = RoleVariant
	}
	wr.fields = append(wr.fields, f)
	switch t.Kind {
	case KindString:
		typ, bits := wr.leafColumn(-1)
		wr.addColumn(id, typ, bits)
		wr.addColumn(id, ColChar, 8)
	case KindList, KindOptional:
		typ, bits := wr.leafColumn(-1)
		wr.addColumn(id, typ, bits)
		return wr.addField("_0", t.Elem, id, depth+1)
	case KindArray:
		return wr.addField("_0", t.Elem, id, depth+1)
	case KindStruct:
		if len(t.Names) != len(t.Members) {
			return errors.New("rntuple: a struct type needs a name per member")
		}
		for i, m := range t.Members {
			if err := wr.addField(t.Names[i], m, id, depth+1); err != nil {
				return err
			}
		}
	case KindVariant:
		if len(t.Members) == 0 || len(t.Members) > 125 {
			return fmt.Errorf("rntuple: a variant of %d alternatives (1 to 125)", len(t.Members))
		}
		wr.addColumn(id, ColSwitch, 96)
		for k, m := range t.Members {
			if err := wr.addField("_"+strconv.Itoa(k), m, id, depth+1); err != nil {
				return err
			}
		}
	default:
		typ, bits := wr.leafColumn(t.Kind)
		wr.addColumn(id, typ, bits)
	}
	return nil
}

// WriteCluster appends one cluster: one Array per top-level field, all
// of the same length, shaped as the reader returns them. It is Append
// then CommitCluster.
func (wr *Writer) WriteCluster(arrays []Array) error {
	if err := wr.Append(arrays); err != nil {
		return err
	}
	return wr.CommitCluster()
}

// Append adds entries to the current cluster: one Array per top-level
// field, all of the same length, shaped as the reader returns them. The
// values go into the columns' open pages, which are sealed (encoded and
// compressed) as they fill; the arrays may be reused once it returns.
func (wr *Writer) Append(arrays []Array) error {
	if wr.closed {
		return errors.New("rntuple: writer closed")
	}
	if len(arrays) != len(wr.tops) {
		return fmt.Errorf("rntuple: %d arrays for %d fields", len(arrays), len(wr.tops))
	}
	n := -1
	for i := range arrays {
		if n >= 0 && arrays[i].Len != n {
			return fmt.Errorf("rntuple: field %q has %d entries, the others %d", wr.fields[wr.tops[i]].name, arrays[i].Len, n)
		}
		n = arrays[i].Len
	}
	if n <= 0 {
		return nil
	}
	if wr.hdrLen == 0 && !wr.deferred {
		if err := wr.writeHeader(); err != nil {
			return err
		}
	}
	col := 0
	for i := range arrays {
		next, err := wr.collect(&arrays[i], wr.types[i], col, 0, arrays[i].Len)
		if err != nil {
			return fmt.Errorf("rntuple: field %q: %w", wr.fields[wr.tops[i]].name, err)
		}
		col = next
	}
	wr.appended += int64(n)
	return nil
}

// Pending is the number of entries appended since the last cluster was
// written.
func (wr *Writer) Pending() int64 { return wr.appended }

// CommitCluster writes the entries appended since the last cluster as a
// cluster: the columns' open pages are sealed, and the cluster's pages
// stored, column by column, in one RBlob (another one past maxBlobBatch
// bytes), as ROOT stores them. ROOT writes no empty clusters: without
// pending entries it does nothing.
func (wr *Writer) CommitCluster() error {
	if wr.closed {
		return errors.New("rntuple: writer closed")
	}
	if wr.appended == 0 {
		return nil
	}
	cl := wcluster{first: wr.entries, entries: wr.appended, pages: make([][]wpage, len(wr.cols)), offsets: make([]int64, len(wr.cols)), implicit: make([]int64, len(wr.cols))}
	type batch struct {
		parts  [][]byte
		size   int64
		length int64 // uncompressed: the key's object length
	}
	batches := []batch{{}}
	var where [][2]int // per page: column, page
	var inBatch []int
	var zipped, unzipped int64 // the cluster's pages, for the next cluster's estimate
	for ci := range wr.cols {
		c := &wr.cols[ci]
		cl.offsets[ci] = c.first
		if c.implicit {
			cl.implicit[ci] = c.implicitN
			c.first += c.implicitN
			c.implicit, c.implicitN = false, 0
			continue
		}
		if err := wr.seal(c); err != nil {
			return fmt.Errorf("rntuple: column %d of field %q: %w", ci, wr.fields[c.field].name, err)
		}
		for _, sp := range c.sealed {
			p := sp.p
			// Unzipped as ClusterFull's callers count it: a bit as a byte.
			zipped, unzipped = zipped+p.loc.Size, unzipped+p.n*int64(c.width())
			last := &batches[len(batches)-1]
			if last.size > 0 && last.size+int64(len(sp.stored)) > min(maxBlobBatch, wr.maxKey) {
				batches = append(batches, batch{})
				last = &batches[len(batches)-1]
			}
			p.loc.Offset = last.size
			last.parts = append(last.parts, sp.stored)
			last.size += int64(len(sp.stored))
			last.length += sp.length
			where = append(where, [2]int{ci, len(cl.pages[ci])})
			inBatch = append(inBatch, len(batches)-1)
			cl.pages[ci] = append(cl.pages[ci], p)
		}
		c.first += c.clusterN
		c.sealed, c.clusterN, c.last = nil, 0, 0
	}
	offsets := make([]int64, len(batches))
	for k, bt := range batches {
		if bt.size == 0 {
			continue
		}
		off, err := wr.blobParts(bt.parts, bt.size, bt.length)
		if err != nil {
			return err
		}
		offsets[k] = off
	}
	for k, w := range where {
		cl.pages[w[0]][w[1]].loc.Offset += offsets[inBatch[k]]
	}
	wr.entries += wr.appended
	wr.appended = 0
	wr.varCounts = nil
	wr.noteCluster(unzipped, zipped)
	wr.clusters = append(wr.clusters, cl)
	if wr.opts.ClustersPerGroup > 0 && len(wr.clusters) >= wr.opts.ClustersPerGroup {
		if wr.deferred {
			wr.pending = append(wr.pending, wr.clusters)
			wr.clusters = nil
			return nil
		}
		return wr.flushGroup()
	}
	return nil
}

// collect appends rows [from, to) of a to the columns of its field (col
// is the field's first column) and returns the next field's first column.
// Column ids follow field ids, which the schema walk below mirrors.
func (wr *Writer) collect(a *Array, t *Type, col, from, to int) (int, error) {
	switch t.Kind {
	case KindBool:
		return col + 1, wr.putBools(&wr.cols[col], a.Bools[from:to])
	case KindInt8, KindInt16, KindInt32, KindInt64:
		return col + 1, wr.putInts(&wr.cols[col], a.Ints[from:to])
	case KindUint8, KindUint16, KindUint32, KindUint64:
		return col + 1, wr.putUints(&wr.cols[col], a.Uints[from:to])
	case KindFloat32, KindFloat64:
		return col + 1, wr.putFloats(&wr.cols[col], a.Floats[from:to])
	case KindString:
		// Each string's chars, then all their offsets (the cluster's
		// chars so far) at once.
		idx, chars := &wr.cols[col], &wr.cols[col+1]
		offs := wr.scratch[:0]
		for _, s := range a.Strings[from:to] {
			if err := wr.putChars(chars, s); err != nil {
				return 0, err
			}
			offs = append(offs, uint64(chars.clusterN))
		}
		wr.scratch = offs
		return col + 2, wr.putUints(idx, offs)
	case KindList, KindOptional:
		if f := &wr.fields[wr.cols[col].field]; f.elide {
			c := &wr.cols[col]
			if a.Offsets[to]-a.Offsets[from] == int64(to-from) && c.clusterN == 0 {
				// Every value is present: the child's rows are these;
				// the index pages wait (see wcol.implicit).
				c.implicit = true
				c.implicitN += int64(to - from)
				return wr.collect(&a.Children[0], t.Elem, col+1, int(a.Offsets[from]), int(a.Offsets[to]))
			}
			if c.implicit { // values of this cluster passed before: their offsets now
				n := c.implicitN
				c.implicit, c.implicitN = false, 0
				if err := wr.putCount(c, 0, n); err != nil {
					return 0, err
				}
			}
			if a.Offsets[to]-a.Offsets[from] != int64(to-from) {
				f.sawNull = true
			}
		}
		idx := &wr.cols[col]
		base := idx.last // the cluster's items so far
		offs := wr.scratch[:0]
		for i := from; i < to; i++ {
			offs = append(offs, base+uint64(a.Offsets[i+1]-a.Offsets[from]))
		}
		wr.scratch = offs
		if err := wr.putUints(idx, offs); err != nil {
			return 0, err
		}
		return wr.collect(&a.Children[0], t.Elem, col+1, int(a.Offsets[from]), int(a.Offsets[to]))
	case KindArray:
		return wr.collect(&a.Children[0], t.Elem, col, from*t.Size, to*t.Size)
	case KindStruct:
		next := col
		for k, m := range t.Members {
			var err error
			if next, err = wr.collect(&a.Children[k], m, next, from, to); err != nil {
				return 0, err
			}
		}
		return next, nil
	case KindVariant:
		// The Switch column: per entry, the tag (0: none) and the item's
		// index in its alternative's elements in this cluster. The rows
		// [from, to) must hold each alternative's items in order.
		sw := &wr.cols[col]
		if wr.varCounts == nil {
			wr.varCounts = map[int][]int64{}
		}
		counts := wr.varCounts[col]
		if counts == nil {
			counts = make([]int64, len(t.Members))
			wr.varCounts[col] = counts
		}
		lo := make([]int64, len(t.Members))
		n := make([]int64, len(t.Members))
		for i := from; i < to; i++ {
			tag := a.Tags[i]
			if tag == 0 {
				if err := wr.putSwitch(sw, 0, 0); err != nil {
					return 0, err
				}
				continue
			}
			if tag < 0 || int(tag) > len(t.Members) {
				return 0, fmt.Errorf("variant tag %d of %d alternatives", tag, len(t.Members))
			}
			k := tag - 1
			if n[k] == 0 {
				lo[k] = a.Index[i]
			} else if a.Index[i] != lo[k]+n[k] {
				return 0, errors.New("a variant's items are not in entry order")
			}
			if err := wr.putSwitch(sw, uint64(counts[k]+n[k]), tag); err != nil {
				return 0, err
			}
			n[k]++
		}
		next := col + 1
		for k, m := range t.Members {
			counts[k] += n[k]
			if n[k] == 0 {
				next += colCount(m)
				continue
			}
			var err error
			if next, err = wr.collect(&a.Children[k], m, next, int(lo[k]), int(lo[k]+n[k])); err != nil {
				return 0, err
			}
		}
		return next, nil
	}
	return 0, fmt.Errorf("kind %d not written", t.Kind)
}

// colCount is the number of columns the writer gives a field of type t
// (with its subfields), in the order addField adds them.
func colCount(t *Type) int {
	switch t.Kind {
	case KindString:
		return 2
	case KindList, KindOptional:
		return 1 + colCount(t.Elem)
	case KindArray:
		return colCount(t.Elem)
	case KindStruct, KindVariant:
		n := 0
		if t.Kind == KindVariant {
			n = 1
		}
		for _, m := range t.Members {
			n += colCount(m)
		}
		return n
	}
	return 1
}

// envelope wraps a payload: type and length, payload, XXH3; it is
// compressed as pages are and written as a blob.
func (wr *Writer) envelope(typ uint16, payload []byte) (loc Locator, length int64, sum uint64, err error) {
	length = int64(8 + len(payload) + 8)
	env := binary.LittleEndian.AppendUint64(nil, uint64(typ)|uint64(length)<<16)
	env = append(env, payload...)
	sum = xxh3.Hash(env)
	env = binary.LittleEndian.AppendUint64(env, sum)
	if len(env) > maxPage {
		return loc, 0, 0, fmt.Errorf("rntuple: an envelope of %d bytes (at most %d)", len(env), maxPage)
	}
	stored, err := compress.Compress(wr.opts.Compression, env)
	if err != nil {
		return loc, 0, 0, err
	}
	if stored == nil {
		stored = env
	}
	off, err := wr.blob(stored, length)
	return Locator{Size: int64(len(stored)), Offset: off}, length, sum, err
}

// lew builds little-endian envelope payloads and frames.
type lew struct{ b []byte }

func (w *lew) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *lew) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *lew) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }
func (w *lew) str(s string) { w.u32(uint32(len(s))); w.b = append(w.b, s...) }

// record writes a record frame around what body writes.
func (w *lew) record(body func()) {
	start := len(w.b)
	w.u64(0)
	body()
	binary.LittleEndian.PutUint64(w.b[start:], uint64(len(w.b)-start))
}

// list writes a list frame of n items around what body writes.
func (w *lew) list(n int, body func()) {
	start := len(w.b)
	w.u64(0)
	w.u32(uint32(n))
	body()
	binary.LittleEndian.PutUint64(w.b[start:], uint64(-int64(len(w.b)-start)))
}

func (w *lew) locator(l Locator) {
	w.u32(uint32(l.Size))
	w.u64(uint64(l.Offset))
}

// finalType is t (the type of field id and its subfields) as written:
// optionals left out replaced by their elements. It records the C++ name
// of each field kept, and returns the next field's id.
func (wr *Writer) finalType(t *Type, id int) (*Type, int) {
	f := wr.fields[id]
	if isWrapper(t) {
		inner := *t
		inner.Name = ""
		_, next := wr.finalType(&inner, id+1)
		wr.finalNames[id] = t.Name
		return t, next
	}
	nt := *t
	next := id + 1
	switch t.Kind {
	case KindList, KindOptional, KindArray:
		var e *Type
		e, next = wr.finalType(t.Elem, id+1)
		if f.elide && !f.sawNull {
			return e, next
		}
		nt.Elem = e
	case KindStruct, KindVariant:
		nt.Members = make([]*Type, len(t.Members))
		for k, m := range t.Members {
			nt.Members[k], next = wr.finalType(m, next)
		}
	}
	wr.finalNames[id], _ = cppName(&nt)
	return &nt, next
}

// finalIDs numbers the fields and columns the header lists: Nullable
// wrappers whose entries all held a value are left out (their child
// takes their place and name), with their index columns.
func (wr *Writer) finalIDs() {
	wr.finalNames = make([]string, len(wr.fields))
	id := 0
	for _, t := range wr.types {
		_, id = wr.finalType(t, id)
	}
	wr.fieldID = make([]int, len(wr.fields))
	next := 0
	for id, f := range wr.fields {
		if f.elide && !f.sawNull {
			wr.fieldID[id] = -1
			continue
		}
		wr.fieldID[id] = next
		next++
	}
	wr.colID = make([]int, len(wr.cols))
	next = 0
	for ci, c := range wr.cols {
		if wr.fieldID[c.field] < 0 {
			wr.colID[ci] = -1
			continue
		}
		wr.colID[ci] = next
		next++
	}
}

func (wr *Writer) writeHeader() error {
	wr.finalIDs()
	var w lew
	w.u64(0) // feature flags
	w.str(wr.name)
	w.str("")
	w.str("hepsql")
	nfields, ncols := 0, 0
	for _, id := range wr.fieldID {
		nfields += min(id+1, 1)
	}
	for _, id := range wr.colID {
		ncols += min(id+1, 1)
	}
	w.list(nfields, func() {
		for id, f := range wr.fields {
			if wr.fieldID[id] < 0 {
				continue
			}
			parent := wr.fieldID[f.parent]
			if parent < 0 { // the child of a left-out wrapper takes its place and name
				w := wr.fields[f.parent]
				f.name = w.name
				if w.parent == f.parent {
					parent = wr.fieldID[id] // the wrapper was top level
				} else {
					parent = wr.fieldID[w.parent]
				}
			}
			f.typeName = wr.finalNames[id]
			w.record(func() {
				w.u32(0) // field version
				w.u32(0) // type version
				w.u32(uint32(parent))
				w.u16(f.role)
				w.u16(f.flags)
				w.str(f.name)
				w.str(f.typeName)
				w.str("")
				w.str("")
				if f.flags&flagRepetitive != 0 {
					w.u64(f.arraySize)
				}
			})
		}
	})
	w.list(ncols, func() {
		for ci, c := range wr.cols {
			if wr.colID[ci] < 0 {
				continue
			}
			w.record(func() {
				w.u16(c.typ)
				w.u16(c.bits)
				w.u32(uint32(wr.fieldID[c.field]))
				w.u16(0) // flags
				w.u16(0) // representation
			})
		}
	})
	w.list(0, func() {}) // alias columns
	w.list(0, func() {}) // extra type information
	loc, length, sum, err := wr.envelope(envHeader, w.b)
	wr.hdrLoc, wr.hdrLen, wr.hdrSum = loc, length, sum
	return err
}

// flushGroup writes the page list of the clusters written since the last
// group.
func (wr *Writer) flushGroup() error {
	if len(wr.clusters) == 0 {
		return nil
	}
	// The index pages of a Nullable field's clusters where every entry
	// held a value, now that the field is stored as an optional.
	for k := range wr.clusters {
		c := &wr.clusters[k]
		for ci := range wr.cols {
			if c.implicit[ci] == 0 || wr.colID[ci] < 0 {
				continue
			}
			col := wcol{typ: wr.cols[ci].typ, l: wr.cols[ci].l, per: wr.cols[ci].per}
			if err := wr.putCount(&col, 0, c.implicit[ci]); err != nil {
				return err
			}
			if err := wr.seal(&col); err != nil {
				return err
			}
			for _, sp := range col.sealed {
				off, err := wr.blob(sp.stored, sp.length)
				if err != nil {
					return err
				}
				sp.p.loc.Offset = off
				c.pages[ci] = append(c.pages[ci], sp.p)
			}
		}
	}
	ncols := 0
	for _, id := range wr.colID {
		ncols += min(id+1, 1)
	}
	var w lew
	w.u64(wr.hdrSum)
	w.list(len(wr.clusters), func() {
		for _, c := range wr.clusters {
			w.record(func() {
				w.u64(uint64(c.first))
				w.u64(uint64(c.entries)) // flags: none
			})
		}
	})
	w.list(len(wr.clusters), func() {
		for _, c := range wr.clusters {
			w.list(ncols, func() {
				for ci := range wr.cols {
					if wr.colID[ci] < 0 {
						continue
					}
					pages := c.pages[ci]
					w.list(len(pages), func() {
						for _, p := range pages {
							n := int32(p.n)
							if p.sum {
								n = -n
							}
							w.u32(uint32(n))
							w.locator(p.loc)
						}
						w.u64(uint64(c.offsets[ci]))
						w.u32(uint32(wr.opts.Compression))
					})
				}
			})
		}
	})
	loc, length, _, err := wr.envelope(envPageList, w.b)
	if err != nil {
		return err
	}
	first, last := wr.clusters[0], wr.clusters[len(wr.clusters)-1]
	wr.groups = append(wr.groups, wgroup{minEntry: first.first, span: last.first + last.entries - first.first, clusters: len(wr.clusters), length: length, loc: loc})
	wr.clusters = nil
	return nil
}

// Close writes the last page list, the footer, the anchor and the
// directory, and completes the file's header. It does not close w.
func (wr *Writer) Close() error {
	if wr.closed {
		return nil
	}
	wr.closed = true
	if wr.hdrLen == 0 {
		if err := wr.writeHeader(); err != nil {
			return err
		}
	}
	for _, g := range append(wr.pending, wr.clusters) {
		wr.clusters = g
		if err := wr.flushGroup(); err != nil {
			return err
		}
	}
	var w lew
	w.u64(0) // feature flags
	w.u64(wr.hdrSum)
	w.record(func() { // schema extension: none
		for range 4 {
			w.list(0, func() {})
		}
	})
	w.list(len(wr.groups), func() {
		for _, g := range wr.groups {
			w.record(func() {
				w.u64(uint64(g.minEntry))
				w.u64(uint64(g.span))
				w.u32(uint32(g.clusters))
				w.u64(uint64(g.length))
				w.locator(g.loc)
			})
		}
	})
	floc, flen, _, err := wr.envelope(envFooter, w.b)
	if err != nil {
		return err
	}
	return wr.finishFile(anchor{
		version:    [4]uint16{1, 0, 0, 0},
		seekHeader: wr.hdrLoc.Offset, nbytesHeader: wr.hdrLoc.Size, lenHeader: wr.hdrLen,
		seekFooter: floc.Offset, nbytesFooter: floc.Size, lenFooter: flen,
		maxKeySize: wr.maxKey,
	})
}
