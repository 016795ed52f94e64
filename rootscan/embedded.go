package rootscan

import "github.com/hepsql/hepsql/rootio/ttree"

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
// decodes it with ttree.BasketBuffers.DecodeEmbedded instead of reading the file.

// addEmbedded appends a basket kept in the record to the table, after the
// baskets on disk: its entries start where theirs end. A table may list
// slots never written (seek 0, as hadd leaves them in merged files): the
// kept basket follows the written ones, as groot's reader takes it. A kept
// basket whose entries the disk baskets already hold is stale and left
// out.
func (t *basketTable) addEmbedded(e *ttree.EmbeddedBasket) {
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
	if start >= t.entries || e.Nevbuf == 0 {
		return
	}
	first := make([]int64, n+2)
	copy(first, t.first[:min(len(t.first), n)])
	first[n], first[n+1] = start, start+e.Nevbuf
	t.first = first
	t.seek = append(t.seek[:n:n], 0)
	t.bytes = append(t.bytes[:min(n, len(t.bytes)):min(n, len(t.bytes))], int32(min(int64(len(e.Buf)), 1<<31-1)))
	if t.embedded == nil {
		t.embedded = make([]*ttree.EmbeddedBasket, n, n+1)
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
func (t *basketTable) embeddedAt(i int) *ttree.EmbeddedBasket {
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
			n += int64(len(e.Buf)) + 4*int64(len(e.Offsets)) + 64
		}
	}
	return n
}
