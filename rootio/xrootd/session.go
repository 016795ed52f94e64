package xrootd

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
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

// okSoFarFrames counts the partial responses received: tests check that
// their reads were long enough to be answered in several frames.
var okSoFarFrames atomic.Int64

// errLost marks failures of the connection itself (server gone, no reply in
// time, a frame that makes no sense): worth a retry on a fresh connection,
// unlike the server's answers.
var errLost = errors.New("connection lost")

// errCancelled ends the waits of a cancelled query.
var errCancelled = errors.New("query cancelled (interrupted)")

// cancelGrace is how long a request of a cancelled query may take to
// finish before its connection is dropped: long enough for an answer on
// its way, short enough that nothing of the query lingers.
const cancelGrace = 250 * time.Millisecond

// wait bounds one wait on a server (see options.wait): its deadline, the
// timeout it came from (for messages), and the query's cancellation.
type wait struct {
	deadline time.Time
	timeout  time.Duration
	done     <-chan struct{} // closed when the query is cancelled; nil: never
}

func (w wait) cancelled() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// timedOut is the error of a wait whose time ran out.
func (w wait) timedOut(what, addr string) error {
	return fmt.Errorf("%s: no reply from %s within %s", what, addr, w.timeout)
}

// session is one connection to a server, logged in. Requests from any
// number of goroutines share it, each on a stream id of its own; one
// reader goroutine routes the responses to them. A session that fails
// (lost, timed out, a malformed frame) fails every request on it, and is
// never used again.
type session struct {
	addr string
	nc   net.Conn
	wmu  sync.Mutex // one request frame at a time on the socket

	mu     sync.Mutex
	calls  map[uint16]*call // streams awaiting a response
	next   uint16           // the last stream id given out
	err    error            // why the session failed; nil while usable
	onFail func(error)      // called once, when it fails

	dead       chan struct{} // closed when it fails
	readerDone chan struct{} // closed when the reader goroutine has returned
}

// call is one request awaiting its response.
type call struct {
	what string
	resp chan reply // the final response: one per registration

	mu        sync.Mutex
	dst       []byte // a read's destination; nil: data collects the body
	n         int    // bytes of dst filled
	data      []byte
	abandoned bool // by a cancelled query: nothing is written any more
}

type reply struct {
	status uint16
	body   []byte // for kXR_error, kXR_redirect, kXR_wait
}

// add appends one frame's data to the call's response.
func (c *call) add(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.abandoned {
		return nil
	}
	if c.dst == nil {
		c.data = append(c.data, b...)
		return nil
	}
	if len(b) > len(c.dst)-c.n {
		return fmt.Errorf("%w: %s: server sent more than the %d bytes asked", errMalformed, c.what, len(c.dst))
	}
	c.n += copy(c.dst[c.n:], b)
	return nil
}

// abandon stops the reader from writing into the call's buffers; once it
// returns, a copy the reader was making has ended.
func (c *call) abandon() {
	c.mu.Lock()
	c.abandoned = true
	c.mu.Unlock()
}

// dial connects to addr and logs in as user, within w.
func dial(addr, user string, w wait, onFail func(error)) (*session, error) {
	ctx, cancel := context.WithDeadline(context.Background(), w.deadline)
	defer cancel()
	if w.done != nil {
		go func() { // ends with the dial, at the latest
			select {
			case <-w.done:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	cancel()
	if err != nil {
		if w.cancelled() {
			return nil, errCancelled
		}
		return nil, fmt.Errorf("%w: cannot connect to %s: %w", errLost, addr, err)
	}
	s := newSession(addr, nc, onFail)
	if err := s.login(user, w); err != nil {
		s.close(err)
		if errors.Is(err, errCancelled) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: cannot log in to %s: %w", errLost, addr, err)
	}
	return s, nil
}

// newSession starts the reader of a connected socket.
func newSession(addr string, nc net.Conn, onFail func(error)) *session {
	s := &session{addr: addr, nc: nc, calls: map[uint16]*call{}, onFail: onFail,
		dead: make(chan struct{}), readerDone: make(chan struct{})}
	go s.reader()
	return s
}

// login runs the handshake, kXR_protocol and kXR_login.
func (s *session) login(user string, w wait) error {
	const what = "logging in"
	if _, err := s.exchange(w, what, 0, [16]byte{}, nil, nil); err != nil {
		return err
	}
	if _, err := s.exchange(w, what, reqProtocol, protocolParams(), nil, nil); err != nil {
		return err
	}
	r, err := s.exchange(w, what, reqLogin, loginParams(user, os.Getpid()), nil, nil)
	if err != nil {
		return err
	}
	if len(r) < 16 {
		s.fail(fmt.Errorf("%w: kXR_login response of %d bytes", errMalformed, len(r)))
		return s.lost()
	}
	if sec := strings.TrimRight(string(r[16:]), "\x00"); strings.Contains(sec, "&P=") {
		return fmt.Errorf("server %s requires authentication (%s), which hepsql's client does not support", s.addr, sec)
	}
	return nil
}

func (s *session) alive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err == nil
}

// fail drops the session for good: every request on it fails with why.
// It does not wait for the reader (see close).
func (s *session) fail(why error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = why
	s.calls = nil
	close(s.dead)
	s.mu.Unlock()
	s.nc.Close() // ends the reader, and any write in progress
	if s.onFail != nil {
		s.onFail(why)
	}
}

// close fails the session and returns once its socket is closed and its
// reader goroutine has returned.
func (s *session) close(why error) {
	s.fail(why)
	<-s.readerDone
}

// lost is the error of a request on a failed session.
func (s *session) lost() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Errorf("%w: %w", errLost, s.err)
}

// reader routes the server's frames to the calls awaiting them until the
// connection fails. A malformed frame fails the session; so does a panic,
// which never leaves this goroutine.
func (s *session) reader() {
	defer close(s.readerDone)
	defer func() {
		if r := recover(); r != nil {
			s.fail(fmt.Errorf("%w from %s: client panic: %v", errMalformed, s.addr, r))
		}
	}()
	br := bufio.NewReaderSize(s.nc, 64<<10)
	head := make([]byte, responseHeadLen)
	var buf []byte
	for {
		if _, err := io.ReadFull(br, head); err != nil {
			s.fail(fmt.Errorf("connection to %s lost: %w", s.addr, describe(err)))
			return
		}
		h, err := parseHead(head)
		if err != nil {
			s.fail(fmt.Errorf("from %s: %w", s.addr, err))
			return
		}
		if uint32(cap(buf)) < h.dlen {
			buf = make([]byte, h.dlen)
		}
		buf = buf[:h.dlen]
		if _, err := io.ReadFull(br, buf); err != nil {
			s.fail(fmt.Errorf("connection to %s lost in a %d-byte frame: %w", s.addr, h.dlen, describe(err)))
			return
		}
		wireBytes.Add(int64(responseHeadLen) + int64(h.dlen))
		if err := s.dispatch(h, buf, true); err != nil {
			s.fail(fmt.Errorf("from %s: %w", s.addr, err))
			return
		}
		if cap(buf) > 8<<20 {
			buf = nil // an unusually large frame: not kept for the next
		}
	}
}

// dispatch hands one frame to its call. body is the reader's buffer:
// whatever outlives the call is copied.
func (s *session) dispatch(h responseHead, body []byte, outer bool) error {
	if h.status == statusAttn {
		if !outer || len(body) < 4 {
			return fmt.Errorf("%w: kXR_attn of %d bytes", errMalformed, len(body))
		}
		switch act := binary.BigEndian.Uint32(body); act {
		case attnAsyncResponse:
			ih, ib, err := parseAsyncResponse(body)
			if err != nil {
				return err
			}
			return s.dispatch(ih, ib, false)
		case attnAsyncAbort, attnAsyncDisconnect:
			return fmt.Errorf("the server ends the session (kXR_attn %d)", act)
		default:
			return nil // messages and hints: nothing a reader needs
		}
	}
	s.mu.Lock()
	c := s.calls[h.sid]
	if c == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: status %d on stream %d, which awaits no response", errMalformed, h.status, h.sid)
	}
	final := h.status != statusOKSoFar && h.status != statusWaitResp
	if final {
		delete(s.calls, h.sid)
	}
	s.mu.Unlock()
	switch h.status {
	case statusOK, statusOKSoFar:
		if h.status == statusOKSoFar {
			okSoFarFrames.Add(1)
		}
		if err := c.add(body); err != nil {
			return err
		}
		if h.status == statusOK {
			c.resp <- reply{status: statusOK}
		}
	case statusWaitResp:
		// The response comes later, in a kXR_attn: the call waits on, within
		// its deadline.
	case statusError, statusRedirect, statusWait:
		c.resp <- reply{status: h.status, body: append([]byte(nil), body...)}
	default:
		return fmt.Errorf("%w: status %d on stream %d (%s)", errMalformed, h.status, h.sid, c.what)
	}
	return nil
}

// register gives c a free stream id (never 0: the handshake's).
func (s *session) register(c *call, handshake bool) (uint16, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, fmt.Errorf("%w: %w", errLost, s.err)
	}
	if handshake {
		s.calls[0] = c
		return 0, nil
	}
	if len(s.calls) >= 1<<16-2 {
		return 0, fmt.Errorf("%s: all stream ids to %s are in use", c.what, s.addr)
	}
	for {
		s.next++
		if s.next != 0 && s.calls[s.next] == nil {
			break
		}
	}
	s.calls[s.next] = c
	return s.next, nil
}

// write sends one frame, within deadline.
func (s *session) write(b []byte, w wait, what string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.nc.SetWriteDeadline(w.deadline)
	if _, err := s.nc.Write(b); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.fail(w.timedOut(what, s.addr))
		} else {
			s.fail(fmt.Errorf("connection to %s lost: %w", s.addr, describe(err)))
		}
		return s.lost()
	}
	return nil
}

// exchange sends one request (id 0: the handshake) and returns the body of
// its response, within w. dst, when not nil, receives a read's data, and
// the body returned is then nil; the second result counts the bytes of dst
// filled. A kXR_wait is waited out and the request sent again; kXR_error
// and kXR_redirect come back as a *ServerError and a *redirect.
//
// A request without a response by the deadline fails the session, and
// every request on it: a server that does not answer one request is not
// trusted with the others. When the query is cancelled, exchange returns
// at once and the request gets cancelGrace to be answered before the
// session is dropped.
func (s *session) exchange(w wait, what string, id uint16, params [16]byte, body, dst []byte) ([]byte, error) {
	_, data, err := s.exchangeN(w, what, id, params, body, dst)
	return data, err
}

func (s *session) exchangeN(w wait, what string, id uint16, params [16]byte, body, dst []byte) (int, []byte, error) {
	c := &call{what: what, dst: dst, resp: make(chan reply, 1)}
	for {
		if w.cancelled() {
			return 0, nil, errCancelled
		}
		if time.Until(w.deadline) <= 0 {
			return 0, nil, w.timedOut(what, s.addr)
		}
		sid, err := s.register(c, id == 0)
		if err != nil {
			return 0, nil, err
		}
		frame := handshake()
		if id != 0 {
			frame = request(sid, id, params, body)
		}
		if err := s.write(frame, w, what); err != nil {
			return 0, nil, err
		}
		r, err := s.await(c, sid, w)
		if err != nil {
			return 0, nil, err
		}
		switch r.status {
		case statusOK:
			return c.n, c.data, nil
		case statusError:
			se, err := parseError(r.body)
			if err != nil {
				s.fail(fmt.Errorf("from %s: %w: %w", s.addr, errMalformed, err))
				return 0, nil, s.lost()
			}
			return 0, nil, se
		case statusRedirect:
			rd, err := parseRedirect(r.body)
			if err != nil {
				return 0, nil, fmt.Errorf("%s: %w", what, err)
			}
			return 0, nil, rd
		case statusWait:
			d, err := parseWait(r.body)
			if err != nil {
				s.fail(fmt.Errorf("from %s: %w: %w", s.addr, errMalformed, err))
				return 0, nil, s.lost()
			}
			if left := time.Until(w.deadline); d >= left {
				return 0, nil, fmt.Errorf("%s: %s asks to wait %s, more than the %s left", what, s.addr, d, left.Round(time.Millisecond))
			}
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-w.done:
				t.Stop()
				return 0, nil, errCancelled
			case <-s.dead:
				t.Stop()
				return 0, nil, s.lost()
			}
			c.n, c.data = 0, nil // sent again, on a new stream
		}
	}
}

// await waits for c's final response.
func (s *session) await(c *call, sid uint16, w wait) (reply, error) {
	t := time.NewTimer(time.Until(w.deadline))
	defer t.Stop()
	select {
	case r := <-c.resp:
		return r, nil
	case <-s.dead:
		select {
		case r := <-c.resp: // answered before the loss
			return r, nil
		default:
			c.abandon()
			return reply{}, s.lost()
		}
	case <-t.C:
		s.fail(w.timedOut(c.what, s.addr))
		c.abandon()
		return reply{}, s.lost()
	case <-w.done:
		c.abandon()
		time.AfterFunc(cancelGrace, func() {
			s.mu.Lock()
			pending := s.calls[sid] == c
			s.mu.Unlock()
			if pending {
				s.fail(fmt.Errorf("%s: abandoned by a cancelled query", c.what))
			}
		})
		return reply{}, errCancelled
	}
}

// describe turns the end of a server stream into words.
func describe(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return errors.New("closed")
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("server closed the connection")
	}
	return err
}
