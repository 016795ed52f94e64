package rootscan

import (
	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/riofs"

	"github.com/hepsql/hepsql/rootio/compress"
	"github.com/hepsql/hepsql/rootio/gohep"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// SetUnitSizes changes how entries are split among threads, so that tests
// can make units start inside baskets; it returns a function restoring the
// defaults.
func SetUnitSizes(minEntries, maxEntries int64) (restore func()) {
	oldMin, oldMax := unitEntries, maxUnitEntries
	unitEntries, maxUnitEntries = minEntries, maxEntries
	return func() { unitEntries, maxUnitEntries = oldMin, oldMax }
}

// MetadataParses is the number of files whose full schema this process read
// (with groot or the lean reader) rather than took from the cache.
func MetadataParses() int64 { return parses.Load() + leanSchemas.Load() }

// GrootParses is the number of files whose metadata groot parsed.
func GrootParses() int64 { return parses.Load() }

// CachedFiles is the number of files whose metadata is cached.
func CachedFiles() int { return metas.len() }

// LeanParses is the number of chain members whose metadata the lean reader
// read.
func LeanParses() int64 { return leanParses.Load() }

// SetGoInflate makes zlib baskets inflate in Go (true) or, where the
// system has it, through libdeflate (false); it returns a function
// restoring the previous choice.
func SetGoInflate(on bool) (restore func()) {
	old := compress.ForceGoZlib(on)
	return func() { compress.ForceGoZlib(old) }
}

// BasketSpan is where one on-disk basket of a column keeps its payload.
type BasketSpan struct {
	Column     string // SQL column name
	Basket     int    // index in the branch's basket table
	Start, End int64  // the payload's bytes in the file (after the key)
	Kind       string // "ZL", "XZ", "L4", "ZS" (the first block's) or "none"
}

// BasketSpans lists the baskets of every supported column of the tree.
func BasketSpans(name, tree string) ([]BasketSpan, error) {
	f, err := openTree(name, tree)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var spans []BasketSpan
	for _, c := range f.Cols {
		if !c.Supported() {
			continue
		}
		bt := &c.Baskets
		for i := range min(len(bt.Seek), len(bt.Bytes)) {
			if bt.EmbeddedAt(i) != nil {
				continue // kept in the tree record
			}
			raw := make([]byte, bt.Bytes[i])
			if _, err := f.r.ReadAt(raw, bt.Seek[i]); err != nil {
				return nil, err
			}
			h, err := ttree.ParseBasketHeader(raw)
			if err != nil {
				return nil, err
			}
			kind := "none"
			if stored := raw[h.Keylen:h.Nbytes]; int(h.Objlen) != len(stored) && len(stored) >= 2 {
				kind = string(stored[:2])
			}
			spans = append(spans, BasketSpan{Column: c.Name, Basket: i, Start: bt.Seek[i] + int64(h.Keylen), End: bt.Seek[i] + int64(h.Nbytes), Kind: kind})
		}
	}
	return spans, nil
}

// AddFileStreamers puts sinfos into the streamer list groot writes into
// rf at Close, for tests that write classes of their own (groot's
// RegisterStreamer skips a class its global registry already holds).
func AddFileStreamers(rf *riofs.File, sinfos []rbytes.StreamerInfo) error {
	return gohep.PrependFileStreamers(rf, sinfos)
}
