package rootscan

import (
	"encoding/binary"
	"fmt"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/compress"
	"github.com/hepsql/hepsql/rootio/rfile"
)

// A basket on disk is a TKey header, the TBasket fields, then the payload:
// the entries' bytes followed, for variable-size entries, by an array of
// entry offsets. The payload is stored compressed in chunks of at most 16 MiB,
// each with a 9-byte header naming its algorithm.

// basketHeader is the part of a basket's key that the decoder needs.
type basketHeader struct {
	nbytes int32 // key + compressed payload
	objlen int32 // uncompressed payload
	keylen int32 // key header, including the TBasket fields
	nevbuf int32 // entries in the basket
	last   int32 // end of entry data, counted from the start of the key
	flag   int8  // TBasket flag, less 80 when ≥ 80; 20 < flag < 40 means offsets carry displacement bits
	// genOffsets: the basket stores no entry offsets; the reader
	// computes them (ROOT's kGenerateOffsetMap I/O bit, or flag ≥ 80).
	genOffsets bool
}

// ROOT's TBasket I/O bits (TBasket::EIOBits), stored after a negative
// fNevBufSize: kGenerateOffsetMap is the only one ROOT defines; bit 7 is
// reserved and must be clear.
const (
	ioGenerateOffsetMap = 1 << 0
	ioSupported         = ioGenerateOffsetMap
)

// maxBasketPayload bounds the uncompressed size a basket header may claim,
// so that a corrupt header cannot make the reader allocate without limit.
// ROOT's own baskets stay far below it.
var maxBasketPayload int32 = 1 << 30

// parseBasketHeader reads the TKey and TBasket fields at the start of raw.
func parseBasketHeader(raw []byte) (basketHeader, error) {
	var h basketHeader
	r := rfile.RecordReader{Buf: raw}
	h.nbytes = r.I32()
	version := r.I16()
	h.objlen = r.I32()
	r.Skip(4) // datime
	h.keylen = int32(r.I16())
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
		h.genOffsets = bits&ioGenerateOffsetMap != 0
	}
	h.nevbuf = r.I32()
	h.last = r.I32()
	if r.Need(1) {
		flag := r.Buf[r.Pos]
		r.Pos++
		if flag >= 80 {
			// ROOT adds 80 when the offsets are to be generated.
			flag -= 80
			h.genOffsets = true
		}
		h.flag = int8(flag)
	}
	if r.Err != nil {
		return h, fmt.Errorf("%w: header: %v", rfile.ErrCorrupt, r.Err)
	}
	switch {
	case h.keylen <= 0 || h.nbytes < h.keylen || h.objlen < 0 || h.nevbuf < 0:
		return h, fmt.Errorf("%w: header sizes nbytes=%d keylen=%d objlen=%d nevbuf=%d", rfile.ErrCorrupt, h.nbytes, h.keylen, h.objlen, h.nevbuf)
	case h.objlen > maxBasketPayload:
		return h, fmt.Errorf("%w: uncompressed size %d exceeds %d", rfile.ErrCorrupt, h.objlen, maxBasketPayload)
	case h.last < h.keylen || h.last > h.keylen+h.objlen:
		return h, fmt.Errorf("%w: fLast=%d outside payload [%d, %d]", rfile.ErrCorrupt, h.last, h.keylen, h.keylen+h.objlen)
	}
	return h, nil
}

// basket is one decoded basket: its entries' bytes and, for variable-size
// entries, where each entry starts.
type basket struct {
	first   int64   // entry number of the basket's first entry in its file
	entries int     // number of entries
	data    []byte  // entry bytes: payload[0 : last-keylen]
	offsets []int32 // entry i is data[offsets[i]:offsets[i+1]]; nil for fixed-size entries
	// genOffsets: the basket stores variable-size entries without their
	// offsets, which the reader must compute (offsets is nil).
	genOffsets bool
}

// decodeBasket turns the raw on-disk bytes of one basket into entry data.
// wantOffsets says whether the branch stores variable-size entries.
// scratch is reused for the decompressed payload when large enough.
func decodeBasket(raw []byte, wantOffsets bool, scratch []byte) (basket, []byte, error) {
	bufs := basketBuffers{payload: scratch}
	b, err := bufs.decode(raw, wantOffsets)
	return b, bufs.payload, err
}

// basketBuffers are the buffers a reader decodes its baskets into, reused
// from one basket to the next so that a scan allocates per column, not per
// basket. A decoded basket aliases them until the next decode.
type basketBuffers struct {
	payload []byte  // decompressed payload
	offsets []int32 // entry offsets
}

func (bufs *basketBuffers) decode(raw []byte, wantOffsets bool) (basket, error) {
	h, err := parseBasketHeader(raw)
	if err != nil {
		return basket{}, err
	}
	if int(h.nbytes) != len(raw) {
		return basket{}, fmt.Errorf("%w: key says %d bytes, basket table says %d", rfile.ErrCorrupt, h.nbytes, len(raw))
	}
	stored := raw[h.keylen:h.nbytes]
	var payload []byte
	if int(h.objlen) == len(stored) {
		payload = stored
	} else {
		if cap(bufs.payload) < int(h.objlen) {
			bufs.payload = make([]byte, h.objlen)
		}
		payload = bufs.payload[:h.objlen]
		if err := rfile.Decompress(payload, stored); err != nil {
			return basket{}, err
		}
	}
	b := basket{entries: int(h.nevbuf), data: payload[:h.last-h.keylen]}
	if !wantOffsets {
		return b, nil
	}
	if h.genOffsets {
		// No table follows the entries: the reader computes the offsets
		// from the entries or their counter (columnReader.genOffsets).
		if int(h.last-h.keylen) != len(payload) {
			return basket{}, fmt.Errorf("%w: %d bytes after the entries of a basket without entry offsets", rfile.ErrCorrupt, len(payload)-int(h.last-h.keylen))
		}
		b.genOffsets = true
		return b, nil
	}
	r := rfile.RecordReader{Buf: payload, Pos: int(h.last - h.keylen)}
	n := int(r.I32())
	// ROOT writes fNevBuf+1 offsets (the last one unused) and, rarely, a
	// displacement array after them, which ROOT's reader expects exactly
	// when bytes remain; the payload ends there. Uncompressed and zstd
	// baskets have no checksum, so the table's length and the payload's
	// end are what is left to check.
	if r.Err != nil || n < int(h.nevbuf) || n > int(h.nevbuf)+1 || n > (len(payload)-r.Pos)/4 {
		return basket{}, fmt.Errorf("%w: entry-offset table of %d entries for %d entries", rfile.ErrCorrupt, n, h.nevbuf)
	}
	if end := r.Pos + 4*n; end != len(payload) {
		d := rfile.RecordReader{Buf: payload, Pos: end}
		if m := int(d.I32()); d.Err != nil || m < 0 || m > int(h.nevbuf)+1 || d.Pos+4*m != len(payload) {
			return basket{}, fmt.Errorf("%w: %d bytes after the entry-offset table", rfile.ErrCorrupt, len(payload)-end)
		}
	}
	if cap(bufs.offsets) < int(h.nevbuf)+1 {
		bufs.offsets = make([]int32, h.nevbuf+1)
	}
	offs := bufs.offsets[:h.nevbuf+1]
	mask := ^uint32(0)
	if h.flag > 20 && h.flag < 40 {
		mask = 0x00ffffff // ROOT's kDisplacementMask bits are not part of the offset
	}
	if i, ok := entryOffsets(offs, payload[r.Pos:r.Pos+4*int(h.nevbuf)], mask, h.keylen, h.last-h.keylen); !ok {
		return basket{}, fmt.Errorf("%w: entry %d offset %d outside [0, %d]", rfile.ErrCorrupt, i, offs[i], offs[i+1])
	}
	if h.nevbuf > 0 && offs[0] != 0 {
		// The first entry starts where the payload does.
		return basket{}, fmt.Errorf("%w: first entry at offset %d, not 0", rfile.ErrCorrupt, offs[0])
	}
	b.offsets = offs
	return b, nil
}

// entryOffsets converts a basket's table of big-endian entry offsets (tbl,
// one per entry, each masked and counted from the key's start) into offsets
// into the payload, with end as the last; offs has one more element than
// tbl has entries. They must rise from 0 to end: otherwise it returns the
// first entry out of order and false. One pass, as a basket's table is
// read for every jagged branch of every file (5% of ADL Q5).
func entryOffsets(offs []int32, tbl []byte, mask uint32, keylen, end int32) (int, bool) {
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

// libdeflate, when the system has it, inflates zlib blocks for every
// reader of rootio/compress (capi.InflateZlib: 2.5–2.8× faster than Go on
// the CMS sample's baskets).
func init() {
	if capi.HaveZlibInflater() {
		compress.SetZlibInflater(capi.InflateZlib)
	}
}
