package rootscan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hepsql/hepsql/internal/capi"
)

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

// globBackend expands pattern through b, with o when b takes options.
func globBackend(b Backend, pattern string, o SourceOptions) ([]string, error) {
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
// fetches their first baskets (see lookahead.go), so that those waits
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

// prefetchAhead is how many units past the current one a worker announces
// to a remote file: enough that a network round trip hides behind decoding.
const prefetchAhead = 4

// prefetch hands the basket ranges of the projected columns of the units
// ahead (the worker's next unit first) to f when it can fetch ahead.
func (s *rootScan) prefetch(f *openFile, ahead []unit) {
	pf, ok := f.r.File.(Prefetcher)
	if !ok {
		return
	}
	if ranges := s.basketRanges(f, ahead); len(ranges) > 0 {
		pf.Prefetch(ranges)
	}
}

// basketRanges lists the baskets of the projected columns that the first
// prefetchAhead+1 of units read, unit by unit.
func (s *rootScan) basketRanges(f *openFile, units []unit) []Range {
	var ranges []Range
	for _, u := range units[:min(len(units), prefetchAhead+1)] {
		for _, p := range s.proj {
			for _, ci := range p.cols {
				bt := &f.byName[s.t.cols[ci].name].baskets
				for b := range bt.seek {
					end := bt.entries
					if b+1 < len(bt.first) {
						end = bt.first[b+1]
					}
					if bt.first[b] < u.end && end > u.start && b < len(bt.bytes) && bt.bytes[b] > 0 && bt.embeddedAt(b) == nil {
						ranges = append(ranges, Range{bt.seek[b], int64(bt.bytes[b])})
					}
				}
			}
		}
	}
	return ranges
}

// lookAheadBytes says whether name's backend wants its files opened ahead,
// and how many bytes of baskets may be fetched for them.
func lookAheadBytes(name string, o SourceOptions) (int64, bool) {
	b, err := backendFor(name)
	if err != nil {
		return 0, false // opened, and reported, by the thread that reaches it
	}
	r, ok := b.(Remote)
	if !ok {
		return 0, false
	}
	return max(0, r.LookAheadBytes(o)), true
}

// openBackend opens name through b, with o when b takes options.
func openBackend(b Backend, name string, o SourceOptions) (File, error) {
	if oo, ok := b.(OptionsOpener); ok {
		return oo.OpenWithOptions(name, o)
	}
	return b.Open(name)
}

// sourceOptions reads read_root's timeout, retries and readahead named
// parameters.
func sourceOptions(args *capi.BindArgs) (SourceOptions, error) {
	o := cancellable(args)
	if s, err := stringArg(args, "timeout"); err != nil {
		return o, err
	} else if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return o, fmt.Errorf("read_root: timeout %q: want a positive duration such as '5s' or '500ms'", s)
		}
		o.Timeout = d
	}
	v, err := args.Named("retries")
	if err != nil {
		return o, fmt.Errorf("read_root: retries: %w", err)
	}
	if v != nil {
		n, ok := v.(int64)
		if !ok || n < 0 || n > 100 {
			return o, fmt.Errorf("read_root: retries must be an integer in [0, 100], got %v", v)
		}
		o.Retries = int(n)
	}
	if s, err := stringArg(args, "readahead"); err != nil {
		return o, err
	} else if s != "" {
		n, err := parseBytes(s)
		if err != nil {
			return o, fmt.Errorf("read_root: readahead %q: %w", s, err)
		}
		o.ReadAhead = n
	}
	return o, nil
}

// errQueryCancelled ends a scan whose query was cancelled before it opened
// its next file; DuckDB reports the interrupt itself when it sees it first.
var errQueryCancelled = errors.New("read_root: query interrupted (cancelled by its caller)")

// queryDone returns the Done channel of the context of the query reading
// with o, or nil (never ready). A scan takes it once when it starts:
// duckdb-go forgets a statement's context as soon as the statement returns,
// which a cancelled one does while DuckDB's threads may still be scanning,
// so a later look-up would find none.
func (o SourceOptions) queryDone() <-chan struct{} {
	if o.Cancelled == nil {
		return nil
	}
	return o.Cancelled()
}

// cancelledErr returns errQueryCancelled once done is closed, without
// waiting.
func cancelledErr(done <-chan struct{}) error {
	select {
	case <-done:
		return errQueryCancelled
	default:
		return nil
	}
}

// cancellable is the default options, cancelled with the query that binds
// args: root_trees and root_branches take no remote settings, but a stalled
// server must not hold them past a cancellation either.
func cancellable(args *capi.BindArgs) SourceOptions {
	o := DefaultSourceOptions
	o.Cancelled = args.QueryDone()
	return o
}

// parseBytes reads sizes such as '8MB', '512KiB', '0' or '1048576'.
// Decimal and binary units are both accepted, since users write either.
func parseBytes(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*float64(mult) > 1<<40 {
		return 0, fmt.Errorf("want a size such as '8MB', '512KiB' or '0'")
	}
	return int64(v * float64(mult)), nil
}
