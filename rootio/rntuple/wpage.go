package rntuple

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/hepsql/hepsql/rootio/compress"
	"github.com/zeebo/xxh3"
)

// The writer's pages, filled as ROOT's RPageSinkBuf fills them: each
// column keeps one open page of its elements at the column's own width,
// little-endian (a bit as one byte, a switch as its 8-byte index and
// 4-byte tag), and seals it (encodes it: zigzag, delta, split; compresses
// it; appends its checksum) as soon as it holds a page's elements. Only
// the sealed pages' stored bytes wait for the cluster to be written, so
// a writer holds about a compressed cluster plus one page per column,
// whatever the cluster's uncompressed size.

// sealedPage is a page of the current cluster, ready to store.
type sealedPage struct {
	p      wpage
	stored []byte // compressed, with its checksum
	length int64  // uncompressed
}

// width is the bytes an element takes in the open page.
func (c *wcol) width() int { return max(c.l.size, 1) }

// room is how many more elements the open page takes, making room for
// up to max of them: the buffer doubles as a page fills (as ROOT's page
// buffers start small and grow), never past a full page, so a column
// written little holds little and a full one no more than its page.
func (c *wcol) room(most int) int {
	k := min(most, c.per-c.n)
	if need := len(c.page) + k*c.width(); need > cap(c.page) {
		grown := make([]byte, len(c.page), min(max(2*cap(c.page), need, 4096), c.per*c.width()))
		copy(grown, c.page)
		c.page = grown
	}
	return k
}

// grew records k elements added to the open page and seals it if full.
func (wr *Writer) grew(c *wcol, k int) error {
	c.n += k
	c.clusterN += int64(k)
	if c.n >= c.per {
		return wr.seal(c)
	}
	return nil
}

func (wr *Writer) putInts(c *wcol, vs []int64) error { return putLE(wr, c, vs) }

func (wr *Writer) putUints(c *wcol, vs []uint64) error {
	if len(vs) > 0 {
		c.last = vs[len(vs)-1]
	}
	return putLE(wr, c, vs)
}

// putLE appends integers to c's open pages at the column's width, sealing
// each page as it fills.
func putLE[T int64 | uint64](wr *Writer, c *wcol, vs []T) error {
	for len(vs) > 0 {
		k := c.room(len(vs))
		c.page = appendLE(c.page, vs[:k], c.l.size)
		vs = vs[k:]
		if err := wr.grew(c, k); err != nil {
			return err
		}
	}
	return nil
}

// appendLE appends vs little-endian at size bytes each (truncating).
func appendLE[T int64 | uint64](b []byte, vs []T, size int) []byte {
	switch size {
	case 1:
		for _, v := range vs {
			b = append(b, byte(v))
		}
	case 2:
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		}
	case 4:
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
	default:
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b
}

func (wr *Writer) putFloats(c *wcol, vs []float64) error {
	for len(vs) > 0 {
		k := c.room(len(vs))
		if c.l.size == 4 {
			for _, v := range vs[:k] {
				c.page = binary.LittleEndian.AppendUint32(c.page, math.Float32bits(float32(v)))
			}
		} else {
			for _, v := range vs[:k] {
				c.page = binary.LittleEndian.AppendUint64(c.page, math.Float64bits(v))
			}
		}
		vs = vs[k:]
		if err := wr.grew(c, k); err != nil {
			return err
		}
	}
	return nil
}

func (wr *Writer) putBools(c *wcol, vs []bool) error {
	for len(vs) > 0 {
		k := c.room(len(vs))
		for _, v := range vs[:k] {
			b := byte(0)
			if v {
				b = 1
			}
			c.page = append(c.page, b)
		}
		vs = vs[k:]
		if err := wr.grew(c, k); err != nil {
			return err
		}
	}
	return nil
}

// putChars appends a string's bytes to a Char column.
func (wr *Writer) putChars(c *wcol, s string) error {
	for len(s) > 0 {
		k := c.room(len(s))
		c.page = append(c.page, s[:k]...)
		s = s[k:]
		if err := wr.grew(c, k); err != nil {
			return err
		}
	}
	return nil
}

// putSwitch appends one element of a variant's Switch column.
func (wr *Writer) putSwitch(c *wcol, index uint64, tag int32) error {
	c.room(1)
	c.page = binary.LittleEndian.AppendUint64(c.page, index)
	c.page = binary.LittleEndian.AppendUint32(c.page, uint32(tag))
	return wr.grew(c, 1)
}

// putCount appends the index values from+1 ... from+n: the offsets of n
// entries holding one item each.
func (wr *Writer) putCount(c *wcol, from, n int64) error {
	for n > 0 {
		k := min(n, 4096)
		wr.scratch = wr.scratch[:0]
		for i := range k {
			wr.scratch = append(wr.scratch, uint64(from+i+1))
		}
		if err := wr.putUints(c, wr.scratch); err != nil {
			return err
		}
		from, n = from+k, n-k
	}
	return nil
}

// seal encodes and compresses the open page, if it holds elements, and
// keeps its stored bytes for the cluster.
func (wr *Writer) seal(c *wcol) error {
	if c.n == 0 {
		return nil
	}
	raw := wr.encodePage(c)
	if len(raw) > maxPage {
		return fmt.Errorf("a page of %d bytes (at most %d)", len(raw), maxPage)
	}
	stored, err := compress.Compress(wr.opts.Compression, raw)
	if err != nil {
		return err
	}
	// Own exactly the bytes kept (and room for the checksum): neither
	// the reused page buffers nor a compressor's spare capacity stay
	// alive until the cluster is written.
	if stored == nil || cap(stored) > len(stored)+len(stored)/8+8 {
		src := stored
		if src == nil {
			src = raw
		}
		stored = append(make([]byte, 0, len(src)+8), src...)
	}
	p := wpage{n: int64(c.n), sum: !wr.opts.NoPageChecksums, loc: Locator{Size: int64(len(stored))}}
	if p.sum {
		stored = binary.LittleEndian.AppendUint64(stored, xxh3.Hash(stored))
	}
	c.sealed = append(c.sealed, sealedPage{p: p, stored: stored, length: int64(len(raw))})
	c.page, c.n = c.page[:0], 0
	return nil
}

// encodePage serialises the open page as stored before compression: bits
// packed, integers zigzagged or delta-coded and byte-split as the column
// type says (delta restarts at each page). The result may alias the
// page or the writer's scratch buffer.
func (wr *Writer) encodePage(c *wcol) []byte {
	n, size, page := c.n, c.l.size, c.page
	switch {
	case c.typ == ColBit:
		out := wr.grow((n + 7) / 8)
		clear(out)
		for i, b := range page[:n] {
			out[i>>3] |= b << (i & 7)
		}
		return out
	case c.typ == ColSwitch, !c.l.split && !c.l.zigzag && !c.l.delta:
		return page
	case !c.l.zigzag && !c.l.delta: // split only: transpose the bytes
		out := wr.grow(n * size)
		for k := range size {
			dst := out[k*n : (k+1)*n]
			for i := range dst {
				dst[i] = page[i*size+k]
			}
		}
		return out
	}
	out := wr.grow(n * size)
	var prev uint64
	for i := range n {
		var u uint64
		switch size {
		case 1:
			u = uint64(page[i])
		case 2:
			u = uint64(binary.LittleEndian.Uint16(page[2*i:]))
		case 4:
			u = uint64(binary.LittleEndian.Uint32(page[4*i:]))
		default:
			u = binary.LittleEndian.Uint64(page[8*i:])
		}
		if c.l.zigzag {
			v := int64(u<<(64-8*size)) >> (64 - 8*size) // sign-extended
			u = uint64(v<<1) ^ uint64(v>>63)
		}
		if c.l.delta {
			u, prev = u-prev, u
		}
		if c.l.split {
			for k := range size {
				out[k*n+i] = byte(u >> (8 * k))
			}
		} else {
			for k := range size {
				out[i*size+k] = byte(u >> (8 * k))
			}
		}
	}
	return out
}

// grow returns the writer's encoding buffer resized to n bytes.
func (wr *Writer) grow(n int) []byte {
	if cap(wr.enc) < n {
		wr.enc = make([]byte, n)
	}
	wr.enc = wr.enc[:n]
	return wr.enc
}
