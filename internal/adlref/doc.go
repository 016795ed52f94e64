// Package adlref is the correctness reference for the IRIS-HEP ADL
// benchmark queries (../shared/specs/adl.md): a plain-Go computation of
// their histograms over groot's per-entry reader, written for clarity, not
// speed, and kept independent of the SQL engine it checks.
//
// The arithmetic is float64 throughout, and every formula is written in the
// order of operations the SQL pipelines in queries/adl use, so that both
// give bit-identical values: products are wrapped in float64(...)
// conversions where Go would otherwise be free to fuse them into FMA
// instructions (it does on arm64), and sums run left to right.
//
// LoadROOT (duckload.go) is a test helper that copies a ROOT tree into a
// DuckDB table through the same reader, so the SQL can run before the
// engine's own read_root exists.
package adlref
