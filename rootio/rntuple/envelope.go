package rntuple

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/hepsql/hepsql/rootio/compress"
	"github.com/zeebo/xxh3"
)

// MaxAlloc bounds what one envelope or page may make the reader allocate
// (uncompressed), so that a corrupt size cannot exhaust memory. ROOT's own
// pages are 1 MiB by default and envelopes stay far below it.
var MaxAlloc int64 = 1 << 31

// Envelope types.
const (
	envHeader   = 0x01
	envFooter   = 0x02
	envPageList = 0x03
)

// ErrCorrupt marks errors caused by the bytes of the file.
var ErrCorrupt = errors.New("corrupt RNTuple")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Locator is a byte range in the file.
type Locator struct {
	Size   int64 // bytes on disk (compressed)
	Offset int64
}

// readBlob reads the bytes a locator names.
func readBlob(r io.ReaderAt, size int64, loc Locator, extra, maxKey int64) ([]byte, error) {
	var buf []byte
	return readBlobInto(r, size, loc, extra, maxKey, &buf)
}

// readBlobInto is readBlob reading into *buf, grown when too small, so
// that a page's stored bytes reuse the previous page's buffer.
//
// An object larger than the anchor's maximum key size (maxKey; 0: no
// limit) is split over several RBlob keys: the first, at the locator's
// offset, holds maxKey bytes: the object's start, then the 64-bit
// little-endian offsets of the other chunks (maxKey bytes each, the
// last one what remains), as ROOT's RNTupleFileWriter writes them.
func readBlobInto(r io.ReaderAt, size int64, loc Locator, extra, maxKey int64, buf *[]byte) ([]byte, error) {
	if loc.Size < 0 || loc.Offset < 0 || loc.Size+extra > MaxAlloc || loc.Offset > size || (loc.Size+extra > size-loc.Offset && (maxKey <= 0 || loc.Size+extra <= maxKey)) {
		return nil, corrupt("%d bytes at offset %d outside the %d-byte file", loc.Size+extra, loc.Offset, size)
	}
	need := int(loc.Size + extra)
	if cap(*buf) < need {
		*buf = make([]byte, need)
	}
	b := (*buf)[:need]
	if maxKey > 0 && int64(need) > maxKey {
		return b, readChunks(r, size, loc.Offset, maxKey, b)
	}
	if _, err := r.ReadAt(b, loc.Offset); err != nil && !(err == io.EOF) {
		return nil, err
	}
	return b, nil
}

// chunksFor is the number of keys an object of n bytes takes when no key
// holds more than maxKey bytes and the first also holds the offsets of
// the others (8 bytes each).
func chunksFor(n, maxKey int64) int64 {
	k := (n + maxKey - 1) / maxKey
	if tail := n % maxKey; (k-1)*8 > (maxKey-tail)%maxKey {
		k++
	}
	return k
}

// readChunks reads an object split over several keys (see readBlobInto)
// into b.
func readChunks(r io.ReaderAt, size, off, maxKey int64, b []byte) error {
	n := int64(len(b))
	k := chunksFor(n, maxKey)
	firstData := maxKey - (k-1)*8
	if maxKey < 16 || firstData <= 0 || off < 0 || off+maxKey > size {
		return corrupt("an object of %d bytes in keys of at most %d at offset %d of the %d-byte file", n, maxKey, off, size)
	}
	first := make([]byte, maxKey)
	if _, err := r.ReadAt(first, off); err != nil && err != io.EOF {
		return err
	}
	copy(b, first[:firstData])
	pos := firstData
	for i := range k - 1 {
		at := int64(binary.LittleEndian.Uint64(first[firstData+8*i:]))
		m := min(n-pos, maxKey)
		if m <= 0 || at < 0 || at > size || m > size-at {
			return corrupt("chunk %d of an object of %d bytes: %d bytes at offset %d outside the %d-byte file", i+2, n, m, at, size)
		}
		if _, err := r.ReadAt(b[pos:pos+m], at); err != nil && err != io.EOF {
			return err
		}
		pos += m
	}
	if pos != n {
		return corrupt("an object of %d bytes in %d keys holds %d", n, k, pos)
	}
	return nil
}

// inflate returns the uncompressed bytes of a block stored as raw:
// compressed size equal to the uncompressed one means stored as is.
func inflate(raw []byte, length int64) ([]byte, error) {
	var buf []byte
	return inflateInto(raw, length, &buf)
}

// inflateSlack is spare capacity left after an inflated block: with at
// least 16 bytes past the output, klauspost's zstd decoder copies literals
// and matches in 16-byte strides; without it, it takes its bounds-exact
// copies for the block that ends the buffer, which for a page (one block)
// is all of it, and inflates RNTuple pages about a third slower.
const inflateSlack = 64

// inflateInto is inflate into *buf, grown when too small.
func inflateInto(raw []byte, length int64, buf *[]byte) ([]byte, error) {
	if int64(len(raw)) == length {
		return raw, nil
	}
	if length < 0 || length > MaxAlloc {
		return nil, corrupt("uncompressed size %d", length)
	}
	if int64(cap(*buf)) < length+inflateSlack {
		*buf = make([]byte, length, length+inflateSlack)
	}
	out := (*buf)[:length]
	if err := compress.Decompress(out, raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return out, nil
}

// readEnvelope reads, inflates and checks the envelope of type typ that
// loc names (length: its uncompressed size), returning its payload
// (after the type-and-length word, before the checksum) and checksum.
func readEnvelope(r io.ReaderAt, size int64, loc Locator, length int64, typ uint16, maxKey int64) ([]byte, uint64, error) {
	raw, err := readBlob(r, size, loc, 0, maxKey)
	if err != nil {
		return nil, 0, err
	}
	env, err := inflate(raw, length)
	if err != nil {
		return nil, 0, err
	}
	return parseEnvelope(env, typ)
}

// parseEnvelope checks an uncompressed envelope and returns its payload
// and checksum.
func parseEnvelope(env []byte, typ uint16) ([]byte, uint64, error) {
	if len(env) < 16 {
		return nil, 0, corrupt("envelope of %d bytes", len(env))
	}
	word := binary.LittleEndian.Uint64(env)
	if got := uint16(word); got != typ {
		return nil, 0, corrupt("envelope type %d, want %d", got, typ)
	}
	if n := word >> 16; n != uint64(len(env)) {
		return nil, 0, corrupt("envelope says %d bytes, has %d", n, len(env))
	}
	sum := binary.LittleEndian.Uint64(env[len(env)-8:])
	if got := xxh3.Hash(env[:len(env)-8]); got != sum {
		return nil, 0, corrupt("envelope type %d: XXH3 checksum mismatch (stored %016x, computed %016x)", typ, sum, got)
	}
	return env[8 : len(env)-8], sum, nil
}

// le reads the little-endian fields of envelopes with a sticky error.
type le struct {
	b   []byte
	pos int
	err error
}

func (b *le) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

func (b *le) need(n int64) bool {
	if b.err != nil {
		return false
	}
	if n < 0 || n > int64(len(b.b)-b.pos) {
		b.err = corrupt("field of %d bytes at byte %d of a %d-byte envelope", n, b.pos, len(b.b))
		return false
	}
	return true
}

func (b *le) u8() uint8 {
	if !b.need(1) {
		return 0
	}
	v := b.b[b.pos]
	b.pos++
	return v
}

func (b *le) u16() uint16 {
	if !b.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(b.b[b.pos:])
	b.pos += 2
	return v
}

func (b *le) u32() uint32 {
	if !b.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(b.b[b.pos:])
	b.pos += 4
	return v
}

func (b *le) u64() uint64 {
	if !b.need(8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(b.b[b.pos:])
	b.pos += 8
	return v
}

func (b *le) i32() int32 { return int32(b.u32()) }
func (b *le) i64() int64 { return int64(b.u64()) }
func (b *le) f64() float64 {
	return math.Float64frombits(b.u64())
}

func (b *le) str() string {
	n := b.u32()
	if !b.need(int64(n)) {
		return ""
	}
	s := string(b.b[b.pos : b.pos+int(n)])
	b.pos += int(n)
	return s
}

// features reads feature flags: 64-bit words, continued while negative.
func (b *le) features() []uint64 {
	var out []uint64
	for range 64 {
		w := b.u64()
		out = append(out, w)
		if int64(w) >= 0 || b.err != nil {
			return out
		}
	}
	b.fail(corrupt("feature flags longer than 64 words"))
	return out
}

// frame is an open record or list frame: its end, and for a list its
// item count.
type frame struct {
	end   int
	items int
}

// record opens a record frame.
func (b *le) record() frame {
	start := b.pos
	size := b.i64()
	if b.err != nil {
		return frame{end: b.pos}
	}
	if size < 8 || size > int64(len(b.b)-start) {
		b.fail(corrupt("record frame of %d bytes at byte %d of %d", size, start, len(b.b)))
		return frame{end: b.pos}
	}
	return frame{end: start + int(size)}
}

// list opens a list frame. Each item takes at least minItem bytes, which
// bounds a corrupt count before anything is allocated for it.
func (b *le) list(minItem int) frame {
	start := b.pos
	size := -b.i64()
	n := b.u32()
	if b.err != nil {
		return frame{end: b.pos}
	}
	if size < 12 || size > int64(len(b.b)-start) {
		b.fail(corrupt("list frame of %d bytes at byte %d of %d", size, start, len(b.b)))
		return frame{end: b.pos}
	}
	if int64(n)*int64(max(minItem, 1)) > size-12 {
		b.fail(corrupt("list frame of %d bytes with %d items", size, n))
		return frame{end: b.pos}
	}
	return frame{end: start + int(size), items: int(n)}
}

// close skips to a frame's end (newer writers may add fields) and checks
// that its contents did not run past it.
func (b *le) close(f frame) {
	if b.err != nil {
		return
	}
	if b.pos > f.end {
		b.fail(corrupt("frame contents run %d bytes past its end", b.pos-f.end))
		return
	}
	b.pos = f.end
}

// locator reads a locator.
func (b *le) locator() Locator {
	start := b.pos
	head := b.i32()
	if head >= 0 {
		return Locator{Size: int64(head), Offset: int64(b.u64())}
	}
	typ := (uint32(head) >> 24) & 0x7f
	size := int(uint32(head) & 0xffff)
	if typ != 0x01 {
		b.fail(corrupt("locator type %#x not supported", typ))
		return Locator{}
	}
	loc := Locator{Size: int64(b.u64()), Offset: int64(b.u64())}
	if size < b.pos-start || !b.need(int64(size-(b.pos-start))) {
		b.fail(corrupt("large locator of %d bytes", size))
		return Locator{}
	}
	b.pos = start + size
	return loc
}

// envLink reads an envelope link: uncompressed size, then a locator.
func (b *le) envLink() (int64, Locator) {
	n := b.u64()
	loc := b.locator()
	if n > uint64(MaxAlloc) {
		b.fail(corrupt("envelope of %d bytes", n))
	}
	return int64(n), loc
}
