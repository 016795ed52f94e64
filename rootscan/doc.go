// Package rootscan makes ROOT TTrees DuckDB tables: read_root(source, tree
// := ...), the replacement scan for FROM 'f.root', root_trees and
// root_branches.
//
// # Where things live
//
// ROOT format knowledge that needs no DuckDB sits in rootio, pure Go:
// rootio/rfile (backends, object-stream records, file header, keys,
// directories, streamer-record checks, error kinds), rootio/ttree (basket
// headers and decoding, basket tables, the lean parser of TTree, TBranch
// and TLeaf records, tree-record checks), rootio/tbranch (the column
// schema built from branches, leaves and streamers, the guards around
// groot's type building, the opening of a tree: groot guarded against its
// panics, the choice of tree by path or default, the lean parse with groot
// as fallback (open.go, lean.go), and the decoder of entries into
// caller-supplied vectors), rootio/gohep (every read of groot's unexported
// state), rootio/compress (compressed blocks and checksums) and
// rootio/rntuple. rootscan keeps the DuckDB side: table functions,
// binding, work units, threads, the metadata cache (cache.go) and which
// parse fills it (source.go's openMember, lean.go), the adapter that hands
// tbranch DuckDB's vectors (vector.go: views of their buffers, nothing
// copied) and maps tbranch's types onto DuckDB's, libdeflate for
// rootio/compress (libdeflate.go), and the SQL source argument's
// expansion into file names (source.go).
//
// # How data reaches DuckDB
//
// A lean reader of hepsql's own (rootio/ttree's lean.go) or, for anything
// outside what it covers, groot (go-hep) parses the file directory and the TTree record;
// rootio/tbranch then reads each projected branch's baskets itself (one ReadAt per
// basket), inflates them (zlib through libdeflate when the system has it,
// see capi.InflateZlib; lzma, lz4, zstd in Go) and byte-swaps the entries
// straight into the output chunk's vectors: flat vectors for scalars, ARRAY
// children for fixed arrays, LIST entries plus child data for jagged
// branches and std::vector. Entry boundaries of variable-size branches come
// from the basket's own entry-offset table, so a jagged branch never needs
// its counter branch. groot's per-entry rtree.Reader is used only in tests,
// as the reference.
//
// A basket is checked before any of it is used: the checksum of its
// compressed blocks where the format has one (zlib's Adler-32, lz4's
// XXH64, xz's block check; zstd's when a frame carries one, which ROOT's
// do not), and otherwise its sizes, entry count and entry offsets against
// the key and the basket table (rootio/ttree). A failure is an error naming
// the file, tree, branch, basket and entry range (Reader.basketErrorf).
//
// Two kinds of basket do not sit on disk as the basket table says. A tree
// saved without a final flush (a small tree, a NanoAOD skim) keeps each
// branch's last basket inside the TTree record, uncompressed: the table
// lists it after the baskets on disk and ttree.BasketBuffers.DecodeEmbedded takes its entries
// and offsets from the record (rootio/ttree, embedded.go); the lean reader reads them
// too, so a chain of small skims stays off groot's slower parse. A basket whose header carries
// ROOT's "generate offsets" I/O bit (after a negative fNevBufSize) or a
// flag ≥ 80 stores no entry offsets: for a counted leaf (Jet_pt[nJet])
// they are rebuilt from the counter branch's values, as ROOT's
// TLeaf::GenerateOffsetArray does (Reader.genOffsets), the one case
// where a jagged branch needs its counter; a chain member's metadata then
// holds the counter's basket table too.
//
// # NanoAOD collections as structs
//
// read_root(..., nest := true) lays the table out by collection (nest.go,
// outputs): the jagged columns counted by the same counter nX (the count
// named in the leaf title, Jet_pt[nJet]) whose SQL names start with "X_"
// become one column X STRUCT(y ...)[], fields named by the rest of each
// name and in the tree's order, where the first of them stood; the
// counter stays, and a column counted by nX without the prefix stays a
// list. A collection whose name another column has (or _file, _entry)
// is not grouped. The table's columns (rootTable.out) then map to one or
// more of the file's columns, and a projection reads each of them with a
// Reader of its own, on its own baskets.
//
// Decoding (FillNested): the first member writes the LIST vector's
// entries and reserves its child rows, which reserves every field of the
// STRUCT child at once; each member then decodes its baskets straight into
// its field's vector (Vector.StructChild), as a flat jagged column decodes
// into its list's child, so nesting adds no copy. The members after the
// first compute their entries aside and compare them with the first's:
// an entry whose element count differs is an error naming the file, the
// branch and the entry, never a row whose fields do not line up. DuckDB's
// C API gives a table function the columns a query uses, not the fields
// of a struct (duckdb_init_get_column_index only), so a query naming X
// reads every member of X.
//
// # Trees in subdirectories
//
// root_trees lists the trees of every directory, by path
// ("dir/sub/tree"), and tree := 'dir/sub/tree' reads one (rootio/rfile's
// dirs.go). The
// default tree (no tree :=) is chosen among the top directory's trees
// only: choosing it must not cost a walk of every directory of every file
// of a chain (files of histograms hold thousands), and writing a tree into
// a subdirectory must not change which tree an existing query reads. When
// the top holds no tree, the error names the nested ones.
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
// go through a lean reader (rootio/ttree's lean.go) that reads the tree
// record straight from the file. The chain's first file (or a lone one) gets its full
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
// # Hostile and corrupt files
//
// A file must never take the host process down, and groot trusts what a
// file says: it allocates the sizes and counts it reads, recurses on nested
// objects and builds a Go type per class without a bound. So before groot
// parses a file, rootscan checks its metadata itself (rootio/rfile's
// layout.go: header, top directory, keys list, streamer record, free
// segments; rootio/ttree's treecheck.go:
// the tree record's arrays, basket tables, in-record baskets, strings and
// nesting) against the bytes that must hold them, and walks its classes
// (rootio/tbranch's streamers.go): a class that holds itself (uproot's issue 443), nests
// more than 64 deep or expands to more than 65536 member types is cut
// short for groot, and the branches that store it are unsupported with the
// reason. A class the file's streamers do not describe (groot's "could
// not find streamer info", which fails the whole tree) gets an empty
// stand-in when, and only when, groot failed so; the branches that store
// it are then unsupported, "no streamer info for class X in the file", and
// the rest of the tree reads. Subdirectories are read and checked the same way before groot
// reads one (rootio/rfile's dirs.go), at most 16 deep and 4096 in all, and a directory
// whose keys list was already read (a cycle) is left out: root_trees
// lists what can be read, and naming a tree under a bad directory is an
// error saying why. What fails is an error naming the file and the structure
// (rootio/rfile's errors.go: corrupt file header, directory, streamer info, tree record;
// "corrupt basket" is for baskets only); a Go runtime error recovered from
// groot says so after the structure, and one from rootscan's own code asks
// to be reported. Text from the file reaches messages and VARCHARs as
// valid UTF-8.
//
// # Members of split collections
//
// A TClonesArray or std::vector<Class> written split (Delphes' Jet,
// Electron ...) is a master branch (fType 3/4) holding each entry's
// element count, and one branch per member of the element class (fType
// 31/41) holding that member of the entry's elements back to back
// (rootio/tbranch's collection.go). A member that is a number or a fixed array of numbers
// (Double32_t and Float16_t with their ranges included) is a LIST column
// named like any split member ("Jet.PT", "Jet.fUniqueID", "Track.Cov" of
// type FLOAT[5][]), read by the jagged decoder from the entry offsets of
// its baskets; each entry's count is checked against the master's, which
// also rebuilds offsets for baskets written without them. TObject's fBits
// carries a process id after a referenced object's, so it is parsed
// element by element, as is a TString member (VARCHAR[]). The master is not a column of its own: like a split
// object's branch, it holds the members, and a member list's length is
// its count (Delphes also writes it as Jet_size). With nest := true the
// number members are grouped into one column named by the master, Jet
// STRUCT(PT, Eta, ...)[], as NanoAOD collections are. String, object, TRef,
// pointer and nested collection members are refused, each with its reason
// (std::string members too: not read yet).
//
// # Provenance
//
// Every table ends with _file (the file a row came from) and _entry (the
// row's entry number in that file).
//
// # What is not read
//
// Maps of nested containers or of objects, members of split collections
// that are std::strings, objects, TRefs or collections, other collections
// written member-wise,
// classes with strings or hand-written streamers (rootio/tbranch's object.go reads the
// other classes as STRUCTs and LISTs of them; leaflist.go the leaves of
// leaf lists with variable-length leaves; stlmap.go maps of numbers,
// strings and lists of them as MAPs) are
// listed by root_branches as unsupported, with
// the reason, and left out of read_root's table: SELECT * returns the
// supported branches and count(*) works on every tree. DuckDB's C API has
// no way to bind a column that SELECT * skips, hence the columns are not
// bound at all. The bind records what it left out in the database's Notes
// under the calling connection (notes.go); the engine takes them after each
// statement, shows a notice, and turns DuckDB's "column not found" for one
// of them into an UnsupportedColumnError naming it, its type and the
// reason (Explain).
//
// count(*) needs no column, but the C API cannot declare DuckDB's
// zero-width virtual column, so DuckDB projects column 0: the first
// supported branch, whose baskets are then read, or _file when no branch is
// supported, and then no basket is read.
package rootscan
