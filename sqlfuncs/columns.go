package sqlfuncs

import (
	"math"

	"github.com/hepsql/hepsql/internal/capi"
)

// The batch contract. Every function body sees its inputs as flat Go slices
// over DuckDB's memory (DuckDB flattens constant and dictionary vectors
// before the call) and writes its result the same way. A row whose inputs
// hold a NULL anywhere it depends on (the value, a list, or one of the
// list's elements) yields NULL. Nothing here allocates per row: readers are
// views, and list writers grow DuckDB's child vector geometrically.

// float is the element type of the physics lists: ROOT stores FLOAT, derived
// columns are usually DOUBLE.
type float interface{ ~float32 | ~float64 }

// scalars is a flat input column of T.
type scalars[T any] struct {
	data  []T
	valid []uint64 // nil: all valid
}

func readScalars[T any](v capi.Vector, n int) scalars[T] {
	return scalars[T]{data: capi.Slice[T](v, n), valid: v.ReadValidity(n)}
}

func (s scalars[T]) ok(r int) bool { return capi.IsValid(s.valid, r) }

// lists is a flat input LIST column of T.
type lists[T any] struct {
	entries    []capi.ListEntry
	valid      []uint64
	child      []T
	childValid []uint64
}

func readLists[T any](v capi.Vector, n int) lists[T] {
	l := lists[T]{entries: capi.Slice[capi.ListEntry](v, n), valid: v.ReadValidity(n)}
	child := v.ListChild()
	size := v.ListSize()
	l.child = capi.Slice[T](child, size)
	l.childValid = child.ReadValidity(size)
	return l
}

// plain reports that no list and no element of the chunk is NULL.
func (l lists[T]) plain() bool { return l.valid == nil && l.childValid == nil }

// row returns row r's elements, and false when the list or one of its
// elements is NULL.
func (l *lists[T]) row(r int) ([]T, bool) {
	if !capi.IsValid(l.valid, r) {
		return nil, false
	}
	e := l.entries[r]
	if l.childValid != nil {
		for i := e.Offset; i < e.Offset+e.Length; i++ {
			if !capi.IsValid(l.childValid, int(i)) {
				return nil, false
			}
		}
	}
	return l.child[e.Offset : e.Offset+e.Length], true
}

// nullMask marks output rows NULL. The mask is fetched (made writable) on
// the first NULL only, with two cgo calls per vector and chunk; the bits are
// then set in Go. An all-valid result never materialises a mask.
type nullMask struct {
	v    capi.Vector
	n    int
	bits []uint64
}

func newNullMask(v capi.Vector, n int) *nullMask { return &nullMask{v: v, n: n} }

func (m *nullMask) set(row int) {
	if m.bits == nil {
		m.bits = m.v.Validity(m.n)
	}
	m.bits[row>>6] &^= 1 << (uint(row) & 63)
}

// result is a flat output column.
type result[T any] struct {
	data  []T
	nulls *nullMask
}

func newResult[T any](v capi.Vector, n int) result[T] {
	return result[T]{data: capi.Slice[T](v, n), nulls: newNullMask(v, n)}
}

func (r result[T]) null(row int) { r.nulls.set(row) }

// listResult writes a LIST output column. Rows must be written in order.
type listResult[T any] struct {
	v       capi.Vector
	nulls   *nullMask
	entries []capi.ListEntry
	child   capi.Vector
	data    []T // the child's data, valid up to cap
	size    int // child rows in use
	err     error
}

// newListResult prepares a LIST result with room for hint child rows.
func newListResult[T any](v capi.Vector, n, hint int) *listResult[T] {
	w := &listResult[T]{v: v, nulls: newNullMask(v, n), entries: capi.Slice[capi.ListEntry](v, n)}
	w.reserve(max(hint, 1))
	return w
}

func (w *listResult[T]) reserve(capacity int) {
	if w.err != nil {
		return
	}
	if err := w.v.ListReserve(capacity); err != nil {
		w.err = err
		return
	}
	// Reserving may move the child's buffer: re-take the view.
	w.child = w.v.ListChild()
	w.data = capi.Slice[T](w.child, capacity)
}

// begin starts row r with room for k elements and returns them to fill.
func (w *listResult[T]) begin(r, k int) []T {
	if need := w.size + k; need > len(w.data) {
		w.reserve(max(need, 2*len(w.data)))
		if w.err != nil {
			return nil
		}
	}
	w.entries[r] = capi.ListEntry{Offset: uint64(w.size), Length: uint64(k)}
	out := w.data[w.size : w.size+k]
	w.size += k
	return out
}

// shrink gives back the unused tail of row r's last begin, leaving k elements.
func (w *listResult[T]) shrink(r, k int) {
	e := &w.entries[r]
	w.size -= int(e.Length) - k
	e.Length = uint64(k)
}

// null marks row r NULL with an empty entry.
func (w *listResult[T]) null(r int) {
	w.entries[r] = capi.ListEntry{Offset: uint64(w.size)}
	w.nulls.set(r)
}

// finish records the child size; call once after the last row.
func (w *listResult[T]) finish() error {
	if w.err != nil {
		return w.err
	}
	return w.v.ListSetSize(w.size)
}

// wrapPhi maps an angle difference into [-π, π].
func wrapPhi(d float64) float64 {
	if d >= -math.Pi && d <= math.Pi {
		return d
	}
	d = math.Mod(d+math.Pi, 2*math.Pi)
	if d < 0 {
		d += 2 * math.Pi
	}
	return d - math.Pi
}
