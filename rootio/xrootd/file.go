package xrootd

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// file is one remote ROOT file. Reads that fail because the connection was
// lost are retried on a fresh connection, reopening the file.
type file struct {
	url  string // as the user wrote it, for errors
	loc  location
	opts options

	mu    sync.Mutex
	c     *conn // nil after a loss, until the next read reconnects
	h     [4]byte
	size  int64
	mtime time.Time
	done  bool

	ra       readahead
	endsOnce sync.Once
	// failed is the error of a read that failed: the file's later reads
	// fail with it at once rather than wait for a stalled server again
	// (groot reading the header after the lean reader gave up, say).
	failed atomic.Pointer[error]
}

// openFiles counts the files opened and not yet closed (their handle on the
// server closed and their connection given back); tests watch it fall to
// zero after a query.
var openFiles atomic.Int64

// openFile connects (or shares a connection), opens the file and starts
// fetching the parts of it that groot reads to parse a ROOT file's
// directory: its head and its tail.
func openFile(url string, o options) (*file, error) {
	loc, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	f := &file{url: url, loc: loc, opts: o}
	f.ra.init(f, o.readAhead)
	w := o.wait()
	if err := f.retry(w, "opening", func() error { _, _, err := f.handle(w); return err }); err != nil {
		return nil, err
	}
	openFiles.Add(1)
	if h := afterOpen.Load(); h != nil {
		(*h)(url)
	}
	return f, nil
}

// afterOpen, when set, runs after a file is opened, before its metadata is
// read: tests stop the server there.
var afterOpen atomic.Pointer[func(url string)]

// groot reads a file's header from its first bytes, then its keys list,
// streamer infos and the tree's metadata, which ROOT writes at the end:
// reading the header (at offset 0) fetches both ends at once, in one round trip. The
// header is not read when rootscan has the file's metadata cached.
const (
	headBytes = 64 << 10
	tailBytes = 256 << 10
)

// fetchEnds starts fetching both ends of the file, once.
func (f *file) fetchEnds() {
	f.endsOnce.Do(func() {
		head := min(f.size, headBytes)
		tail := min(f.size-head, tailBytes)
		f.ra.fetch([]rfile.Range{{Off: 0, Len: head}, {Off: f.size - tail, Len: tail}}, true)
	})
}

// maxRedirects bounds the kXR_redirect hops of one open or listing.
const maxRedirects = 8

// handle returns an open handle, reconnecting and reopening after a loss,
// within w. Opening follows the server's redirections (a redirector to a
// data server): reads then go to the server that opened the file, and a
// reopen after a loss starts again from the URL's server.
func (f *file) handle(w wait) (*conn, [4]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return nil, [4]byte{}, errors.New("file is closed")
	}
	if f.c != nil && f.c.alive() {
		return f.c, f.h, nil
	}
	if f.c != nil {
		conns.put(f.c)
		f.c = nil
	}
	var h [4]byte
	var st *Stat
	c, err := follow(w, f.loc.addr, f.loc.user, f.loc.path, func(c *conn, path string) error {
		var err error
		h, st, err = c.s.open(w, path)
		if err == nil && st == nil {
			var s Stat
			s, err = c.s.stat(w, path)
			st = &s
		}
		return err
	})
	if err != nil {
		return nil, h, err
	}
	if f.size != 0 && st.Size != f.size {
		conns.put(c)
		return nil, h, fmt.Errorf("file changed size on the server while being read (%d bytes, now %d)", f.size, st.Size)
	}
	f.size, f.mtime = st.Size, st.MTime
	f.c, f.h = c, h
	return c, h, nil
}

// forget drops the handle on c, after the server redirected a read: the
// next attempt reopens the file from the URL's server.
func (f *file) forget(c *conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.c == c {
		conns.put(c)
		f.c = nil
	}
}

// follow runs op on a connection to addr, and again on the server a
// kXR_redirect names, up to maxRedirects hops. It returns the connection
// op succeeded on, still held: the caller puts it back.
func follow(w wait, addr, user, path string, op func(c *conn, path string) error) (*conn, error) {
	for hop := 0; ; hop++ {
		c, err := conns.get(addr, user, w)
		if err != nil {
			return nil, err
		}
		err = op(c, path)
		if err == nil {
			return c, nil
		}
		conns.put(c)
		var rd *redirect
		if !errors.As(err, &rd) {
			return nil, err
		}
		if hop == maxRedirects {
			return nil, fmt.Errorf("more than %d redirections (the last from %s to %s)", maxRedirects, addr, rd.Addr)
		}
		addr = rd.Addr
		if base, _, _ := strings.Cut(path, "?"); rd.Opaque != "" {
			path = base + "?" + rd.Opaque
		}
	}
}

// Back-off between the attempts of a retry: backoffFirst, doubling up to
// backoffMax, and never past the wait's deadline, so that a server that
// restarts within a few seconds is waited for.
const (
	backoffFirst = 500 * time.Millisecond
	backoffMax   = 4 * time.Second
	// minAttempt is the least time left worth another attempt.
	minAttempt = 100 * time.Millisecond
)

// retry runs op, again after lost connections, up to the retries setting
// and within w: the back-offs and the reconnects count against w's
// deadline, which each attempt's requests also respect.
func (f *file) retry(w wait, what string, op func() error) error {
	var err error
	attempt := 0
	for ; ; attempt++ {
		if attempt == 0 && !time.Now().Before(w.deadline) {
			// Spent waiting on a fetch ahead that did not end in time.
			err = fmt.Errorf("no reply from %s within %s", f.loc.addr, w.timeout)
			break
		}
		if err = op(); err == nil {
			return nil
		}
		if errors.Is(err, errCancelled) || !errors.Is(err, errLost) || attempt >= f.opts.retries {
			break
		}
		pause := min(backoffFirst<<min(attempt, 4), backoffMax, time.Until(w.deadline)-minAttempt)
		if pause < 0 {
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-w.done:
			t.Stop()
			err = errCancelled
		}
		if err == errCancelled {
			break
		}
	}
	if attempt > 0 {
		return fmt.Errorf("xrootd: %s: %s: %w (after %d attempts)", f.url, what, err, attempt+1)
	}
	return fmt.Errorf("xrootd: %s: %s: %w", f.url, what, err)
}

// readRemote reads p at off from the server within w, retrying after
// losses. The session writes into p only until its read returns, whether
// it succeeded, failed or was abandoned.
func (f *file) readRemote(w wait, p []byte, off int64) error {
	return f.retry(w, fmt.Sprintf("reading %d bytes at offset %d", len(p), off), func() error {
		c, h, err := f.handle(w)
		if err != nil {
			return err
		}
		n, err := c.s.read(w, h, off, p)
		var rd *redirect
		if errors.As(err, &rd) {
			f.forget(c)
			return fmt.Errorf("%w: %s redirected a read to %s", errLost, c.addr, rd.Addr)
		}
		if err != nil {
			return err
		}
		if n != len(p) {
			return fmt.Errorf("server sent %d bytes", n)
		}
		return nil
	})
}

// ReadAt serves p from the read-ahead when it holds it, else from the
// server.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("xrootd: %s: negative offset %d", f.url, off)
	}
	if off >= f.size {
		return 0, io.EOF
	}
	if e := f.failed.Load(); e != nil {
		return 0, *e
	}
	n := len(p)
	var err error
	if int64(n) > f.size-off {
		n, err = int(f.size-off), io.EOF
	}
	if off == 0 {
		f.fetchEnds()
	}
	// One wait for the whole call: the read-ahead's block, then the server.
	w := f.opts.wait()
	if ok, rerr := f.ra.read(p[:n], off, w); rerr != nil {
		return 0, fmt.Errorf("xrootd: %s: reading %d bytes at offset %d: %w", f.url, n, off, rerr)
	} else if ok {
		return n, err
	}
	if rerr := f.readRemote(w, p[:n], off); rerr != nil {
		if !errors.Is(rerr, errCancelled) {
			f.failed.CompareAndSwap(nil, &rerr)
		}
		return 0, rerr
	}
	return n, err
}

// Prefetch implements rfile.Prefetcher.
func (f *file) Prefetch(ranges []rfile.Range) { f.ra.fetch(ranges, false) }

func (f *file) Size() (int64, error) { return f.size, nil }

// ModTime lets rootscan cache the parsed metadata of a file that has not
// changed.
func (f *file) ModTime() (time.Time, error) { return f.mtime, nil }

func (f *file) Close() error {
	f.mu.Lock()
	if f.done {
		f.mu.Unlock()
		return nil
	}
	f.done = true
	c, h := f.c, f.h
	f.c = nil
	f.mu.Unlock()
	f.ra.drop()
	if c == nil {
		openFiles.Add(-1)
		return nil
	}
	// Closing a file opened for reading cannot fail in a way the query
	// cares about: the reply is not waited for, which saves a round trip
	// per file of a chain.
	go func() {
		defer openFiles.Add(-1)
		defer conns.put(c)
		if c.alive() {
			// Not the query's to cancel: a handle left open would linger.
			w := wait{deadline: time.Now().Add(f.opts.timeout), timeout: f.opts.timeout}
			c.s.closeFile(w, h)
		}
	}()
	return nil
}
