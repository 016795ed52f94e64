package rntuple

import "fmt"

// A Stream reads a field's values in one cluster, entry range after entry
// range from a first entry on, straight into slices the caller provides
// at the values' own widths (a float field into []float32, a collection's
// lengths into []uint64): with slices pointing into a query engine's
// vectors, each value is written once, from the inflated page to the
// vector. Each page is read and inflated once, however the ranges fall.
//
// A Stream follows its Type: a numeric leaf is read with ReadValues, a
// bool with ReadBools; a list or a string gives its entries' lengths
// (ReadLengths), then the list's items are read from Children[0] and the
// string's characters with ReadChars; a fixed array's items (Size per
// entry) from Children[0]; a record's members from Children, each the
// same entries. Optionals, variants, maps, cardinalities and bitsets are
// not streamed (Streamable): ReadRange reads them as an Array.
type Stream struct {
	Type     *Type
	Children []*Stream

	cur   cursor // leaf: the values; list, string: the index column
	chars cursor // string: the characters
	end   uint64 // list, string: the items of the entries read so far, counted from the cluster's first item
	items uint64 // list, string: the items of the cluster
}

// Streamable reports whether values of type t can be read by a Stream.
func Streamable(t *Type) bool {
	if t.wrapper {
		return Streamable(t.Elem)
	}
	if t.cardinality || t.bitset {
		return false
	}
	switch t.Kind {
	case KindOptional, KindVariant:
		return false
	case KindList:
		return !IsMap(t) && Streamable(t.Elem)
	case KindArray:
		return Streamable(t.Elem)
	case KindStruct:
		for _, m := range t.Members {
			if !Streamable(m) {
				return false
			}
		}
	}
	return true
}

// NewStream returns a Stream over the values of the field t was resolved
// for (TypeOf, Streamable) in cluster ci, from entry first (counted from
// the cluster's first) on. Close it when done.
func (nt *NTuple) NewStream(t *Type, ci int, first int64) (*Stream, error) {
	if ci < 0 || ci >= len(nt.Clusters) {
		return nil, fmt.Errorf("no cluster %d (%d clusters)", ci, len(nt.Clusters))
	}
	if t.field < 0 || t.field >= len(nt.Fields) {
		return nil, fmt.Errorf("type not resolved by TypeOf")
	}
	if !Streamable(t) {
		return nil, fmt.Errorf("field %q (%s): not streamable, read it with ReadRange", nt.Fields[t.field].Name, typeName(t))
	}
	entries := nt.Clusters[ci].Entries
	if first < 0 || first > entries {
		return nil, fmt.Errorf("entry %d outside cluster %d of %d entries", first, ci, entries)
	}
	return nt.newStream(t, ci, entries, first, nil)
}

func (nt *NTuple) newStream(t *Type, ci int, entries, first int64, g *[]*cursor) (*Stream, error) {
	s, err := nt.stream(t, ci, entries, first, g)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("field %q, cluster %d: %w", nt.Fields[t.field].Name, ci, err)
	}
	return s, nil
}

// NewStreams is NewStream for several fields read side by side, entry
// range by entry range (a scan's columns): types[i] nil gives no Stream.
// A page stored with the same bytes as a page another of them has loaded
// is copied rather than inflated again, as the index columns of a
// NanoAOD's collections often are. On error, the Streams made are closed.
func (nt *NTuple) NewStreams(types []*Type, ci int, first int64) ([]*Stream, error) {
	out := make([]*Stream, len(types))
	if ci < 0 || ci >= len(nt.Clusters) {
		return nil, fmt.Errorf("no cluster %d (%d clusters)", ci, len(nt.Clusters))
	}
	entries := nt.Clusters[ci].Entries
	if first < 0 || first > entries {
		return nil, fmt.Errorf("entry %d outside cluster %d of %d entries", first, ci, entries)
	}
	g := new([]*cursor)
	for i, t := range types {
		if t == nil {
			continue
		}
		if t.field < 0 || t.field >= len(nt.Fields) {
			return nil, fmt.Errorf("type not resolved by TypeOf")
		}
		if !Streamable(t) {
			return nil, fmt.Errorf("field %q (%s): not streamable, read it with ReadRange", nt.Fields[t.field].Name, typeName(t))
		}
		s, err := nt.newStream(t, ci, entries, first, g)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func typeName(t *Type) string {
	if t.Name == "" {
		return "an untyped record"
	}
	return t.Name
}

// stream builds the Stream of type t over values [first, total) of
// cluster ci; on error, what it built so far is returned for Close.
func (nt *NTuple) stream(t *Type, ci int, total, first int64, g *[]*cursor) (*Stream, error) {
	if t.wrapper {
		s, err := nt.stream(t.Elem, ci, total, first, g)
		s.Type = t
		return s, err
	}
	s := &Stream{Type: t}
	if t.field < 0 || t.Kind == KindStruct { // records, and an untyped collection's implicit one
		for _, m := range t.Members {
			c, err := nt.stream(m, ci, total, first, g)
			s.Children = append(s.Children, c)
			if err != nil {
				return s, err
			}
		}
		return s, nil
	}
	if t.Kind == KindArray {
		size := int64(t.Size)
		c, err := nt.stream(t.Elem, ci, total*size, first*size, g)
		s.Children = append(s.Children, c)
		return s, err
	}
	f := &nt.Fields[t.field]
	cols, err := nt.activeColumns(f, ci)
	if err != nil {
		return s, err
	}
	s.cur.group, s.chars.group = g, g
	if err := s.cur.init(nt, ci, cols[0], total); err != nil {
		return s, err
	}
	if g != nil {
		*g = append(*g, &s.cur)
	}
	switch t.Kind {
	case KindList, KindString:
		// The cluster's items: the last entry's end, which the items'
		// column says without a read when it is stored whole in the
		// cluster (ReadLengths checks that the offsets end there); else
		// the last offset is read.
		var last, base [1]uint64
		if n, ok := nt.storedItems(t, cols, ci); ok {
			last[0] = uint64(n)
		} else if total > 0 {
			if err := s.cur.seek(total - 1); err != nil {
				return s, err
			}
			if err := readNumbers(&s.cur, last[:]); err != nil {
				return s, err
			}
		}
		if first > 0 {
			if err := s.cur.seek(first - 1); err != nil {
				return s, err
			}
			if err := readNumbers(&s.cur, base[:]); err != nil {
				return s, err
			}
		}
		if err := s.cur.seek(first); err != nil {
			return s, err
		}
		s.items, s.end = last[0], base[0]
		if s.items > uint64(MaxAlloc) || s.end > s.items {
			return s, corrupt("collection offsets %d and %d of %d entries", s.end, s.items, total)
		}
		if t.Kind == KindString {
			if k := layoutKind(&nt.Columns[cols[1]]); k == kindFloat || k == kindSwitch {
				return s, corrupt("field %q: characters in a %s column", f.Name, ColumnTypeName(nt.Columns[cols[1]].Type))
			}
			if err := s.chars.init(nt, ci, cols[1], int64(s.items)); err != nil {
				return s, err
			}
			if g != nil {
				*g = append(*g, &s.chars)
			}
			return s, s.chars.seek(int64(s.end))
		}
		c, err := nt.stream(t.Elem, ci, int64(s.items), int64(s.end), g)
		s.Children = append(s.Children, c)
		return s, err
	}
	// A numeric or bool leaf, read from its own column type or another of
	// the same family (the specification's "R" entries): integers and
	// bools from any integer, Bit or Char column, reals from real columns.
	isReal := t.Kind == KindFloat32 || t.Kind == KindFloat64
	if isReal != (s.cur.l.kind == kindFloat) || s.cur.l.kind == kindSwitch {
		return s, corrupt("field %q (%s) stored in a %s column", f.Name, f.Type, ColumnTypeName(s.cur.c.Type))
	}
	return s, s.cur.seek(first)
}

// storedItems is the number of items of a collection or string in cluster
// ci that the first column of its items stores, when that column is
// neither deferred nor missing from the cluster (and so must hold them
// all); ok is false when it cannot say.
func (nt *NTuple) storedItems(t *Type, cols []int, ci int) (n int64, ok bool) {
	col := -1
	if t.Kind == KindString {
		col = cols[1]
	} else {
		size := int64(1)
		et := t.Elem
		for depth := 0; col < 0; depth++ {
			switch {
			case depth > maxNesting:
				return 0, false
			case et.wrapper:
				et = et.Elem
			case et.field < 0 || et.Kind == KindStruct:
				if len(et.Members) == 0 {
					return 0, false
				}
				et = et.Members[0]
			case et.Kind == KindArray:
				size *= int64(et.Size)
				et = et.Elem
			default:
				ac, err := nt.activeColumns(&nt.Fields[et.field], ci)
				if err != nil || len(ac) == 0 {
					return 0, false
				}
				col = ac[0]
			}
		}
		defer func() {
			if ok && n%size != 0 {
				ok = false
			}
			n /= size
		}()
	}
	cr := &nt.ranges[ci][col]
	if nt.Columns[col].Flags&colDeferred != 0 || !cr.Present {
		return 0, false
	}
	for _, p := range cr.Pages {
		if p.Elements < 0 || p.Elements > MaxAlloc {
			return 0, false
		}
		n += p.Elements
	}
	return n, n <= MaxAlloc
}

// layoutKind is the in-memory kind of a column's elements (kindSwitch for
// an unknown type, which layoutOf refuses anyway).
func layoutKind(c *Column) colKind {
	l, err := layoutOf(c)
	if err != nil {
		return kindSwitch
	}
	return l.kind
}

// Close returns the Stream's page buffers to be reused.
func (s *Stream) Close() {
	if s == nil {
		return
	}
	s.cur.release()
	s.chars.release()
	for _, c := range s.Children {
		c.Close()
	}
}

// ReadValues reads the next len(dst) values of a numeric leaf into dst,
// converted as Go converts numbers (T is meant to be the field's own
// width: int32 for std::int32_t, float32 for float).
func ReadValues[T Number](s *Stream, dst []T) error {
	return readNumbers(&s.cur, dst)
}

// ReadBools reads the next len(dst) values of a bool leaf.
func (s *Stream) ReadBools(dst []bool) error {
	return readBools(&s.cur, dst)
}

// ReadLengths reads the item counts of the next len(dst) entries of a
// list or string into dst and returns their sum: the items to read next
// from Children[0], or the characters to read with ReadChars.
func (s *Stream) ReadLengths(dst []uint64) (int, error) {
	prev, err := readLengths(&s.cur, dst, s.end)
	if err != nil {
		return 0, err
	}
	// Offsets never decrease and end within the cluster's items. Rather
	// than test each, take the differences' maximum: a decrease wraps to
	// a difference above any item count, and with differences bounded by
	// the items (MaxAlloc at most), the last offset is the first plus
	// their sum, so checking it bounds them all.
	var widest uint64
	for _, d := range dst {
		widest = max(widest, d)
	}
	if widest > s.items || prev > s.items {
		return 0, corrupt("collection offsets from %d run to %d, outside the cluster's %d items (or decrease)", s.end, prev, s.items)
	}
	if s.cur.pos == s.cur.total && prev != s.items {
		return 0, corrupt("collection offsets end at %d, its items' column holds %d", prev, s.items)
	}
	n := prev - s.end
	s.end = prev
	return int(n), nil
}

// ReadChars reads the next len(dst) characters of a string field: the
// sum of the lengths ReadLengths returned.
func (s *Stream) ReadChars(dst []byte) error {
	return readNumbers(&s.chars, dst)
}
