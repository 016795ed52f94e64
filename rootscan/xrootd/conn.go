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
	key       string // user@host:port
	addr      string
	dead      chan struct{} // closed when the conn dies
	loginDone chan struct{} // closed once go-hep's NewClient has returned
	g         *guard

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
	c, err := dial(key, addr, user, w)
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

// dial connects and logs in, within w.
func dial(key, addr, user string, w wait) (*conn, error) {
	c := &conn{key: key, addr: addr, dead: make(chan struct{}), loginDone: make(chan struct{}), refs: 1}
	g, err := newGuard(addr, w, func(err error) { c.die(err) })
	if err != nil {
		if errors.Is(err, errCancelled) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: cannot connect to %s: %w", errLost, addr, err)
	}
	// The guard may already have cut the connection and called die, which
	// then found no guard to release: attach it under the lock, and release
	// it here in that case.
	c.mu.Lock()
	c.g = g
	died := c.err
	c.mu.Unlock()
	if died != nil {
		g.cut(died)
		go c.release()
	}
	err = c.do("logging in", w, func(ctx context.Context) error {
		defer close(c.loginDone)
		got, err := xrd.NewClient(ctx, g.addr(), user)
		c.mu.Lock()
		c.cli = got // closed by die when the conn died meanwhile
		c.mu.Unlock()
		return err
	})
	if err != nil {
		c.die(err)
		if errors.Is(err, errCancelled) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: cannot log in to %s: %w", errLost, addr, err)
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

// die drops the connection for good: the guard stops relaying and
// answers every request of go-hep's still awaiting a reply with an error,
// then go-hep's client is closed, which closes its sockets and ends its
// goroutines (see guard for why in this order).
func (c *conn) die(why error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = why
	close(c.dead)
	if c.idle != nil {
		c.idle.Stop()
	}
	g := c.g
	c.mu.Unlock()
	if g == nil {
		return // dial has not attached the guard yet: it cuts and releases it
	}
	g.cut(why)
	go c.release()
}

// Closing a dead connection's client waits for its login to end (the
// guard answers it), then releaseDelay for go-hep's reader to take in the
// errors the guard sent: go-hep's Close walks its streams without a lock,
// which must not meet the reader releasing one. releaseWait bounds the
// wait for a login that does not end, and for Close, after which the
// guard closes go-hep's sockets itself.
const (
	releaseDelay = 50 * time.Millisecond
	releaseWait  = 10 * time.Second
)

func (c *conn) release() {
	t := time.NewTimer(releaseWait)
	defer t.Stop()
	select {
	case <-c.loginDone:
	case <-t.C:
		c.g.close()
		return
	}
	<-c.g.answeredAll // cut, which die called, closes it before returning
	time.Sleep(releaseDelay)
	c.mu.Lock()
	cli := c.cli
	c.mu.Unlock()
	if cli != nil {
		closed := make(chan struct{})
		go func() {
			cli.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-t.C:
		}
	}
	c.g.close()
}

// wait bounds one wait on a server (see options.wait): its deadline, the
// timeout it came from (for messages), and the query's cancellation.
type wait struct {
	deadline time.Time
	timeout  time.Duration
	done     <-chan struct{} // closed when the query is cancelled; nil: never
}

// errCancelled ends the waits of a cancelled query.
var errCancelled = errors.New("query cancelled (interrupted)")

func (w wait) cancelled() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// context is a context for dialling within w.
func (w wait) context() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithDeadline(context.Background(), w.deadline)
	if w.done != nil {
		go func() {
			select {
			case <-w.done:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, cancel
}

// timedOut is the error of a wait whose time ran out.
func (w wait) timedOut(what, addr string) error {
	return fmt.Errorf("%s: no reply from %s within %s", what, addr, w.timeout)
}

// cancelGrace is how long a request of a cancelled query may take to
// finish before its connection is dropped: long enough for an answer on
// its way, short enough that nothing of the query lingers.
const cancelGrace = 250 * time.Millisecond

// do runs one request within w. A request that gets no reply by w's
// deadline kills the connection, which releases every request on it (see
// guard: go-hep's requests must not be cancelled through their context). When
// the query is cancelled, do returns at once and the request gets
// cancelGrace to finish before the connection is dropped. The request runs
// in its own goroutine so that do can return while go-hep waits: do returns
// nil only once req has returned; after an error req may still be
// running, and must not write anything the caller goes on using.
func (c *conn) do(what string, w wait, req func(ctx context.Context) error) error {
	if w.cancelled() {
		return errCancelled
	}
	left := time.Until(w.deadline)
	if left <= 0 {
		return w.timedOut(what, c.addr)
	}
	t := time.AfterFunc(left, func() { c.die(w.timedOut(what, c.addr)) })
	res := make(chan error, 1)
	// Never cancelled: go-hep's requests end with a response, the guard's
	// when the conn dies.
	go func() { res <- req(context.Background()) }()
	var err error
	select {
	case err = <-res:
	case <-c.dead:
	case <-w.done:
		go func() {
			defer t.Stop()
			select {
			case <-res:
			case <-c.dead:
			case <-time.After(cancelGrace):
				c.die(fmt.Errorf("%s: abandoned by a cancelled query", what))
			}
		}()
		return errCancelled
	}
	t.Stop()
	c.mu.Lock()
	dead := c.err
	c.mu.Unlock()
	if dead != nil {
		return fmt.Errorf("%w: %w", errLost, dead)
	}
	return err
}
