package xrootd

import "time"

// OpenFiles is the number of remote files opened and not yet closed.
func OpenFiles() int64 { return openFiles.Load() }

// LiveConns is the number of connections to servers that are up.
func LiveConns() int { return conns.live() }

// SetIdleLinger changes how long an unused connection stays open; it
// returns a function restoring the default.
func SetIdleLinger(d time.Duration) (restore func()) {
	old := idleLinger.Swap(int64(d))
	return func() { idleLinger.Store(old) }
}
