package rntuple

import (
	"fmt"
	"strings"
	"sync"
)

// Kind is the kind of a field's values.
type Kind int

const (
	KindBool Kind = iota
	KindInt8
	KindInt16
	KindInt32
	KindInt64
	KindUint8
	KindUint16
	KindUint32
	KindUint64
	KindFloat32
	KindFloat64
	KindString
	KindList     // vector, RVec, set, map (a list of pairs), untyped collections
	KindArray    // std::array<T,N>, T[N], std::bitset<N> (of bool)
	KindOptional // std::optional, std::unique_ptr
	KindStruct   // classes, pair, tuple, untyped records
	KindVariant  // std::variant
)

// Type is the logical type of a field's values.
type Type struct {
	Kind    Kind
	Elem    *Type    // list, array, optional
	Size    int      // array
	Names   []string // struct members, variant alternatives
	Members []*Type
	Name    string // the field's C++ type name
	// Elide is for the writer: an optional (KindOptional) stored as its
	// element's plain type when none of its values is absent (a DuckDB
	// value that may be NULL). The reader never sets it.
	Elide bool

	field       int
	cardinality bool // RNTupleCardinality: the lengths of a collection
	bitset      bool // std::bitset: a repetitive leaf over a Bit column
	wrapper     bool // enum or atomic: the value is the child's
}

// IsMap reports whether a list type is a std::map or std::unordered_map
// (a collection of std::pair items, whose keys are unique); multimaps
// are not.
func IsMap(t *Type) bool {
	return t.Kind == KindList && (strings.HasPrefix(t.Name, "std::map<") || strings.HasPrefix(t.Name, "std::unordered_map<")) &&
		t.Elem != nil && t.Elem.Kind == KindStruct && len(t.Elem.Members) == 2
}

// Array holds the values of a field for one cluster, columnar: leaves in
// the slice of their kind (integers widened to 64 bits, reals to
// float64), collections as offsets into their elements' array.
type Array struct {
	Type     *Type
	Len      int
	Bools    []bool
	Ints     []int64   // signed integers
	Uints    []uint64  // unsigned integers
	Floats   []float64 // float and double
	Strings  []string
	Offsets  []int64 // list and optional: Len+1 offsets into Children[0]
	Children []Array // list, array, optional: the elements; struct: members; variant: alternatives
	Tags     []int32 // variant: 0 for none, else 1 + alternative
	Index    []int64 // variant: element in its alternative's array
}

// TypeOf resolves the logical type of field id, or says why the field
// cannot be read.
func (nt *NTuple) TypeOf(id int) (*Type, error) {
	return nt.typeOf(id, 0)
}

const maxNesting = 64

func (nt *NTuple) typeOf(id, depth int) (*Type, error) {
	if id < 0 || id >= len(nt.Fields) {
		return nil, fmt.Errorf("no field %d", id)
	}
	if depth > maxNesting {
		return nil, fmt.Errorf("fields nested deeper than %d", maxNesting)
	}
	f := &nt.Fields[id]
	t := &Type{Name: f.Type, field: id}
	child := func(i int) (*Type, error) {
		ct, err := nt.typeOf(f.Children[i], depth+1)
		if err != nil {
			return nil, err
		}
		return ct, nil
	}
	for _, c := range f.Columns {
		if _, err := layoutOf(&nt.Columns[c]); err != nil {
			return nil, fmt.Errorf("field %q: %v", f.Name, err)
		}
	}
	switch f.Role {
	case RoleStreamer:
		return nil, fmt.Errorf("field %q (%s) is a ROOT-streamed object (structural role 4): its bytes are in ROOT's streamer format, not in RNTuple columns", f.Name, f.Type)
	case RoleLeaf:
		switch {
		case f.Flags&flagRepetitive != 0 && len(f.Children) == 1:
			et, err := child(0)
			if err != nil {
				return nil, err
			}
			if f.ArraySize > 1<<24 || f.ArraySize == 0 {
				return nil, fmt.Errorf("field %q: array of %d elements", f.Name, f.ArraySize)
			}
			t.Kind, t.Elem, t.Size = KindArray, et, int(f.ArraySize)
			return t, nil
		case f.Flags&flagRepetitive != 0 && len(f.Children) == 0:
			if !nt.columnsAre(f, 1, ColBit) || f.ArraySize > 1<<24 || f.ArraySize == 0 {
				return nil, fmt.Errorf("field %q (%s): repetitive leaf of %d without one Bit column", f.Name, f.Type, f.ArraySize)
			}
			t.Kind, t.Elem, t.Size, t.bitset = KindArray, &Type{Kind: KindBool, Name: "bool", field: id}, int(f.ArraySize), true
			return t, nil
		case strings.HasPrefix(f.Type, "ROOT::RNTupleCardinality<"):
			if !nt.columnsAre(f, 1, ColIndex32, ColIndex64, ColSplitIndex32, ColSplitIndex64) {
				return nil, fmt.Errorf("field %q (%s): a cardinality needs one index column", f.Name, f.Type)
			}
			t.Kind, t.cardinality = KindUint64, true
			if strings.Contains(f.Type, "uint32") {
				t.Kind = KindUint32
			}
			return t, nil
		case len(f.Columns) == 0 && len(f.Children) == 1:
			// enum or std::atomic: the value is the child's.
			ct, err := child(0)
			if err != nil {
				return nil, err
			}
			w := *ct
			w.Name, w.field, w.wrapper = f.Type, id, true
			w.Elem = ct
			return &w, nil
		case f.Type == "std::string":
			if !nt.columnsAre(f, 2, ColIndex32, ColIndex64, ColSplitIndex32, ColSplitIndex64) {
				return nil, fmt.Errorf("field %q: std::string without its index and Char columns", f.Name)
			}
			t.Kind = KindString
			return t, nil
		}
		k, ok := leafKinds[f.Type]
		if !ok {
			return nil, fmt.Errorf("field %q: type %q not supported", f.Name, f.Type)
		}
		if nt.repWidth(f) != 1 {
			return nil, fmt.Errorf("field %q (%s): %d columns, want 1", f.Name, f.Type, len(f.Columns))
		}
		t.Kind = k
		return t, nil
	case RoleCollection:
		if nt.repWidth(f) != 1 || !nt.columnsAre(f, 1, ColIndex32, ColIndex64, ColSplitIndex32, ColSplitIndex64) {
			return nil, fmt.Errorf("field %q (%s): a collection needs one index column", f.Name, f.Type)
		}
		var et *Type
		switch len(f.Children) {
		case 0:
			return nil, fmt.Errorf("field %q (%s): collection without an item field", f.Name, f.Type)
		case 1:
			var err error
			if et, err = child(0); err != nil {
				return nil, err
			}
		default: // an untyped collection of several fields: a record per item
			et = &Type{Kind: KindStruct, field: -1}
			for i, c := range f.Children {
				ct, err := child(i)
				if err != nil {
					return nil, err
				}
				et.Names = append(et.Names, nt.Fields[c].Name)
				et.Members = append(et.Members, ct)
			}
		}
		t.Kind, t.Elem = KindList, et
		if strings.HasPrefix(f.Type, "std::optional<") || strings.HasPrefix(f.Type, "std::unique_ptr<") {
			t.Kind = KindOptional
		}
		return t, nil
	case RoleRecord:
		t.Kind = KindStruct
		for i, c := range f.Children {
			ct, err := child(i)
			if err != nil {
				return nil, err
			}
			t.Names = append(t.Names, nt.Fields[c].Name)
			t.Members = append(t.Members, ct)
		}
		return t, nil
	case RoleVariant:
		if nt.repWidth(f) != 1 || !nt.columnsAre(f, 1, ColSwitch) {
			return nil, fmt.Errorf("field %q (%s): a variant needs one Switch column", f.Name, f.Type)
		}
		if len(f.Children) == 0 || len(f.Children) > 125 {
			return nil, fmt.Errorf("field %q (%s): variant of %d alternatives", f.Name, f.Type, len(f.Children))
		}
		t.Kind = KindVariant
		for i, c := range f.Children {
			ct, err := child(i)
			if err != nil {
				return nil, err
			}
			t.Names = append(t.Names, nt.Fields[c].Name)
			t.Members = append(t.Members, ct)
		}
		return t, nil
	}
	return nil, fmt.Errorf("field %q (%s): unknown structural role %d", f.Name, f.Type, f.Role)
}

var leafKinds = map[string]Kind{
	"bool": KindBool, "char": KindInt8, "std::byte": KindUint8,
	"std::int8_t": KindInt8, "std::uint8_t": KindUint8,
	"std::int16_t": KindInt16, "std::uint16_t": KindUint16,
	"std::int32_t": KindInt32, "std::uint32_t": KindUint32,
	"std::int64_t": KindInt64, "std::uint64_t": KindUint64,
	"float": KindFloat32, "double": KindFloat64,
	// Older writers spelled some types without the std:: prefix.
	"int8_t": KindInt8, "uint8_t": KindUint8, "int16_t": KindInt16, "uint16_t": KindUint16,
	"int32_t": KindInt32, "uint32_t": KindUint32, "int64_t": KindInt64, "uint64_t": KindUint64,
}

// repWidth is the number of columns of one representation of f.
func (nt *NTuple) repWidth(f *Field) int {
	n := 0
	for _, c := range f.Columns {
		if nt.Columns[c].Rep == 0 {
			n++
		}
	}
	return n
}

// columnsAre reports whether f has width columns per representation, the
// first of each of one of the types (the others are not checked here).
func (nt *NTuple) columnsAre(f *Field, width int, types ...uint16) bool {
	if len(f.Columns) == 0 || nt.repWidth(f) != width || len(f.Columns)%width != 0 {
		return false
	}
	for i := 0; i < len(f.Columns); i += width {
		ok := false
		for _, t := range types {
			ok = ok || nt.Columns[f.Columns[i]].Type == t
		}
		if !ok {
			return false
		}
	}
	return true
}

// activeColumns returns f's columns of the representation active in
// cluster ci (every cluster has exactly one unsuppressed representation).
func (nt *NTuple) activeColumns(f *Field, ci int) ([]int, error) {
	w := nt.repWidth(f)
	if w == 0 || len(f.Columns)%w != 0 {
		return nil, corrupt("field %q: %d columns in representations of %d", f.Name, len(f.Columns), w)
	}
	for i := 0; i < len(f.Columns); i += w {
		cr := nt.ranges[ci][f.Columns[i]]
		if !cr.Present || !cr.Suppressed {
			return f.Columns[i : i+w], nil
		}
	}
	return nil, corrupt("field %q: every representation suppressed in cluster %d", f.Name, ci)
}

// Read reads field id's values in cluster ci (an index into Clusters).
func (nt *NTuple) Read(id, ci int) (Array, error) {
	t, err := nt.TypeOf(id)
	if err != nil {
		return Array{}, err
	}
	return nt.ReadType(t, ci)
}

// ReadType reads the values of the field t was resolved for (TypeOf) in
// cluster ci.
func (nt *NTuple) ReadType(t *Type, ci int) (Array, error) {
	if ci < 0 || ci >= len(nt.Clusters) {
		return Array{}, fmt.Errorf("no cluster %d (%d clusters)", ci, len(nt.Clusters))
	}
	return nt.ReadRange(t, ci, 0, nt.Clusters[ci].Entries)
}

// ReadRange reads the values of entries [first, first+n) of cluster ci
// (entry numbers counted from the cluster's first), reading only the
// pages that hold them, so that a large cluster can be read in parts.
func (nt *NTuple) ReadRange(t *Type, ci int, first, n int64) (Array, error) {
	if ci < 0 || ci >= len(nt.Clusters) {
		return Array{}, fmt.Errorf("no cluster %d (%d clusters)", ci, len(nt.Clusters))
	}
	if t.field < 0 || t.field >= len(nt.Fields) {
		return Array{}, fmt.Errorf("type not resolved by TypeOf")
	}
	entries := nt.Clusters[ci].Entries
	if first < 0 || n < 0 || first > entries-n {
		return Array{}, fmt.Errorf("entries [%d, +%d) outside cluster %d of %d entries", first, n, ci, entries)
	}
	a, err := nt.read(t, ci, entries, first, n, nil)
	if err != nil {
		return a, fmt.Errorf("field %q, cluster %d: %w", nt.Fields[t.field].Name, ci, err)
	}
	return a, nil
}

// ReadRangeInto is ReadRange reusing the memory of reuse, an Array an
// earlier read of the same type returned and the caller is done with
// (nil: none): a scan reading unit after unit then allocates (and the
// collector scans) nothing once its buffers have grown.
func (nt *NTuple) ReadRangeInto(t *Type, ci int, first, n int64, reuse *Array) (Array, error) {
	if ci < 0 || ci >= len(nt.Clusters) {
		return Array{}, fmt.Errorf("no cluster %d (%d clusters)", ci, len(nt.Clusters))
	}
	if t.field < 0 || t.field >= len(nt.Fields) {
		return Array{}, fmt.Errorf("type not resolved by TypeOf")
	}
	entries := nt.Clusters[ci].Entries
	if first < 0 || n < 0 || first > entries-n {
		return Array{}, fmt.Errorf("entries [%d, +%d) outside cluster %d of %d entries", first, n, ci, entries)
	}
	a, err := nt.read(t, ci, entries, first, n, reuse)
	if err != nil {
		return a, fmt.Errorf("field %q, cluster %d: %w", nt.Fields[t.field].Name, ci, err)
	}
	return a, nil
}

// reuseChild is child i of reuse, or nil.
func reuseChild(reuse *Array, i int) *Array {
	if reuse == nil || i >= len(reuse.Children) {
		return nil
	}
	return &reuse.Children[i]
}

// reuseData is a colData over reuse's leaf slices, emptied.
func reuseData(reuse *Array) colData {
	if reuse == nil {
		return colData{}
	}
	return colData{b: reuse.Bools[:0], i: reuse.Ints[:0], u: reuse.Uints[:0], f: reuse.Floats[:0]}
}

// read reads values [first, first+n) of type t in cluster ci, which holds
// total values of it, reusing the memory of reuse (nil: none).
func (nt *NTuple) read(t *Type, ci int, total, first, n int64, reuse *Array) (Array, error) {
	a := Array{Type: t, Len: int(n)}
	if reuse != nil && len(reuse.Children) > 0 {
		// Children are read into the old ones' memory, then stored in
		// their slice again.
		a.Children = reuse.Children[:0]
	}
	if n < 0 || n > MaxAlloc || total < 0 || first < 0 || first > total-n {
		return a, corrupt("values [%d, +%d) of %d", first, n, total)
	}
	if t.field < 0 { // an untyped collection's implicit record
		for i, m := range t.Members {
			c, err := nt.read(m, ci, total, first, n, reuseChild(reuse, i))
			if err != nil {
				return a, err
			}
			a.Children = append(a.Children, c)
		}
		return a, nil
	}
	f := &nt.Fields[t.field]
	switch {
	case t.wrapper:
		c, err := nt.read(t.Elem, ci, total, first, n, reuse)
		c.Type = t
		return c, err
	case t.bitset:
		cols, err := nt.activeColumns(f, ci)
		if err != nil {
			return a, err
		}
		size := int64(t.Size)
		d, err := nt.readColumnInto(ci, cols[0], total*size, first*size, n*size, reuseData(reuseChild(reuse, 0)))
		if err != nil {
			return a, err
		}
		a.Children = append(a.Children, Array{Type: t.Elem, Len: len(d.b), Bools: d.b})
		return a, nil
	case t.cardinality:
		cols, err := nt.activeColumns(f, ci)
		if err != nil {
			return a, err
		}
		offs, _, err := nt.offsets(ci, cols[0], total, first, n, nil)
		if err != nil {
			return a, err
		}
		a.Uints = make([]uint64, n)
		for i := range a.Uints {
			a.Uints[i] = uint64(offs[i+1] - offs[i])
		}
		return a, nil
	}
	switch t.Kind {
	case KindArray:
		size := int64(t.Size)
		c, err := nt.read(t.Elem, ci, total*size, first*size, n*size, reuseChild(reuse, 0))
		a.Children = append(a.Children, c)
		return a, err
	case KindStruct:
		for i, m := range t.Members {
			c, err := nt.read(m, ci, total, first, n, reuseChild(reuse, i))
			if err != nil {
				return a, err
			}
			a.Children = append(a.Children, c)
		}
		return a, nil
	case KindList, KindOptional, KindString:
		cols, err := nt.activeColumns(f, ci)
		if err != nil {
			return a, err
		}
		var into []int64
		if reuse != nil {
			into = reuse.Offsets
		}
		offs, base, err := nt.offsets(ci, cols[0], total, first, n, into)
		if err != nil {
			return a, err
		}
		// The items of all the cluster's entries: the last offset.
		items := base + offs[n]
		if first+n < total {
			last, lastBase, err := nt.offsets(ci, cols[0], total, total-1, 1, nil)
			if err != nil {
				return a, err
			}
			items = lastBase + last[1]
		}
		a.Offsets = offs
		if base+offs[n] > items {
			return a, corrupt("collection offsets run to %d of %d items", base+offs[n], items)
		}
		if t.Kind == KindOptional {
			for i := range n {
				if offs[i+1]-offs[i] > 1 {
					return a, corrupt("entry %d of an optional holds %d items", first+i, offs[i+1]-offs[i])
				}
			}
		}
		if t.Kind == KindString {
			d, err := nt.readColumnRange(ci, cols[1], items, base, offs[n])
			if err != nil {
				return a, err
			}
			buf := make([]byte, offs[n])
			for i := range buf {
				buf[i] = byte(d.int(i))
			}
			a.Strings = make([]string, n)
			for i := range a.Strings {
				a.Strings[i] = string(buf[offs[i]:offs[i+1]])
			}
			a.Offsets = nil
			return a, nil
		}
		c, err := nt.read(t.Elem, ci, items, base, offs[n], reuseChild(reuse, 0))
		a.Children = append(a.Children, c)
		if err == nil && IsMap(t) {
			err = uniqueKeys(&a, first)
		}
		return a, err
	case KindVariant:
		cols, err := nt.activeColumns(f, ci)
		if err != nil {
			return a, err
		}
		// The whole cluster's switch column gives each alternative's item
		// count; variants are rare enough not to read it in parts.
		all, err := nt.readColumn(ci, cols[0], total)
		if err != nil {
			return a, err
		}
		counts := make([]int64, len(t.Members))
		lo := make([]int64, len(t.Members))
		hi := make([]int64, len(t.Members))
		for k := range lo {
			lo[k] = -1
		}
		for i, tag := range all.tag {
			if tag < 0 || int(tag) > len(t.Members) {
				return a, corrupt("entry %d: variant tag %d of %d alternatives", i, tag, len(t.Members))
			}
			if tag == 0 {
				continue
			}
			k, idx := tag-1, int64(all.u[i])
			counts[k] = max(counts[k], idx+1)
			if int64(i) >= first && int64(i) < first+n {
				if lo[k] < 0 || idx < lo[k] {
					lo[k] = idx
				}
				hi[k] = max(hi[k], idx+1)
			}
		}
		a.Tags, a.Index = all.tag[first:first+n], make([]int64, n)
		for i := range n {
			if tag := a.Tags[i]; tag != 0 {
				a.Index[i] = int64(all.u[first+i]) - lo[tag-1]
			}
		}
		for k, m := range t.Members {
			from := max(lo[k], 0)
			c, err := nt.read(m, ci, counts[k], from, max(hi[k]-from, 0), nil)
			if err != nil {
				return a, err
			}
			a.Children = append(a.Children, c)
		}
		return a, nil
	}
	// A numeric leaf.
	cols, err := nt.activeColumns(f, ci)
	if err != nil {
		return a, err
	}
	d, err := nt.readColumnInto(ci, cols[0], total, first, n, reuseData(reuse))
	if err != nil {
		return a, err
	}
	// A field's C++ type may be read from other column types than its
	// own (the specification's "R" entries): integers from any integer,
	// Bit or Char column, reals only from real columns.
	isReal := t.Kind == KindFloat32 || t.Kind == KindFloat64
	if isReal != (d.kind == kindFloat) || d.kind == kindSwitch {
		return a, corrupt("field %q (%s) stored in a %s column", f.Name, f.Type, ColumnTypeName(nt.Columns[cols[0]].Type))
	}
	switch t.Kind {
	case KindBool:
		a.Bools = make([]bool, n)
		for i := range a.Bools {
			a.Bools[i] = d.int(i) != 0
		}
	case KindFloat32, KindFloat64:
		a.Floats = d.f
	case KindInt8, KindInt16, KindInt32, KindInt64:
		a.Ints = d.i
		if d.kind != kindInt {
			a.Ints = make([]int64, n)
			for i := range a.Ints {
				a.Ints[i] = d.int(i)
			}
		}
	default:
		a.Uints = d.u
		if d.kind != kindUint {
			a.Uints = make([]uint64, n)
			for i := range a.Uints {
				a.Uints[i] = uint64(d.int(i))
			}
		}
	}
	return a, nil
}

// wordsPool lends offsets the memory of an index column's raw values.
var wordsPool = sync.Pool{New: func() any { return new([]uint64) }}

// int returns integer element i of a non-real column.
func (d *colData) int(i int) int64 {
	switch d.kind {
	case kindBool:
		if d.b[i] {
			return 1
		}
		return 0
	case kindInt:
		return d.i[i]
	case kindUint:
		return int64(d.u[i])
	}
	return 0
}

// offsets reads entries [first, first+n) of an index column (of total
// entries in the cluster) as n+1 offsets starting at 0, and base, the
// cluster-relative offset of the first entry's first item; offsets never
// decrease.
//
// into, when not nil, lends its memory to the offsets returned.
func (nt *NTuple) offsets(ci, col int, total, first, n int64, into []int64) ([]int64, int64, error) {
	from := first
	if first > 0 {
		from-- // the previous entry's end is this range's start
	}
	words := wordsPool.Get().(*[]uint64)
	defer wordsPool.Put(words)
	d, err := nt.readColumnInto(ci, col, total, from, first+n-from, colData{u: (*words)[:0]})
	*words = d.u
	if err != nil {
		return nil, 0, err
	}
	vals := d.u
	var base int64
	if first > 0 {
		base = int64(vals[0])
		vals = vals[1:]
		if base < 0 || uint64(base) > uint64(MaxAlloc) {
			return nil, 0, corrupt("collection offset %d", vals[0])
		}
	}
	offs := into[:0]
	offs = append(offs, make([]int64, n+1)...)
	for i, v := range vals {
		if v > uint64(MaxAlloc) || int64(v)-base < offs[i] {
			return nil, 0, corrupt("entry %d: collection offset %d after %d", first+int64(i), v, base+offs[i])
		}
		offs[i+1] = int64(v) - base
	}
	return offs, base, nil
}

// uniqueKeys checks that no entry of a map's array repeats a key: a
// std::map's keys are unique and a DuckDB MAP relies on it, so a repeat
// means the bytes are not what they claim to be. first is the array's
// first entry, for the message.
func uniqueKeys(a *Array, first int64) error {
	pairs := &a.Children[0]
	if len(pairs.Children) == 0 {
		return nil
	}
	keys := &pairs.Children[0]
	var seen map[any]int64
	for i := range len(a.Offsets) - 1 {
		lo, hi := a.Offsets[i], a.Offsets[i+1]
		if hi-lo < 2 {
			continue
		}
		clear(seen)
		if seen == nil {
			seen = map[any]int64{}
		}
		for j := lo; j < hi; j++ {
			k, ok := keyAt(keys, j)
			if !ok {
				return nil // keys of a kind a MAP cannot have: the SQL side refuses the type
			}
			if at, dup := seen[k]; dup {
				return corrupt("entry %d: map pair %d repeats the key of pair %d (a std::map's keys are unique)", first+int64(i), j-lo, at-lo)
			}
			seen[k] = j
		}
	}
	return nil
}

// keyAt is the j-th value of a leaf array, comparable.
func keyAt(a *Array, j int64) (any, bool) {
	switch {
	case a.Ints != nil:
		return a.Ints[j], true
	case a.Uints != nil:
		return a.Uints[j], true
	case a.Floats != nil:
		return a.Floats[j], true
	case a.Strings != nil:
		return a.Strings[j], true
	case a.Bools != nil:
		return a.Bools[j], true
	}
	return nil, false
}
