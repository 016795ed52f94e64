package rootscan

// SetUnitSizes changes how entries are split among threads, so that tests
// can make units start inside baskets; it returns a function restoring the
// defaults.
func SetUnitSizes(minEntries, maxEntries int64) (restore func()) {
	oldMin, oldMax := unitEntries, maxUnitEntries
	unitEntries, maxUnitEntries = minEntries, maxEntries
	return func() { unitEntries, maxUnitEntries = oldMin, oldMax }
}
