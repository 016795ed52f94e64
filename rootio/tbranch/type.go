package tbranch

import (
	"fmt"
	"strings"
)

// Kind is the SQL kind of a column's values, or of one level of them.
type Kind int

const (
	Invalid Kind = iota
	Bool
	Int8
	UInt8
	Int16
	UInt16
	Int32
	UInt32
	Int64
	UInt64
	Float
	Double
	Varchar
	List   // Elem[]: a variable number of Elem per row
	Array  // Elem[Len]: exactly Len per row
	Struct // Fields, in order
	Map    // MAP(Key, Value)
)

// Type is the SQL shape of a column, in plain Go: what the decoder writes
// into the Vector it is handed (a caller maps it onto its own types, as
// rootscan does onto DuckDB's).
type Type struct {
	Kind       Kind
	Elem       *Type   // List, Array
	Len        int     // Array
	Fields     []Field // Struct
	Key, Value *Type   // Map
}

// Field is one member of a Struct type.
type Field struct {
	Name string
	Type Type
}

// Scalar is the type of one primitive value.
func Scalar(k Kind) Type { return Type{Kind: k} }

// ListOf is elem[].
func ListOf(elem Type) Type { return Type{Kind: List, Elem: &elem} }

// ArrayOf is elem[n].
func ArrayOf(elem Type, n int) Type { return Type{Kind: Array, Elem: &elem, Len: n} }

// MapOf is MAP(key, value).
func MapOf(key, value Type) Type { return Type{Kind: Map, Key: &key, Value: &value} }

var kindNames = [...]string{
	Invalid: "INVALID", Bool: "BOOLEAN", Int8: "TINYINT", UInt8: "UTINYINT",
	Int16: "SMALLINT", UInt16: "USMALLINT", Int32: "INTEGER", UInt32: "UINTEGER",
	Int64: "BIGINT", UInt64: "UBIGINT", Float: "FLOAT", Double: "DOUBLE", Varchar: "VARCHAR",
}

// String renders the type in DuckDB's SQL syntax (FLOAT[], FLOAT[3],
// STRUCT("a" INTEGER), MAP(INTEGER, VARCHAR)).
func (t Type) String() string {
	switch t.Kind {
	case List:
		return t.Elem.String() + "[]"
	case Array:
		return fmt.Sprintf("%s[%d]", t.Elem.String(), t.Len)
	case Struct:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = fmt.Sprintf("%q %s", f.Name, f.Type)
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	case Map:
		return fmt.Sprintf("MAP(%s, %s)", t.Key, t.Value)
	}
	if t.Kind >= 0 && int(t.Kind) < len(kindNames) && kindNames[t.Kind] != "" {
		return kindNames[t.Kind]
	}
	return "INVALID"
}
