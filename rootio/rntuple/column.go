package rntuple

import (
	"fmt"
	"math"
	"sync"
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

// colData holds a column's decoded elements for one cluster, widened to
// 64 bits (the Array's form): exactly one of the slices is used, by kind.
type colData struct {
	kind colKind
	b    []bool
	i    []int64
	u    []uint64
	f    []float64
	tag  []int32 // switch columns: tag, with u the index
}

// pageBuffers are the buffers a cursor reuses from page to page (and,
// through pagePool, from read to read): the stored bytes and the
// inflated page.
type pageBuffers struct {
	raw, page []byte
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
// capacity reused from an earlier read). The slices grow a page at a
// time, so that a hostile element count fails at a missing page before
// it allocates.
func (nt *NTuple) readColumnInto(ci, col int, total, first, n int64, d colData) (colData, error) {
	var c cursor
	if err := c.init(nt, ci, col, total); err != nil {
		return d, err
	}
	defer c.release()
	d.kind = c.l.kind
	if first < 0 || n < 0 || n > MaxAlloc || first > total-n {
		return d, corrupt("elements [%d, +%d) of %d", first, n, total)
	}
	if err := c.seek(first); err != nil {
		return d, err
	}
	for n > 0 {
		k, err := c.run()
		if err != nil {
			return d, err
		}
		k = min(k, n)
		if k > MaxAlloc/8 {
			return d, corrupt("column %d (%s): %d elements in one run in cluster %d", col, ColumnTypeName(c.c.Type), k, ci)
		}
		switch d.kind {
		case kindBool:
			d.b = append(d.b, make([]bool, k)...)
			err = readBools(&c, d.b[len(d.b)-int(k):])
		case kindInt:
			d.i = append(d.i, make([]int64, k)...)
			err = readNumbers(&c, d.i[len(d.i)-int(k):])
		case kindUint:
			d.u = append(d.u, make([]uint64, k)...)
			err = readNumbers(&c, d.u[len(d.u)-int(k):])
		case kindFloat:
			d.f = append(d.f, make([]float64, k)...)
			err = readNumbers(&c, d.f[len(d.f)-int(k):])
		case kindSwitch:
			d.u = append(d.u, make([]uint64, k)...)
			d.tag = append(d.tag, make([]int32, k)...)
			err = readSwitch(&c, d.u[len(d.u)-int(k):], d.tag[len(d.tag)-int(k):])
		}
		if err != nil {
			return d, err
		}
		n -= k
	}
	return d, nil
}
