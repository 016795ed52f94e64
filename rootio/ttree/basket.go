package ttree

import (
	"encoding/binary"
	"fmt"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// A basket on disk is a TKey header, the TBasket fields, then the payload:
// the entries' bytes followed, for variable-size entries, by an array of
// entry offsets. The payload is stored compressed in chunks of at most 16 MiB,
// each with a 9-byte header naming its algorithm.

// BasketHeader is the part of a basket's key that the decoder needs.
type BasketHeader struct {
	Nbytes int32 // key + compressed payload
	Objlen int32 // uncompressed payload
	Keylen int32 // key header, including the TBasket fields
	Nevbuf int32 // entries in the basket
	Last   int32 // end of entry data, counted from the start of the key
	Flag   int8  // TBasket flag, less 80 when ≥ 80; 20 < flag < 40 means offsets carry displacement bits
	// GenOffsets: the basket stores no entry offsets; the reader
	// computes them (ROOT's kGenerateOffsetMap I/O bit, or flag ≥ 80).
	GenOffsets bool
}

// MaxBasketPayload bounds the uncompressed size a basket header may claim,
// so that a corrupt header cannot make the reader allocate without limit.
// ROOT's own baskets stay far below it.
var MaxBasketPayload int32 = 1 << 30

// ParseBasketHeader reads the TKey and TBasket fields at the start of raw.
func ParseBasketHeader(raw []byte) (BasketHeader, error) {
	var h BasketHeader
	r := rfile.RecordReader{Buf: raw}
	h.Nbytes = r.I32()
	version := r.I16()
	h.Objlen = r.I32()
	r.Skip(4) // datime
	h.Keylen = int32(r.I16())
	r.Skip(2) // cycle
	if version > 1000 {
		r.Skip(16) // seekkey, seekpdir as 64-bit
	} else {
		r.Skip(8)
	}
	for range 3 { // class, name, title
		r.Skip(r.Strlen())
	}
	r.Skip(2) // TBasket version
	r.Skip(4) // fBufferSize
	// A negative fNevBufSize says that one byte of I/O bits follows
	// (TBasket::Streamer).
	if nevsize := r.I32(); nevsize < 0 && r.Need(1) {
		bits := r.Buf[r.Pos]
		r.Pos++
		if bits == 0 || bits&^ioSupported != 0 {
			return h, fmt.Errorf("%w: header: I/O bits %#x", rfile.ErrCorrupt, bits)
		}
		h.GenOffsets = bits&ioGenerateOffsetMap != 0
	}
	h.Nevbuf = r.I32()
	h.Last = r.I32()
	if r.Need(1) {
		flag := r.Buf[r.Pos]
		r.Pos++
		if flag >= 80 {
			// ROOT adds 80 when the offsets are to be generated.
			flag -= 80
			h.GenOffsets = true
		}
		h.Flag = int8(flag)
	}
	if r.Err != nil {
		return h, fmt.Errorf("%w: header: %v", rfile.ErrCorrupt, r.Err)
	}
	switch {
	case h.Keylen <= 0 || h.Nbytes < h.Keylen || h.Objlen < 0 || h.Nevbuf < 0:
		return h, fmt.Errorf("%w: header sizes nbytes=%d keylen=%d objlen=%d nevbuf=%d", rfile.ErrCorrupt, h.Nbytes, h.Keylen, h.Objlen, h.Nevbuf)
	case h.Objlen > MaxBasketPayload:
		return h, fmt.Errorf("%w: uncompressed size %d exceeds %d", rfile.ErrCorrupt, h.Objlen, MaxBasketPayload)
	case h.Last < h.Keylen || h.Last > h.Keylen+h.Objlen:
		return h, fmt.Errorf("%w: fLast=%d outside payload [%d, %d]", rfile.ErrCorrupt, h.Last, h.Keylen, h.Keylen+h.Objlen)
	}
	return h, nil
}

// Basket is one decoded basket: its entries' bytes and, for variable-size
// entries, where each entry starts.
type Basket struct {
	First   int64   // entry number of the basket's first entry in its file
	Entries int     // number of entries
	Data    []byte  // entry bytes: payload[0 : last-keylen]
	Offsets []int32 // entry i is data[offsets[i]:offsets[i+1]]; nil for fixed-size entries
	// GenOffsets: the basket stores variable-size entries without their
	// offsets, which the reader must compute (offsets is nil).
	GenOffsets bool
}

// DecodeBasket turns the raw on-disk bytes of one basket into entry data.
// wantOffsets says whether the branch stores variable-size entries.
// scratch is reused for the decompressed payload when large enough.
func DecodeBasket(raw []byte, wantOffsets bool, scratch []byte) (Basket, []byte, error) {
	bufs := BasketBuffers{Payload: scratch}
	b, err := bufs.Decode(raw, wantOffsets)
	return b, bufs.Payload, err
}

// BasketBuffers are the buffers a reader decodes its baskets into, reused
// from one basket to the next so that a scan allocates per column, not per
// basket. A decoded basket aliases them until the next decode.
type BasketBuffers struct {
	Payload []byte  // decompressed payload
	Offsets []int32 // entry offsets
}

func (bufs *BasketBuffers) Decode(raw []byte, wantOffsets bool) (Basket, error) {
	h, err := ParseBasketHeader(raw)
	if err != nil {
		return Basket{}, err
	}
	if int(h.Nbytes) != len(raw) {
		return Basket{}, fmt.Errorf("%w: key says %d bytes, basket table says %d", rfile.ErrCorrupt, h.Nbytes, len(raw))
	}
	stored := raw[h.Keylen:h.Nbytes]
	var payload []byte
	if int(h.Objlen) == len(stored) {
		payload = stored
	} else {
		if cap(bufs.Payload) < int(h.Objlen) {
			bufs.Payload = make([]byte, h.Objlen)
		}
		payload = bufs.Payload[:h.Objlen]
		if err := rfile.Decompress(payload, stored); err != nil {
			return Basket{}, err
		}
	}
	b := Basket{Entries: int(h.Nevbuf), Data: payload[:h.Last-h.Keylen]}
	if !wantOffsets {
		return b, nil
	}
	if h.GenOffsets {
		// No table follows the entries: the reader computes the offsets
		// from the entries or their counter (columnReader.genOffsets).
		if int(h.Last-h.Keylen) != len(payload) {
			return Basket{}, fmt.Errorf("%w: %d bytes after the entries of a basket without entry offsets", rfile.ErrCorrupt, len(payload)-int(h.Last-h.Keylen))
		}
		b.GenOffsets = true
		return b, nil
	}
	r := rfile.RecordReader{Buf: payload, Pos: int(h.Last - h.Keylen)}
	n := int(r.I32())
	// ROOT writes fNevBuf+1 offsets (the last one unused) and, rarely, a
	// displacement array after them, which ROOT's reader expects exactly
	// when bytes remain; the payload ends there. Uncompressed and zstd
	// baskets have no checksum, so the table's length and the payload's
	// end are what is left to check.
	if r.Err != nil || n < int(h.Nevbuf) || n > int(h.Nevbuf)+1 || n > (len(payload)-r.Pos)/4 {
		return Basket{}, fmt.Errorf("%w: entry-offset table of %d entries for %d entries", rfile.ErrCorrupt, n, h.Nevbuf)
	}
	if end := r.Pos + 4*n; end != len(payload) {
		d := rfile.RecordReader{Buf: payload, Pos: end}
		if m := int(d.I32()); d.Err != nil || m < 0 || m > int(h.Nevbuf)+1 || d.Pos+4*m != len(payload) {
			return Basket{}, fmt.Errorf("%w: %d bytes after the entry-offset table", rfile.ErrCorrupt, len(payload)-end)
		}
	}
	if cap(bufs.Offsets) < int(h.Nevbuf)+1 {
		bufs.Offsets = make([]int32, h.Nevbuf+1)
	}
	offs := bufs.Offsets[:h.Nevbuf+1]
	mask := ^uint32(0)
	if h.Flag > 20 && h.Flag < 40 {
		mask = 0x00ffffff // ROOT's kDisplacementMask bits are not part of the offset
	}
	if i, ok := EntryOffsets(offs, payload[r.Pos:r.Pos+4*int(h.Nevbuf)], mask, h.Keylen, h.Last-h.Keylen); !ok {
		return Basket{}, fmt.Errorf("%w: entry %d offset %d outside [0, %d]", rfile.ErrCorrupt, i, offs[i], offs[i+1])
	}
	if h.Nevbuf > 0 && offs[0] != 0 {
		// The first entry starts where the payload does.
		return Basket{}, fmt.Errorf("%w: first entry at offset %d, not 0", rfile.ErrCorrupt, offs[0])
	}
	b.Offsets = offs
	return b, nil
}

// EntryOffsets converts a basket's table of big-endian entry offsets (tbl,
// one per entry, each masked and counted from the key's start) into offsets
// into the payload, with end as the last; offs has one more element than
// tbl has entries. They must rise from 0 to end: otherwise it returns the
// first entry out of order and false. One pass, as a basket's table is
// read for every jagged branch of every file (5% of ADL Q5).
func EntryOffsets(offs []int32, tbl []byte, mask uint32, keylen, end int32) (int, bool) {
	n := len(tbl) / 4
	offs = offs[:n+1]
	offs[n] = end
	prev := int32(0)
	for i := range n {
		o := int32(binary.BigEndian.Uint32(tbl[4*i:])&mask) - keylen
		offs[i] = o
		if o < prev {
			if i > 0 {
				return i - 1, false // offs[i-1] > offs[i]
			}
			return 0, false // negative
		}
		prev = o
	}
	if n > 0 && prev > end {
		return n - 1, false
	}
	return 0, true
}

// ROOT's TBasket I/O bits (TBasket::EIOBits), stored after a negative
// fNevBufSize: kGenerateOffsetMap is the only one ROOT defines; bit 7 is
// reserved and must be clear.
const (
	ioGenerateOffsetMap = 1 << 0
	ioSupported         = ioGenerateOffsetMap
)

// EmbeddedBasket is one basket kept in a tree record.
type EmbeddedBasket struct {
	Keylen int64  // fKeylen: the room for the key header at buf's start
	Nevbuf int64  // entries in the basket
	Last   int64  // fLast: end of the entries in buf
	Buf    []byte // the fLast bytes the record holds
	// Offsets are the entry offsets the record holds, counted from buf's
	// start, displacement bits cleared; nil when the basket has none
	// (fixed-size entries, or ROOT's "generate offsets" flag).
	Offsets []int32
}

// DecodeEmbedded is decode for a basket kept in the tree record: its
// entries are buf[keylen:last], uncompressed, and its entry offsets come
// from the record rather than after the entries. The same checks apply:
// sizes within the bytes, offsets rising from the first entry's start to
// the end of the data.
func (bufs *BasketBuffers) DecodeEmbedded(e *EmbeddedBasket, wantOffsets bool) (Basket, error) {
	if e.Keylen <= 0 || e.Last < e.Keylen || e.Last > int64(len(e.Buf)) || e.Nevbuf < 0 || e.Nevbuf > int64(MaxBasketPayload) {
		return Basket{}, fmt.Errorf("%w: kept in the tree record with keylen=%d fLast=%d nevbuf=%d in %d bytes",
			rfile.ErrCorrupt, e.Keylen, e.Last, e.Nevbuf, len(e.Buf))
	}
	n := int(e.Nevbuf)
	b := Basket{Entries: n, Data: e.Buf[e.Keylen:e.Last]}
	if !wantOffsets {
		return b, nil
	}
	if e.Offsets == nil {
		// Stored without offsets (ROOT's "generate offsets" flag).
		b.GenOffsets = true
		return b, nil
	}
	if len(e.Offsets) < n {
		return Basket{}, fmt.Errorf("%w: entry-offset table of %d entries for %d entries", rfile.ErrCorrupt, len(e.Offsets), n)
	}
	if cap(bufs.Offsets) < n+1 {
		bufs.Offsets = make([]int32, n+1)
	}
	offs := bufs.Offsets[:n+1]
	end := int32(len(b.Data))
	prev := int32(0)
	for i := range n {
		o := e.Offsets[i] - int32(e.Keylen)
		if o < prev || o > end || (i == 0 && o != 0) {
			return Basket{}, fmt.Errorf("%w: entry %d at offset %d outside [%d, %d]", rfile.ErrCorrupt, i, o, prev, end)
		}
		offs[i], prev = o, o
	}
	offs[n] = end
	b.Offsets = offs
	return b, nil
}
