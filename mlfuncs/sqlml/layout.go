package sqlml

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/hepsql/hepsql/internal/capi"
)

// Feature kinds: how a column's values reach the network.
const (
	kindScalar   = "scalar"   // one number per row → one high-level feature
	kindVector   = "vector"   // a list or array of numbers → Width high-level features
	kindSequence = "sequence" // a list of lists (particles × Width) → the GRU input
)

// feature is one input column as the model saw it in training; it is
// stored with the model so that predict maps another query's columns by
// name and checks their shapes.
type feature struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Width int    `json:"width,omitempty"` // vector: values per row; sequence: values per step
	// Type is the column's SQL type in the training query (empty for
	// models stored before it was recorded).
	Type string `json:"type,omitempty"`
}

// layout describes a model's inputs and label in terms of query columns.
type layout struct {
	Features []feature `json:"features"`
	HLFDim   int       `json:"hlf_dim"`
	SeqLen   int       `json:"seq_len,omitempty"` // steps kept per row; longer sequences are cut
	SeqDim   int       `json:"seq_dim,omitempty"`
	Label    string    `json:"label"`
	OneHot   bool      `json:"one_hot,omitempty"`
	Classes  int       `json:"classes"`
}

func (l *layout) hasSeq() bool { return l.SeqDim > 0 }

// column is a feature or the label bound to a query's column.
type column struct {
	feature
	col    int
	typ    capi.Type
	offset int // first high-level slot (scalar, vector)
}

// numericIDs are the element types read as numbers.
var numericIDs = map[capi.TypeID]bool{
	capi.Float: true, capi.Double: true, capi.TinyInt: true, capi.SmallInt: true,
	capi.Integer: true, capi.BigInt: true, capi.UTinyInt: true, capi.USmallInt: true,
	capi.UInteger: true,
}

var intIDs = map[capi.TypeID]bool{
	capi.TinyInt: true, capi.SmallInt: true, capi.Integer: true, capi.BigInt: true,
	capi.UTinyInt: true, capi.USmallInt: true, capi.UInteger: true,
}

func isNested(t capi.Type) bool { return t.ID == capi.List || t.ID == capi.Array }

// classify names a column type's feature kind and its fixed width, if any.
func classify(t capi.Type) (kind string, width int, ok bool) {
	switch {
	case numericIDs[t.ID]:
		return kindScalar, 1, true
	case isNested(t) && numericIDs[t.Elem.ID]:
		return kindVector, t.Size, true // Size 0 for a LIST: learned from the data
	case isNested(t) && isNested(*t.Elem) && numericIDs[t.Elem.Elem.ID]:
		return kindSequence, t.Elem.Size, true
	case isNested(t) && numericStruct(*t.Elem):
		// A list of structs of numbers (particles with named features):
		// a sequence whose steps are the structs' fields, in order.
		return kindSequence, len(t.Elem.Fields), true
	}
	return "", 0, false
}

// numericStruct reports whether t is a STRUCT whose fields are all numbers.
func numericStruct(t capi.Type) bool {
	if t.ID != capi.Struct || len(t.Fields) == 0 {
		return false
	}
	for _, f := range t.Fields {
		if !numericIDs[f.Type.ID] {
			return false
		}
	}
	return true
}

// newLayout plans a training's inputs from a query's columns: the listed
// features (all but the label when none are listed) and the label column.
// Widths of variable lists are filled in from the data by the reader.
func newLayout(cols []capi.Column, typeName func(int) string, want []string, label string) (*layout, error) {
	byName := map[string]int{}
	for i, c := range cols {
		byName[strings.ToLower(c.Name)] = i
	}
	li, ok := byName[strings.ToLower(label)]
	if !ok {
		return nil, fmt.Errorf("no label column %q among the query's columns (%s); name it with label := '...'", label, names(cols))
	}
	l := &layout{Label: cols[li].Name}
	lt := cols[li].Type
	switch {
	case intIDs[lt.ID]:
	case isNested(lt) && numericIDs[lt.Elem.ID]:
		l.OneHot = true
	default:
		return nil, fmt.Errorf("label column %q is %s; want an integer class or a one-hot list", label, typeName(li))
	}
	if len(want) == 0 {
		for i, c := range cols {
			if i != li {
				want = append(want, c.Name)
			}
		}
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("the query has no feature columns besides the label %q", label)
	}
	seen := map[int]bool{li: true}
	for _, name := range want {
		i, ok := byName[strings.ToLower(name)]
		if !ok {
			return nil, fmt.Errorf("no feature column %q among the query's columns (%s)", name, names(cols))
		}
		if seen[i] {
			return nil, fmt.Errorf("column %q is used twice (as a feature or the label)", cols[i].Name)
		}
		seen[i] = true
		kind, width, ok := classify(cols[i].Type)
		if !ok {
			return nil, fmt.Errorf("feature column %q is %s; want a number, a list of numbers or a list of lists of numbers", cols[i].Name, typeName(i))
		}
		if kind == kindSequence {
			if l.SeqDim != 0 || slices.ContainsFunc(l.Features, func(f feature) bool { return f.Kind == kindSequence }) {
				return nil, fmt.Errorf("feature column %q: only one sequence (list of lists) column is supported", cols[i].Name)
			}
		}
		l.Features = append(l.Features, feature{Name: cols[i].Name, Kind: kind, Width: width, Type: typeName(i)})
	}
	return l, nil
}

func names(cols []capi.Column) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = c.Name
	}
	return strings.Join(s, ", ")
}

// binding is a layout bound to one query's columns.
type binding struct {
	l       *layout
	cols    []column
	label   *column // nil: no label wanted (predict)
	settled bool    // widths and offsets known
	// trained: the widths are a trained model's (not the first row's), so
	// a mismatch says what the model expects.
	trained bool
	// scalar: rows are a scalar function's, whose numbers within DuckDB's
	// chunk mean nothing to the user; errors leave them out.
	scalar bool
}

// bind maps l's features (and the label when withLabel) onto the query's
// columns by name, checking kinds.
func (l *layout) bind(cols []capi.Column, typeName func(int) string, withLabel bool) (*binding, error) {
	byName := map[string]int{}
	for i, c := range cols {
		byName[strings.ToLower(c.Name)] = i
	}
	b := &binding{l: l, settled: l.HLFDim > 0 || l.SeqDim > 0}
	b.trained = b.settled
	off := 0
	for _, f := range l.Features {
		i, ok := byName[strings.ToLower(f.Name)]
		if !ok {
			return nil, fmt.Errorf("the model needs column %q (%s), absent from the query's columns (%s)", f.Name, f.Kind, names(cols))
		}
		kind, _, ok := classify(cols[i].Type)
		if !ok || kind != f.Kind {
			return nil, fmt.Errorf("column %q is %s; the model was trained on a %s there", f.Name, typeName(i), f.Kind)
		}
		c := column{feature: f, col: i, typ: cols[i].Type, offset: off}
		if f.Kind != kindSequence {
			off += max(f.Width, 1)
		}
		b.cols = append(b.cols, c)
	}
	if withLabel {
		i, ok := byName[strings.ToLower(l.Label)]
		if !ok {
			return nil, fmt.Errorf("no label column %q among the query's columns (%s)", l.Label, names(cols))
		}
		b.label = &column{feature: feature{Name: cols[i].Name}, col: i, typ: cols[i].Type}
	}
	return b, nil
}

// vectors is a chunk's columns: a query result's chunk or a scalar
// function's arguments.
type vectors interface{ Vector(i int) capi.Vector }

// rows is a block of rows in the layout's form, sequences packed.
type rows struct {
	n      int
	hlf    []float32 // n × HLFDim
	labels []int32
	lens   []int32   // steps per row
	steps  []float32 // Σ lens × SeqDim
	tmp    []float32
}

func (r *rows) reset(n, hlfDim int) {
	r.n = n
	r.hlf = slices.Grow(r.hlf[:0], n*hlfDim)[:n*hlfDim]
	r.labels = slices.Grow(r.labels[:0], n)[:n]
	r.lens = slices.Grow(r.lens[:0], n)[:n]
	r.steps = r.steps[:0]
}

// read converts n rows of ch into out. first is the number of rows read
// before, for error messages. Widths of variable lists are fixed by the
// first row seen (training) and checked after.
func (b *binding) read(ch vectors, n, first int, out *rows) error {
	l := b.l
	if !b.settled && n > 0 {
		// Widths known only now (variable lists): settle the offsets.
		if err := b.settle(ch, n); err != nil {
			return err
		}
		b.settled = true
	}
	out.reset(n, l.HLFDim)
	for i := range b.cols {
		c := &b.cols[i]
		v := ch.Vector(c.col)
		if err := noNulls(v, n, b, c.Name, first); err != nil {
			return err
		}
		var err error
		switch c.Kind {
		case kindScalar:
			out.tmp = slices.Grow(out.tmp[:0], n)[:n]
			toF32(out.tmp, v, c.typ.ID, 0)
			for r, x := range out.tmp {
				out.hlf[r*l.HLFDim+c.offset] = x
			}
		case kindVector:
			err = b.readVector(c, v, n, first, out)
		case kindSequence:
			err = b.readSequence(c, v, n, first, out)
		}
		if err != nil {
			return err
		}
	}
	if err := finite(out.hlf, l.HLFDim, b, first); err != nil {
		return err
	}
	if b.label != nil {
		return b.readLabel(ch.Vector(b.label.col), n, first, out)
	}
	return nil
}

// settle fixes the widths of variable-length vector columns from the
// chunk's first row and lays the high-level vector out.
func (b *binding) settle(ch vectors, n int) error {
	off := 0
	for i := range b.cols {
		c := &b.cols[i]
		if c.Kind == kindSequence {
			if c.Width == 0 && n > 0 {
				c.Width = firstInnerLen(ch.Vector(c.col), c.typ)
			}
			b.l.SeqDim = c.Width
			continue
		}
		if c.Kind == kindVector && c.Width == 0 {
			if c.typ.ID == capi.Array {
				c.Width = c.typ.Size
			} else if n > 0 {
				c.Width = int(capi.Slice[capi.ListEntry](ch.Vector(c.col), 1)[0].Length)
			}
		}
		if c.Width == 0 {
			return fmt.Errorf("%w: column %q has an empty list in its first row; its length sets the number of features", errShape, c.Name)
		}
		c.offset = off
		off += c.Width
	}
	for i, c := range b.cols {
		b.l.Features[i].Width = c.Width
	}
	b.l.HLFDim = off
	return nil
}

// where names row r (1-based) for an error, unless the rows are a scalar
// function's.
func (b *binding) where(r int) string {
	if b.scalar {
		return ""
	}
	return fmt.Sprintf(" in row %d", r)
}

// what names the inputs: a query's columns or a function's arguments.
func (b *binding) what() string {
	if b.scalar {
		return "argument"
	}
	return "column"
}

func firstInnerLen(v capi.Vector, t capi.Type) int {
	if t.Elem.ID == capi.Struct {
		return len(t.Elem.Fields)
	}
	if t.Elem.ID == capi.Array {
		return t.Elem.Size
	}
	child := v.ListChild()
	var e capi.ListEntry
	if t.ID == capi.List {
		outer := capi.Slice[capi.ListEntry](v, 1)[0]
		if outer.Length == 0 {
			return 0
		}
		e = capi.Slice[capi.ListEntry](child, int(outer.Offset)+1)[outer.Offset]
	} else {
		child = v.ArrayChild()
		e = capi.Slice[capi.ListEntry](child, 1)[0]
	}
	return int(e.Length)
}

// noNulls fails on v's first NULL, naming input name of b; first+r+1 is
// the row of v's r, or first < 0 when v's entries are not rows (list
// elements), or the rows are a scalar function's (b nil).
func noNulls(v capi.Vector, n int, b *binding, name string, first int) error {
	mask := v.ReadValidity(n)
	for r := range n {
		if !capi.IsValid(mask, r) {
			if b == nil {
				return fmt.Errorf("argument %q is NULL", name)
			}
			where := ""
			if first >= 0 {
				where = b.where(first + r + 1)
			}
			return fmt.Errorf("%s %q is NULL%s", b.what(), name, where)
		}
	}
	return nil
}

func (b *binding) readVector(c *column, v capi.Vector, n, first int, out *rows) error {
	d := b.l.HLFDim
	if c.typ.ID == capi.Array {
		child := v.ArrayChild()
		out.tmp = slices.Grow(out.tmp[:0], n*c.Width)[:n*c.Width]
		toF32(out.tmp, child, c.typ.Elem.ID, 0)
		for r := range n {
			copy(out.hlf[r*d+c.offset:r*d+c.offset+c.Width], out.tmp[r*c.Width:])
		}
		return nil
	}
	entries := capi.Slice[capi.ListEntry](v, n)
	child := v.ListChild()
	size := v.ListSize()
	if err := noNulls(child, size, b, c.Name+" element", -1); err != nil {
		return err
	}
	for r, e := range entries {
		if int(e.Length) != c.Width {
			if b.trained {
				return fmt.Errorf("%w: the model expects %d features in %s %q, got %d%s", errShape, c.Width, b.what(), c.Name, e.Length, b.where(first+r+1))
			}
			return fmt.Errorf("%w: %s %q has %d values%s, %d in the first row", errShape, b.what(), c.Name, e.Length, b.where(first+r+1), c.Width)
		}
		toF32(out.hlf[r*d+c.offset:r*d+c.offset+c.Width], child, c.typ.Elem.ID, int(e.Offset))
	}
	return nil
}

func (b *binding) readSequence(c *column, v capi.Vector, n, first int, out *rows) error {
	l := b.l
	f := c.Width
	var outer []capi.ListEntry
	var mid capi.Vector
	if c.typ.ID == capi.List {
		outer = capi.Slice[capi.ListEntry](v, n)
		mid = v.ListChild()
	} else {
		outer = make([]capi.ListEntry, n)
		for r := range outer {
			outer[r] = capi.ListEntry{Offset: uint64(r * c.typ.Size), Length: uint64(c.typ.Size)}
		}
		mid = v.ArrayChild()
	}
	if c.typ.Elem.ID == capi.Struct {
		return b.readStructSequence(c, v, outer, mid, n, first, out)
	}
	var inner []capi.ListEntry
	var leaf capi.Vector
	if c.typ.Elem.ID == capi.List {
		total := 0
		if c.typ.ID == capi.List {
			total = v.ListSize()
		} else {
			total = n * c.typ.Size
		}
		inner = capi.Slice[capi.ListEntry](mid, total)
		leaf = mid.ListChild()
		if err := noNulls(mid, total, b, c.Name+" step", -1); err != nil {
			return err
		}
		if err := noNulls(leaf, mid.ListSize(), b, c.Name+" element", -1); err != nil {
			return err
		}
	} else {
		leaf = mid.ArrayChild()
	}
	for r, e := range outer {
		steps := int(e.Length)
		if l.SeqLen > 0 && steps > l.SeqLen {
			steps = l.SeqLen
		}
		out.lens[r] = int32(steps)
		base := len(out.steps)
		out.steps = slices.Grow(out.steps, steps*f)[:base+steps*f]
		for j := range steps {
			k := int(e.Offset) + j
			off := k * f
			if inner != nil {
				if int(inner[k].Length) != f {
					if b.trained {
						return fmt.Errorf("%w: the model expects steps of %d values in %s %q, got one of %d%s", errShape, f, b.what(), c.Name, inner[k].Length, b.where(first+r+1))
					}
					return fmt.Errorf("%w: %s %q has a step of %d values%s; want %d", errShape, b.what(), c.Name, inner[k].Length, b.where(first+r+1), f)
				}
				off = int(inner[k].Offset)
			}
			toF32(out.steps[base+j*f:base+(j+1)*f], leaf, c.typ.Elem.Elem.ID, off)
		}
	}
	if err := finite(out.steps, f, b, first); err != nil {
		return fmt.Errorf("column %q: %w", c.Name, err)
	}
	return nil
}

// readStructSequence reads a list of structs of numbers: step j of row r
// is the struct at outer[r].Offset+j, its fields the step's values.
func (b *binding) readStructSequence(c *column, v capi.Vector, outer []capi.ListEntry, mid capi.Vector, n, first int, out *rows) error {
	l := b.l
	f := c.Width
	if len(c.typ.Elem.Fields) != f {
		return fmt.Errorf("%w: the model expects steps of %d values in %s %q, got structs of %d fields", errShape, f, b.what(), c.Name, len(c.typ.Elem.Fields))
	}
	total := 0
	for _, e := range outer {
		total = max(total, int(e.Offset+e.Length))
	}
	if err := noNulls(mid, total, b, c.Name+" step", -1); err != nil {
		return err
	}
	fields := make([]capi.Vector, f)
	for k := range fields {
		fields[k] = mid.StructChild(k)
		if err := noNulls(fields[k], total, b, c.Name+"."+c.typ.Elem.Fields[k].Name, -1); err != nil {
			return err
		}
	}
	var one [1]float32
	for r, e := range outer {
		steps := int(e.Length)
		if l.SeqLen > 0 && steps > l.SeqLen {
			steps = l.SeqLen
		}
		out.lens[r] = int32(steps)
		base := len(out.steps)
		out.steps = slices.Grow(out.steps, steps*f)[:base+steps*f]
		for k, fv := range fields {
			id := c.typ.Elem.Fields[k].Type.ID
			if id == capi.Float {
				src := capi.Slice[float32](fv, int(e.Offset)+steps)[e.Offset:]
				for j := range steps {
					out.steps[base+j*f+k] = src[j]
				}
				continue
			}
			for j := range steps {
				toF32(one[:], fv, id, int(e.Offset)+j)
				out.steps[base+j*f+k] = one[0]
			}
		}
	}
	if err := finite(out.steps, f, b, first); err != nil {
		return fmt.Errorf("column %q: %w", c.Name, err)
	}
	return nil
}

func (b *binding) readLabel(v capi.Vector, n, first int, out *rows) error {
	c := b.label
	if err := noNulls(v, n, b, c.Name, first); err != nil {
		return err
	}
	classes := b.l.Classes
	if !isNested(c.typ) {
		out.tmp = slices.Grow(out.tmp[:0], n)[:n]
		toF32(out.tmp, v, c.typ.ID, 0)
		for r, x := range out.tmp {
			if x < 0 || x != float32(int32(x)) || (classes > 0 && int(x) >= classes) {
				return fmt.Errorf("%w: label %q is %g%s; want a class in [0, %d)", errLabel, c.Name, x, b.where(first+r+1), max(classes, 1<<20))
			}
			out.labels[r] = int32(x)
		}
		return nil
	}
	var width int
	var child capi.Vector
	var entries []capi.ListEntry
	if c.typ.ID == capi.Array {
		width = c.typ.Size
		child = v.ArrayChild()
	} else {
		entries = capi.Slice[capi.ListEntry](v, n)
		child = v.ListChild()
	}
	for r := range n {
		off := r * width
		if entries != nil {
			off, width = int(entries[r].Offset), int(entries[r].Length)
		}
		if classes == 0 {
			b.l.Classes = width
			classes = width
		}
		if width != classes || width < 2 {
			return fmt.Errorf("%w: one-hot label %q has %d values%s; want %d", errShape, c.Name, width, b.where(first+r+1), classes)
		}
		out.tmp = slices.Grow(out.tmp[:0], width)[:width]
		toF32(out.tmp, child, c.typ.Elem.ID, off)
		best := 0
		for k, x := range out.tmp {
			if x > out.tmp[best] {
				best = k
			}
		}
		out.labels[r] = int32(best)
	}
	return nil
}

func finite(x []float32, width int, b *binding, first int) error {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: %g at value %d%s", errNotFinite, v, i%max(width, 1)+1, b.where(first+i/max(width, 1)+1))
		}
	}
	return nil
}

// toF32 converts len(dst) numbers of v, from element off, to float32.
func toF32(dst []float32, v capi.Vector, id capi.TypeID, off int) {
	n := off + len(dst)
	switch id {
	case capi.Float:
		copy(dst, capi.Slice[float32](v, n)[off:])
	case capi.Double:
		conv(dst, capi.Slice[float64](v, n)[off:])
	case capi.TinyInt:
		conv(dst, capi.Slice[int8](v, n)[off:])
	case capi.SmallInt:
		conv(dst, capi.Slice[int16](v, n)[off:])
	case capi.Integer:
		conv(dst, capi.Slice[int32](v, n)[off:])
	case capi.BigInt:
		conv(dst, capi.Slice[int64](v, n)[off:])
	case capi.UTinyInt:
		conv(dst, capi.Slice[uint8](v, n)[off:])
	case capi.USmallInt:
		conv(dst, capi.Slice[uint16](v, n)[off:])
	case capi.UInteger:
		conv(dst, capi.Slice[uint32](v, n)[off:])
	}
}

func conv[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | float64](dst []float32, src []T) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = float32(x)
	}
}
