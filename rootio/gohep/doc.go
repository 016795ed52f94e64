// Package gohep is the one adapter to go-hep's internals: what groot
// (go-hep.org/x/hep/groot) parses but keeps unexported, read through
// reflection by field name, each access checked so that a changed layout
// is an error naming the field rather than misread data. It reads a
// branch's basket table (into rootio/ttree's BasketTable) and kept
// baskets, a TBranchElement's type codes and streamers, a leaf's length
// and packed-float element, and puts streamers ahead of a file's own.
// It is pure Go (no cgo, no DuckDB); Version is the go-hep version it was
// written for, which TestGrootInternalsLayout (in rootscan, which opens the
// test files) pins.
package gohep
