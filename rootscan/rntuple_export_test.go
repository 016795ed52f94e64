package rootscan

// SetRNTupleUnitEntries makes read_root cut RNTuple clusters into units of
// at most n entries, so that tests start units inside pages; it returns a
// function restoring the default.
func SetRNTupleUnitEntries(n int64) (restore func()) {
	old := ntUnitEntries
	ntUnitEntries = n
	return func() { ntUnitEntries = old }
}

// SetRNTupleStreamPiece makes read_root reserve and read a list's items
// and a string's characters n at a time; it returns a function restoring
// the default.
func SetRNTupleStreamPiece(n int) (restore func()) {
	old := streamPiece
	streamPiece = n
	return func() { streamPiece = old }
}
