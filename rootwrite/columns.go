package rootwrite

import (
	"fmt"
	"reflect"
	"unsafe"

	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/capi"
)

// column turns one result column into the Go variables groot writes from.
// For each chunk, load takes the column's vector (checking it for NULLs);
// then, for each row, set stores row r's value into the variables before
// the tree's Write. The vectors' memory belongs to DuckDB and is valid only
// during the COPY's sink call: release drops every reference into it.
type column interface {
	vars() []rtree.WriteVar
	load(v capi.Vector, n int) error
	set(r int)
	release()
}

// scalarKinds are the element types a branch can hold, by capi type.
var scalarKinds = map[capi.TypeID]reflect.Type{
	capi.Boolean: reflect.TypeFor[bool](), capi.TinyInt: reflect.TypeFor[int8](),
	capi.SmallInt: reflect.TypeFor[int16](), capi.Integer: reflect.TypeFor[int32](),
	capi.BigInt: reflect.TypeFor[int64](), capi.UTinyInt: reflect.TypeFor[uint8](),
	capi.USmallInt: reflect.TypeFor[uint16](), capi.UInteger: reflect.TypeFor[uint32](),
	capi.UBigInt: reflect.TypeFor[uint64](), capi.Float: reflect.TypeFor[float32](),
	capi.Double: reflect.TypeFor[float64](),
}

func isScalar(t capi.Type) bool { _, ok := scalarKinds[t.ID]; return ok }

// nullError names where a NULL was met.
func nullError(name, what string) error {
	return fmt.Errorf("COPY (FORMAT root): column %q has a NULL %s; ROOT branches have no NULL: choose a value with coalesce()", name, what)
}

// noNulls fails when any of rows [0, n) of v is NULL.
func noNulls(v capi.Vector, n int, name, what string) error {
	mask := v.ReadValidity(n)
	if mask == nil {
		return nil
	}
	for r := range n {
		if !capi.IsValid(mask, r) {
			return nullError(name, what)
		}
	}
	return nil
}

// newColumn builds the writer of a tree column, or says why it cannot.
func newColumn(c capi.CopyColumn) (column, error) {
	t := c.Type
	switch {
	case isScalar(t):
		return newScalar(c.Name, t.ID), nil
	case t.ID == capi.Varchar:
		return &stringCol{name: c.Name}, nil
	case t.ID == capi.Array && isScalar(*t.Elem):
		return newArray(c.Name, t.Elem.ID, t.Size), nil
	case t.ID == capi.List && isScalar(*t.Elem):
		sl := &structList{name: c.Name, counter: "n" + c.Name, single: true}
		sl.members = []member{newMember(c.Name, c.Name, t.Elem.ID)}
		return sl, nil
	case t.ID == capi.List && t.Elem.ID == capi.Struct:
		sl := &structList{name: c.Name, counter: "n" + c.Name}
		for _, f := range t.Elem.Fields {
			if !isScalar(f.Type) {
				return nil, unsupported(c, fmt.Sprintf("member %q is %s; a list of structs is written member by member, and each member must be a number or BOOLEAN", f.Name, f.Type))
			}
			sl.members = append(sl.members, newMember(c.Name, c.Name+"_"+f.Name, f.Type.ID))
		}
		if len(sl.members) == 0 {
			return nil, unsupported(c, "the struct has no members")
		}
		return sl, nil
	}
	why := "supported: numbers, BOOLEAN, VARCHAR, fixed arrays and lists of numbers, lists of structs of numbers, and HIST values"
	return nil, unsupported(c, why)
}

func unsupported(c capi.CopyColumn, why string) error {
	return fmt.Errorf("COPY (FORMAT root): column %q has type %s, which ROOT output does not support (%s)", c.Name, c.TypeName, why)
}

// scalar is a numeric or BOOLEAN branch.
type scalar[T any] struct {
	name string
	val  T
	data []T
}

func newScalar(name string, id capi.TypeID) column {
	switch id {
	case capi.Boolean:
		return &scalar[bool]{name: name}
	case capi.TinyInt:
		return &scalar[int8]{name: name}
	case capi.SmallInt:
		return &scalar[int16]{name: name}
	case capi.Integer:
		return &scalar[int32]{name: name}
	case capi.BigInt:
		return &scalar[int64]{name: name}
	case capi.UTinyInt:
		return &scalar[uint8]{name: name}
	case capi.USmallInt:
		return &scalar[uint16]{name: name}
	case capi.UInteger:
		return &scalar[uint32]{name: name}
	case capi.UBigInt:
		return &scalar[uint64]{name: name}
	case capi.Float:
		return &scalar[float32]{name: name}
	}
	return &scalar[float64]{name: name}
}

func (c *scalar[T]) vars() []rtree.WriteVar {
	return []rtree.WriteVar{{Name: c.name, Value: &c.val}}
}

func (c *scalar[T]) load(v capi.Vector, n int) error {
	if err := noNulls(v, n, c.name, "value"); err != nil {
		return err
	}
	c.data = capi.Slice[T](v, n)
	return nil
}

func (c *scalar[T]) set(r int) { c.val = c.data[r] }
func (c *scalar[T]) release()  { c.data = nil }

// stringCol is a VARCHAR column: a C-string branch.
type stringCol struct {
	name string
	val  string
	vec  capi.Vector
}

func (c *stringCol) vars() []rtree.WriteVar {
	return []rtree.WriteVar{{Name: c.name, Value: &c.val}}
}

func (c *stringCol) load(v capi.Vector, n int) error {
	c.vec = v
	return noNulls(v, n, c.name, "value")
}

func (c *stringCol) set(r int) { c.val = c.vec.StringAt(r) }
func (c *stringCol) release()  { c.vec = capi.Vector{} }

// array is a fixed-size array branch x[n]: its variable is a Go array
// [n]T made by reflection, written through a slice view.
type array[T any] struct {
	name  string
	size  int
	arr   any // *[size]T
	view  []T
	child []T
}

func newArray(name string, id capi.TypeID, size int) column {
	switch id {
	case capi.Boolean:
		return mkArray[bool](name, size)
	case capi.TinyInt:
		return mkArray[int8](name, size)
	case capi.SmallInt:
		return mkArray[int16](name, size)
	case capi.Integer:
		return mkArray[int32](name, size)
	case capi.BigInt:
		return mkArray[int64](name, size)
	case capi.UTinyInt:
		return mkArray[uint8](name, size)
	case capi.USmallInt:
		return mkArray[uint16](name, size)
	case capi.UInteger:
		return mkArray[uint32](name, size)
	case capi.UBigInt:
		return mkArray[uint64](name, size)
	case capi.Float:
		return mkArray[float32](name, size)
	}
	return mkArray[float64](name, size)
}

func mkArray[T any](name string, size int) *array[T] {
	p := reflect.New(reflect.ArrayOf(size, reflect.TypeFor[T]()))
	return &array[T]{name: name, size: size, arr: p.Interface(),
		view: unsafe.Slice((*T)(p.UnsafePointer()), size)}
}

func (c *array[T]) vars() []rtree.WriteVar {
	return []rtree.WriteVar{{Name: c.name, Value: c.arr}}
}

func (c *array[T]) load(v capi.Vector, n int) error {
	if err := noNulls(v, n, c.name, "array"); err != nil {
		return err
	}
	child := v.ArrayChild()
	if err := noNulls(child, n*c.size, c.name, "array element"); err != nil {
		return err
	}
	c.child = capi.Slice[T](child, n*c.size)
	return nil
}

func (c *array[T]) set(r int) { copy(c.view, c.child[r*c.size:(r+1)*c.size]) }
func (c *array[T]) release()  { c.child = nil }

// structList is a LIST column: of numbers (one member, the column itself)
// or of structs (one member per field). Every member is a jagged branch
// counted by the one counter branch.
type structList struct {
	name    string
	counter string
	single  bool // a list of numbers, not of structs
	count   int32
	entries []capi.ListEntry
	members []member
}

// member is one jagged branch of a structList.
type member interface {
	wvar(counter string) rtree.WriteVar
	load(child capi.Vector, size int) error
	set(off, n uint64)
	release()
}

func (c *structList) vars() []rtree.WriteVar {
	vs := []rtree.WriteVar{{Name: c.counter, Value: &c.count}}
	for _, m := range c.members {
		vs = append(vs, m.wvar(c.counter))
	}
	return vs
}

func (c *structList) load(v capi.Vector, n int) error {
	if err := noNulls(v, n, c.name, "list"); err != nil {
		return err
	}
	c.entries = capi.Slice[capi.ListEntry](v, n)
	size := v.ListSize()
	child := v.ListChild()
	if c.single {
		return c.members[0].load(child, size)
	}
	if err := noNulls(child, size, c.name, "list element"); err != nil {
		return err
	}
	for i, m := range c.members {
		if err := m.load(child.StructChild(i), size); err != nil {
			return err
		}
	}
	return nil
}

func (c *structList) set(r int) {
	e := c.entries[r]
	c.count = int32(e.Length)
	for _, m := range c.members {
		m.set(e.Offset, e.Length)
	}
}

func (c *structList) release() {
	c.entries = nil
	for _, m := range c.members {
		m.release()
	}
}

// jagged is one member: its variable is a slice that points, row by row,
// into DuckDB's child vector (groot copies the values into its basket
// during Write).
type jagged[T any] struct {
	col, name string
	val       []T
	data      []T
}

func newMember(col, name string, id capi.TypeID) member {
	switch id {
	case capi.Boolean:
		return &jagged[bool]{col: col, name: name}
	case capi.TinyInt:
		return &jagged[int8]{col: col, name: name}
	case capi.SmallInt:
		return &jagged[int16]{col: col, name: name}
	case capi.Integer:
		return &jagged[int32]{col: col, name: name}
	case capi.BigInt:
		return &jagged[int64]{col: col, name: name}
	case capi.UTinyInt:
		return &jagged[uint8]{col: col, name: name}
	case capi.USmallInt:
		return &jagged[uint16]{col: col, name: name}
	case capi.UInteger:
		return &jagged[uint32]{col: col, name: name}
	case capi.UBigInt:
		return &jagged[uint64]{col: col, name: name}
	case capi.Float:
		return &jagged[float32]{col: col, name: name}
	}
	return &jagged[float64]{col: col, name: name}
}

func (m *jagged[T]) wvar(counter string) rtree.WriteVar {
	return rtree.WriteVar{Name: m.name, Value: &m.val, Count: counter}
}

func (m *jagged[T]) load(child capi.Vector, size int) error {
	what := "list element"
	if m.name != m.col {
		what = "value in member " + m.name[len(m.col)+1:]
	}
	if err := noNulls(child, size, m.col, what); err != nil {
		return err
	}
	m.data = capi.Slice[T](child, size)
	return nil
}

func (m *jagged[T]) set(off, n uint64) { m.val = m.data[off : off+n : off+n] }
func (m *jagged[T]) release()          { m.val, m.data = nil, nil }
