package rootscan

import (
	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/tbranch"
)

// vector hands rootio/tbranch's decoder a DuckDB vector: the slices it
// returns are views of the vector's own buffers (capi.Slice), so the
// decoder writes straight into DuckDB's memory, and nothing is copied.
// It wraps a single pointer, so making one an interface value does not
// allocate; the decoder calls it once per basket segment, not per value.
type vector struct{ v capi.Vector }

var _ tbranch.Vector = vector{}

func (x vector) Bytes(n int) []byte                               { return capi.Slice[byte](x.v, n) }
func (x vector) Lists(n int) []tbranch.ListEntry                  { return capi.Slice[tbranch.ListEntry](x.v, n) }
func (x vector) ListSize() int                                    { return x.v.ListSize() }
func (x vector) ListReserve(n int) error                          { return x.v.ListReserve(n) }
func (x vector) ListSetSize(n int) error                          { return x.v.ListSetSize(n) }
func (x vector) ListChild() tbranch.Vector                        { return vector{x.v.ListChild()} }
func (x vector) ArrayChild() tbranch.Vector                       { return vector{x.v.ArrayChild()} }
func (x vector) StructChild(i int) tbranch.Vector                 { return vector{x.v.StructChild(i)} }
func (x vector) AssignStrings(at int, data []byte, ends []uint64) { x.v.AssignStrings(at, data, ends) }

// sqlType is a column's tbranch.Type as DuckDB's.
func sqlType(t tbranch.Type) capi.Type {
	switch t.Kind {
	case tbranch.List:
		return capi.ListOf(sqlType(*t.Elem))
	case tbranch.Array:
		return capi.ArrayOf(sqlType(*t.Elem), t.Len)
	case tbranch.Map:
		return capi.MapOf(sqlType(*t.Key), sqlType(*t.Value))
	case tbranch.Struct:
		fs := make([]capi.Field, len(t.Fields))
		for i, f := range t.Fields {
			fs[i] = capi.Field{Name: f.Name, Type: sqlType(f.Type)}
		}
		return capi.Type{ID: capi.Struct, Fields: fs}
	}
	return capi.Scalar(scalarIDs[t.Kind])
}

var scalarIDs = [...]capi.TypeID{
	tbranch.Invalid: capi.Invalid,
	tbranch.Bool:    capi.Boolean, tbranch.Int8: capi.TinyInt, tbranch.UInt8: capi.UTinyInt,
	tbranch.Int16: capi.SmallInt, tbranch.UInt16: capi.USmallInt, tbranch.Int32: capi.Integer,
	tbranch.UInt32: capi.UInteger, tbranch.Int64: capi.BigInt, tbranch.UInt64: capi.UBigInt,
	tbranch.Float: capi.Float, tbranch.Double: capi.Double, tbranch.Varchar: capi.Varchar,
	tbranch.List: capi.Invalid, tbranch.Array: capi.Invalid, tbranch.Struct: capi.Invalid, tbranch.Map: capi.Invalid,
}
