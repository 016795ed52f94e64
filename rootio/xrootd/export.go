package xrootd

import "time"

// What the connection pool holds, and hooks into it: for tests (of this
// package and of the SQL layer above it) and diagnostics.

// OpenFiles is the number of remote files opened and not yet closed (their
// handle on the server closed and their connection given back).
func OpenFiles() int64 { return openFiles.Load() }

// LiveConns is the number of connections to servers that are up.
func LiveConns() int { return conns.live() }

// SetIdleLinger changes how long an unused connection stays open; it
// returns a function restoring the previous setting.
func SetIdleLinger(d time.Duration) (restore func()) {
	old := idleLinger.Swap(int64(d))
	return func() { idleLinger.Store(old) }
}

// SetAfterOpen makes f run after each remote file is opened, before any of
// its bytes are read; it returns a function removing it.
func SetAfterOpen(f func(url string)) (restore func()) {
	afterOpen.Store(&f)
	return func() { afterOpen.Store(nil) }
}

// DropIdle closes the connections that no file uses, now.
func DropIdle() { conns.dropIdle() }
