package xrootd

import (
	"slices"
	"sync"
	"time"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// Coalescing: ranges closer than maxGap are fetched as one request (the gap
// costs less than a round trip), up to maxBlock bytes per request, so that
// a unit's baskets arrive in a few large reads that run side by side.
const (
	maxGap   = 16 << 10
	maxBlock = 4 << 20
)

// block is one read in flight or done.
type block struct {
	off    int64
	data   []byte
	want   int64 // bytes of the requested ranges in it (gaps excluded)
	served int64
	meta   bool // head or tail fetched at open: kept until space is needed
	done   chan struct{}
	err    error
}

func (b *block) covers(off, n int64) bool {
	return off >= b.off && off+n <= b.off+int64(len(b.data))
}

// readahead holds the blocks of one file, within a byte budget. A block is
// dropped once the ranges it was fetched for have been read, or, oldest
// first, when a new fetch needs the space.
type readahead struct {
	f      *file
	budget int64

	mu     sync.Mutex
	used   int64
	blocks []*block
}

func (r *readahead) init(f *file, budget int64) { r.f, r.budget = f, budget }

// fetch starts reading the ranges not already held, coalesced, as far as
// the budget allows; it does not wait for them.
func (r *readahead) fetch(ranges []rfile.Range, meta bool) {
	if r.budget <= 0 || len(ranges) == 0 {
		return
	}
	rs := slices.Clone(ranges)
	slices.SortFunc(rs, func(a, b rfile.Range) int { return int(a.Off - b.Off) })
	r.mu.Lock()
	defer r.mu.Unlock()
	var cur *block
	var curEnd int64
	flush := func() {
		if cur == nil {
			return
		}
		b := cur
		cur = nil
		n := curEnd - b.off
		if !r.makeRoom(n) {
			return
		}
		b.data = make([]byte, n)
		r.used += n
		r.blocks = append(r.blocks, b)
		go func() {
			b.err = r.f.readRemote(r.f.opts.wait(), b.data, b.off)
			close(b.done)
		}()
	}
	for _, g := range rs {
		if g.Len <= 0 || g.Off < 0 || g.Off+g.Len > r.f.size || r.held(g.Off, g.Len) {
			continue
		}
		if cur != nil && g.Off >= cur.off && g.Off+g.Len <= curEnd {
			continue // asked twice, as a basket that two units share
		}
		if cur != nil && g.Off >= curEnd && g.Off-curEnd <= maxGap && g.Off+g.Len-cur.off <= maxBlock {
			curEnd = g.Off + g.Len
			cur.want += g.Len
			continue
		}
		flush()
		cur = &block{off: g.Off, want: g.Len, meta: meta, done: make(chan struct{})}
		curEnd = g.Off + g.Len
	}
	flush()
}

// held says whether a block holds [off, off+n). Called with mu held.
func (r *readahead) held(off, n int64) bool {
	for _, b := range r.blocks {
		if b.covers(off, n) {
			return true
		}
	}
	return false
}

// makeRoom drops finished blocks, metadata and oldest first, until n more
// bytes fit in the budget. Called with mu held.
func (r *readahead) makeRoom(n int64) bool {
	if n > r.budget {
		return false
	}
	for _, metaPass := range []bool{true, false} {
		for i := 0; i < len(r.blocks) && r.used+n > r.budget; {
			b := r.blocks[i]
			select {
			case <-b.done:
				if b.meta == metaPass || !metaPass {
					r.remove(i)
					continue
				}
			default:
			}
			i++
		}
	}
	return r.used+n <= r.budget
}

func (r *readahead) remove(i int) {
	r.used -= int64(len(r.blocks[i].data))
	r.blocks = slices.Delete(r.blocks, i, i+1)
}

// read copies [off, off+len(p)) from a block into p, waiting for the block
// if it is in flight, within w. It reports false when no block holds the
// range or its read failed or did not end in time; the caller then reads
// from the server itself, within what is left of w. The error is that of
// a cancelled query.
func (r *readahead) read(p []byte, off int64, w wait) (bool, error) {
	r.mu.Lock()
	var b *block
	for _, x := range r.blocks {
		if x.covers(off, int64(len(p))) {
			b = x
			break
		}
	}
	r.mu.Unlock()
	if b == nil {
		return false, nil
	}
	select {
	case <-b.done:
	default:
		t := time.NewTimer(time.Until(w.deadline))
		defer t.Stop()
		select {
		case <-b.done:
		case <-t.C:
			return false, nil
		case <-w.done:
			return false, errCancelled
		}
	}
	if b.err != nil {
		return false, nil
	}
	copy(p, b.data[off-b.off:])
	r.mu.Lock()
	b.served += int64(len(p))
	if !b.meta && b.served >= b.want {
		if i := slices.Index(r.blocks, b); i >= 0 {
			r.remove(i)
		}
	}
	r.mu.Unlock()
	return true, nil
}

// drop forgets every block; reads in flight finish into garbage.
func (r *readahead) drop() {
	r.mu.Lock()
	r.blocks, r.used = nil, 0
	r.mu.Unlock()
}
