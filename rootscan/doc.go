// Package rootscan makes ROOT TTrees DuckDB tables: read_root(source, tree
// := ...), the replacement scan for FROM 'f.root', root_trees and
// root_branches.
//
// # How data reaches DuckDB
//
// A lean reader of rootscan's own (lean.go) or, for anything outside what
// it covers, groot (go-hep) parses the file directory and the TTree record;
// rootscan then reads each projected branch's baskets itself (one ReadAt per
// basket), inflates them (zlib through libdeflate when the system has it,
// see capi.InflateZlib; lzma, lz4, zstd in Go) and byte-swaps the entries
// straight into the output chunk's vectors: flat vectors for scalars, ARRAY
// children for fixed arrays, LIST entries plus child data for jagged
// branches and std::vector. Entry boundaries of variable-size branches come
// from the basket's own entry-offset table, so a jagged branch never needs
// its counter branch. groot's per-entry rtree.Reader is used only in tests,
// as the reference.
//
// The route to DuckDB is its C API (through internal/capi, the project's one
// cgo package) rather than Arrow's C data interface or duckdb-go's UDFs.
// Measured with `go test -run '^$' -bench . ./internal/capi/` (4M rows, one
// thread, AMD EPYC, 2026-11-21): a FLOAT column costs 4.6 ns/row end to end
// through capi against 37 ns/row through duckdb-go's chunk UDF
// (SetChunkValue per value), and a FLOAT[] column of 3 elements 26 ns/row
// against 991 ns/row and 6 allocations per row. Arrow would add a copy per
// column (Arrow buffers, then DuckDB's conversion into its vectors) for the
// same result, and duckdb-go registers Arrow streams as one-shot views, not
// as table functions with arguments and projection pushdown.
//
// # Units of work and threads
//
// A scan is cut into units: ranges of entries of one file, on the basket
// boundaries of the projected branch with the fewest baskets (so its large
// baskets are inflated exactly once). DuckDB's threads take units in chain
// order, so they read different clusters and files at once; each thread
// keeps its current basket and buffers per column across chunks and files.
//
// # Opening a chain
//
// Binding read_root opens only the chain's first file, which fixes the tree
// and the schema. The scan's threads open the other files as they reach
// them (a thread that finds no unit left opens the next file while the
// others keep reading), check the projected branches against the first
// file there (TChain semantics: a missing or differently typed branch is an
// error naming the file and the branch), plan the file's units, and close
// it after its last unit. A query that stops early (LIMIT, cancellation)
// never opens the rest.
//
// A remote file costs round trips before its first entry decodes (open,
// metadata unless cached, baskets), which one thread would pay file after
// file. So the scan opens the files of a remote chain ahead of its threads,
// up to 16 past the last one claimed, in background goroutines that also
// fetch each file's first baskets within the readahead budget, shared by
// all of them (lookahead.go). A file opened ahead that fails keeps its error
// until a thread reaches it; the scan's Close closes what nobody claimed.
//
// Cancellation: DuckDB interrupts a cancelled query only between calls to
// the table function, which a thread blocked in a network read never
// returns to. So every remote read also waits on the query's own Go
// context, which duckdb-go keeps per connection while a statement runs
// (capi.QueryContextsOf): bind hands it to the backend as
// SourceOptions.Cancelled, and every file of the scan, opened ahead or not,
// gives up its waits when it is cancelled.
//
// groot parses a file's metadata in about a millisecond, streamers
// included, which over a hundred files was most of a short query. So files
// go through a lean reader (lean.go) that reads the tree record straight
// from the file. The chain's first file (or a lone one) gets its full
// schema from it when every branch is a plain TBranch of scalar, C-string
// or counted leaves, NanoAOD's layout, with the columns groot's parse would
// give. The other files get only the projected branches' basket tables,
// the rest skipped by their byte counts, typed from the first file when
// the leaves match. Anything else (split objects, fixed arrays, other
// versions, a mismatch, corruption) falls back to groot, whose results and
// errors stay the reference. Parsed metadata is cached per process, keyed
// by file name, size and modification time, and for members by the columns
// read (cache.go), for the next query over the same files.
//
// # Provenance
//
// Every table ends with _file (the file a row came from) and _entry (the
// row's entry number in that file).
//
// # What is not read
//
// Maps, members of split TClonesArrays and STL collections of objects,
// unsplit custom classes, pointer members and leaf lists with
// variable-length leaves are listed by root_branches as unsupported, with
// the reason; selecting one is an error naming it and its type.
package rootscan
