package xrootd

import (
	"errors"
	"net"
	"strings"
	"testing"
)

// FuzzResponseFrame feeds arbitrary bytes, as a server's side of a
// connection, to a session with two requests awaiting responses (a read
// into 64 bytes on stream 1, a listing on stream 2), and to every parser of
// response bodies. Nothing may panic (the reader recovers, and says so in
// its error, which fails the fuzz), no read may be filled past its buffer,
// and the reader must end when the stream does.
func FuzzResponseFrame(f *testing.F) {
	ok := frame(1, statusOK, []byte("0123456789"))
	f.Add(ok)
	f.Add(append(frame(1, statusOKSoFar, []byte("abc")), frame(1, statusOK, []byte("def"))...))
	f.Add(frame(2, statusOK, []byte(".\n0 0 0 0\na.root\n1 10 16 1700000000\nsub\n2 4096 51 1700000000\x00")))
	f.Add(frame(2, statusError, append(u32(3011), "no such file\x00"...)))
	f.Add(frame(2, statusRedirect, append(u32(1094), "host.example?x=1"...)))
	f.Add(frame(2, statusWait, u32(0)))
	f.Add(append(frame(1, statusWaitResp, u32(1)), frame(0, statusAttn, append(append(u32(attnAsyncResponse), 0, 0, 0, 0), ok...))...))
	f.Add(frame(7, statusOK, nil))
	f.Add(ok[:5])
	f.Fuzz(func(t *testing.T, stream []byte) {
		for _, parse := range []func([]byte){
			func(b []byte) { parseStat(b) },
			func(b []byte) { parseDirlist(b) },
			func(b []byte) { parseOpen(b) },
			func(b []byte) { parseRedirect(b) },
			func(b []byte) { parseError(b) },
			func(b []byte) { parseWait(b) },
			func(b []byte) { parseAsyncResponse(b) },
		} {
			parse(stream)
		}
		client, server := net.Pipe()
		s := newSession("fuzz:1094", client, nil)
		read := &call{what: "read", dst: make([]byte, 64), resp: make(chan reply, 1)}
		list := &call{what: "listing", resp: make(chan reply, 1)}
		if sid, err := s.register(read, false); err != nil || sid != 1 {
			t.Fatalf("stream %d, %v", sid, err)
		}
		if sid, err := s.register(list, false); err != nil || sid != 2 {
			t.Fatalf("stream %d, %v", sid, err)
		}
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			server.Write(stream)
			server.Close()
		}()
		<-s.readerDone
		<-wrote
		s.close(errors.New("fuzz input over"))
		if s.err != nil && strings.Contains(s.err.Error(), "panic") {
			t.Fatal(s.err)
		}
		if read.n > len(read.dst) {
			t.Fatalf("read filled %d of %d bytes", read.n, len(read.dst))
		}
		if len(list.data) > len(stream) {
			t.Fatalf("listing holds %d bytes of a %d-byte stream", len(list.data), len(stream))
		}
	})
}
