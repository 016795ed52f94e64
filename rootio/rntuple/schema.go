package rntuple

import (
	"fmt"
	"github.com/hepsql/hepsql/rootio/rfile"
	"io"
	"slices"

	"github.com/zeebo/xxh3"
)

// Structural roles of a field.
const (
	RoleLeaf       = 0
	RoleCollection = 1
	RoleRecord     = 2
	RoleVariant    = 3
	RoleStreamer   = 4
)

// Field flags.
const (
	flagRepetitive = 0x01
	flagProjected  = 0x02
	flagChecksum   = 0x04
)

// Column flags.
const (
	colDeferred = 0x01
	colRange    = 0x02
)

// Field is one field of the schema.
type Field struct {
	ID                        int
	FieldVersion, TypeVersion uint32
	Parent                    int // itself for a top-level field
	Role                      uint16
	Flags                     uint16
	Name, Type, Alias, Desc   string
	ArraySize                 uint64 // repetitive fields
	Source                    int    // projected fields: the source field; else -1
	Children                  []int
	// Columns lists the field's (physical) column ids in order: for a
	// projected field, the physical columns its alias columns name.
	Columns []int
}

// TopLevel reports whether the field is a top-level field.
func (f *Field) TopLevel() bool { return f.Parent == f.ID }

// Projected reports whether the field is projected from another.
func (f *Field) Projected() bool { return f.Flags&flagProjected != 0 }

// Column is one physical column.
type Column struct {
	ID           int
	Type         uint16
	Bits         uint16
	Field        int
	Flags        uint16
	Rep          uint16 // representation index
	FirstElement int64  // deferred columns: the first element stored
	Min, Max     float64
}

// Cluster is one cluster: its entries and, per physical column, its pages.
type Cluster struct {
	FirstEntry, Entries int64
	group               int // cluster group (page list) index
	index               int // index in the group's page list
}

// PageInfo is one page of a column in a cluster.
type PageInfo struct {
	Elements int64
	Loc      Locator
	Checksum bool
}

// ColumnRange is a column's pages in one cluster.
type ColumnRange struct {
	ElementOffset int64 // first element in the cluster
	Suppressed    bool
	Compression   uint32
	Pages         []PageInfo
	Present       bool // the page list has the column (columns added later are absent from earlier groups)
}

// NTuple is an RNTuple's schema and cluster layout.
type NTuple struct {
	Name, Description, Writer string
	Version                   [4]uint16
	Fields                    []Field
	Columns                   []Column
	Clusters                  []Cluster
	Entries                   int64

	r      io.ReaderAt
	size   int64
	maxKey int64           // the anchor's maximum key size: larger objects span several keys
	ranges [][]ColumnRange // per cluster, per column
}

// KnownFeatures are the feature-flag bits this reader understands: none
// are defined in format 1.0.
var KnownFeatures uint64 = 0

func checkFeatures(where string, words []uint64) error {
	for i, w := range words {
		bits := w
		if i < len(words)-1 {
			bits &^= 1 << 63 // the continuation bit
		}
		if i == 0 {
			bits &^= KnownFeatures
		}
		if bits != 0 {
			return fmt.Errorf("%s: unknown feature flags %#x in word %d: written by a newer RNTuple format this reader does not support", where, bits, i)
		}
	}
	return nil
}

// anchor is the RNTuple key's object.
type anchor struct {
	version                  [4]uint16
	seekHeader, nbytesHeader int64
	lenHeader                int64
	seekFooter, nbytesFooter int64
	lenFooter                int64
	maxKeySize               int64
}

func parseAnchor(p []byte) (anchor, error) {
	var a anchor
	b := rfile.RecordReader{Buf: p}
	bc := b.I32()
	b.Skip(2) // class version
	if b.Err != nil || bc&0x40000000 == 0 {
		return a, corrupt("anchor: no byte count")
	}
	// The byte count covers the class version and the fields; the
	// checksum follows them.
	if n := int(bc &^ 0x40000000); n < 2+64 || n > len(p)-4 || len(p) < 6+64+8 {
		return a, corrupt("anchor of %d bytes (%d stored)", n, len(p)-4)
	}
	fields := p[6 : 6+64]
	for i := range a.version {
		a.version[i] = b.U16()
	}
	a.seekHeader = b.I64()
	a.nbytesHeader = b.I64()
	a.lenHeader = b.I64()
	a.seekFooter = b.I64()
	a.nbytesFooter = b.I64()
	a.lenFooter = b.I64()
	a.maxKeySize = b.I64()
	sum := uint64(b.I64())
	if b.Err != nil {
		return a, corrupt("anchor truncated")
	}
	if got := xxh3.Hash(fields); got != sum {
		return a, corrupt("anchor: XXH3 checksum mismatch (stored %016x, computed %016x)", sum, got)
	}
	if a.version[0] != 1 {
		return a, fmt.Errorf("RNTuple format %d.%d.%d.%d: only epoch 1 (ROOT 6.34 and later) is supported", a.version[0], a.version[1], a.version[2], a.version[3])
	}
	for _, n := range []int64{a.nbytesHeader, a.lenHeader, a.nbytesFooter, a.lenFooter} {
		if n < 0 || n > MaxAlloc {
			return a, corrupt("anchor: envelope of %d bytes", n)
		}
	}
	return a, nil
}

// readSchema reads a schema description (the header's last four list
// frames, or the footer's schema extension) into nt.
func (nt *NTuple) readSchema(b *le, aliases *[][2]int) {
	firstField := len(nt.Fields)
	fl := b.list(8)
	for i := 0; i < fl.items && b.err == nil; i++ {
		fr := b.record()
		f := Field{ID: len(nt.Fields), Source: -1}
		f.FieldVersion = b.u32()
		f.TypeVersion = b.u32()
		f.Parent = int(b.u32())
		f.Role = b.u16()
		f.Flags = b.u16()
		f.Name = b.str()
		f.Type = b.str()
		f.Alias = b.str()
		f.Desc = b.str()
		if f.Flags&flagRepetitive != 0 {
			f.ArraySize = b.u64()
		}
		if f.Flags&flagProjected != 0 {
			f.Source = int(b.u32())
		}
		if f.Flags&flagChecksum != 0 {
			b.u32()
		}
		b.close(fr)
		if f.Parent > firstField+fl.items+len(nt.Fields) {
			b.fail(corrupt("field %d (%q): parent %d", f.ID, f.Name, f.Parent))
		}
		nt.Fields = append(nt.Fields, f)
	}
	b.close(fl)
	cl := b.list(8)
	for i := 0; i < cl.items && b.err == nil; i++ {
		fr := b.record()
		c := Column{ID: len(nt.Columns)}
		c.Type = b.u16()
		c.Bits = b.u16()
		c.Field = int(b.u32())
		c.Flags = b.u16()
		c.Rep = b.u16()
		if c.Flags&colDeferred != 0 {
			c.FirstElement = b.i64()
		}
		if c.Flags&colRange != 0 {
			c.Min = b.f64()
			c.Max = b.f64()
		}
		b.close(fr)
		nt.Columns = append(nt.Columns, c)
	}
	b.close(cl)
	al := b.list(8)
	for i := 0; i < al.items && b.err == nil; i++ {
		fr := b.record()
		phys := int(b.u32())
		field := int(b.u32())
		b.close(fr)
		*aliases = append(*aliases, [2]int{phys, field})
	}
	b.close(al)
	et := b.list(8)
	b.close(et) // extra type information: streamer infos, not needed
}

// link attaches columns to fields and children to parents once the whole
// schema (header and extension) is read, checking every id.
func (nt *NTuple) link(aliases [][2]int) error {
	for i := range nt.Fields {
		nt.Fields[i].Children = nil
		nt.Fields[i].Columns = nil
	}
	for i := range nt.Fields {
		f := &nt.Fields[i]
		if f.Parent < 0 || f.Parent >= len(nt.Fields) {
			return corrupt("field %d (%q): parent %d of %d fields", i, f.Name, f.Parent, len(nt.Fields))
		}
		if f.Projected() && (f.Source < 0 || f.Source >= len(nt.Fields)) {
			return corrupt("field %d (%q): source field %d of %d", i, f.Name, f.Source, len(nt.Fields))
		}
		if f.Parent != i {
			nt.Fields[f.Parent].Children = append(nt.Fields[f.Parent].Children, i)
		}
	}
	// A parent must come before its children: no cycles.
	for i := range nt.Fields {
		if p := nt.Fields[i].Parent; p > i {
			return corrupt("field %d (%q): parent %d comes after it", i, nt.Fields[i].Name, p)
		}
	}
	for _, c := range nt.Columns {
		if c.Field < 0 || c.Field >= len(nt.Fields) {
			return corrupt("column %d: field %d of %d", c.ID, c.Field, len(nt.Fields))
		}
		nt.Fields[c.Field].Columns = append(nt.Fields[c.Field].Columns, c.ID)
	}
	for _, a := range aliases {
		if a[0] < 0 || a[0] >= len(nt.Columns) || a[1] < 0 || a[1] >= len(nt.Fields) {
			return corrupt("alias column: physical column %d, field %d", a[0], a[1])
		}
		nt.Fields[a[1]].Columns = append(nt.Fields[a[1]].Columns, a[0])
	}
	for i := range nt.Fields {
		f := &nt.Fields[i]
		// Columns attach from smaller to larger representation index.
		slices.SortStableFunc(f.Columns, func(a, b int) int {
			return int(nt.Columns[a].Rep) - int(nt.Columns[b].Rep)
		})
	}
	return nil
}

// group is a cluster group's record in the footer.
type group struct {
	minEntry, span int64
	clusters       int
	length         int64
	loc            Locator
}

// open reads the header, footer and page lists of the anchor's RNTuple.
func open(r io.ReaderAt, size int64, name string, a anchor) (*NTuple, error) {
	nt := &NTuple{Name: name, Version: a.version, r: r, size: size, maxKey: a.maxKeySize}
	hp, hsum, err := readEnvelope(r, size, Locator{Size: a.nbytesHeader, Offset: a.seekHeader}, a.lenHeader, envHeader, nt.maxKey)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	aliases, err := nt.parseHeader(hp)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	fp, _, err := readEnvelope(r, size, Locator{Size: a.nbytesFooter, Offset: a.seekFooter}, a.lenFooter, envFooter, nt.maxKey)
	if err != nil {
		return nil, fmt.Errorf("footer: %w", err)
	}
	groups, err := nt.parseFooter(fp, hsum, aliases)
	if err != nil {
		return nil, fmt.Errorf("footer: %w", err)
	}
	for gi, g := range groups {
		p, _, err := readEnvelope(nt.r, nt.size, g.loc, g.length, envPageList, nt.maxKey)
		if err == nil {
			err = nt.parsePageList(gi, p, g.clusters, hsum)
		}
		if err != nil {
			return nil, fmt.Errorf("cluster group %d: page list: %w", gi, err)
		}
	}
	if err := nt.orderClusters(); err != nil {
		return nil, err
	}
	return nt, nil
}

// parseHeader reads the header envelope's payload; it returns the alias
// columns, which are linked once the footer's schema extension is read.
func (nt *NTuple) parseHeader(p []byte) ([][2]int, error) {
	b := &le{b: p}
	if err := checkFeatures("header", b.features()); b.err == nil && err != nil {
		return nil, err
	}
	nt.Name = b.str()
	nt.Description = b.str()
	nt.Writer = b.str()
	var aliases [][2]int
	nt.readSchema(b, &aliases)
	return aliases, b.err
}

// parseFooter reads the footer envelope's payload: the schema extension,
// then the cluster groups.
func (nt *NTuple) parseFooter(p []byte, hsum uint64, aliases [][2]int) ([]group, error) {
	b := &le{b: p}
	if err := checkFeatures("footer", b.features()); b.err == nil && err != nil {
		return nil, err
	}
	if got := b.u64(); b.err == nil && got != hsum {
		return nil, corrupt("footer names header checksum %016x, header has %016x", got, hsum)
	}
	ext := b.record()
	if b.err == nil && b.pos < ext.end {
		nt.readSchema(b, &aliases)
	}
	b.close(ext)
	if b.err != nil {
		return nil, fmt.Errorf("schema extension: %w", b.err)
	}
	if err := nt.link(aliases); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	var groups []group
	gl := b.list(8)
	for i := 0; i < gl.items && b.err == nil; i++ {
		fr := b.record()
		var g group
		g.minEntry = int64(b.u64())
		g.span = int64(b.u64())
		g.clusters = int(b.u32())
		g.length, g.loc = b.envLink()
		b.close(fr)
		groups = append(groups, g)
	}
	b.close(gl)
	// From 1.0.1.0 attribute sets follow; this reader has no use for them.
	return groups, b.err
}

// orderClusters puts the clusters of every group in entry order and
// checks that they tile the entries from 0.
func (nt *NTuple) orderClusters() error {
	slices.SortStableFunc(nt.Clusters, func(x, y Cluster) int {
		switch {
		case x.FirstEntry < y.FirstEntry:
			return -1
		case x.FirstEntry > y.FirstEntry:
			return 1
		}
		return 0
	})
	ranges := make([][]ColumnRange, 0, len(nt.Clusters))
	nt.Entries = 0
	for i := range nt.Clusters {
		c := &nt.Clusters[i]
		if c.FirstEntry != nt.Entries || c.index < 0 || c.index >= len(nt.ranges) {
			return corrupt("cluster %d starts at entry %d, after %d entries", i, c.FirstEntry, nt.Entries)
		}
		nt.Entries += c.Entries
		ranges = append(ranges, nt.ranges[c.index])
		c.index = i
	}
	nt.ranges = ranges
	return nil
}

// parsePageList reads one cluster group's page list payload and appends
// its clusters.
func (nt *NTuple) parsePageList(gi int, p []byte, nclusters int, hsum uint64) error {
	b := &le{b: p}
	if got := b.u64(); b.err == nil && got != hsum {
		return corrupt("names header checksum %016x, header has %016x", got, hsum)
	}
	sl := b.list(16)
	if b.err == nil && sl.items != nclusters {
		return corrupt("%d cluster summaries, the footer says %d", sl.items, nclusters)
	}
	first := len(nt.Clusters)
	for i := 0; i < sl.items && b.err == nil; i++ {
		fr := b.record()
		c := Cluster{group: gi, index: len(nt.ranges) + i}
		c.FirstEntry = int64(b.u64())
		w := b.u64()
		c.Entries = int64(w & (1<<56 - 1))
		if flags := w >> 56; flags&0x01 != 0 && b.err == nil {
			return fmt.Errorf("cluster %d is sharded (flag 0x01), which format 1.0 readers cannot read", i)
		}
		b.close(fr)
		if c.FirstEntry < 0 || c.Entries < 0 || c.FirstEntry > 1<<62-c.Entries {
			b.fail(corrupt("cluster %d: entries [%d, +%d)", i, c.FirstEntry, c.Entries))
		}
		nt.Clusters = append(nt.Clusters, c)
	}
	b.close(sl)
	cl := b.list(12)
	if b.err == nil && cl.items != sl.items {
		return corrupt("page locations for %d clusters, %d summaries", cl.items, sl.items)
	}
	for ci := 0; ci < cl.items && b.err == nil; ci++ {
		cols := b.list(12)
		if b.err == nil && cols.items > len(nt.Columns) {
			return corrupt("cluster %d: pages for %d columns, the schema has %d", first+ci, cols.items, len(nt.Columns))
		}
		rs := make([]ColumnRange, len(nt.Columns))
		for k := 0; k < cols.items && b.err == nil; k++ {
			pl := b.list(12)
			cr := ColumnRange{Present: true}
			if b.err == nil {
				cr.Pages = make([]PageInfo, 0, pl.items)
			}
			for j := 0; j < pl.items && b.err == nil; j++ {
				n := b.i32()
				pi := PageInfo{Elements: int64(n)}
				if n < 0 {
					pi.Elements = -int64(n)
					pi.Checksum = true
				}
				pi.Loc = b.locator()
				cr.Pages = append(cr.Pages, pi)
			}
			cr.ElementOffset = b.i64()
			if cr.ElementOffset < 0 {
				cr.Suppressed = true
				if len(cr.Pages) > 0 {
					b.fail(corrupt("cluster %d, column %d: suppressed with %d pages", first+ci, k, len(cr.Pages)))
				}
			} else {
				cr.Compression = b.u32()
			}
			b.close(pl)
			rs[k] = cr
		}
		b.close(cols)
		nt.ranges = append(nt.ranges, rs)
	}
	b.close(cl)
	return b.err
}

// NTuples lists the RNTuple anchors among a file's keys (highest cycle of
// each name), by path.
func NTuples(r io.ReaderAt, size int64) ([]string, error) {
	keys, _, err := readKeys(r, size)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, k := range keys {
		if isAnchorClass(k.Class) && !slices.Contains(names, k.Path) {
			names = append(names, k.Path)
		}
	}
	return names, nil
}

// Open reads the RNTuple named name (a key path, "dir/name" in a
// subdirectory) of a ROOT file; name "" opens the only one.
func Open(r io.ReaderAt, size int64, name string) (*NTuple, error) {
	keys, bad, err := readKeys(r, size)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(keys, keyLess)
	var found *Key
	var all []string
	for i := range keys {
		k := &keys[i]
		if !isAnchorClass(k.Class) {
			continue
		}
		if !slices.Contains(all, k.Path) {
			all = append(all, k.Path)
		}
		if (name == "" || k.Path == name) && found == nil {
			found = k
		}
	}
	if found == nil {
		// The RNTuple may be in a directory that could not be read.
		if err := badDirFor(bad, name); err != nil {
			return nil, err
		}
	}
	switch {
	case name == "" && len(all) > 1:
		return nil, fmt.Errorf("%d RNTuples (%v): name one", len(all), all)
	case found == nil && name == "":
		return nil, fmt.Errorf("no RNTuple in the file")
	case found == nil:
		return nil, fmt.Errorf("no RNTuple named %q (RNTuples: %v)", name, all)
	}
	p, err := found.payload(r, size)
	if err != nil {
		return nil, err
	}
	a, err := parseAnchor(p)
	if err != nil {
		return nil, fmt.Errorf("RNTuple %q: %w", found.Path, err)
	}
	nt, err := open(r, size, found.Path, a)
	if err != nil {
		return nil, fmt.Errorf("RNTuple %q: %w", found.Path, err)
	}
	return nt, nil
}

// ColumnBytes sums a column's pages over all clusters: bytes stored,
// bytes uncompressed, pages, and the compression settings of its first
// unsuppressed range (algorithm*100 + level; -1 when it has none).
func (nt *NTuple) ColumnBytes(col int) (zip, unzip, pages int64, compression int64) {
	compression = -1
	if col < 0 || col >= len(nt.Columns) {
		return
	}
	c := &nt.Columns[col]
	l, err := layoutOf(c)
	for ci := range nt.ranges {
		cr := nt.ranges[ci][col]
		if cr.Present && !cr.Suppressed && compression < 0 {
			compression = int64(cr.Compression)
		}
		for _, p := range cr.Pages {
			zip += p.Loc.Size
			if err == nil {
				unzip += pageBytes(c, l, p.Elements)
			}
			pages++
		}
	}
	return
}
