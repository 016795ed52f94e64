package xrootd

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
)

// fakeServer speaks just enough XRootD to log a client in, then hands
// every request to handle: for the faults Debian's xrootd cannot be made to
// show (a redirection without a cluster manager, kXR_wait, deferred
// responses, malformed frames). It is no model of a server: the values a
// test compares come from the real one.
type fakeServer struct {
	ln     net.Listener
	handle func(fc *fakeConn, sid, id uint16, params [16]byte, body []byte)

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// fakeConn is one client connection of the fake.
type fakeConn struct {
	net.Conn
	wmu sync.Mutex
}

// send writes one response frame.
func (c *fakeConn) send(sid, status uint16, body []byte) {
	c.raw(frame(sid, status, body))
}

// raw writes bytes as they are.
func (c *fakeConn) raw(b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.Write(b)
}

func frame(sid, status uint16, body []byte) []byte {
	b := make([]byte, responseHeadLen+len(body))
	binary.BigEndian.PutUint16(b, sid)
	binary.BigEndian.PutUint16(b[2:], status)
	binary.BigEndian.PutUint32(b[4:], uint32(len(body)))
	copy(b[responseHeadLen:], body)
	return b
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func startFake(t *testing.T, handle func(fc *fakeConn, sid, id uint16, params [16]byte, body []byte)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, handle: handle}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *fakeServer) addr() string { return f.ln.Addr().String() }

func (f *fakeServer) close() {
	f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

func (f *fakeServer) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, c)
		f.mu.Unlock()
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer c.Close()
			f.serve(&fakeConn{Conn: c})
		}()
	}
}

func (f *fakeServer) serve(c *fakeConn) {
	hs := make([]byte, handshakeLen)
	if _, err := io.ReadFull(c, hs); err != nil {
		return
	}
	c.send(0, statusOK, append(u32(protocolVersion), u32(1)...))
	head := make([]byte, requestHeadLen)
	for {
		if _, err := io.ReadFull(c, head); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(head[20:]))
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		sid, id := binary.BigEndian.Uint16(head), binary.BigEndian.Uint16(head[2:])
		var params [16]byte
		copy(params[:], head[4:20])
		switch id {
		case reqProtocol:
			c.send(sid, statusOK, append(u32(protocolVersion), u32(1)...))
		case reqLogin:
			c.send(sid, statusOK, make([]byte, 16))
		default:
			f.handle(c, sid, id, params, body)
		}
	}
}
