package xrootd

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one logged-in session with a server, shared by every file opened
// on it and dropped as a whole when it fails.
type conn struct {
	key  string // user@host:port
	addr string
	s    *session

	mu   sync.Mutex
	refs int
	idle *time.Timer
}

// pool shares connections by server and user.
type pool struct {
	mu    sync.Mutex
	conns map[string]*conn
}

var conns = &pool{conns: map[string]*conn{}}

// idleLinger keeps an unused connection open a little, so that the files of
// a glob, or the next query, reuse it instead of logging in again. In
// nanoseconds, atomic: tests shorten it, to watch connections close, while
// files of earlier queries still give theirs back.
var idleLinger atomic.Int64

func init() { idleLinger.Store(int64(5 * time.Second)) }

// get returns a live connection to addr as user, connecting when needed
// within w.
func (p *pool) get(addr, user string, w wait) (*conn, error) {
	key := user + "@" + addr
	p.mu.Lock()
	c := p.conns[key]
	if c != nil && c.alive() {
		c.mu.Lock()
		c.refs++
		if c.idle != nil {
			c.idle.Stop()
			c.idle = nil
		}
		c.mu.Unlock()
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c = &conn{key: key, addr: addr, refs: 1}
	s, err := dial(addr, user, w, func(error) { c.stopIdle() })
	if err != nil {
		return nil, err
	}
	c.s = s
	p.mu.Lock()
	if old := p.conns[key]; old != nil && old != c {
		old.mu.Lock()
		unused := old.refs == 0
		old.mu.Unlock()
		if unused {
			old.die(errors.New("replaced"))
		}
	}
	p.conns[key] = c
	p.mu.Unlock()
	return c, nil
}

// live counts the connections that are up, idle ones included.
func (p *pool) live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.conns {
		if c.alive() {
			n++
		}
	}
	return n
}

// put gives back a reference; the last one closes the connection after
// idleLinger.
func (p *pool) put(c *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refs--
	if c.refs > 0 || !c.s.alive() {
		return
	}
	c.idle = time.AfterFunc(time.Duration(idleLinger.Load()), func() {
		p.mu.Lock()
		c.mu.Lock()
		unused := c.refs == 0
		c.mu.Unlock()
		if unused && p.conns[c.key] == c {
			delete(p.conns, c.key)
		}
		p.mu.Unlock()
		if unused {
			c.die(errors.New("closed"))
		}
	})
}

// dropIdle closes the connections that no file uses, now.
func (p *pool) dropIdle() {
	p.mu.Lock()
	var idle []*conn
	for k, c := range p.conns {
		c.mu.Lock()
		if c.refs == 0 {
			idle = append(idle, c)
			delete(p.conns, k)
		}
		c.mu.Unlock()
	}
	p.mu.Unlock()
	for _, c := range idle {
		c.die(errors.New("closed"))
	}
}

func (c *conn) alive() bool { return c.s != nil && c.s.alive() }

// die drops the connection: its socket closes and its reader returns
// (at once: die does not wait for it), and every request on it fails.
func (c *conn) die(why error) { c.s.fail(why) }

func (c *conn) stopIdle() {
	c.mu.Lock()
	if c.idle != nil {
		c.idle.Stop()
		c.idle = nil
	}
	c.mu.Unlock()
}
