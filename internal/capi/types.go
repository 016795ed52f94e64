package capi

import (
	"fmt"
	"strings"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

// TypeID names the DuckDB logical types hepsql produces.
type TypeID int

const (
	Invalid TypeID = iota
	Boolean
	TinyInt
	SmallInt
	Integer
	BigInt
	UTinyInt
	USmallInt
	UInteger
	UBigInt
	Float
	Double
	Varchar
	List   // variable-length list of Elem
	Array  // fixed-length array of Elem, Size elements
	Struct // Fields
	// Map is MAP(key, value): Fields holds the key and the value. DuckDB
	// stores it as a LIST of STRUCT(key, value), so a Map vector is filled
	// with ListChild, StructChild(0) for the keys and StructChild(1) for
	// the values.
	Map
	Any // parameter accepting any type (checked in Bind)
	// Union is UNION(members...), only as a COPY column's type: Fields
	// holds the members. DuckDB stores it as a STRUCT whose child 0 is
	// the UTINYINT tag (the member's position) and child k+1 member k.
	Union
)

// Type describes a DuckDB logical type in plain Go, so packages above capi
// never hold C objects.
type Type struct {
	ID     TypeID
	Elem   *Type   // List, Array
	Size   int     // Array
	Fields []Field // Struct
}

// Field is one member of a Struct type.
type Field struct {
	Name string
	Type Type
}

// Scalar returns the type with the given primitive id.
func Scalar(id TypeID) Type { return Type{ID: id} }

// ListOf returns elem[].
func ListOf(elem Type) Type { return Type{ID: List, Elem: &elem} }

// MapOf returns MAP(key, value).
func MapOf(key, value Type) Type {
	return Type{ID: Map, Fields: []Field{{Name: "key", Type: key}, {Name: "value", Type: value}}}
}

// ArrayOf returns elem[size].
func ArrayOf(elem Type, size int) Type { return Type{ID: Array, Elem: &elem, Size: size} }

var primitiveNames = map[TypeID]string{
	Boolean: "BOOLEAN", TinyInt: "TINYINT", SmallInt: "SMALLINT", Integer: "INTEGER",
	BigInt: "BIGINT", UTinyInt: "UTINYINT", USmallInt: "USMALLINT", UInteger: "UINTEGER",
	UBigInt: "UBIGINT", Float: "FLOAT", Double: "DOUBLE", Varchar: "VARCHAR",
}

// String renders the type in DuckDB's SQL syntax (FLOAT[], FLOAT[3], STRUCT(...)).
func (t Type) String() string {
	switch t.ID {
	case List:
		return t.Elem.String() + "[]"
	case Array:
		return fmt.Sprintf("%s[%d]", t.Elem.String(), t.Size)
	case Struct:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = fmt.Sprintf("%q %s", f.Name, f.Type)
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	case Map:
		if len(t.Fields) == 2 {
			return fmt.Sprintf("MAP(%s, %s)", t.Fields[0].Type, t.Fields[1].Type)
		}
	case Union:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = fmt.Sprintf("%q %s", f.Name, f.Type)
		}
		return "UNION(" + strings.Join(parts, ", ") + ")"
	}
	if s, ok := primitiveNames[t.ID]; ok {
		return s
	}
	return "INVALID"
}

var primitiveIDs = map[TypeID]ddb.Type{
	Boolean: ddb.TypeBoolean, TinyInt: ddb.TypeTinyInt, SmallInt: ddb.TypeSmallInt,
	Integer: ddb.TypeInteger, BigInt: ddb.TypeBigInt, UTinyInt: ddb.TypeUTinyInt,
	USmallInt: ddb.TypeUSmallInt, UInteger: ddb.TypeUInteger, UBigInt: ddb.TypeUBigInt,
	Float: ddb.TypeFloat, Double: ddb.TypeDouble, Varchar: ddb.TypeVarchar,
	Any: ddb.TypeAny,
}

// newLogicalType creates the C logical type for t. The caller owns the result
// and must pass it to ddb.DestroyLogicalType once DuckDB has copied it.
func newLogicalType(t Type) (ddb.LogicalType, error) {
	switch t.ID {
	case List, Array:
		if t.Elem == nil {
			return ddb.LogicalType{}, fmt.Errorf("capi: %v type without element type", t.ID)
		}
		child, err := newLogicalType(*t.Elem)
		if err != nil {
			return ddb.LogicalType{}, err
		}
		defer ddb.DestroyLogicalType(&child)
		if t.ID == List {
			return ddb.CreateListType(child), nil
		}
		return ddb.CreateArrayType(child, ddb.IdxT(t.Size)), nil
	case Struct:
		types := make([]ddb.LogicalType, 0, len(t.Fields))
		names := make([]string, 0, len(t.Fields))
		defer func() {
			for i := range types {
				ddb.DestroyLogicalType(&types[i])
			}
		}()
		for _, f := range t.Fields {
			ft, err := newLogicalType(f.Type)
			if err != nil {
				return ddb.LogicalType{}, err
			}
			types = append(types, ft)
			names = append(names, f.Name)
		}
		return ddb.CreateStructType(types, names), nil
	case Map:
		if len(t.Fields) != 2 {
			return ddb.LogicalType{}, fmt.Errorf("capi: MAP type with %d fields, not a key and a value", len(t.Fields))
		}
		key, err := newLogicalType(t.Fields[0].Type)
		if err != nil {
			return ddb.LogicalType{}, err
		}
		// CreateMapType copies its arguments: they are ours to destroy.
		defer ddb.DestroyLogicalType(&key)
		val, err := newLogicalType(t.Fields[1].Type)
		if err != nil {
			return ddb.LogicalType{}, err
		}
		defer ddb.DestroyLogicalType(&val)
		return ddb.CreateMapType(key, val), nil
	}
	id, ok := primitiveIDs[t.ID]
	if !ok {
		return ddb.LogicalType{}, fmt.Errorf("capi: unsupported type id %d", t.ID)
	}
	return ddb.CreateLogicalType(id), nil
}
