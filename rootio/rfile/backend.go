package rfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// File is random access to one ROOT file's bytes, local or remote.
type File interface {
	io.ReaderAt
	io.Closer
	Size() (int64, error)
}

// Backend opens and lists files for one URL scheme. The local backend
// serves plain paths; remote schemes (root://) register their own.
type Backend interface {
	Open(name string) (File, error)
	// Glob expands a pattern into a sorted list of names.
	Glob(pattern string) ([]string, error)
}

// RegisterBackend makes read_root accept names of the form scheme://...
func RegisterBackend(scheme string, b Backend) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	backends[scheme] = b
}

func BackendFor(name string) (Backend, error) {
	scheme := ""
	if i := strings.Index(name, "://"); i > 0 {
		scheme = name[:i]
	}
	backendsMu.RLock()
	defer backendsMu.RUnlock()
	b, ok := backends[scheme]
	if !ok {
		return nil, fmt.Errorf("read_root: %s: unsupported URL scheme %q", name, scheme)
	}
	return b, nil
}

type localBackend struct{}

type localFile struct{ *os.File }

// bytesRead counts every byte the scanner reads from any file; tests use it
// to prove projection pushdown.
var bytesRead atomic.Int64

// BytesRead returns the number of bytes read from ROOT files by this
// process so far.
func BytesRead() int64 { return bytesRead.Load() }

// CountingFile counts bytes and adapts File to what groot needs.
type CountingFile struct {
	File
	FileSize int64
}

// SourceOptions tune how a remote source is read; the local backend ignores
// them. Zero values mean the backend's defaults.
type SourceOptions struct {
	// Timeout bounds each wait on the server: opening a file, one read, a
	// listing, each with the reconnects, reopens and back-offs of its
	// retries (see the backend for the details).
	Timeout   time.Duration
	Retries   int   // extra attempts after a lost connection; -1: default
	ReadAhead int64 // bytes each file may hold fetched ahead of decoding; 0: none, -1: default
	// Cancelled, when set, returns a channel closed once the query reading
	// the source is cancelled (nil: not cancellable). It is called when a
	// wait begins, so that it sees the statement running then. A remote
	// backend gives up its waits on it: DuckDB's interrupt never reaches a
	// table function blocked in a network read.
	Cancelled func() <-chan struct{}
}

// DefaultSourceOptions leaves every setting to the backend.
var DefaultSourceOptions = SourceOptions{Retries: -1, ReadAhead: -1}

// OptionsGlobber is a Backend that takes SourceOptions when listing.
type OptionsGlobber interface {
	GlobWithOptions(pattern string, o SourceOptions) ([]string, error)
}

// GlobBackend expands pattern through b, with o when b takes options.
func GlobBackend(b Backend, pattern string, o SourceOptions) ([]string, error) {
	if og, ok := b.(OptionsGlobber); ok {
		return og.GlobWithOptions(pattern, o)
	}
	return b.Glob(pattern)
}

// OptionsOpener is a Backend that takes SourceOptions when opening a file.
type OptionsOpener interface {
	OpenWithOptions(name string, o SourceOptions) (File, error)
}

// Remote is a Backend whose files sit behind network round trips: opening
// one, reading its metadata and fetching its first baskets each wait for the
// server. A scan opens the files of such a chain ahead of its threads and
// fetches their first baskets (see rootscan's lookahead.go), so that those waits
// overlap the decoding of the files before; for local files that would only
// add goroutines.
type Remote interface {
	// LookAheadBytes bounds the bytes of baskets that a scan with these
	// options may hold fetched for the files it opened ahead, all together;
	// 0 opens files ahead without fetching their baskets.
	LookAheadBytes(o SourceOptions) int64
}

// Range is a byte range of a file.
type Range struct{ Off, Len int64 }

// Prefetcher is a File that can fetch byte ranges ahead of the ReadAt calls
// that will ask for them. Prefetch is a hint: it must not block on I/O, and
// the file may ignore ranges beyond its read-ahead budget.
type Prefetcher interface {
	Prefetch(ranges []Range)
}

// LookAheadBytes says whether name's backend wants its files opened ahead,
// and how many bytes of baskets may be fetched for them.
func LookAheadBytes(name string, o SourceOptions) (int64, bool) {
	b, err := BackendFor(name)
	if err != nil {
		return 0, false // opened, and reported, by the thread that reaches it
	}
	r, ok := b.(Remote)
	if !ok {
		return 0, false
	}
	return max(0, r.LookAheadBytes(o)), true
}

// OpenBackend opens name through b, with o when b takes options.
func OpenBackend(b Backend, name string, o SourceOptions) (File, error) {
	if oo, ok := b.(OptionsOpener); ok {
		return oo.OpenWithOptions(name, o)
	}
	return b.Open(name)
}

var (
	backendsMu sync.RWMutex
	backends   = map[string]Backend{"": localBackend{}}
)

func (localBackend) Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return localFile{f}, nil
}

func (localBackend) Glob(pattern string) ([]string, error) {
	m, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	sort.Strings(m)
	return m, nil
}

func (f localFile) ModTime() (time.Time, error) {
	st, err := f.Stat()
	if err != nil {
		return time.Time{}, err
	}
	return st.ModTime(), nil
}

func (f localFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (c *CountingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.File.ReadAt(p, off)
	bytesRead.Add(int64(n))
	if err == io.EOF && n == len(p) {
		err = nil
	}
	if err == io.EOF {
		err = fmt.Errorf("file truncated: wanted %d bytes at offset %d of a %d-byte file: %w", len(p), off, c.FileSize, io.ErrUnexpectedEOF)
	}
	return n, err
}

// Read is needed by groot's riofs.Reader interface; the scanner only uses
// ReadAt.
func (c *CountingFile) Read(p []byte) (int, error) {
	return 0, errors.New("rootscan: sequential read not supported")
}

func (c *CountingFile) Seek(offset int64, whence int) (int64, error) {
	return 0, errors.New("rootscan: seek not supported")
}

// QueryDone returns the Done channel of the context of the query reading
// with o, or nil (never ready). A scan takes it once when it starts:
// duckdb-go forgets a statement's context as soon as the statement returns,
// which a cancelled one does while DuckDB's threads may still be scanning,
// so a later look-up would find none.
func (o SourceOptions) QueryDone() <-chan struct{} {
	if o.Cancelled == nil {
		return nil
	}
	return o.Cancelled()
}
