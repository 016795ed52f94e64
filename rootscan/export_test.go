package rootscan

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
