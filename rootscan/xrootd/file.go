package xrootd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go-hep.org/x/hep/xrootd/xrdfs"

	"github.com/hepsql/hepsql/rootscan"
)

// file is one remote ROOT file. Reads that fail because the connection was
// lost are retried on a fresh connection, reopening the file.
type file struct {
	url  string // as the user wrote it, for errors
	loc  location
	opts options

	mu    sync.Mutex
	c     *conn // nil after a loss, until the next read reconnects
	h     xrdfs.File
	size  int64
	mtime time.Time
	done  bool

	ra       readahead
	endsOnce sync.Once
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
	if err := f.retry("opening", func() error { _, _, err := f.handle(); return err }); err != nil {
		return nil, err
	}
	openFiles.Add(1)
	return f, nil
}

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
		f.ra.fetch([]rootscan.Range{{Off: 0, Len: head}, {Off: f.size - tail, Len: tail}}, true)
	})
}

// handle returns an open handle, reconnecting and reopening after a loss.
func (f *file) handle() (*conn, xrdfs.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return nil, nil, errors.New("file is closed")
	}
	if f.c != nil && f.c.alive() {
		return f.c, f.h, nil
	}
	if f.c != nil {
		conns.put(f.c)
		f.c, f.h = nil, nil
	}
	c, err := conns.get(f.loc.addr, f.loc.user, f.opts.timeout)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errLost, err)
	}
	var h xrdfs.File
	err = c.do("opening "+f.loc.path, func(ctx context.Context) error {
		var err error
		h, err = c.client().FS().Open(ctx, f.loc.path, xrdfs.OpenModeOwnerRead, xrdfs.OpenOptionsOpenRead|xrdfs.OpenOptionsReturnStatus)
		return err
	})
	if err != nil {
		conns.put(c)
		return nil, nil, err
	}
	info := h.Info()
	if info == nil {
		err = c.do("stat "+f.loc.path, func(ctx context.Context) error {
			st, err := h.Stat(ctx)
			info = &st
			return err
		})
		if err != nil {
			conns.put(c)
			return nil, nil, err
		}
	}
	if f.c == nil && f.size != 0 && info.EntrySize != f.size {
		conns.put(c)
		return nil, nil, fmt.Errorf("file changed size on the server while being read (%d bytes, now %d)", f.size, info.EntrySize)
	}
	f.size, f.mtime = info.EntrySize, info.ModTime()
	f.c, f.h = c, h
	return c, h, nil
}

// retry runs op, again after lost connections, up to the retries setting.
func (f *file) retry(what string, op func() error) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = op(); err == nil {
			return nil
		}
		if !errors.Is(err, errLost) || attempt >= f.opts.retries {
			if attempt > 0 {
				return fmt.Errorf("xrootd: %s: %s: %w (after %d attempts)", f.url, what, err, attempt+1)
			}
			return fmt.Errorf("xrootd: %s: %s: %w", f.url, what, err)
		}
		// A restarting server needs a moment; the wait grows with the attempts.
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
}

// readRemote reads p at off from the server, retrying after losses. Each
// attempt reads into a buffer of its own, copied into p once the request
// has returned: a request that do abandons (its connection died) goes on
// in its goroutine and may still write its reply after do has returned,
// while the retry, or the caller, uses p (the race detector caught it in
// TestFaults/server_back).
func (f *file) readRemote(p []byte, off int64) error {
	return f.retry(fmt.Sprintf("reading %d bytes at offset %d", len(p), off), func() error {
		c, h, err := f.handle()
		if err != nil {
			return err
		}
		buf := make([]byte, len(p))
		var n int
		err = c.do("reading", func(ctx context.Context) error {
			var err error
			n, err = h.ReadAtContext(ctx, buf, off)
			return err
		})
		if err != nil {
			return err // buf and n may still be written: neither is read
		}
		if n != len(p) {
			return fmt.Errorf("server sent %d bytes", n)
		}
		copy(p, buf)
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
	n := len(p)
	var err error
	if int64(n) > f.size-off {
		n, err = int(f.size-off), io.EOF
	}
	if off == 0 {
		f.fetchEnds()
	}
	if f.ra.read(p[:n], off) {
		return n, err
	}
	if rerr := f.readRemote(p[:n], off); rerr != nil {
		return 0, rerr
	}
	return n, err
}

// Prefetch implements rootscan.Prefetcher.
func (f *file) Prefetch(ranges []rootscan.Range) { f.ra.fetch(ranges, false) }

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
	f.c, f.h = nil, nil
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
			c.do("closing", func(ctx context.Context) error { return h.Close(ctx) })
		}
	}()
	return nil
}
