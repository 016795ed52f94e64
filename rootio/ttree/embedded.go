package ttree

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
// disk, with seek 0, and embedded holds its bytes; rootscan's columnReader.load
// decodes it with BasketBuffers.DecodeEmbedded instead of reading the file.

// AddEmbedded appends a basket kept in the record to the table, after the
// baskets on disk: its entries start where theirs end. A table may list
// slots never written (seek 0, as hadd leaves them in merged files): the
// kept basket follows the written ones, as groot's reader takes it. A kept
// basket whose entries the disk baskets already hold is stale and left
// out.
func (t *BasketTable) AddEmbedded(e *EmbeddedBasket) {
	n := 0
	for n < len(t.Seek) && t.Seek[n] != 0 && t.EmbeddedAt(n) == nil {
		n++
	}
	if n < len(t.Seek) && t.EmbeddedAt(n) != nil {
		n = len(t.Seek) // after an earlier kept basket
	}
	start := int64(0)
	if n < len(t.First) {
		start = t.First[n]
	}
	if start >= t.Entries || e.Nevbuf == 0 {
		return
	}
	first := make([]int64, n+2)
	copy(first, t.First[:min(len(t.First), n)])
	first[n], first[n+1] = start, start+e.Nevbuf
	t.First = first
	t.Seek = append(t.Seek[:n:n], 0)
	t.Bytes = append(t.Bytes[:min(n, len(t.Bytes)):min(n, len(t.Bytes))], int32(min(int64(len(e.Buf)), 1<<31-1)))
	if t.Embedded == nil {
		t.Embedded = make([]*EmbeddedBasket, n, n+1)
	}
	t.Embedded = append(t.Embedded[:n:n], e)
	t.InMemory++
}

// TrimUnwritten drops the slots of the table after the last basket
// written, which hadd leaves with seek 0 in merged files (no basket can
// start at byte 0, where the file header is): the basket that holds an
// entry is then found by a search over rising first entries.
func (t *BasketTable) TrimUnwritten() {
	n := len(t.Seek)
	for n > 0 && t.Seek[n-1] == 0 {
		n--
	}
	if n == len(t.Seek) || len(t.First) < n+1 || len(t.Bytes) < n {
		return
	}
	t.Seek, t.Bytes, t.First = t.Seek[:n:n], t.Bytes[:n:n], t.First[:n+1:n+1]
}

// EmbeddedAt returns basket i when the record holds it, else nil.
func (t *BasketTable) EmbeddedAt(i int) *EmbeddedBasket {
	if i < len(t.Embedded) {
		return t.Embedded[i]
	}
	return nil
}

// EmbeddedBytes is the memory the table's embedded baskets hold.
func (t *BasketTable) EmbeddedBytes() int64 {
	n := int64(0)
	for _, e := range t.Embedded {
		if e != nil {
			n += int64(len(e.Buf)) + 4*int64(len(e.Offsets)) + 64
		}
	}
	return n
}
