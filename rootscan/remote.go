package rootscan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/rfile"
)

// prefetchAhead is how many units past the current one a worker announces
// to a remote file: enough that a network round trip hides behind decoding.
const prefetchAhead = 4

// prefetch hands the basket ranges of the projected columns of the units
// ahead (the worker's next unit first) to f when it can fetch ahead.
func (s *rootScan) prefetch(f *openFile, ahead []unit) {
	pf, ok := f.r.File.(rfile.Prefetcher)
	if !ok {
		return
	}
	if ranges := s.basketRanges(f, ahead); len(ranges) > 0 {
		pf.Prefetch(ranges)
	}
}

// basketRanges lists the baskets of the projected columns that the first
// prefetchAhead+1 of units read, unit by unit.
func (s *rootScan) basketRanges(f *openFile, units []unit) []rfile.Range {
	var ranges []rfile.Range
	for _, u := range units[:min(len(units), prefetchAhead+1)] {
		for _, p := range s.proj {
			for _, ci := range p.cols {
				bt := &f.ByName[s.t.cols[ci].Name].Baskets
				for b := range bt.Seek {
					end := bt.Entries
					if b+1 < len(bt.First) {
						end = bt.First[b+1]
					}
					if bt.First[b] < u.end && end > u.start && b < len(bt.Bytes) && bt.Bytes[b] > 0 && bt.EmbeddedAt(b) == nil {
						ranges = append(ranges, rfile.Range{Off: bt.Seek[b], Len: int64(bt.Bytes[b])})
					}
				}
			}
		}
	}
	return ranges
}

// sourceOptions reads read_root's timeout, retries and readahead named
// parameters.
func sourceOptions(args *capi.BindArgs) (rfile.SourceOptions, error) {
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
func cancellable(args *capi.BindArgs) rfile.SourceOptions {
	o := rfile.DefaultSourceOptions
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
