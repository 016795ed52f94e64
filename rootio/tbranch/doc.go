// Package tbranch turns a TTree's branches into typed columns and decodes
// their baskets into caller-supplied memory, in pure Go (no cgo, no
// DuckDB).
//
// # What it owns
//
//   - The column schema (Column, Layout, Encoding, Type): how each branch,
//     leaf, leaf list, class member, split-collection member, whole object,
//     std::vector, std::string and std::map is stored, and the SQL shape
//     it reads as, built from groot's branches and the file's streamers
//     (ColumnsOf: schema.go, object.go, collection.go, leaflist.go,
//     stlmap.go) or from rootio/ttree's lean record parser (LeanLeafColumn,
//     EachStorageBranch: lean.go).
//   - The guard that keeps groot's type building finite on recursive,
//     deep or exploding class graphs (GuardStreamers: streamers.go).
//   - Opening a tree (open.go, lean.go): groot's parse of the file guarded
//     against its errors and panics on malformed input (OpenGroot,
//     CheckedLayout), the trees of a file and the choice of one by path,
//     in subdirectories, or by default (TreesIn, ChooseTree), a tree's
//     metadata as a Tree (ParseTree, and without groot for the layouts the
//     lean reader covers: LeanSchema, and LeanMember for a chain's other
//     files, GuardLean around both), and the entry count's check
//     (CheckEntries). Which of them runs, and the cache of what they
//     return, are rootscan's.
//   - The decoder (Reader: decode.go, and the fill functions of the files
//     above): loading a column's baskets (rootio/ttree), rebuilding entry
//     offsets a basket does not store (from the counter or the split
//     collection's master branch), checking each entry against its layout,
//     and byte-swapping or parsing the elements into a Vector. FillNested
//     decodes the members of a NanoAOD collection into one LIST of STRUCTs.
//
// Type is a plain-Go description of a column's SQL type; a caller maps it
// onto its own (rootscan onto DuckDB's logical types, in one function).
// Errors name the file, tree, branch, basket and entry, in the words of
// read_root, the SQL function that reports them.
//
// # Memory
//
// The decoder writes only into the slices the caller's Vector hands it
// (Bytes, Lists) and through its AssignStrings, and keeps no reference to
// them, or to the Vector, once Fill returns: rootscan hands it views of
// DuckDB's own vectors, so a value is written once, where DuckDB reads it,
// and never copied. A Reader keeps its own buffers (the current basket,
// decoded; the strings and counts of a chunk) from call to call and from
// file to file (Reset); each scan thread owns its Readers. The Vector's
// methods are called per basket segment or per chunk, never per value.
// MemVector is a Vector in Go memory, for tests and callers without a
// database.
package tbranch
