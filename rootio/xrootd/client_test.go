package xrootd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hepsql/hepsql/internal/xrdtest"
	"github.com/hepsql/hepsql/rootio/rfile"
)

// randomFile writes n pseudo-random bytes to dir/rel and returns them.
func randomFile(t *testing.T, dir, rel string, n int, seed uint64) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func testWait(d time.Duration) wait { return wait{deadline: time.Now().Add(d), timeout: d} }

// baseline is the goroutines and descriptors of the process before a
// test's connections.
type baseline struct{ g, fds int }

func measure(t *testing.T) baseline {
	runtime.GC()
	return baseline{runtime.NumGoroutine(), xrdtest.OpenFDs(t)}
}

// nothingLeft fails the test unless, once idle connections are dropped,
// the process has no more goroutines and descriptors than at b, no
// connection up and no file open.
func (b baseline) nothingLeft(t *testing.T) {
	t.Helper()
	var g, fds int
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		DropIdle()
		g, fds = runtime.NumGoroutine(), xrdtest.OpenFDs(t)
		if g <= b.g && fds <= b.fds && LiveConns() == 0 && OpenFiles() == 0 {
			return
		}
		if time.Now().After(end) {
			break
		}
	}
	buf := make([]byte, 1<<20)
	t.Errorf("left behind: %d goroutines (%d before), %d descriptors (%d before), %d connections, %d files; goroutines:\n%s",
		g, b.g, fds, b.fds, LiveConns(), OpenFiles(), buf[:runtime.Stack(buf, true)])
}

// TestSessionAgainstServer reads a file of random bytes from Debian's
// xrootd on one session: random offsets and sizes from 8 goroutines at
// once, a read longer than one request (answered in kXR_oksofar frames),
// reads past the end; and stat and dirlist against the local file system.
// Every byte is compared with the file's.
func TestSessionAgainstServer(t *testing.T) {
	// Without sendfile, the server answers a long read in frames of its
	// buffers' size: kXR_oksofar, then kXR_ok.
	srv := xrdtest.StartWith(t, "xrootd.async nosf")
	data := randomFile(t, srv.Dir, "d/data.bin", 40<<20+123, 7)
	randomFile(t, srv.Dir, "d/small.bin", 1000, 8)
	randomFile(t, srv.Dir, "d/sub/x.bin", 10, 9)
	base := measure(t)

	s, err := dial(srv.Addr, "test", testWait(30*time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := testWait(60 * time.Second)
	h, st, err := s.open(w, "/d/data.bin")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(srv.Dir, "d/data.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if st == nil || st.Size != fi.Size() || !st.MTime.Equal(fi.ModTime().Truncate(time.Second)) || st.IsDir() {
		t.Errorf("open's stat %+v, want size %d, mtime %v", st, fi.Size(), fi.ModTime())
	}
	if st2, err := s.stat(w, "/d/data.bin"); err != nil || st2.Size != fi.Size() || !st2.MTime.Equal(st.MTime) {
		t.Errorf("stat: %+v %v", st2, err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 2))
			for range 30 {
				off := r.Int64N(int64(len(data)))
				n := 1 + r.IntN(3<<20)
				p := make([]byte, n)
				got, err := s.read(w, h, off, p)
				want := data[off:min(off+int64(n), int64(len(data)))]
				if err != nil || got != len(want) || !bytes.Equal(p[:got], want) {
					errs <- fmt.Errorf("goroutine %d: %d bytes at %d: got %d bytes, equal %v, error %v", g, n, off, got, bytes.Equal(p[:got], want), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	before := okSoFarFrames.Load()
	big := make([]byte, 20<<20+5) // two requests (maxReadRequest), each in several frames
	if n, err := s.read(w, h, 1000, big); err != nil || n != len(big) || !bytes.Equal(big, data[1000:1000+len(big)]) {
		t.Errorf("20 MiB read: %d bytes, %v", n, err)
	}
	if okSoFarFrames.Load() == before {
		t.Errorf("a 20 MiB read came in whole frames: kXR_oksofar untested")
	}
	tail := make([]byte, 1000)
	if n, err := s.read(w, h, int64(len(data))-10, tail); err != nil || n != 10 || !bytes.Equal(tail[:10], data[len(data)-10:]) {
		t.Errorf("read across the end: %d bytes, %v", n, err)
	}
	if err := s.closeFile(w, h); err != nil {
		t.Error(err)
	}
	if _, err := s.read(w, h, 0, tail); err == nil {
		t.Error("read on a closed handle succeeded")
	} else if se := (*ServerError)(nil); !errors.As(err, &se) || !s.alive() {
		t.Errorf("read on a closed handle: %v (a server error is not a loss)", err)
	}
	if err := s.ping(w); err != nil {
		t.Error(err)
	}

	_, _, err = s.open(w, "/d/nope.bin")
	if se := (*ServerError)(nil); !errors.As(err, &se) || se.Code != 3011 || !strings.Contains(strings.ToLower(err.Error()), "no such file") {
		t.Errorf("opening a missing file: %v", err)
	}

	es, err := s.dirlist(w, "/d")
	if err != nil {
		t.Fatal(err)
	}
	local, err := os.ReadDir(filepath.Join(srv.Dir, "d"))
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, e := range es {
		got = append(got, fmt.Sprintf("%s dir=%v size=%d", e.Name, e.Stat.IsDir(), e.Stat.Size))
	}
	for _, e := range local {
		fi, _ := e.Info()
		size := fi.Size()
		if e.IsDir() {
			size = es[slices.IndexFunc(es, func(x Entry) bool { return x.Name == e.Name() })].Stat.Size // a folder's size is the file system's
		}
		want = append(want, fmt.Sprintf("%s dir=%v size=%d", e.Name(), e.IsDir(), size))
	}
	slices.Sort(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("dirlist /d: %v, want %v", got, want)
	}

	s.close(errors.New("test over"))
	select {
	case <-s.readerDone:
	default:
		t.Error("close returned before the reader")
	}
	base.nothingLeft(t)
}

// TestFileAPI reads through the backend (pool, retries, read-ahead):
// ReadAt at random offsets with and without read-ahead, and the glob.
func TestFileAPI(t *testing.T) {
	srv := xrdtest.Start(t)
	data := randomFile(t, srv.Dir, "run1/a.bin", 9<<20, 11)
	randomFile(t, srv.Dir, "run2/b.bin", 10, 12)
	randomFile(t, srv.Dir, "other/c.bin", 10, 13)
	base := measure(t)
	for _, ra := range []int64{0, 1 << 20} {
		f, err := Backend{}.OpenWithOptions(srv.URL("run1/a.bin"), rfile.SourceOptions{Timeout: 30 * time.Second, ReadAhead: ra})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := f.Size(); n != int64(len(data)) {
			t.Errorf("size %d, want %d", n, len(data))
		}
		r := rand.New(rand.NewPCG(3, uint64(ra)))
		var ranges []rfile.Range
		for range 20 {
			off := r.Int64N(int64(len(data)) - 70000)
			ranges = append(ranges, rfile.Range{Off: off, Len: 1 + r.Int64N(60000)})
		}
		f.(rfile.Prefetcher).Prefetch(ranges)
		for _, g := range ranges {
			p := make([]byte, g.Len)
			if n, err := f.ReadAt(p, g.Off); err != nil || n != len(p) || !bytes.Equal(p, data[g.Off:g.Off+g.Len]) {
				t.Errorf("readahead %d: %d bytes at %d: %d, %v", ra, g.Len, g.Off, n, err)
			}
		}
		p := make([]byte, 100)
		if n, err := f.ReadAt(p, int64(len(data))-40); n != 40 || err != io.EOF || !bytes.Equal(p[:40], data[len(data)-40:]) {
			t.Errorf("ReadAt across the end: %d, %v", n, err)
		}
		f.Close()
	}
	names, err := Backend{}.Glob("root://" + srv.Addr + "//run*/*.bin")
	if want := []string{srv.URL("run1/a.bin"), srv.URL("run2/b.bin")}; err != nil || fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("glob: %v %v, want %v", names, err, want)
	}
	base.nothingLeft(t)
}

// TestRedirectAndWait: a fake redirector answers kXR_open first with
// kXR_wait (1 s), then with kXR_redirect to the real server, with an
// opaque part that the real server must receive back; the file read
// through it equals the local one, and so does a glob through a listing
// redirected the same way.
func TestRedirectAndWait(t *testing.T) {
	srv := xrdtest.Start(t)
	data := randomFile(t, srv.Dir, "r/a.bin", 3<<20, 21)
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	var mu sync.Mutex
	var opens []string
	fake := startFake(t, func(c *fakeConn, sid, id uint16, _ [16]byte, body []byte) {
		mu.Lock()
		opens = append(opens, string(body))
		n := len(opens)
		mu.Unlock()
		if id == reqOpen && n == 1 {
			c.send(sid, statusWait, append(u32(1), "busy"...))
			return
		}
		c.send(sid, statusRedirect, append(u32(uint32(p)), host+"?tried=fake"...))
	})
	// loop redirects to itself, for ever.
	loop := startFake(t, func(c *fakeConn, sid, id uint16, _ [16]byte, body []byte) {
		h, pt, _ := net.SplitHostPort(c.LocalAddr().String())
		n, _ := strconv.Atoi(pt)
		c.send(sid, statusRedirect, append(u32(uint32(n)), h...))
	})
	base := measure(t)
	url := "root://" + fake.addr() + "//r/a.bin"
	start := time.Now()
	f, err := Backend{}.OpenWithOptions(url, rfile.SourceOptions{Timeout: 20 * time.Second, ReadAhead: 0})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("opened after %s: the kXR_wait of 1s was not waited out", d)
	}
	buf := make([]byte, len(data))
	if n, err := f.ReadAt(buf, 0); err != nil || n != len(data) || !bytes.Equal(buf, data) {
		t.Errorf("read through the redirect: %d, %v", n, err)
	}
	f.Close()
	mu.Lock()
	if fmt.Sprint(opens) != "[/r/a.bin /r/a.bin]" {
		t.Errorf("the fake saw %q, want two opens of /r/a.bin", opens)
	}
	mu.Unlock()
	names, err := Backend{}.Glob("root://" + fake.addr() + "//r/*.bin")
	if err != nil || len(names) != 1 || names[0] != "root://"+fake.addr()+"//r/a.bin" {
		t.Errorf("glob through the redirector: %v %v", names, err)
	}

	// A redirection to itself, for ever: bounded.
	_, err = Backend{}.OpenWithOptions("root://"+loop.addr()+"//x.root", rfile.SourceOptions{Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "redirections") || !strings.Contains(err.Error(), loop.addr()) {
		t.Errorf("redirect loop: %v", err)
	}
	base.nothingLeft(t)
}

// TestDeferredResponse: a read answered with kXR_waitresp, then its data
// in a kXR_attn (kXR_asynresp) frame, in two parts.
func TestDeferredResponse(t *testing.T) {
	want := []byte("deferred bytes of a file")
	fake := startFake(t, func(c *fakeConn, sid, id uint16, _ [16]byte, body []byte) {
		switch id {
		case reqOpen:
			c.send(sid, statusOK, append([]byte{1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0}, fmt.Sprintf("1 %d 16 1700000000\x00", len(want))...))
		case reqRead:
			c.send(sid, statusWaitResp, u32(5))
			c.send(0, statusAttn, append(append(u32(attnAsyncResponse), 0, 0, 0, 0), frame(sid, statusOKSoFar, want[:10])...))
			c.send(0, statusAttn, append(u32(2002), "a message to ignore"...))
			c.send(0, statusAttn, append(append(u32(attnAsyncResponse), 0, 0, 0, 0), frame(sid, statusOK, want[10:])...))
		case reqClose:
			c.send(sid, statusOK, nil)
		}
	})
	base := measure(t)
	f, err := Backend{}.OpenWithOptions("root://"+fake.addr()+"//f.root", rfile.SourceOptions{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if n, err := f.ReadAt(got, 0); err != nil || n != len(want) || !bytes.Equal(got, want) {
		t.Errorf("deferred read: %q, %v", got[:n], err)
	}
	f.Close()
	base.nothingLeft(t)
}

// TestMalformedFrames: every frame the client cannot make sense of fails
// the connection with an error naming the server and what was wrong, and
// leaves no goroutine or socket behind; the process does not panic.
func TestMalformedFrames(t *testing.T) {
	openOK := append([]byte{1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0}, "1 100 16 1700000000\x00"...)
	cases := []struct {
		name string
		read func(c *fakeConn, sid uint16) // answers the kXR_read
		want string
	}{
		{"huge length", func(c *fakeConn, sid uint16) { c.raw(frame(sid, statusOK, nil)[:4]); c.raw(u32(1 << 30)) }, "frame of 1073741824 bytes"},
		{"unknown stream", func(c *fakeConn, sid uint16) { c.send(sid+100, statusOK, []byte("x")) }, "awaits no response"},
		{"truncated", func(c *fakeConn, sid uint16) { c.raw(frame(sid, statusOK, make([]byte, 50))[:30]); c.Close() }, "lost in a 50-byte frame"},
		{"unknown status", func(c *fakeConn, sid uint16) { c.send(sid, 4999, nil) }, "status 4999"},
		{"too much data", func(c *fakeConn, sid uint16) { c.send(sid, statusOK, make([]byte, 101)) }, "more than the 100 bytes asked"},
		{"short error", func(c *fakeConn, sid uint16) { c.send(sid, statusError, []byte{1}) }, "kXR_error of 1 bytes"},
		{"short wait", func(c *fakeConn, sid uint16) { c.send(sid, statusWait, []byte{1}) }, "kXR_wait of 1 bytes"},
		{"bad async", func(c *fakeConn, sid uint16) { c.send(0, statusAttn, append(u32(attnAsyncResponse), 1, 2)) }, "kXR_asynresp of 6 bytes"},
		{"server leaves", func(c *fakeConn, sid uint16) { c.send(0, statusAttn, u32(attnAsyncDisconnect)) }, "ends the session"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := startFake(t, func(c *fakeConn, sid, id uint16, _ [16]byte, body []byte) {
				switch id {
				case reqOpen:
					c.send(sid, statusOK, openOK)
				case reqRead:
					tc.read(c, sid)
				default:
					c.send(sid, statusOK, nil)
				}
			})
			base := measure(t)
			url := "root://" + fake.addr() + "//f.root"
			f, err := Backend{}.OpenWithOptions(url, rfile.SourceOptions{Timeout: 10 * time.Second, Retries: 0, ReadAhead: 0})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.ReadAt(make([]byte, 100), 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), fake.addr()) {
				t.Errorf("error %v; want it to name %q, the URL and the server", err, tc.want)
			}
			f.Close()
			base.nothingLeft(t)
		})
	}
}

// TestServerDiesMidRead: the real server killed while reads are in
// flight (stopped first, so that they are, and killed stopped, so that it
// answers none) fails them with an error naming the URL; then nothing is
// left.
func TestServerDiesMidRead(t *testing.T) {
	srv := xrdtest.Start(t)
	randomFile(t, srv.Dir, "k.bin", 8<<20, 31)
	base := measure(t)
	url := srv.URL("k.bin")
	f, err := Backend{}.OpenWithOptions(url, rfile.SourceOptions{Timeout: 20 * time.Second, Retries: 0, ReadAhead: 0})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			_, err := f.ReadAt(make([]byte, 1<<20), int64(i)<<20)
			errs <- err
		}()
	}
	time.Sleep(300 * time.Millisecond) // the requests are on the wire
	srv.Kill()                         // still stopped: it answers none of them
	for range 4 {
		err := <-errs
		if err == nil {
			t.Error("a read succeeded though the server died before answering")
		} else if t.Log(err); !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "lost") {
			t.Errorf("error does not name the URL and the loss: %v", err)
		}
	}
	f.Close()
	base.nothingLeft(t)
	srv.Restart()
}

// TestStallAndCancel: a stalled server (SIGSTOP) fails a read at the
// timeout; with a long timeout, closing the cancellation channel ends the
// read at once; the connection is then dropped after cancelGrace. Nothing
// is left either way.
func TestStallAndCancel(t *testing.T) {
	srv := xrdtest.Start(t)
	randomFile(t, srv.Dir, "s.bin", 1<<20, 41)
	base := measure(t)
	url := srv.URL("s.bin")

	f, err := Backend{}.OpenWithOptions(url, rfile.SourceOptions{Timeout: time.Second, Retries: 0, ReadAhead: 0})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	_, err = f.ReadAt(make([]byte, 1000), 10)
	srv.Cont()
	if err == nil || !strings.Contains(err.Error(), "no reply from "+srv.Addr+" within 1s") || !strings.Contains(err.Error(), url) {
		t.Errorf("stalled read: %v", err)
	}
	f.Close()

	cancel := make(chan struct{})
	f, err = Backend{}.OpenWithOptions(url, rfile.SourceOptions{Timeout: time.Minute, Retries: 0, ReadAhead: 0,
		Cancelled: func() <-chan struct{} { return cancel }})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	time.AfterFunc(300*time.Millisecond, func() { close(cancel) })
	_, err = f.ReadAt(make([]byte, 1000), 10)
	if !errors.Is(err, errCancelled) {
		t.Errorf("cancelled read: %v", err)
	}
	// The request is still on the wire: the grace, then the connection goes.
	for end := time.Now().Add(5 * time.Second); LiveConns() > 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if LiveConns() != 0 {
		t.Errorf("the connection of an abandoned request is still up after the grace")
	}
	srv.Cont()
	f.Close()
	base.nothingLeft(t)
}
