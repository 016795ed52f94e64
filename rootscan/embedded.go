package rootscan

import (
	"fmt"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// A branch's last basket may never have been written to the file: ROOT
// writes a basket when it is full or when the tree is flushed, and a tree
// saved without a final flush (a small tree, a NanoAOD skim, a job that
// called Write but not AutoSave at the end) keeps the basket it was
// filling in the branch's fBaskets array, inside the TTree record itself.
// fWriteBasket then counts only the baskets on disk, fBasketEntry
// [fWriteBasket] is the first entry of the kept one, and the branch's
// fEntries counts its entries too.
//
// TBasket::Streamer writes such a basket as its key header, the TBasket
// fields (fBufferSize, fNevBufSize, fNevBuf, fLast), a flag, the entry
// offsets when the branch has them (flag%10 != 2), and then fLast bytes of
// its buffer, never compressed: the buffer starts with room for the key
// header (fKeylen bytes) and the entries follow, as in a basket's payload
// on disk, so the offsets count from the buffer's start as on disk.
//
// The basket table (basketTable) lists such a basket after the ones on
// disk, with seek 0, and embedded holds its bytes; columnReader.load
// decodes it with decodeEmbedded instead of reading the file.

// embeddedBasket is one basket kept in a tree record.
type embeddedBasket struct {
	keylen int64  // fKeylen: the room for the key header at buf's start
	nevbuf int64  // entries in the basket
	last   int64  // fLast: end of the entries in buf
	buf    []byte // the fLast bytes the record holds
	// offsets are the entry offsets the record holds, counted from buf's
	// start, displacement bits cleared; nil when the basket has none
	// (fixed-size entries, or ROOT's "generate offsets" flag).
	offsets []int32
}

// addEmbedded appends a basket kept in the record to the table, after the
// baskets on disk: its entries start where theirs end. A table may list
// slots never written (seek 0, as hadd leaves them in merged files): the
// kept basket follows the written ones, as groot's reader takes it. A kept
// basket whose entries the disk baskets already hold is stale and left
// out.
func (t *basketTable) addEmbedded(e *embeddedBasket) {
	n := 0
	for n < len(t.seek) && t.seek[n] != 0 && t.embeddedAt(n) == nil {
		n++
	}
	if n < len(t.seek) && t.embeddedAt(n) != nil {
		n = len(t.seek) // after an earlier kept basket
	}
	start := int64(0)
	if n < len(t.first) {
		start = t.first[n]
	}
	if start >= t.entries || e.nevbuf == 0 {
		return
	}
	first := make([]int64, n+2)
	copy(first, t.first[:min(len(t.first), n)])
	first[n], first[n+1] = start, start+e.nevbuf
	t.first = first
	t.seek = append(t.seek[:n:n], 0)
	t.bytes = append(t.bytes[:min(n, len(t.bytes)):min(n, len(t.bytes))], int32(min(int64(len(e.buf)), 1<<31-1)))
	if t.embedded == nil {
		t.embedded = make([]*embeddedBasket, n, n+1)
	}
	t.embedded = append(t.embedded[:n:n], e)
	t.inMemory++
}

// trimUnwritten drops the slots of the table after the last basket
// written, which hadd leaves with seek 0 in merged files (no basket can
// start at byte 0, where the file header is): the basket that holds an
// entry is then found by a search over rising first entries.
func (t *basketTable) trimUnwritten() {
	n := len(t.seek)
	for n > 0 && t.seek[n-1] == 0 {
		n--
	}
	if n == len(t.seek) || len(t.first) < n+1 || len(t.bytes) < n {
		return
	}
	t.seek, t.bytes, t.first = t.seek[:n:n], t.bytes[:n:n], t.first[:n+1:n+1]
}

// embeddedAt returns basket i when the record holds it, else nil.
func (t *basketTable) embeddedAt(i int) *embeddedBasket {
	if i < len(t.embedded) {
		return t.embedded[i]
	}
	return nil
}

// embeddedBytes is the memory the table's embedded baskets hold.
func (t *basketTable) embeddedBytes() int64 {
	n := int64(0)
	for _, e := range t.embedded {
		if e != nil {
			n += int64(len(e.buf)) + 4*int64(len(e.offsets)) + 64
		}
	}
	return n
}

// decodeEmbedded is decode for a basket kept in the tree record: its
// entries are buf[keylen:last], uncompressed, and its entry offsets come
// from the record rather than after the entries. The same checks apply:
// sizes within the bytes, offsets rising from the first entry's start to
// the end of the data.
func (bufs *basketBuffers) decodeEmbedded(e *embeddedBasket, wantOffsets bool) (basket, error) {
	if e.keylen <= 0 || e.last < e.keylen || e.last > int64(len(e.buf)) || e.nevbuf < 0 || e.nevbuf > int64(maxBasketPayload) {
		return basket{}, fmt.Errorf("%w: kept in the tree record with keylen=%d fLast=%d nevbuf=%d in %d bytes",
			rfile.ErrCorrupt, e.keylen, e.last, e.nevbuf, len(e.buf))
	}
	n := int(e.nevbuf)
	b := basket{entries: n, data: e.buf[e.keylen:e.last]}
	if !wantOffsets {
		return b, nil
	}
	if e.offsets == nil {
		// Stored without offsets (ROOT's "generate offsets" flag).
		b.genOffsets = true
		return b, nil
	}
	if len(e.offsets) < n {
		return basket{}, fmt.Errorf("%w: entry-offset table of %d entries for %d entries", rfile.ErrCorrupt, len(e.offsets), n)
	}
	if cap(bufs.offsets) < n+1 {
		bufs.offsets = make([]int32, n+1)
	}
	offs := bufs.offsets[:n+1]
	end := int32(len(b.data))
	prev := int32(0)
	for i := range n {
		o := e.offsets[i] - int32(e.keylen)
		if o < prev || o > end || (i == 0 && o != 0) {
			return basket{}, fmt.Errorf("%w: entry %d at offset %d outside [%d, %d]", rfile.ErrCorrupt, i, o, prev, end)
		}
		offs[i], prev = o, o
	}
	offs[n] = end
	b.offsets = offs
	return b, nil
}
