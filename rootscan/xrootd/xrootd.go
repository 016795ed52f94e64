// Package xrootd lets read_root read ROOT files from XRootD servers:
// root://host[:port]//path/file.root, globs over remote folders, and the
// timeout, retries and readahead settings.
//
// Importing it registers the root:// and xroot:// schemes with rootscan.
// It talks to servers through go-hep's xrootd client, behind a loopback
// relay that keeps a server failure from crashing the process (see guard).
// The baskets a query reads are fetched ahead of decoding, coalesced into
// few large reads that run side by side (see readahead).
package xrootd

import (
	"context"
	"fmt"
	"net"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"go-hep.org/x/hep/xrootd/xrdfs"

	"github.com/hepsql/hepsql/rootscan"
)

func init() {
	rootscan.RegisterBackend("root", Backend{})
	rootscan.RegisterBackend("xroot", Backend{})
}

// Defaults of the settings.
const (
	DefaultTimeout   = 30 * time.Second
	DefaultRetries   = 2
	DefaultReadAhead = 32 << 20
	defaultPort      = "1094"
)

// options are rootscan.SourceOptions with the defaults applied.
type options struct {
	timeout   time.Duration
	retries   int
	readAhead int64
}

func resolve(o rootscan.SourceOptions) options {
	r := options{timeout: o.Timeout, retries: o.Retries, readAhead: o.ReadAhead}
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
func (b Backend) Open(name string) (rootscan.File, error) {
	return b.OpenWithOptions(name, rootscan.DefaultSourceOptions)
}

// OpenWithOptions opens a remote file; a file announced with the same
// options is taken from the files opened ahead.
func (Backend) OpenWithOptions(name string, o rootscan.SourceOptions) (rootscan.File, error) {
	if f := ahead.take(name, o); f != nil {
		return f()
	}
	return openFile(name, resolve(o))
}

// Announce opens the files of a chain ahead, several at a time, so that a
// chain of many remote files does not pay its round trips file by file.
func (Backend) Announce(names []string, o rootscan.SourceOptions) {
	if len(names) < 2 {
		return
	}
	ahead.start(names, o)
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

// Glob expands wildcards in the path of a root:// URL with the server's
// directory listings, one folder level at a time.
func (Backend) Glob(pattern string) ([]string, error) {
	loc, err := parseURL(pattern)
	if err != nil {
		return nil, err
	}
	o := resolve(rootscan.DefaultSourceOptions)
	c, err := conns.get(loc.addr, loc.user, o.timeout)
	if err != nil {
		return nil, fmt.Errorf("xrootd: %s: %w", pattern, err)
	}
	defer conns.put(c)
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
			var entries []xrdfs.EntryStat
			err := c.do("listing "+d, func(ctx context.Context) error {
				var err error
				entries, err = c.client().FS().Dirlist(ctx, d)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("xrootd: %s: listing %s: %w", pattern, d, err)
			}
			for _, e := range entries {
				if ok, err := path.Match(part, e.EntryName); err != nil {
					return nil, fmt.Errorf("xrootd: %s: %w", pattern, err)
				} else if ok && (last || e.IsDir()) {
					next = append(next, path.Join(d, e.EntryName))
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

// aheadPool holds files opened ahead of their Open, for a while.
type aheadPool struct {
	mu    sync.Mutex
	files map[aheadKey]*aheadFile
}

type aheadKey struct {
	name string
	o    rootscan.SourceOptions
}

type aheadFile struct {
	done chan struct{}
	f    *file
	err  error
}

var ahead = &aheadPool{files: map[aheadKey]*aheadFile{}}

// aheadWorkers bounds the files opened at once: each costs a few round
// trips, which overlap.
const aheadWorkers = 16

// aheadKeep closes files opened ahead that nobody took.
const aheadKeep = time.Minute

func (p *aheadPool) start(names []string, o rootscan.SourceOptions) {
	type job struct {
		k aheadKey
		a *aheadFile
	}
	todo := make(chan job, len(names))
	p.mu.Lock()
	for _, n := range names {
		k := aheadKey{n, o}
		if _, ok := p.files[k]; !ok {
			a := &aheadFile{done: make(chan struct{})}
			p.files[k] = a
			todo <- job{k, a}
		}
	}
	p.mu.Unlock()
	close(todo)
	for range min(aheadWorkers, len(todo)) {
		go func() {
			for j := range todo {
				// Opened even when already taken: the taker waits for it.
				j.a.f, j.a.err = openFile(j.k.name, resolve(j.k.o))
				close(j.a.done)
				time.AfterFunc(aheadKeep, func() {
					if p.take(j.k.name, j.k.o) != nil && j.a.f != nil {
						j.a.f.Close()
					}
				})
			}
		}()
	}
}

// take returns a function that waits for the file opened ahead, or nil.
func (p *aheadPool) take(name string, o rootscan.SourceOptions) func() (rootscan.File, error) {
	k := aheadKey{name, o}
	p.mu.Lock()
	a := p.files[k]
	delete(p.files, k)
	p.mu.Unlock()
	if a == nil {
		return nil
	}
	return func() (rootscan.File, error) {
		<-a.done
		if a.err != nil {
			return nil, a.err
		}
		return a.f, nil
	}
}

var _ rootscan.Prefetcher = (*file)(nil)
