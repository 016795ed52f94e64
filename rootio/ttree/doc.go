// Package ttree owns the TTree side of ROOT's format that a reader needs
// below any table, in pure Go (no cgo, no DuckDB): baskets and tree
// records. ParseBasketHeader reads a basket's key and TBasket fields with ROOT's full flag semantics
// (the I/O bits after a negative fNevBufSize, flag ≥ 80 for generated
// offsets, displacement bits for 20 < flag < 40); BasketBuffers.Decode
// inflates a basket (rootio/compress, checksums checked) into buffers the
// caller keeps from one basket to the next, and checks its entry-offset
// table; DecodeEmbedded does the same for a basket kept inside the tree
// record.
//
// CheckTreeRecord (treecheck.go) walks a TTree record before groot reads
// it, checking what groot allocates from or recurses on against the
// record's bytes.
//
// The lean metadata parser (lean.go): FindKey finds and inflates a tree's
// key without groot, and TreeRecordReader reads its TTree, TBranch and TLeaf
// records (names, leaves, basket tables: BasketTable) and skips every object
// it does not need by its byte count; anything outside the plain subset it
// reads fails with rfile.ErrNotLean, and groot is asked instead. tbranch
// maps the result onto columns (rootio/tbranch's lean.go), and
// rootio/gohep fills BasketTable from groot's branches.
package ttree
