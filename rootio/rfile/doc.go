// Package rfile owns the file-level knowledge of ROOT's format, in pure Go
// (no cgo, no DuckDB): how a ROOT file's bytes are reached and what its
// structure says, below any tree or RNTuple.
//
//   - Backends (backend.go): File and Backend, the registry of URL schemes
//     (the local one here; rootio/xrootd registers root:// and xroot://),
//     SourceOptions for remote sources, Range and Prefetcher, and
//     CountingFile, the adapter every reader goes through (it counts bytes
//     for BytesRead and turns a short read into a "file truncated" error).
//   - Records (reader.go): RecordReader reads ROOT's object stream
//     (TBufferFile: byte counts, class tags, TObject, TNamed, TObjArray,
//     TList) with a sticky error, and checks lists and arrays against the
//     bytes that must hold them.
//   - Layout (layout.go, dirs.go): the file header, the top directory, keys
//     lists and key headers, the streamer record and the free segments,
//     each size checked against the file's before groot (go-hep) is handed
//     the file, since groot allocates what a file states; the walk of
//     subdirectories with its bounds; tree paths.
//   - Errors (errors.go): corrupt structures by kind (CorruptKind), each
//     wrapping ErrCorruptFile, and SafeText for text taken from a file.
//     Their messages are what read_root reports: tests pin them, so they
//     keep their wording (including the "rootscan:" prefix of a few).
//
// Package rootscan builds DuckDB tables on it; rootio/compress inflates the
// payloads (Decompress wraps it) and rootio/rntuple reads RNTuples.
package rfile
