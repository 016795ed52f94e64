package xrootd

import (
	"encoding/binary"
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

// guard is a loopback relay between go-hep's client and the server, which
// lets hepsql abandon a connection and get back every goroutine and socket
// of it.
//
// Why: go-hep's client (goHepClientVersion; TestGoHepClientVersion fails
// on any other) cannot be interrupted cleanly.
//   - Its reader goroutine panics when a connection of a live session fails
//     (session.go, handleReadError) unless the session's context was
//     cancelled first, which would take the whole process down.
//   - A request whose context is cancelled, or whose write fails, returns
//     without releasing its stream: the multiplexer keeps a channel that
//     nobody reads any more, and the next response for it, or Close (which
//     sends an error to every stream still registered), blocks for good,
//     holding the session, its goroutines and its sockets.
//
// So go-hep's requests are never cancelled, and the guard makes every one
// of them end with a response. It relays whole frames (XRootD requests and
// responses are framed with their length), noting the streams that await a
// response. When the connection is lost, timed out or abandoned, cut stops
// relaying (closing the server's side), answers every stream still
// awaiting with an error frame, and answers so any request that comes
// after; go-hep then finds nothing pending and Close ends everything. The
// client's side of each relay closes only when go-hep closes its own.
// goHepClientVersion is the go-hep version whose client the guard was
// written for: the behaviours above, and the wire details the guard relies
// on (whole frames, 2-byte stream ids, a panic on a second answer to a
// stream, extra data connections through kXR_bind), are that version's.
const goHepClientVersion = "v0.40.0"

type guard struct {
	ln       net.Listener
	upstream string
	timeout  time.Duration
	onLoss   func(error)

	mu       sync.Mutex
	first    net.Conn // dialled before the client connects, to report a refused server early
	pairs    []*relayPair
	pending  map[[2]byte]*relayPair // streams awaiting a response, by the connection to answer on
	lost     error                  // set by cut: the guard answers requests itself
	answered map[[2]byte]bool       // streams answered since the cut: go-hep panics on a second answer

	answeredAll chan struct{} // closed once cut has answered the streams pending then
}

// relayPair is one connection of the client and its counterpart to the
// server.
type relayPair struct {
	down net.Conn // go-hep's side
	up   net.Conn // the server's side

	wmu sync.Mutex // whole frames only, relayed or injected
}

// write sends one frame to the client.
func (p *relayPair) write(frame []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_, err := p.down.Write(frame)
	return err
}

// XRootD framing: a client's connection opens with a 20-byte handshake
// (answered on stream 0), then requests of a 24-byte header whose last 4
// bytes are the body's length; responses have an 8-byte header: stream,
// status, body length.
const (
	handshakeLen    = 20
	requestHeadLen  = 24
	responseHeadLen = 8
	maxFrameBody    = 256 << 20 // a larger frame is taken for a broken stream

	statusOK       = 0
	statusOKSoFar  = 4000
	statusAttn     = 4001
	statusError    = 4003
	statusWait     = 4005
	errServerError = 3012 // kXR_ServerError
	reqSigver      = 3029 // a signature, sent ahead of its request on the same stream
)

// newGuard dials the server once, within w (so that an unreachable server
// is reported before go-hep's client starts), and listens on a loopback
// port.
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		up.Close()
		return nil, fmt.Errorf("loopback relay: %w", err)
	}
	g := &guard{ln: ln, upstream: upstream, timeout: w.timeout, onLoss: onLoss, first: up, pending: map[[2]byte]*relayPair{}, answeredAll: make(chan struct{})}
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
				// Answered as lost: go-hep's dial succeeded, and its
				// handshake on it gets the error frame.
				g.cut(fmt.Errorf("connecting to %s: %w", g.upstream, err))
				up = nil
			}
		}
		p := &relayPair{down: down, up: up}
		g.mu.Lock()
		g.pairs = append(g.pairs, p)
		if g.lost != nil && up != nil {
			up.Close()
		}
		g.mu.Unlock()
		go g.fromClient(p)
		if up != nil {
			go g.fromServer(p)
		}
		// (A pair without a server side exists only once the guard is cut:
		// the failed dial reported the loss above.)
	}
}

// fromClient relays p's requests to the server, noting the streams they
// open; once the guard is cut, it answers them itself. It ends when go-hep
// closes its side, and closes p.
func (g *guard) fromClient(p *relayPair) {
	defer func() {
		p.down.Close()
		if p.up != nil {
			p.up.Close()
		}
	}()
	hs := make([]byte, handshakeLen)
	if _, err := io.ReadFull(p.down, hs); err != nil {
		g.clientGone(err)
		return
	}
	if !g.request([2]byte{0, 0}, p, hs) {
		return
	}
	var buf []byte
	head := make([]byte, requestHeadLen)
	for {
		if _, err := io.ReadFull(p.down, head); err != nil {
			g.clientGone(err)
			return
		}
		n := binary.BigEndian.Uint32(head[20:])
		if n > maxFrameBody {
			g.cut(fmt.Errorf("relay to %s: request of %d bytes", g.upstream, n))
			return
		}
		buf = frame(buf, head, n)
		if _, err := io.ReadFull(p.down, buf[requestHeadLen:]); err != nil {
			g.clientGone(err)
			return
		}
		if binary.BigEndian.Uint16(head[2:]) == reqSigver {
			// Answered with the request it signs, which follows.
			if !g.forward(p, buf) {
				return
			}
			continue
		}
		if !g.request([2]byte{head[0], head[1]}, p, buf) {
			return
		}
	}
}

// request notes stream sid as awaiting a response and sends frame to the
// server, or answers it with an error once the guard is cut. It reports
// false when p is done.
func (g *guard) request(sid [2]byte, p *relayPair, frame []byte) bool {
	g.mu.Lock()
	lost := g.lost
	if lost == nil {
		g.pending[sid] = p
	} else if g.answered[sid] {
		// A request go-hep sends again after a kXR_wait, already answered.
		g.mu.Unlock()
		return true
	} else {
		g.answered[sid] = true
	}
	g.mu.Unlock()
	if lost != nil {
		return p.write(errorFrame(sid, lost)) == nil
	}
	return g.forward(p, frame)
}

// forward sends frame to the server, unless the guard is cut; it reports
// false when p is done.
func (g *guard) forward(p *relayPair, frame []byte) bool {
	g.mu.Lock()
	lost := g.lost
	g.mu.Unlock()
	if lost != nil {
		return true
	}
	if _, err := p.up.Write(frame); err != nil {
		g.cut(fmt.Errorf("connection to %s lost: %w", g.upstream, describe(err)))
	}
	return true
}

// fromServer relays p's responses to the client, whole frames at a time,
// noting the streams they end, until the server's side fails or the guard
// is cut.
func (g *guard) fromServer(p *relayPair) {
	head := make([]byte, responseHeadLen)
	var buf []byte
	for {
		if _, err := io.ReadFull(p.up, head); err != nil {
			g.cut(fmt.Errorf("connection to %s lost: %w", g.upstream, describe(err)))
			return
		}
		n := binary.BigEndian.Uint32(head[4:])
		if n > maxFrameBody {
			g.cut(fmt.Errorf("relay from %s: response of %d bytes", g.upstream, n))
			return
		}
		buf = frame(buf, head, n)
		if _, err := io.ReadFull(p.up, buf[responseHeadLen:]); err != nil {
			g.cut(fmt.Errorf("connection to %s lost: %w", g.upstream, describe(err)))
			return
		}
		wireBytes.Add(int64(len(buf)))
		sid := [2]byte{head[0], head[1]}
		status := binary.BigEndian.Uint16(head[2:])
		g.mu.Lock()
		if g.lost != nil {
			// Cut meanwhile: the stream was answered with an error.
			g.mu.Unlock()
			return
		}
		if status != statusOKSoFar && status != statusWait && status != statusAttn {
			delete(g.pending, sid)
		}
		// Taken before mu is released, so that cut's answers come after.
		p.wmu.Lock()
		g.mu.Unlock()
		_, err := p.down.Write(buf)
		p.wmu.Unlock()
		if err != nil {
			g.clientGone(err)
			return
		}
		if cap(buf) > 8<<20 {
			buf = nil // an unusually large frame: not kept for the next
		}
	}
}

// clientGone handles the end of one of go-hep's connections: expected when
// it closes them, a loss otherwise.
func (g *guard) clientGone(err error) {
	g.mu.Lock()
	lost := g.lost
	g.mu.Unlock()
	if lost == nil {
		g.cut(fmt.Errorf("relay to %s: client connection ended: %w", g.upstream, describe(err)))
	}
}

// cut stops relaying: it closes the server's side of every connection and
// the listener, answers every stream awaiting a response with an error
// naming why, and reports the loss (once).
func (g *guard) cut(why error) {
	g.mu.Lock()
	if g.lost != nil {
		g.mu.Unlock()
		return
	}
	g.lost = why
	g.ln.Close()
	if g.first != nil {
		g.first.Close()
		g.first = nil
	}
	for _, p := range g.pairs {
		if p.up != nil {
			p.up.Close()
		}
	}
	pending := g.pending
	g.pending = nil
	g.answered = make(map[[2]byte]bool, len(pending))
	for sid := range pending {
		g.answered[sid] = true
	}
	g.mu.Unlock()
	// Reported first: a request that gets the error below must find its
	// connection dead, which makes the error a loss worth a retry.
	g.onLoss(why)
	for sid, p := range pending {
		p.write(errorFrame(sid, why))
	}
	close(g.answeredAll)
}

// close closes every connection, go-hep's sides included: after go-hep's
// Close, or when it did not come.
func (g *guard) close() {
	g.cut(errors.New("closed"))
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.pairs {
		p.down.Close()
	}
}

// frame returns buf resized to hold head and a body of n bytes, head
// copied in.
func frame(buf, head []byte, n uint32) []byte {
	need := len(head) + int(n)
	if cap(buf) < need {
		buf = make([]byte, need)
	}
	buf = buf[:need]
	copy(buf, head)
	return buf
}

// errorFrame is a kXR_error response on stream sid.
func errorFrame(sid [2]byte, why error) []byte {
	msg := why.Error()
	b := make([]byte, responseHeadLen+4, responseHeadLen+4+len(msg)+1)
	b[0], b[1] = sid[0], sid[1]
	binary.BigEndian.PutUint16(b[2:], statusError)
	binary.BigEndian.PutUint32(b[4:], uint32(4+len(msg)+1))
	binary.BigEndian.PutUint32(b[8:], errServerError)
	b = append(b, msg...)
	return append(b, 0)
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
