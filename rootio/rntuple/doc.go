// Package rntuple reads ROOT's RNTuple (binary format 1.0.x, ROOT 6.34 and
// later) from a ROOT file, in pure Go: the anchor among the file's keys,
// the header and footer envelopes, the page lists of each cluster group,
// and the pages of each column, decoded into columnar arrays (Array) per
// cluster, or, for a scan, through Streams: entry range after entry range
// straight into the caller's slices at each value's own width (float32
// stays float32), so that a query engine's vectors are written once from
// the inflated page. Both read through one column cursor, which inflates
// each page once.
//
// Every length and offset read from the file is checked before it is used:
// hostile input gives an error naming what is wrong, never a panic, and no
// allocation larger than what the file's own sizes justify (bounded by
// MaxAlloc). Envelope and page checksums (XXH3-64) are verified. Feature
// flags this reader does not know make it refuse the RNTuple, as the
// specification asks. Fields it cannot read (ROOT-streamed objects, unknown
// column types) are reported by Unsupported with the reason, field by
// field; the rest of the RNTuple stays readable.
//
// Writer writes an RNTuple, streaming: values are appended chunk by chunk
// into each column's open page, sealed (compressed) as it fills, so that
// memory is about a compressed cluster and a page per column.
//
// The specification is root-project/root
// tree/ntuple/doc/BinaryFormatSpecification.md.
package rntuple
