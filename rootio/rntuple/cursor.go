package rntuple

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/zeebo/xxh3"
)

// Number is a type a column's elements can be decoded into: the widths of
// DuckDB's numeric vectors. An element is converted as Go converts a
// number (integers wrap or sign-extend to the destination's width, reals
// round), after the column's own decoding (zigzag, delta, half and
// truncated or quantised floats to float32).
type Number interface {
	int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64
}

// cursor reads the elements of one column in one cluster in order, page
// by page: each page is read, checked and inflated once into buffers the
// cursor reuses, and element ranges of it are decoded straight into the
// caller's slices, in the caller's type, so that a value is written once
// between the inflated page and its destination (a DuckDB vector, or an
// Array's slice).
type cursor struct {
	nt      *NTuple
	ci, col int
	c       *Column
	l       colLayout
	pages   []PageInfo
	total   int64 // elements of the column in the cluster, as its field says
	zeros   int64 // leading zero elements: a deferred column's before its first stored one
	pos     int64 // the next element to read, counted from the cluster's first

	// The loaded page: page pi (-1: none), of pN elements from element
	// pStart on.
	pi     int
	pStart int64
	pN     int
	page   []byte
	// Delta (split index) columns: acc is the sum of the page's elements
	// [0, accAt), the running total a read starting at accAt continues.
	acc   uint64
	accAt int

	bufs *pageBuffers // from pagePool, returned by release
	raw  []byte       // the loaded page as stored (checksum included), in bufs

	// group, when not nil, lists the cursors of streams read side by side
	// (NewStreams): a page stored with the same bytes as one another of
	// them has loaded is copied from it rather than inflated again. The
	// index columns of a NanoAOD's collections (Muon_pt, Muon_eta, ...)
	// are such copies of one another, and their pages are the largest.
	group *[]*cursor
}

// init prepares c to read column col of cluster ci, which holds total
// elements of it (as the field structure says), from element 0.
func (c *cursor) init(nt *NTuple, ci, col int, total int64) error {
	col64 := &nt.Columns[col]
	l, err := layoutOf(col64)
	if err != nil {
		return err
	}
	*c = cursor{nt: nt, ci: ci, col: col, c: col64, l: l, total: total, pi: -1, bufs: c.bufs, group: c.group}
	if total < 0 {
		return corrupt("column %d (%s): %d elements in cluster %d", col, ColumnTypeName(col64.Type), total, ci)
	}
	cr := &nt.ranges[ci][col]
	var stored int64
	for _, p := range cr.Pages {
		if p.Elements < 0 {
			return corrupt("column %d (%s): page of %d elements in cluster %d", col, ColumnTypeName(col64.Type), p.Elements, ci)
		}
		stored += p.Elements
		if stored > total {
			return corrupt("column %d (%s) has more than the %d elements its field needs in cluster %d", col, ColumnTypeName(col64.Type), total, ci)
		}
	}
	if stored < total && col64.Flags&colDeferred == 0 && cr.Present {
		return corrupt("column %d (%s) has %d elements in cluster %d, its field needs %d", col, ColumnTypeName(col64.Type), stored, ci, total)
	}
	c.pages, c.zeros = cr.Pages, total-stored
	return nil
}

// release hands the cursor's page buffers back to the pool.
func (c *cursor) release() {
	if c.bufs != nil {
		pagePool.Put(c.bufs)
		c.bufs, c.page, c.raw, c.pi = nil, nil, nil, -1
	}
}

// seek moves the cursor to element e.
func (c *cursor) seek(e int64) error {
	if e < 0 || e > c.total {
		return corrupt("column %d (%s): element %d of %d in cluster %d", c.col, ColumnTypeName(c.c.Type), e, c.total, c.ci)
	}
	c.pos = e
	return nil
}

// run makes the elements from c.pos on readable and returns how many
// follow in one piece (in the loaded page, or zeros before the first
// stored one); it is an error to read past the column's end.
func (c *cursor) run() (int64, error) {
	switch {
	case c.pos >= c.total:
		return 0, corrupt("column %d (%s): element %d read past the %d of cluster %d", c.col, ColumnTypeName(c.c.Type), c.pos, c.total, c.ci)
	case c.pos < c.zeros:
		return c.zeros - c.pos, nil
	case c.pi >= 0 && c.pos >= c.pStart && c.pos < c.pStart+int64(c.pN):
		return c.pStart + int64(c.pN) - c.pos, nil
	}
	// Find the page: usually the next one.
	pi, start := 0, c.zeros
	if c.pi >= 0 && c.pos >= c.pStart {
		pi, start = c.pi, c.pStart
	}
	for ; pi < len(c.pages) && start+c.pages[pi].Elements <= c.pos; pi++ {
		start += c.pages[pi].Elements
	}
	if pi == len(c.pages) { // cannot happen: the pages hold total-zeros elements
		return 0, corrupt("column %d (%s): no page holds element %d in cluster %d", c.col, ColumnTypeName(c.c.Type), c.pos, c.ci)
	}
	if err := c.load(pi); err != nil {
		return 0, err
	}
	c.pStart = start
	return c.pStart + int64(c.pN) - c.pos, nil
}

// load reads, checks and inflates page pi.
func (c *cursor) load(pi int) error {
	if c.bufs == nil {
		c.bufs = pagePool.Get().(*pageBuffers)
	}
	p := c.pages[pi]
	var sumBytes int64
	if p.Checksum {
		sumBytes = 8 // the page's XXH3 follows it
	}
	c.pi, c.raw = -1, nil
	raw, err := readBlobInto(c.nt.r, c.nt.size, p.Loc, sumBytes, c.nt.maxKey, &c.bufs.raw)
	if err != nil {
		return fmt.Errorf("column %d, cluster %d, page %d: %w", c.col, c.ci, pi, err)
	}
	if c.group != nil {
		length := pageBytes(c.c, c.l, p.Elements)
		for _, o := range *c.group {
			// The same stored bytes (checksum included) inflate to the
			// same page, checked when the other cursor loaded it.
			if o != c && o.pi >= 0 && o.c.Type == c.c.Type && int64(len(o.page)) == length && int64(o.pN) == p.Elements && bytes.Equal(o.raw, raw) {
				if int64(cap(c.bufs.page)) < length {
					c.bufs.page = make([]byte, length, length+inflateSlack)
				}
				page := c.bufs.page[:length]
				copy(page, o.page)
				if err := c.setPage(page, p.Elements); err != nil {
					return fmt.Errorf("column %d, cluster %d, page %d: %w", c.col, c.ci, pi, err)
				}
				c.pi, c.raw = pi, raw
				return nil
			}
		}
	}
	stored := raw
	if p.Checksum {
		body := raw[:len(raw)-8]
		if want, got := binary.LittleEndian.Uint64(raw[len(raw)-8:]), xxh3.Hash(body); want != got {
			return corrupt("column %d, cluster %d, page %d: XXH3 checksum mismatch (stored %016x, computed %016x)", c.col, c.ci, pi, want, got)
		}
		raw = body
	}
	buf, err := inflateInto(raw, pageBytes(c.c, c.l, p.Elements), &c.bufs.page)
	if err != nil {
		return fmt.Errorf("column %d, cluster %d, page %d: %w", c.col, c.ci, pi, err)
	}
	if err := c.setPage(buf, p.Elements); err != nil {
		return fmt.Errorf("column %d, cluster %d, page %d: %w", c.col, c.ci, pi, err)
	}
	c.pi, c.raw = pi, stored
	return nil
}

// setPage makes page, inflated, of n elements the loaded one.
func (c *cursor) setPage(page []byte, n int64) error {
	if n < 0 || n > MaxAlloc || int64(len(page)) != pageBytes(c.c, c.l, n) {
		return corrupt("page of %d bytes for %d %s elements", len(page), n, ColumnTypeName(c.c.Type))
	}
	c.page, c.pN, c.acc, c.accAt = page, int(n), 0, 0
	return nil
}

// readNumbers decodes the next len(dst) elements of c into dst.
func readNumbers[T Number](c *cursor, dst []T) error {
	if c.l.kind == kindSwitch {
		return corrupt("column %d: a Switch column read as numbers", c.col)
	}
	for len(dst) > 0 {
		k, err := c.run()
		if err != nil {
			return err
		}
		k = min(k, int64(len(dst)))
		if c.pos < c.zeros {
			clear(dst[:k])
		} else {
			decodeRun(c, int(c.pos-c.pStart), dst[:k])
		}
		dst = dst[k:]
		c.pos += k
	}
	return nil
}

// readLengths decodes the next len(dst) elements of an index column as
// differences, each from the element before it and the first from prev
// (the element before the first, or the offset the read starts from):
// the entries' item counts. It returns the last element. A delta-encoded
// page stores these differences already (after its first element): they
// are taken as stored, and the running sum kept only once per run.
func readLengths(c *cursor, dst []uint64, prev uint64) (uint64, error) {
	for len(dst) > 0 {
		k, err := c.run()
		if err != nil {
			return 0, err
		}
		k = min(k, int64(len(dst)))
		out := dst[:k]
		lo := int(c.pos - c.pStart)
		if c.pos >= c.zeros && c.l.delta && c.l.split && (c.l.size == 4 || c.l.size == 8) {
			c.deltaTo(lo)
			n, page := c.pN, c.page
			var sum uint64
			gatherWords(out, page, n, lo, c.l.size, true)
			for _, d := range out {
				sum += d
			}
			// The first difference is from prev, not from the page's
			// element before it (or 0 at the page's start).
			out[0] = out[0] + c.acc - prev
			c.acc += sum
			c.accAt = lo + int(k)
			prev = c.acc
		} else {
			if err := readNumbers(c, out); err != nil {
				return 0, err
			}
			c.pos -= k // readNumbers moved it; it moves once, below
			for i, v := range out {
				out[i], prev = v-prev, v
			}
		}
		dst = dst[k:]
		c.pos += k
	}
	return prev, nil
}

// readBools decodes the next len(dst) elements of c into dst: true for
// a non-zero element.
func readBools(c *cursor, dst []bool) error {
	if c.l.kind == kindFloat || c.l.kind == kindSwitch {
		return corrupt("column %d: a %s column read as booleans", c.col, ColumnTypeName(c.c.Type))
	}
	var words [256]uint64
	for len(dst) > 0 {
		k, err := c.run()
		if err != nil {
			return err
		}
		k = min(k, int64(len(dst)), int64(len(words)))
		out := dst[:k]
		switch {
		case c.pos < c.zeros:
			clear(out)
		case c.c.Type == ColBit:
			lo := int(c.pos - c.pStart)
			for i := range out {
				j := lo + i
				out[i] = c.page[j>>3]>>(j&7)&1 != 0
			}
		default:
			w := words[:k]
			decodeRun(c, int(c.pos-c.pStart), w)
			for i, v := range w {
				out[i] = v != 0
			}
		}
		dst = dst[k:]
		c.pos += k
	}
	return nil
}

// readSwitch decodes the next len(tags) elements of a Switch column: the
// index into the alternative's items, and the tag.
func readSwitch(c *cursor, index []uint64, tags []int32) error {
	if c.l.kind != kindSwitch || len(index) != len(tags) {
		return corrupt("column %d: a %s column read as a Switch column", c.col, ColumnTypeName(c.c.Type))
	}
	for len(tags) > 0 {
		k, err := c.run()
		if err != nil {
			return err
		}
		k = min(k, int64(len(tags)))
		if c.pos < c.zeros {
			clear(index[:k])
			clear(tags[:k])
		} else {
			page := c.page[12*int(c.pos-c.pStart):]
			for i := range tags[:k] {
				index[i] = binary.LittleEndian.Uint64(page[12*i:])
				tags[i] = int32(binary.LittleEndian.Uint32(page[12*i+8:]))
			}
		}
		index, tags = index[k:], tags[k:]
		c.pos += k
	}
	return nil
}

// decodeRun decodes elements [lo, lo+len(dst)) of the loaded page into
// dst. The encodings writers use most (split reals, split and delta
// indexes, split zigzag integers) have loops of their own that read the
// byte planes straight into dst; the others gather each element's bytes
// into 64-bit words, a block at a time, and convert them.
func decodeRun[T Number](c *cursor, lo int, dst []T) {
	col, page, k := c.c, c.page, len(dst)
	switch col.Type {
	case ColBit:
		for i := range dst {
			j := lo + i
			dst[i] = T(page[j>>3] >> (j & 7) & 1)
		}
		return
	case ColReal32Trunc:
		nb := uint(col.Bits)
		for i := range dst {
			v := bitsAt(page, uint64(lo+i)*uint64(nb), nb)
			dst[i] = T(math.Float32frombits(uint32(v) << (32 - nb)))
		}
		return
	case ColReal32Quant:
		nb := uint(col.Bits)
		scale := (col.Max - col.Min) / float64(uint64(1)<<nb-1)
		for i := range dst {
			v := bitsAt(page, uint64(lo+i)*uint64(nb), nb)
			dst[i] = T(float32(col.Min + float64(v)*scale))
		}
		return
	}
	if c.l.delta {
		c.deltaTo(lo)
		decodeFixed(c, lo, dst)
		c.accAt = lo + k
		return
	}
	decodeFixed(c, lo, dst)
}

// decodeFixed is decodeRun for the columns of fixed-width elements.
func decodeFixed[T Number](c *cursor, lo int, dst []T) {
	l, page, n, k := c.l, c.page, c.pN, len(dst)
	switch {
	case l.split && l.size == 4 && l.kind == kindFloat:
		// The planes sliced to the run's length, so that the compiler
		// drops the bounds checks.
		p0 := page[lo : lo+k]
		p1, p2, p3 := page[n+lo:][:len(p0)], page[2*n+lo:][:len(p0)], page[3*n+lo:][:len(p0)]
		dst := dst[:len(p0)]
		for i, b := range p0 {
			dst[i] = T(math.Float32frombits(uint32(b) | uint32(p1[i])<<8 | uint32(p2[i])<<16 | uint32(p3[i])<<24))
		}
		return
	case !l.split && l.size == 4 && l.kind == kindFloat:
		p := page[4*lo : 4*(lo+k)]
		for i := range dst {
			dst[i] = T(math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:])))
		}
		return
	}
	var block [256]uint64
	for len(dst) > 0 {
		m := min(len(dst), len(block))
		words := block[:m]
		gatherWords(words, page, n, lo, l.size, l.split)
		convertWords(c, l, words, dst[:m])
		dst, lo = dst[m:], lo+m
	}
}

// convertWords converts gathered elements to T by the column's kind:
// zigzag or sign extension for signed integers, the running sum for delta
// indexes, half, single or double precision for reals.
func convertWords[T Number](c *cursor, l colLayout, words []uint64, dst []T) {
	switch l.kind {
	case kindInt:
		switch {
		case l.zigzag:
			for i, u := range words {
				dst[i] = T(int64(u>>1) ^ -int64(u&1))
			}
		case l.size == 1:
			for i, u := range words {
				dst[i] = T(int8(u))
			}
		case l.size == 2:
			for i, u := range words {
				dst[i] = T(int16(u))
			}
		case l.size == 4:
			for i, u := range words {
				dst[i] = T(int32(u))
			}
		default:
			for i, u := range words {
				dst[i] = T(int64(u))
			}
		}
	case kindUint:
		if l.delta {
			acc := c.acc
			for i, u := range words {
				acc += u
				dst[i] = T(acc)
			}
			c.acc = acc
			return
		}
		for i, u := range words {
			dst[i] = T(u)
		}
	case kindFloat:
		switch l.size {
		case 2:
			for i, u := range words {
				dst[i] = T(halfToFloat(uint16(u)))
			}
		case 4:
			for i, u := range words {
				dst[i] = T(math.Float32frombits(uint32(u)))
			}
		case 8:
			for i, u := range words {
				dst[i] = T(math.Float64frombits(u))
			}
		}
	}
}

// deltaTo brings the running sum of a delta column's loaded page to
// element lo: reads go forward from where the last one stopped, so this
// sums nothing but after a seek.
func (c *cursor) deltaTo(lo int) {
	if lo < c.accAt {
		c.acc, c.accAt = 0, 0
	}
	var block [256]uint64
	for c.accAt < lo {
		m := min(lo-c.accAt, len(block))
		words := block[:m]
		gatherWords(words, c.page, c.pN, c.accAt, c.l.size, c.l.split)
		for _, u := range words {
			c.acc += u
		}
		c.accAt += m
	}
}

// gatherWords sets words to the little-endian numbers of size bytes of
// elements [lo, lo+len(words)) of a page of n elements; a split page
// holds all their first bytes, then all their second bytes, and so on.
func gatherWords(words []uint64, page []byte, n, lo, size int, split bool) {
	m := len(words)
	if split {
		// Plane by plane, skipping planes of zeros: the high bytes of
		// small integers (lengths, charges, indexes), most of a page of
		// them.
		for i, b := range page[lo : lo+m] {
			words[i] = uint64(b)
		}
		for k := 1; k < size; k++ {
			plane := page[k*n+lo : k*n+lo+m]
			if allZero(plane) {
				continue
			}
			shift := uint(8 * k)
			words := words[:len(plane)]
			for i, b := range plane {
				words[i] |= uint64(b) << shift
			}
		}
		return
	}
	switch size {
	case 1:
		for i, b := range page[lo : lo+m] {
			words[i] = uint64(b)
		}
	case 2:
		p := page[2*lo : 2*(lo+m)]
		for i := range words {
			words[i] = uint64(binary.LittleEndian.Uint16(p[2*i:]))
		}
	case 4:
		p := page[4*lo : 4*(lo+m)]
		for i := range words {
			words[i] = uint64(binary.LittleEndian.Uint32(p[4*i:]))
		}
	case 8:
		p := page[8*lo : 8*(lo+m)]
		for i := range words {
			words[i] = binary.LittleEndian.Uint64(p[8*i:])
		}
	}
}

// allZero reports whether b holds only zeros, eight bytes at a time.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
