package rntuple

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"github.com/zeebo/xxh3"
)

// Column types (the specification's table).
const (
	ColBit          = 0x00
	ColByte         = 0x01
	ColChar         = 0x02
	ColInt8         = 0x03
	ColUInt8        = 0x04
	ColInt16        = 0x05
	ColUInt16       = 0x06
	ColInt32        = 0x07
	ColUInt32       = 0x08
	ColInt64        = 0x09
	ColUInt64       = 0x0A
	ColReal16       = 0x0B
	ColReal32       = 0x0C
	ColReal64       = 0x0D
	ColIndex32      = 0x0E
	ColIndex64      = 0x0F
	ColSwitch       = 0x10
	ColSplitInt16   = 0x11
	ColSplitUInt16  = 0x12
	ColSplitInt32   = 0x13
	ColSplitUInt32  = 0x14
	ColSplitInt64   = 0x15
	ColSplitUInt64  = 0x16
	ColSplitReal16  = 0x17
	ColSplitReal32  = 0x18
	ColSplitReal64  = 0x19
	ColSplitIndex32 = 0x1A
	ColSplitIndex64 = 0x1B
	ColReal32Trunc  = 0x1C
	ColReal32Quant  = 0x1D
)

var colNames = map[uint16]string{
	ColBit: "Bit", ColByte: "Byte", ColChar: "Char", ColInt8: "Int8", ColUInt8: "UInt8",
	ColInt16: "Int16", ColUInt16: "UInt16", ColInt32: "Int32", ColUInt32: "UInt32",
	ColInt64: "Int64", ColUInt64: "UInt64", ColReal16: "Real16", ColReal32: "Real32",
	ColReal64: "Real64", ColIndex32: "Index32", ColIndex64: "Index64", ColSwitch: "Switch",
	ColSplitInt16: "SplitInt16", ColSplitUInt16: "SplitUInt16", ColSplitInt32: "SplitInt32",
	ColSplitUInt32: "SplitUInt32", ColSplitInt64: "SplitInt64", ColSplitUInt64: "SplitUInt64",
	ColSplitReal16: "SplitReal16", ColSplitReal32: "SplitReal32", ColSplitReal64: "SplitReal64",
	ColSplitIndex32: "SplitIndex32", ColSplitIndex64: "SplitIndex64",
	ColReal32Trunc: "Real32Trunc", ColReal32Quant: "Real32Quant",
}

// ColumnTypeName names a column type ("SplitReal32"), or "type 0x.." when
// unknown.
func ColumnTypeName(t uint16) string {
	if n, ok := colNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type %#x", t)
}

// colKind is what a column's elements are in memory.
type colKind int

const (
	kindBool  colKind = iota
	kindInt           // signed integers, as int64
	kindUint          // unsigned integers and indexes, as uint64
	kindFloat         // reals, as float64
	kindSwitch
)

// colLayout describes how a column type is stored.
type colLayout struct {
	kind   colKind
	size   int  // bytes per element on disk; 0 for bit-packed
	split  bool // byte-transposed within the page
	zigzag bool
	delta  bool
}

func layoutOf(c *Column) (colLayout, error) {
	switch c.Type {
	case ColBit:
		return colLayout{kind: kindBool}, nil
	case ColByte, ColUInt8:
		return colLayout{kind: kindUint, size: 1}, nil
	case ColChar, ColInt8:
		return colLayout{kind: kindInt, size: 1}, nil
	case ColInt16:
		return colLayout{kind: kindInt, size: 2}, nil
	case ColUInt16:
		return colLayout{kind: kindUint, size: 2}, nil
	case ColInt32:
		return colLayout{kind: kindInt, size: 4}, nil
	case ColUInt32, ColIndex32:
		return colLayout{kind: kindUint, size: 4}, nil
	case ColInt64:
		return colLayout{kind: kindInt, size: 8}, nil
	case ColUInt64, ColIndex64:
		return colLayout{kind: kindUint, size: 8}, nil
	case ColReal16:
		return colLayout{kind: kindFloat, size: 2}, nil
	case ColReal32:
		return colLayout{kind: kindFloat, size: 4}, nil
	case ColReal64:
		return colLayout{kind: kindFloat, size: 8}, nil
	case ColSwitch:
		return colLayout{kind: kindSwitch, size: 12}, nil
	case ColSplitInt16:
		return colLayout{kind: kindInt, size: 2, split: true, zigzag: true}, nil
	case ColSplitUInt16:
		return colLayout{kind: kindUint, size: 2, split: true}, nil
	case ColSplitInt32:
		return colLayout{kind: kindInt, size: 4, split: true, zigzag: true}, nil
	case ColSplitUInt32:
		return colLayout{kind: kindUint, size: 4, split: true}, nil
	case ColSplitInt64:
		return colLayout{kind: kindInt, size: 8, split: true, zigzag: true}, nil
	case ColSplitUInt64:
		return colLayout{kind: kindUint, size: 8, split: true}, nil
	case ColSplitReal16:
		return colLayout{kind: kindFloat, size: 2, split: true}, nil
	case ColSplitReal32:
		return colLayout{kind: kindFloat, size: 4, split: true}, nil
	case ColSplitReal64:
		return colLayout{kind: kindFloat, size: 8, split: true}, nil
	case ColSplitIndex32:
		return colLayout{kind: kindUint, size: 4, split: true, delta: true}, nil
	case ColSplitIndex64:
		return colLayout{kind: kindUint, size: 8, split: true, delta: true}, nil
	case ColReal32Trunc:
		if c.Bits < 10 || c.Bits > 31 {
			return colLayout{}, fmt.Errorf("Real32Trunc column of %d bits (10 to 31 allowed)", c.Bits)
		}
		return colLayout{kind: kindFloat}, nil
	case ColReal32Quant:
		if c.Bits < 1 || c.Bits > 32 {
			return colLayout{}, fmt.Errorf("Real32Quant column of %d bits (1 to 32 allowed)", c.Bits)
		}
		if c.Flags&colRange == 0 || !(c.Min <= c.Max) {
			return colLayout{}, fmt.Errorf("Real32Quant column without a valid value range [%g, %g]", c.Min, c.Max)
		}
		return colLayout{kind: kindFloat}, nil
	}
	return colLayout{}, fmt.Errorf("unknown column type %#x", c.Type)
}

// pageBytes is the uncompressed size of a page of n elements.
func pageBytes(c *Column, l colLayout, n int64) int64 {
	if l.size == 0 {
		bits := int64(c.Bits)
		if c.Type == ColBit {
			bits = 1
		}
		return (n*bits + 7) / 8
	}
	return n * int64(l.size)
}

// colData holds a column's decoded elements for one cluster: exactly one
// of the slices is used, by kind.
type colData struct {
	kind colKind
	b    []bool
	i    []int64
	u    []uint64
	f    []float64
	tag  []int32 // switch columns: tag, with u the index
}

func (d *colData) grow(l colLayout, n int) {
	switch l.kind {
	case kindBool:
		d.b = append(d.b, make([]bool, n)...)
	case kindInt:
		d.i = append(d.i, make([]int64, n)...)
	case kindUint:
		d.u = append(d.u, make([]uint64, n)...)
	case kindFloat:
		d.f = append(d.f, make([]float64, n)...)
	case kindSwitch:
		d.u = append(d.u, make([]uint64, n)...)
		d.tag = append(d.tag, make([]int32, n)...)
	}
}

// decodePage appends the n elements of one uncompressed page to d.
// Encodings (split, zigzag, delta) apply within the page. Fixed-width
// numbers are gathered in one pass into 64-bit words (straight into d.u
// for unsigned columns, else into bufs.words), then converted; a split
// page is read plane by plane without first being transposed.
func decodePage(c *Column, l colLayout, page []byte, n int, d *colData, bufs *pageBuffers) error {
	if n < 0 || int64(len(page)) != pageBytes(c, l, int64(n)) {
		return corrupt("page of %d bytes for %d %s elements", len(page), n, ColumnTypeName(c.Type))
	}
	switch c.Type {
	case ColBit:
		start := len(d.b)
		d.b = append(d.b, make([]bool, n)...)
		out := d.b[start:]
		for i := range out {
			out[i] = page[i>>3]>>(i&7)&1 != 0
		}
		return nil
	case ColReal32Trunc, ColReal32Quant:
		start := len(d.f)
		d.f = append(d.f, make([]float64, n)...)
		nb := uint(c.Bits)
		scale := 0.0
		if c.Type == ColReal32Quant {
			scale = (c.Max - c.Min) / float64(uint64(1)<<nb-1)
		}
		for i := range n {
			v := bitsAt(page, uint64(i)*uint64(nb), nb)
			if c.Type == ColReal32Trunc {
				d.f[start+i] = float64(math.Float32frombits(uint32(v) << (32 - nb)))
			} else {
				d.f[start+i] = float64(float32(c.Min + float64(v)*scale))
			}
		}
		return nil
	case ColSwitch:
		if l.split && n > 0 { // not a split type today; kept general
			page = unsplit(page, n, l.size, bufs)
		}
		start := len(d.u)
		d.grow(l, n)
		for i := range n {
			d.u[start+i] = binary.LittleEndian.Uint64(page[12*i:])
			d.tag[start+i] = int32(binary.LittleEndian.Uint32(page[12*i+8:]))
		}
		return nil
	}
	if l.split && decodeSplitFast(l, page, n, d) {
		return nil
	}
	var words []uint64
	if l.kind == kindUint {
		start := len(d.u)
		d.u = append(d.u, make([]uint64, n)...)
		words = d.u[start:]
	} else {
		if cap(bufs.words) < n {
			bufs.words = make([]uint64, n)
		}
		words = bufs.words[:n]
		clear(words)
	}
	gatherWords(words, page, l.size, l.split)
	switch l.kind {
	case kindInt:
		start := len(d.i)
		d.i = append(d.i, make([]int64, n)...)
		out := d.i[start:]
		switch {
		case l.zigzag:
			for i, u := range words {
				out[i] = int64(u>>1) ^ -int64(u&1)
			}
		case l.size == 1:
			for i, u := range words {
				out[i] = int64(int8(u))
			}
		case l.size == 2:
			for i, u := range words {
				out[i] = int64(int16(u))
			}
		case l.size == 4:
			for i, u := range words {
				out[i] = int64(int32(u))
			}
		default:
			for i, u := range words {
				out[i] = int64(u)
			}
		}
	case kindUint:
		if l.delta {
			for i := 1; i < len(words); i++ {
				words[i] += words[i-1]
			}
		}
	case kindFloat:
		start := len(d.f)
		d.f = append(d.f, make([]float64, n)...)
		out := d.f[start:]
		switch l.size {
		case 2:
			for i, u := range words {
				out[i] = float64(halfToFloat(uint16(u)))
			}
		case 4:
			for i, u := range words {
				out[i] = float64(math.Float32frombits(uint32(u)))
			}
		case 8:
			for i, u := range words {
				out[i] = math.Float64frombits(u)
			}
		}
	}
	return nil
}

// decodeSplitFast decodes the split pages writers use most (SplitReal32
// and the split indexes of 4 and 8 bytes) in one pass, the planes read
// straight into the values; it reports false for the others.
func decodeSplitFast(l colLayout, page []byte, n int, d *colData) bool {
	switch {
	case l.kind == kindFloat && l.size == 4:
		start := len(d.f)
		d.f = append(d.f, make([]float64, n)...)
		out := d.f[start:]
		p0, p1, p2, p3 := page[:n], page[n:2*n], page[2*n:3*n], page[3*n:4*n]
		for i := range out {
			out[i] = float64(math.Float32frombits(uint32(p0[i]) | uint32(p1[i])<<8 | uint32(p2[i])<<16 | uint32(p3[i])<<24))
		}
		return true
	case l.kind == kindUint && l.delta && l.size == 4:
		start := len(d.u)
		d.u = append(d.u, make([]uint64, n)...)
		out := d.u[start:]
		p0, p1, p2, p3 := page[:n], page[n:2*n], page[2*n:3*n], page[3*n:4*n]
		var acc uint64
		for i := range out {
			acc += uint64(uint32(p0[i]) | uint32(p1[i])<<8 | uint32(p2[i])<<16 | uint32(p3[i])<<24)
			out[i] = acc
		}
		return true
	case l.kind == kindUint && l.delta && l.size == 8:
		start := len(d.u)
		d.u = append(d.u, make([]uint64, n)...)
		out := d.u[start:]
		p0, p1, p2, p3 := page[:n], page[n:2*n], page[2*n:3*n], page[3*n:4*n]
		p4, p5, p6, p7 := page[4*n:5*n], page[5*n:6*n], page[6*n:7*n], page[7*n:8*n]
		var acc uint64
		for i := range out {
			lo := uint32(p0[i]) | uint32(p1[i])<<8 | uint32(p2[i])<<16 | uint32(p3[i])<<24
			hi := uint32(p4[i]) | uint32(p5[i])<<8 | uint32(p6[i])<<16 | uint32(p7[i])<<24
			acc += uint64(lo) | uint64(hi)<<32
			out[i] = acc
		}
		return true
	}
	return false
}

// gatherWords ORs the little-endian numbers of size bytes each in page
// into words (zeroed by the caller), len(words) of them; a split page
// holds their first bytes, then their second bytes, and so on.
func gatherWords(words []uint64, page []byte, size int, split bool) {
	n := len(words)
	if split {
		// One pass over the elements reading every plane: the common
		// widths have their own loops, with the planes sliced to n so
		// that the compiler drops the bounds checks.
		switch size {
		case 2:
			p0, p1 := page[:n], page[n:2*n]
			for i := range words {
				words[i] = uint64(p0[i]) | uint64(p1[i])<<8
			}
			return
		case 4:
			p0, p1, p2, p3 := page[:n], page[n:2*n], page[2*n:3*n], page[3*n:4*n]
			for i := range words {
				words[i] = uint64(uint32(p0[i]) | uint32(p1[i])<<8 | uint32(p2[i])<<16 | uint32(p3[i])<<24)
			}
			return
		case 8:
			p0, p1, p2, p3 := page[:n], page[n:2*n], page[2*n:3*n], page[3*n:4*n]
			p4, p5, p6, p7 := page[4*n:5*n], page[5*n:6*n], page[6*n:7*n], page[7*n:8*n]
			for i := range words {
				lo := uint32(p0[i]) | uint32(p1[i])<<8 | uint32(p2[i])<<16 | uint32(p3[i])<<24
				hi := uint32(p4[i]) | uint32(p5[i])<<8 | uint32(p6[i])<<16 | uint32(p7[i])<<24
				words[i] = uint64(lo) | uint64(hi)<<32
			}
			return
		}
		for k := range size {
			plane := page[k*n : (k+1)*n]
			shift := uint(8 * k)
			for i, b := range plane {
				words[i] |= uint64(b) << shift
			}
		}
		return
	}
	switch size {
	case 1:
		for i, b := range page[:n] {
			words[i] = uint64(b)
		}
	case 2:
		for i := range words {
			words[i] = uint64(binary.LittleEndian.Uint16(page[2*i:]))
		}
	case 4:
		for i := range words {
			words[i] = uint64(binary.LittleEndian.Uint32(page[4*i:]))
		}
	case 8:
		for i := range words {
			words[i] = binary.LittleEndian.Uint64(page[8*i:])
		}
	}
}

// unsplit transposes a split page of n elements of size bytes back to
// consecutive elements, in bufs.split.
func unsplit(page []byte, n, size int, bufs *pageBuffers) []byte {
	if cap(bufs.split) < len(page) {
		bufs.split = make([]byte, len(page))
	}
	out := bufs.split[:len(page)]
	for k := range size {
		for i, v := range page[k*n : (k+1)*n] {
			out[i*size+k] = v
		}
	}
	return out
}

// pageBuffers are the buffers one column read reuses from page to page
// (and, through pagePool, from read to read): the stored bytes, the
// inflated page, the gathered words and a transposed page.
type pageBuffers struct {
	raw, page, split []byte
	words            []uint64
}

var pagePool = sync.Pool{New: func() any { return new(pageBuffers) }}

// bitsAt reads nb bits (at most 32) starting at bit pos of a little-endian,
// least-significant-bit-first bit stream.
func bitsAt(p []byte, pos uint64, nb uint) uint64 {
	var v uint64
	byteAt := pos >> 3
	shift := uint(pos & 7)
	// Gather up to 5 bytes (32 bits + 7 of shift).
	for k := uint64(0); k < 5 && byteAt+k < uint64(len(p)); k++ {
		v |= uint64(p[byteAt+k]) << (8 * k)
	}
	return (v >> shift) & (1<<nb - 1)
}

// halfToFloat converts an IEEE-754 half-precision value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(mant) / 1024 / 16384
		if sign != 0 {
			return -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// readColumn decodes all n elements of column col in cluster ci.
func (nt *NTuple) readColumn(ci, col int, n int64) (colData, error) {
	return nt.readColumnRange(ci, col, n, 0, n)
}

// readColumnRange decodes elements [first, first+n) of column col in
// cluster ci, which holds total elements of it (as the field structure
// says): a deferred column (or one added after this cluster's page list
// was written) reads as zeros before its first stored element. Only the
// pages overlapping the range are read. The caller picks the column of
// the representation active in the cluster.
func (nt *NTuple) readColumnRange(ci, col int, total, first, n int64) (colData, error) {
	return nt.readColumnInto(ci, col, total, first, n, colData{})
}

// readColumnInto is readColumnRange appending to d's slices (empty, their
// capacity reused from an earlier read).
func (nt *NTuple) readColumnInto(ci, col int, total, first, n int64, d colData) (colData, error) {
	c := &nt.Columns[col]
	l, err := layoutOf(c)
	if err != nil {
		return d, err
	}
	d.kind = l.kind
	if total < 0 || first < 0 || n < 0 || n > MaxAlloc || first > total-n {
		return d, corrupt("elements [%d, +%d) of %d", first, n, total)
	}
	cr := nt.ranges[ci][col]
	var stored int64
	for _, p := range cr.Pages {
		stored += p.Elements
		if stored > total {
			return d, corrupt("column %d (%s) has more than the %d elements its field needs in cluster %d", col, ColumnTypeName(c.Type), total, ci)
		}
	}
	if stored < total && c.Flags&colDeferred == 0 && cr.Present {
		return d, corrupt("column %d (%s) has %d elements in cluster %d, its field needs %d", col, ColumnTypeName(c.Type), stored, ci, total)
	}
	zeros := total - stored // the leading zeros of a deferred column
	if z := min(first+n, zeros) - first; z > 0 {
		if z > MaxAlloc/8 {
			return d, corrupt("column %d (%s): %d leading zero elements in cluster %d", col, ColumnTypeName(c.Type), z, ci)
		}
		d.grow(l, int(z))
	}
	bufs := pagePool.Get().(*pageBuffers)
	defer pagePool.Put(bufs)
	var page colData
	start := zeros // element index of the page's first element
	for pi, p := range cr.Pages {
		lo, hi := max(first, start), min(first+n, start+p.Elements)
		if lo >= hi {
			start += p.Elements
			if start >= first+n {
				break
			}
			continue
		}
		var sumBytes int64
		if p.Checksum {
			sumBytes = 8 // the page's XXH3 follows it
		}
		raw, err := readBlobInto(nt.r, nt.size, p.Loc, sumBytes, nt.maxKey, &bufs.raw)
		if err != nil {
			return d, fmt.Errorf("column %d, cluster %d, page %d: %w", col, ci, pi, err)
		}
		if p.Checksum {
			body := raw[:len(raw)-8]
			if want, got := binary.LittleEndian.Uint64(raw[len(raw)-8:]), xxh3.Hash(body); want != got {
				return d, corrupt("column %d, cluster %d, page %d: XXH3 checksum mismatch (stored %016x, computed %016x)", col, ci, pi, want, got)
			}
			raw = body
		}
		buf, err := inflateInto(raw, pageBytes(c, l, p.Elements), &bufs.page)
		if err != nil {
			return d, fmt.Errorf("column %d, cluster %d, page %d: %w", col, ci, pi, err)
		}
		whole := lo == start && hi == start+p.Elements
		dst := &d
		if !whole {
			page = colData{kind: l.kind}
			dst = &page
		}
		if err := decodePage(c, l, buf, int(p.Elements), dst, bufs); err != nil {
			return d, fmt.Errorf("column %d, cluster %d, page %d: %w", col, ci, pi, err)
		}
		if !whole {
			d.appendRange(&page, int(lo-start), int(hi-start))
		}
		start += p.Elements
	}
	return d, nil
}

// appendRange appends elements [lo, hi) of src to d.
func (d *colData) appendRange(src *colData, lo, hi int) {
	switch d.kind {
	case kindBool:
		d.b = append(d.b, src.b[lo:hi]...)
	case kindInt:
		d.i = append(d.i, src.i[lo:hi]...)
	case kindUint:
		d.u = append(d.u, src.u[lo:hi]...)
	case kindFloat:
		d.f = append(d.f, src.f[lo:hi]...)
	case kindSwitch:
		d.u = append(d.u, src.u[lo:hi]...)
		d.tag = append(d.tag, src.tag[lo:hi]...)
	}
}
