package rootscan

import (
	"container/list"
	"github.com/hepsql/hepsql/rootio/tbranch"
	"sync"
	"sync/atomic"
	"time"
)

// Parsing a file's TTree metadata with groot costs about a millisecond per
// file (most of a short query over a hundred files), and the REPL or a
// pipeline queries the same files again and again. So the parsed metadata
// of each file is kept, per process, keyed by what identifies its content:
// name, size and modification time. A file whose size or time changes is
// parsed again; files whose backend reports no modification time (remote
// files) are never cached.

// fileMeta is one tree of one file, parsed: the schema and every branch's
// basket table. It holds no groot object and no open file, and is never
// modified once built, so scans in any number of queries share it.
type fileMeta struct {
	*tbranch.Tree       // the tree's name, title, entries and columns
	bytes         int64 // approximate memory held, for the cache's bound
}

// metaOf is a tree's parsed metadata (rootio/tbranch's) as the cache
// keeps it.
func metaOf(t *tbranch.Tree) *fileMeta {
	return &fileMeta{Tree: t, bytes: metaBytes(t.Cols)}
}

// metaBytes estimates the memory a fileMeta holds: its basket tables and a
// fixed cost per column.
func metaBytes(cols []*tbranch.Column) int64 {
	n := int64(1024)
	for _, c := range cols {
		bt := &c.Baskets
		n += 512 + int64(len(bt.Seek))*8 + int64(len(bt.Bytes))*4 + int64(len(bt.First))*8 + bt.EmbeddedBytes()
	}
	return n
}

// ModTimer is implemented by a File whose content is identified by its size
// and modification time; read_root then caches the file's parsed metadata
// between queries.
type ModTimer interface {
	ModTime() (time.Time, error)
}

type metaKey struct {
	name, tree string // tree as requested ("" for the default)
	size       int64
	mtime      time.Time
	// schema is nil for a file's whole metadata; for a chain member's, the
	// chain's first file, and cols names the columns it holds (leanWant.key).
	schema *fileMeta
	cols   string
}

// version names every cached version of one file's tree, of which the cache
// keeps only the latest.
type version struct {
	name, tree string
	schema     *fileMeta
	cols       string
}

func (k metaKey) version() version { return version{k.name, k.tree, k.schema, k.cols} }

// metaCache is a least-recently-used set of fileMeta bounded by count and
// by bytes.
type metaCache struct {
	mu       sync.Mutex
	maxFiles int
	maxBytes int64
	bytes    int64
	order    *list.List // of *metaEntry, most recent first
	byKey    map[metaKey]*list.Element
	// byName finds the previous version of a file, so that a changed file
	// replaces its stale entry instead of waiting to be evicted.
	byName map[version]*list.Element
}

type metaEntry struct {
	key  metaKey
	meta *fileMeta
}

// Bounds of the process's cache. A NanoAOD file's full metadata takes
// about 50 kB, so the bytes keep a few thousand files; a chain member's,
// read for one query's columns, a few kB, and the same file has one entry
// per column set queried. The count is a backstop for those small entries,
// so that two queries alternating over a chain of thousands of files do
// not evict each other's.
const (
	cacheMaxEntries = 1 << 15
	cacheMaxBytes   = 256 << 20
)

var metas = newMetaCache(cacheMaxEntries, cacheMaxBytes)

// parses counts the files whose metadata groot parsed, leanParses the chain
// members and leanSchemas the first or lone files read by the lean reader
// (none found in the cache); tests use them.
var parses, leanParses, leanSchemas atomic.Int64

func newMetaCache(maxFiles int, maxBytes int64) *metaCache {
	return &metaCache{maxFiles: maxFiles, maxBytes: maxBytes, order: list.New(),
		byKey: map[metaKey]*list.Element{}, byName: map[version]*list.Element{}}
}

func (c *metaCache) get(k metaKey) *fileMeta {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[k]
	if !ok {
		return nil
	}
	c.order.MoveToFront(e)
	return e.Value.(*metaEntry).meta
}

func (c *metaCache) put(k metaKey, m *fileMeta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.bytes > c.maxBytes {
		return
	}
	if old, ok := c.byName[k.version()]; ok {
		c.remove(old)
	}
	e := c.order.PushFront(&metaEntry{key: k, meta: m})
	c.byKey[k] = e
	c.byName[k.version()] = e
	c.bytes += m.bytes
	for c.order.Len() > c.maxFiles || c.bytes > c.maxBytes {
		c.remove(c.order.Back())
	}
}

func (c *metaCache) remove(e *list.Element) {
	me := e.Value.(*metaEntry)
	c.order.Remove(e)
	delete(c.byKey, me.key)
	delete(c.byName, me.key.version())
	c.bytes -= me.meta.bytes
}

func (c *metaCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
