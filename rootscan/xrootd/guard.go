package xrootd

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// wireBytes counts the bytes received from XRootD servers by this process.
var wireBytes atomic.Int64

// WireBytes returns the number of bytes this process has received from
// XRootD servers so far, protocol framing included: what crossed the
// network, whatever the cache did with it.
func WireBytes() int64 { return wireBytes.Load() }

// guard is a loopback relay between go-hep's client and the server.
//
// Why: go-hep's client (v0.40.0) panics in its reader goroutine when the
// connection to the server it logged in to fails while a session is live
// (xrootd/session.go, handleReadError), which would take the whole process
// down when a server dies mid-query. It reads its connections quietly once
// the context it was given is cancelled. The guard therefore owns the real
// sockets: when the server side fails, it first calls onLoss (which cancels
// the client's context) and only then closes the client's side. It also
// counts the bytes received.
type guard struct {
	ln       net.Listener
	upstream string
	timeout  time.Duration
	onLoss   func(error)

	mu     sync.Mutex
	first  net.Conn // dialled before the client connects, to report a refused server early
	conns  []net.Conn
	closed bool
}

// newGuard dials the server once (so that an unreachable server is reported
// before go-hep's client starts) and listens on a loopback port.
func newGuard(upstream string, w wait, onLoss func(error)) (*guard, error) {
	ctx, cancel := w.context()
	var d net.Dialer
	up, err := d.DialContext(ctx, "tcp", upstream)
	cancel()
	if err != nil {
		if w.cancelled() {
			return nil, errCancelled
		}
		return nil, err
	}
	timeout := w.timeout
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		up.Close()
		return nil, fmt.Errorf("loopback relay: %w", err)
	}
	g := &guard{ln: ln, upstream: upstream, timeout: timeout, onLoss: onLoss, first: up}
	go g.accept()
	return g, nil
}

// addr is where go-hep's client connects.
func (g *guard) addr() string { return g.ln.Addr().String() }

func (g *guard) accept() {
	for {
		down, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		up := g.first
		g.first = nil
		g.mu.Unlock()
		if up == nil {
			// go-hep opens extra data connections (kXR_bind) to the same server.
			up, err = net.DialTimeout("tcp", g.upstream, g.timeout)
			if err != nil {
				g.lose(fmt.Errorf("connecting to %s: %w", g.upstream, err))
				down.Close()
				continue
			}
		}
		if !g.track(down, up) {
			return
		}
		go g.pipe(up, down, true)
		go g.pipe(down, up, false)
	}
}

// track records a pair of connections, or closes them when the guard is
// already closed.
func (g *guard) track(down, up net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		down.Close()
		up.Close()
		return false
	}
	g.conns = append(g.conns, down, up)
	return true
}

// pipe copies src to dst; fromServer says src is the server, whose bytes
// are counted.
func (g *guard) pipe(src, dst net.Conn, fromServer bool) {
	buf := make([]byte, 256<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if fromServer {
				wireBytes.Add(int64(n))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			// Whichever side ended, the client's context must be cancelled
			// before its sockets close (a no-op when the guard is closing
			// because the conn already died).
			g.lose(fmt.Errorf("connection to %s lost: %w", g.upstream, describe(err)))
			g.close()
			return
		}
	}
}

// lose reports a failed server connection, unless the guard is closing.
func (g *guard) lose(err error) {
	g.mu.Lock()
	closed := g.closed
	g.mu.Unlock()
	if !closed {
		g.onLoss(err)
	}
}

// close closes every connection and the listener.
func (g *guard) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.closed = true
	g.ln.Close()
	if g.first != nil {
		g.first.Close()
	}
	for _, c := range g.conns {
		c.Close()
	}
}

// describe turns the end of a server stream into words.
func describe(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return errors.New("closed")
	}
	if errors.Is(err, io.EOF) {
		return errors.New("server closed the connection")
	}
	return err
}
