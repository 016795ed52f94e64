package xrootd

import (
	"errors"
	"time"
)

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

// SetAfterOpen makes f run after each remote file is opened, before any of
// its bytes are read; it returns a function removing it.
func SetAfterOpen(f func(url string)) (restore func()) {
	afterOpen.Store(&f)
	return func() { afterOpen.Store(nil) }
}

// DropIdle closes the connections that no file uses, now.
func DropIdle() {
	conns.mu.Lock()
	var idle []*conn
	for k, c := range conns.conns {
		c.mu.Lock()
		if c.refs == 0 {
			idle = append(idle, c)
			delete(conns.conns, k)
		}
		c.mu.Unlock()
	}
	conns.mu.Unlock()
	for _, c := range idle {
		c.die(errors.New("closed"))
	}
}
