package tbranch

// Vector is where the decoder writes one column of a chunk of rows: the
// caller's memory (rootscan hands it DuckDB's vectors, so nothing is
// copied), laid out as DuckDB lays out a vector of the column's Type.
//
//   - A primitive vector's data buffer holds one native little-endian
//     value per row (BOOLEAN as a byte).
//   - A List vector's data buffer holds one ListEntry per row; its
//     elements are the rows of ListChild, of which there are ListSize.
//   - An Array vector of Len has Len rows of ArrayChild per row.
//   - A Struct (and a Map's entries, a Struct of key and value) has one
//     child vector per field, each with as many rows as the Struct.
//   - A Varchar vector takes its strings through AssignStrings.
//
// The decoder calls these methods once per basket segment or per chunk,
// never per value, writes only inside the slices they return, and keeps
// no reference to them, or to the Vector, once its call returns.
type Vector interface {
	// Bytes is the first n bytes of the data buffer (n = rows × the
	// element size of the vector's kind), for writing.
	Bytes(n int) []byte
	// Lists is the first n list entries of a List (or Map) vector.
	Lists(n int) []ListEntry
	// ListSize is the number of child rows a List vector holds.
	ListSize() int
	// ListReserve makes room for n child rows (the child's buffers may
	// move: slices of the child taken before are stale).
	ListReserve(n int) error
	// ListSetSize sets the number of child rows to n.
	ListSetSize(n int) error
	// ListChild is the vector of a List's (or Map's) elements.
	ListChild() Vector
	// ArrayChild is the vector of an Array's elements.
	ArrayChild() Vector
	// StructChild is field i of a Struct vector.
	StructChild(i int) Vector
	// AssignStrings sets rows at, at+1, ... of a Varchar vector to the
	// strings data[ends[k-1]:ends[k]] (the first from 0), copying them.
	AssignStrings(at int, data []byte, ends []uint64)
}

// ListEntry is the child rows of one list value: DuckDB's
// duckdb_list_entry, field for field, so that a caller may hand the
// decoder its own list buffer as a []ListEntry.
type ListEntry struct {
	Offset uint64
	Length uint64
}
