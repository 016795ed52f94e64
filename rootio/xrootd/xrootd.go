// Package xrootd lets read_root read ROOT files from XRootD servers:
// root://host[:port]//path/file.root, globs over remote folders, and the
// timeout, retries and readahead settings. It is pure Go (no cgo, no
// DuckDB) and speaks the XRootD protocol itself.
//
// Importing it registers the root:// and xroot:// schemes with rfile.
//
// The client (session.go, wire.go, ops.go), written from the protocol's
// specification (version 5): one TCP connection per server and user,
// logged in with the handshake, kXR_protocol and kXR_login (no
// authentication, no TLS), shared by every file opened on it. Requests
// (kXR_open for reading with kXR_retstat, kXR_read, kXR_stat, kXR_dirlist
// with kXR_dstat, kXR_close, kXR_ping) from any number of goroutines are
// multiplexed by their 2-byte stream ids; one reader goroutine per
// connection routes each response frame to its request, and gathers
// kXR_oksofar parts, straight into a read's buffer. kXR_wait is waited
// out and the request sent again; kXR_waitresp waits for the response in a
// kXR_attn (kXR_asynresp); kXR_redirect is followed, opening or listing on
// the server it names, up to maxRedirects hops; kXR_error is the server's
// answer (a *ServerError), never retried. A frame the client cannot make
// sense of (a length past maxFrameBody, a stream no request waits on, a
// truncated frame, an unknown status) fails the connection, as a lost
// socket does: every request on it fails with an error naming the server
// and the request. A panic never leaves the reader: it becomes the
// connection's error. Closing a connection closes its socket, and close
// returns once its reader has returned: nothing of a connection outlives
// it. Responses of a read go into the caller's buffer only until the read
// returns, even when it was abandoned.
//
// The backend (xrootd.go, conn.go, file.go, readahead.go): the baskets a
// query reads are fetched ahead of decoding, coalesced into few large reads
// that run side by side (see readahead).
//
// What the timeout bounds: each wait of a query on a server, as a whole,
// from when it begins (options.wait): opening a file (connecting, logging
// in, kXR_open, stat), one ReadAt (the wait on a block fetched ahead, then
// the read from the server), one fetch ahead, a glob's connecting and
// listings. A wait's retries (reconnecting, reopening, backing off 0.5 s,
// 1 s, 2 s, at most 4 s) share its deadline. A request without a reply by
// the deadline drops its connection, which fails every request on it. A
// stalled server thus fails a read within the timeout, or twice it when
// the read waited on a fetch ahead started earlier; a file whose read
// failed fails its later reads at once.
//
// Cancellation: rootscan gives each file the query's cancellation
// (SourceOptions.Cancelled, from the query's context). Every wait selects
// on it and returns "query cancelled (interrupted)" at once; a request
// then still on the wire gets cancelGrace to be answered, after which its
// connection is dropped, so that nothing of the query lingers.
package xrootd

import (
	"fmt"
	"net"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/hepsql/hepsql/rootio/rfile"
)

func init() {
	rfile.RegisterBackend("root", Backend{})
	rfile.RegisterBackend("xroot", Backend{})
}

// Defaults of the settings.
const (
	DefaultTimeout   = 30 * time.Second
	DefaultRetries   = 2
	DefaultReadAhead = 32 << 20
	defaultPort      = "1094"
)

// options are rfile.SourceOptions with the defaults applied.
type options struct {
	timeout   time.Duration
	retries   int
	readAhead int64
	cancelled func() <-chan struct{} // nil: not cancellable
}

// wait starts a wait on the server: it must end within the timeout, or
// when the query is cancelled.
func (o options) wait() wait {
	w := wait{deadline: time.Now().Add(o.timeout), timeout: o.timeout}
	if o.cancelled != nil {
		w.done = o.cancelled()
	}
	return w
}

func resolve(o rfile.SourceOptions) options {
	r := options{timeout: o.Timeout, retries: o.Retries, readAhead: o.ReadAhead, cancelled: o.Cancelled}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.retries < 0 {
		r.retries = DefaultRetries
	}
	if r.readAhead < 0 {
		r.readAhead = DefaultReadAhead
	}
	return r
}

// Backend serves root:// names to rootscan.
type Backend struct{}

// Open opens a remote file with the default settings.
func (b Backend) Open(name string) (rfile.File, error) {
	return b.OpenWithOptions(name, rfile.DefaultSourceOptions)
}

// OpenWithOptions opens a remote file.
func (Backend) OpenWithOptions(name string, o rfile.SourceOptions) (rfile.File, error) {
	return openFile(name, resolve(o))
}

// LookAheadBytes makes rootscan open the files of a chain ahead of its
// threads, fetching their first baskets within the readahead setting.
func (Backend) LookAheadBytes(o rfile.SourceOptions) int64 {
	return resolve(o).readAhead
}

// location is a parsed root:// URL.
type location struct {
	prefix string // scheme://[user@]host[:port]/, to rebuild names
	user   string
	addr   string // host:port
	path   string // absolute path on the server
}

// parseURL reads root://[user@]host[:port]/[/]path.
func parseURL(name string) (location, error) {
	scheme, rest, ok := strings.Cut(name, "://")
	if !ok || (scheme != "root" && scheme != "xroot") {
		return location{}, fmt.Errorf("xrootd: %q is not a root:// URL", name)
	}
	hostPart, p, ok := strings.Cut(rest, "/")
	if !ok || hostPart == "" {
		return location{}, fmt.Errorf("xrootd: %q: want root://host[:port]//path/to/file.root", name)
	}
	loc := location{prefix: scheme + "://" + hostPart + "/", user: "hepsql"}
	if u, h, ok := strings.Cut(hostPart, "@"); ok {
		loc.user, hostPart = u, h
		if u, _, ok := strings.Cut(u, ":"); ok {
			loc.user = u
		}
	}
	if _, _, err := net.SplitHostPort(hostPart); err != nil {
		hostPart = net.JoinHostPort(strings.Trim(hostPart, "[]"), defaultPort)
	}
	loc.addr = hostPart
	loc.path = "/" + strings.TrimLeft(p, "/")
	if loc.path == "/" {
		return location{}, fmt.Errorf("xrootd: %q names no file", name)
	}
	return loc, nil
}

// Glob expands wildcards with the default settings.
func (b Backend) Glob(pattern string) ([]string, error) {
	return b.GlobWithOptions(pattern, rfile.DefaultSourceOptions)
}

// GlobWithOptions expands wildcards in the path of a root:// URL with the
// server's directory listings, one folder level at a time. The timeout
// bounds the whole expansion: connecting and every listing.
func (Backend) GlobWithOptions(pattern string, so rfile.SourceOptions) ([]string, error) {
	loc, err := parseURL(pattern)
	if err != nil {
		return nil, err
	}
	w := resolve(so).wait()
	parts := strings.Split(strings.Trim(loc.path, "/"), "/")
	dirs := []string{"/"}
	for i, part := range parts {
		last := i == len(parts)-1
		var next []string
		for _, d := range dirs {
			if !strings.ContainsAny(part, "*?[") {
				next = append(next, path.Join(d, part))
				continue
			}
			var entries []Entry
			c, err := follow(w, loc.addr, loc.user, d, func(c *conn, p string) error {
				var err error
				entries, err = c.s.dirlist(w, p)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("xrootd: %s: listing %s: %w", pattern, d, err)
			}
			conns.put(c)
			for _, e := range entries {
				if ok, err := path.Match(part, e.Name); err != nil {
					return nil, fmt.Errorf("xrootd: %s: %w", pattern, err)
				} else if ok && (last || e.Stat.IsDir()) {
					next = append(next, path.Join(d, e.Name))
				}
			}
		}
		dirs = next
	}
	names := make([]string, len(dirs))
	for i, d := range dirs {
		names[i] = loc.prefix + d
	}
	sort.Strings(names)
	return names, nil
}

var (
	_ rfile.Prefetcher     = (*file)(nil)
	_ rfile.Remote         = Backend{}
	_ rfile.OptionsGlobber = Backend{}
)
