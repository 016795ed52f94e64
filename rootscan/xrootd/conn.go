package xrootd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	xrd "go-hep.org/x/hep/xrootd"
)

// errLost marks failures of the connection itself (server gone, no reply in
// time): worth a retry on a fresh connection, unlike the server's answers.
var errLost = errors.New("connection lost")

// conn is one logged-in session with a server, shared by every file opened
// on it and dropped as a whole when it fails.
type conn struct {
	key     string // user@host:port
	addr    string
	timeout time.Duration
	ctx     context.Context // every request runs under it; cancelled when the conn dies
	cancel  context.CancelFunc
	g       *guard

	mu   sync.Mutex
	cli  *xrd.Client
	err  error // why the conn died; nil while usable
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

// get returns a live connection to addr as user, connecting when needed.
func (p *pool) get(addr, user string, timeout time.Duration) (*conn, error) {
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
	c, err := dial(key, addr, user, timeout)
	if err != nil {
		return nil, err
	}
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
	if c.refs > 0 || c.err != nil {
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

// dial connects and logs in, all within timeout.
func dial(key, addr, user string, timeout time.Duration) (*conn, error) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{key: key, addr: addr, timeout: timeout, ctx: ctx, cancel: cancel, refs: 1}
	g, err := newGuard(addr, timeout, func(err error) { c.die(err) })
	if err != nil {
		cancel()
		return nil, fmt.Errorf("cannot connect to %s: %w", addr, err)
	}
	c.g = g
	err = c.do("logging in", func(ctx context.Context) error {
		got, err := xrd.NewClient(ctx, g.addr(), user)
		c.mu.Lock()
		defer c.mu.Unlock()
		if err == nil && c.err != nil {
			go got.Close() // logged in too late: the conn died meanwhile
			return c.err
		}
		c.cli = got
		return err
	})
	if err != nil {
		c.die(err)
		return nil, fmt.Errorf("cannot log in to %s: %w", addr, err)
	}
	return c, nil
}

func (c *conn) alive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil
}

func (c *conn) client() *xrd.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cli
}

// die drops the connection for good. The order matters: the context is
// cancelled before any socket closes, so that go-hep's reader goroutines
// take the closing as intended (see guard).
func (c *conn) die(why error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = why
	// Cancelled before mu is released: a concurrent die (the guard's other
	// pipes see the same loss) returns at once and its pipe then closes
	// sockets, which go-hep's readers must find with the context cancelled.
	c.cancel()
	cli := c.cli
	if c.idle != nil {
		c.idle.Stop()
	}
	c.mu.Unlock()
	if c.g != nil {
		c.g.close()
	}
	if cli != nil {
		// go-hep's Close may wait on requests that the cancelled context
		// already released; it must not hold up the caller.
		go cli.Close()
	}
}

// do runs one request under the connection's timeout. A request that
// outlives it kills the connection, which releases every request on it:
// go-hep's requests only end through their context, and cancelling one
// request's context would also stop the data connections it opened. The
// request runs in its own goroutine because go-hep can block for good
// after a cancellation (its mux hands responses over unbuffered channels
// that nobody reads any more): the caller returns, the goroutine is lost.
// So do returns nil only once req has returned; after an error req may
// still be running, and must not write anything the caller goes on using.
func (c *conn) do(what string, req func(ctx context.Context) error) error {
	t := time.AfterFunc(c.timeout, func() {
		c.die(fmt.Errorf("%s: no reply from %s within %s", what, c.addr, c.timeout))
	})
	defer t.Stop()
	done := make(chan error, 1)
	go func() { done <- req(c.ctx) }()
	var err error
	select {
	case err = <-done:
	case <-c.ctx.Done():
	}
	c.mu.Lock()
	dead := c.err
	c.mu.Unlock()
	if dead != nil {
		return fmt.Errorf("%w: %w", errLost, dead)
	}
	return err
}
