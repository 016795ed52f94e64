// Package rootwrite writes query results as ROOT files: it registers the
// COPY format `root`, so that
//
//	COPY (query) TO 'out.root' (FORMAT root [, TREE 'Events'] [, TITLE '...']
//	                                        [, COMPRESSION 'zlib'|'lz4'|'zstd'|'lzma'|'none'] [, LEVEL n])
//
// writes a TTree through go-hep's groot writer, readable by ROOT, uproot
// and jsroot. DuckDB also picks this format for a file name ending in
// `.root` written without FORMAT.
//
// # Columns → branches
//
//   - BOOLEAN, TINYINT … BIGINT, UTINYINT … UBIGINT, FLOAT, DOUBLE →
//     `name/O`, `/B`, `/S`, `/I`, `/L`, `/b`, `/s`, `/i`, `/l`, `/F`, `/D`.
//   - VARCHAR → a C-string branch (`name/C`).
//   - T[n] (DuckDB ARRAY of one of the scalars above) → fixed array `name[n]/T`.
//   - T[] (LIST of one of the scalars above) → a NanoAOD-style jagged branch
//     `name[nname]/T` with its own Int_t counter branch `nname` written just
//     before it. Each list column gets its own counter: two list columns
//     are not assumed to share lengths, since a streaming writer cannot
//     prove that before the first row is written.
//   - STRUCT(...)[] (LIST of STRUCT of scalars), e.g. `Jet` with fields pt
//     and eta → one jagged branch per member, `Jet_pt[nJet]`, `Jet_eta[nJet]`,
//     sharing one counter `nJet`: the members of one list have one length
//     per row by construction — the NanoAOD layout.
//
// A NULL value (a NULL row, or a NULL element of a list or array) is an
// error naming the column: ROOT branches have no NULL; write coalesce(x, …)
// to choose a value. A counter name that clashes with another branch is an
// error too.
//
// # Histograms
//
// A column holding hepsql's HIST value (the STRUCT that hist() returns) is
// written as a TH1D, not as a branch: bin contents, their sums of squared
// weights (Sumw2), under- and overflow and the entry count are hist's;
// the bin edges are hist's edges (stored as variable bins); the statistics
// that HIST does not keep (ΣwX, ΣwX²) are computed from bin centres, as
// ROOT's ResetStats does. A result with HIST columns may have besides them
// only VARCHAR columns, which name the rows: a one-row result writes each
// HIST column under the column's name (`met`); with a name column the
// objects are `<column>_<name>` (`met_ttbar`, several name columns joined
// by `_`, characters other than letters, digits, `_`, `.` and `-` turned
// into `_`); several rows without a name column are `<column>_0`, `<column>_1`,
// ... in the result's order. A result mixing HIST and branch columns is
// refused: write the tree and the histograms with two COPY statements.
//
// Any other column type (DATE, DECIMAL, MAP, nested lists, lists of
// strings, ...) is refused when the statement is bound, before the file is
// created, with an error naming the column and its type.
//
// # Memory
//
// Rows are streamed: each chunk DuckDB hands over is written to the tree's
// baskets (32 KiB per branch by default) and a full basket goes to the file
// at once, so memory is bounded by one basket per branch, not by the size
// of the result. Histograms are kept until the end (they are small).
// RNTuple output (FORMAT rntuple, see rntuple.go) hands each chunk to
// rootio/rntuple's writer, which keeps one open page per column at the
// column's own width and seals (compresses) it as it fills, as ROOT's
// writer does: a cluster waits compressed, so ROOT's default cluster
// sizes (128 MiB compressed) cost about that plus a page per column
// (0.5 GB of peak RSS on 500,000 events of the CMS sample, reading
// included); CLUSTER_SIZE, MAX_UNZIPPED_CLUSTER_SIZE or CLUSTER_ROWS set
// them.
package rootwrite
