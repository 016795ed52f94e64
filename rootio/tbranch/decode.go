package tbranch

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sort"

	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// File is the open file a Reader decodes baskets from.
type File struct {
	Path string              // the file's name, for errors
	Tree string              // the tree's name, for errors
	R    *rfile.CountingFile // its bytes; R.FileSize bounds every basket read
	// Cols is the tree's columns, where a jagged column's counter branch
	// is found by path (genOffsets).
	Cols []*Column
}

// Reader decodes one column of one file into the Vectors it is handed. A
// scan thread owns its readers; the current basket is kept decoded until
// the requested entries move past it, so consecutive chunks reuse it.
type Reader struct {
	col    *Column
	file   *File
	cur    ttree.Basket
	curIdx int // index of cur in the basket table, -1 when none
	raw    []byte
	bufs   ttree.BasketBuffers
	strs   []byte      // string bytes of the chunk being filled
	ends   []uint64    // string end offsets of the chunk being filled
	counts []int       // per-row element counts of the chunk being filled
	inner  []ListEntry // inner list entries of the chunk being filled (fillVecVecStrings)
	// ents: a nested collection member's list entries, checked against
	// those its collection's first member wrote (fillListTo).
	ents []ListEntry
	// counter reads a jagged column's counter branch, for baskets
	// written without entry offsets (genOffsets).
	counter *Reader
	// maps: a std::map column's keys and values of the chunk being filled.
	maps [2]mapBuf
}

func NewReader(col *Column, f *File) *Reader {
	return &Reader{col: col, file: f, curIdx: -1}
}

// Reset points r at a column of another file, keeping its buffers.
func (r *Reader) Reset(col *Column, f *File) {
	r.col, r.file, r.cur, r.curIdx = col, f, ttree.Basket{}, -1
}

// load makes the basket holding entry current.
func (r *Reader) load(entry int64) error {
	bt := &r.col.Baskets
	if r.curIdx >= 0 && entry >= r.cur.First && entry < r.cur.First+int64(r.cur.Entries) {
		return nil
	}
	// The buffers are about to be overwritten: if this load fails, the
	// previous basket is gone too.
	r.curIdx = -1
	n := len(bt.Seek)
	i := sort.Search(n, func(i int) bool { return bt.First[i] > entry }) - 1
	if i < 0 || i >= n || len(bt.Bytes) <= i {
		return r.errorf(entry, "no basket holds entry %d (branch has %d baskets)", entry, n)
	}
	var b ttree.Basket
	// A split collection's member whose branch stores no entry offsets
	// (fEntryOffsetLen 0) has them rebuilt from its master's counts.
	noTable := r.col.Master != nil && r.col.Layout == LayoutJagged && bt.OffsetLen == 0
	wantOffsets := r.col.Layout != LayoutFixed && !noTable
	if e := bt.EmbeddedAt(i); e != nil {
		var err error
		if b, err = r.bufs.DecodeEmbedded(e, wantOffsets); err != nil {
			return r.basketErrorf(i, "%v", err)
		}
	} else {
		size := int(bt.Bytes[i])
		if size <= 0 || int64(size) > r.file.R.FileSize || bt.Seek[i] < 0 || bt.Seek[i] > r.file.R.FileSize-int64(size) {
			return r.basketErrorf(i, "%v: %d bytes at offset %d lie outside the %d-byte file", rfile.ErrCorrupt, size, bt.Seek[i], r.file.R.FileSize)
		}
		if cap(r.raw) < size {
			r.raw = make([]byte, size)
		}
		raw := r.raw[:size]
		if _, err := r.file.R.ReadAt(raw, bt.Seek[i]); err != nil {
			return r.basketErrorf(i, "reading %d bytes at offset %d: %v", size, bt.Seek[i], err)
		}
		var err error
		if b, err = r.bufs.Decode(raw, wantOffsets); err != nil {
			return r.basketErrorf(i, "%v (%d bytes at offset %d)", err, size, bt.Seek[i])
		}
	}
	b.First = bt.First[i]
	want := r.basketEnd(i) - b.First
	// A basket holds exactly the entries the basket table gives it; only
	// the last may hold more than the tree counts (entries written after
	// the tree header was last saved), which are not read.
	if int64(b.Entries) < want || (int64(b.Entries) > want && i+1 < n && bt.First[i+1] <= bt.Entries) {
		return r.basketErrorf(i, "%v: holds %d entries, basket table says %d", rfile.ErrCorrupt, b.Entries, want)
	}
	if r.col.Layout == LayoutFixed && len(b.Data) != b.Entries*r.col.entrySize {
		return r.basketErrorf(i, "%v: %d bytes for %d entries of %d bytes", rfile.ErrCorrupt, len(b.Data), b.Entries, r.col.entrySize)
	}
	full := b.Entries == int(want)
	b.Entries = int(want)
	if noTable {
		b.GenOffsets = true
	}
	if b.GenOffsets {
		if err := r.genOffsets(&b, full); err != nil {
			return r.basketErrorf(i, "%v", err)
		}
	}
	r.cur, r.curIdx = b, i
	return nil
}

// genOffsets computes the entry offsets of a basket written without them
// (ROOT's kGenerateOffsetMap), as ROOT's TLeaf::GenerateOffsetArray does:
// a counted leaf's entry holds its counter's value times the element
// size, so the counter branch is read for the basket's entries. ROOT
// generates offsets for counted leaves only; any other layout without
// offsets is corrupt.
// full says the basket holds no entries past the table's.
func (r *Reader) genOffsets(b *ttree.Basket, full bool) error {
	c := r.col
	if c.Layout != LayoutJagged {
		return fmt.Errorf("%w: entry offsets missing for a branch that cannot regenerate them", rfile.ErrCorrupt)
	}
	// A member of a split collection is counted by its master branch.
	cc, count := c.Master, c.Count
	if cc != nil {
		count = cc.Path
	} else {
		for _, o := range r.file.Cols {
			if o.Path == c.Count {
				cc = o
				break
			}
		}
	}
	if cc == nil || cc.Layout != LayoutFixed || len(cc.dims) != 0 || cc.enc < EncI8 || cc.enc > EncU64 {
		return fmt.Errorf("basket stores no entry offsets and its counter branch %q cannot give them", rfile.SafeText(count))
	}
	r.counterReader(cc)
	n := b.Entries
	if cap(r.bufs.Offsets) < n+1 {
		r.bufs.Offsets = make([]int32, n+1)
	}
	offs := r.bufs.Offsets[:n+1]
	elem := int64(c.elemsPerItem() * c.enc.diskSize(c.pack))
	size := cc.enc.diskSize(cc.pack)
	end := int64(len(b.Data))
	pos := int64(0)
	for k := range n {
		e := b.First + int64(k)
		if err := r.counter.load(e); err != nil {
			return err
		}
		at := int(e-r.counter.cur.First)*cc.entrySize + cc.leafOffset
		v := countValue(cc.enc, r.counter.cur.Data[at:at+size])
		offs[k] = int32(pos)
		if v < 0 || v > end || pos+v*elem > end {
			return fmt.Errorf("%w: counter %q gives %d elements at entry %d, past the basket's %d bytes", rfile.ErrCorrupt, rfile.SafeText(count), v, e, end)
		}
		pos += v * elem
	}
	// The basket may hold entries past the tree's count (load reads
	// only the ones the table gives it); all of them must fill it.
	if pos != end && full {
		return fmt.Errorf("%w: counter %q gives %d bytes of entries, the basket holds %d", rfile.ErrCorrupt, rfile.SafeText(count), pos, end)
	}
	offs[n] = int32(pos)
	b.Offsets = offs
	return nil
}

// countValue reads a counter's big-endian integer.
func countValue(enc Encoding, b []byte) int64 {
	switch enc {
	case EncI8:
		return int64(int8(b[0]))
	case EncU8:
		return int64(b[0])
	case EncI16:
		return int64(int16(binary.BigEndian.Uint16(b)))
	case EncU16:
		return int64(binary.BigEndian.Uint16(b))
	case EncI32:
		return int64(int32(binary.BigEndian.Uint32(b)))
	case EncU32:
		return int64(binary.BigEndian.Uint32(b))
	case EncI64:
		return int64(binary.BigEndian.Uint64(b))
	case EncU64:
		if v := binary.BigEndian.Uint64(b); v <= math.MaxInt64 {
			return int64(v)
		}
	}
	return -1
}

// basketEnd is the entry after the last one that basket i holds.
func (r *Reader) basketEnd(i int) int64 {
	bt := &r.col.Baskets
	end := bt.Entries
	if i+1 < len(bt.First) && bt.First[i+1] > bt.First[i] {
		end = min(end, bt.First[i+1])
	}
	return end
}

// basketErrorf is an error in basket i of the column: it names the file,
// the tree, the branch, the basket and the entries it holds. Like every
// error of the decoder it speaks as read_root, the SQL function its
// caller is and whose messages users and tests see.
func (r *Reader) basketErrorf(i int, format string, args ...any) error {
	first := r.col.Baskets.First[i]
	return fmt.Errorf("read_root: %s: tree %q, branch %q, basket %d (entries %d–%d): %s",
		r.file.Path, r.file.Tree, r.col.Name, i, first, r.basketEnd(i)-1, fmt.Sprintf(format, args...))
}

// errorf is an error at entry: it names the file, the tree, the branch and,
// when the entry is in the current basket, the basket.
func (r *Reader) errorf(entry int64, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if r.curIdx >= 0 && entry >= r.cur.First && entry < r.cur.First+int64(r.cur.Entries) {
		return r.basketErrorf(r.curIdx, "entry %d: %s", entry, msg)
	}
	return fmt.Errorf("read_root: %s: tree %q, branch %q, entry %d: %s", r.file.Path, r.file.Tree, r.col.Name, entry, msg)
}

// segments calls fn for each run of entries [entry, entry+n) that lies in one
// basket, with the run's first row in the output chunk.
func (r *Reader) segments(entry int64, n int, fn func(row, k int, first int) error) error {
	row := 0
	for row < n {
		e := entry + int64(row)
		if err := r.load(e); err != nil {
			return err
		}
		first := int(e - r.cur.First)
		k := min(n-row, r.cur.Entries-first)
		if err := fn(row, k, first); err != nil {
			return err
		}
		row += k
	}
	return nil
}

// Fill writes entries [entry, entry+n) into rows [0, n) of v.
func (r *Reader) Fill(v Vector, entry int64, n int) error {
	c := r.col
	switch c.Layout {
	case LayoutFixed:
		per := c.elemsPerItem()
		dst := leafVector(v, len(c.dims))
		out := dst.Bytes(n * per * outSize(c.enc))
		return r.segments(entry, n, func(row, k, first int) error {
			src := r.cur.Data[first*c.entrySize:]
			if c.entrySize == per*c.enc.diskSize(c.pack) && c.leafOffset == 0 {
				return decodeElems(c.enc, c.pack, out[row*per*outSize(c.enc):], src, k*per)
			}
			// Leaf lists interleave their leaves entry by entry.
			for i := range k {
				e := src[i*c.entrySize+c.leafOffset:]
				if err := decodeElems(c.enc, c.pack, out[(row+i)*per*outSize(c.enc):], e, per); err != nil {
					return err
				}
			}
			return nil
		})
	case LayoutJagged, LayoutVector, LayoutPtrArray:
		return r.fillList(v, entry, n)
	case LayoutVecVec:
		return r.fillVecVec(v, entry, n)
	case LayoutString:
		return r.fillStrings(v, entry, n)
	case LayoutVecString:
		return r.fillVecStrings(v, entry, n)
	case LayoutVecVecString:
		return r.fillVecVecStrings(v, entry, n)
	case LayoutObject:
		return r.fillObjects(v, entry, n)
	case LayoutObjectList:
		return r.fillObjectLists(v, entry, n)
	case LayoutLeafListVar:
		return r.fillLeafListVar(v, entry, n)
	case LayoutMap:
		return r.fillMaps(v, entry, n)
	case LayoutBitsList:
		return r.fillBitsList(v, entry, n)
	case LayoutStringList:
		return r.fillStringList(v, entry, n)
	}
	return fmt.Errorf("read_root: branch %q cannot be read: %s", c.Name, c.Why)
}

// leafVector descends through the ARRAY levels of a fixed-size type to the
// vector holding the primitive elements.
func leafVector(v Vector, levels int) Vector {
	for range levels {
		v = v.ArrayChild()
	}
	return v
}

// outSize is the in-memory size of a decoded element.
func outSize(e Encoding) int {
	switch e {
	case EncBool, EncI8, EncU8:
		return 1
	case EncI16, EncU16:
		return 2
	case EncI32, EncU32, EncF32, EncF16:
		return 4
	}
	return 8
}

// entryBytes returns the bytes of entry first of the current basket.
func (r *Reader) entryBytes(first int) []byte {
	o := r.cur.Offsets
	return r.cur.Data[o[first]:o[first+1]]
}

// vectorBody strips the byte-count and version header that ROOT writes
// before a streamed std::vector, and returns its length and elements.
func vectorBody(b []byte) (n int, body []byte, err error) {
	if len(b) >= 6 && binary.BigEndian.Uint32(b)&0x40000000 != 0 {
		b = b[6:]
	}
	if len(b) < 4 {
		return 0, nil, fmt.Errorf("%w: vector of %d bytes", rfile.ErrCorrupt, len(b))
	}
	n = int(int32(binary.BigEndian.Uint32(b)))
	if n < 0 {
		return 0, nil, fmt.Errorf("%w: vector length %d", rfile.ErrCorrupt, n)
	}
	return n, b[4:], nil
}

// ptrArrayBody reads the entry of a pointer member's branch: a flag byte,
// 1 when the elements follow (their count is the entry's remaining bytes,
// which ROOT sized by the count member), 0 for a null or empty array with
// nothing after it.
func ptrArrayBody(b []byte, itemDisk int) (n int, body []byte, err error) {
	switch {
	case len(b) == 0:
		return 0, nil, fmt.Errorf("%w: pointer member's entry holds no flag byte", rfile.ErrCorrupt)
	case b[0] == 0 && len(b) == 1:
		return 0, nil, nil
	case b[0] != 1:
		return 0, nil, fmt.Errorf("%w: pointer member's flag byte is %d (%d bytes)", rfile.ErrCorrupt, b[0], len(b))
	case (len(b)-1)%itemDisk != 0:
		return 0, nil, fmt.Errorf("%w: %d bytes after the flag is not a whole number of %d-byte items", rfile.ErrCorrupt, len(b)-1, itemDisk)
	}
	return (len(b) - 1) / itemDisk, b[1:], nil
}

// fillList writes a LIST column whose elements are fixed-size items.
func (r *Reader) fillList(v Vector, entry int64, n int) error {
	return r.fillListTo(v, -1, nil, entry, n)
}

// fillListTo writes the items of entries [entry, entry+n) into v, a LIST
// vector. field < 0: v is the column's own list. field >= 0: v is a LIST
// of STRUCTs (a nested collection, FillNested) and the items go to that
// field of its child. lead == nil: r writes v's list entries, reserves
// the child rows and sets the list's size. Otherwise lead, another
// member of the collection, has written them for these rows: r computes
// its own entries aside, and an entry whose element count differs from
// lead's is an error naming the file, the branch and the entry.
func (r *Reader) fillListTo(v Vector, field int, lead *Reader, entry int64, n int) error {
	c := r.col
	per := c.elemsPerItem()
	itemDisk := per * c.enc.diskSize(c.pack)
	itemOut := per * outSize(c.enc)
	entries := v.Lists(n)
	ents, total := entries, v.ListSize()
	if lead != nil {
		if cap(r.ents) < n {
			r.ents = make([]ListEntry, n)
		}
		ents, total = r.ents[:n], int(entries[0].Offset)
	}
	return r.segments(entry, n, func(row, k, first int) error {
		// First pass: sizes, so the child is reserved once per segment.
		segItems := 0
		if c.Layout == LayoutJagged && itemDisk > 0 && itemDisk&(itemDisk-1) == 0 {
			// NanoAOD's case, every jagged branch of every file: sizes by
			// shifting entry offsets (a division per entry was ~6% of Q5).
			o := r.cur.Offsets[first : first+k+1]
			end, bad := jaggedEntries(ents[row:row+k], o, itemDisk, uint64(total))
			if bad >= 0 {
				return r.errorf(r.cur.First+int64(first+bad), "%v: %d bytes is not a whole number of %d-byte items", rfile.ErrCorrupt, o[bad+1]-o[bad], itemDisk)
			}
			segItems = int(end) - total
		} else {
			for i := range k {
				b := r.entryBytes(first + i)
				items := 0
				if c.Layout == LayoutVector {
					m, body, err := vectorBody(b)
					if err != nil {
						return r.errorf(r.cur.First+int64(first+i), "%v", err)
					}
					if m*itemDisk > len(body) {
						return r.errorf(r.cur.First+int64(first+i), "%v: vector of %d elements in %d bytes", rfile.ErrCorrupt, m, len(body))
					}
					items = m
				} else if c.Layout == LayoutPtrArray {
					m, _, err := ptrArrayBody(b, itemDisk)
					if err != nil {
						return r.errorf(r.cur.First+int64(first+i), "%v", err)
					}
					items = m
				} else {
					if len(b)%itemDisk != 0 {
						return r.errorf(r.cur.First+int64(first+i), "%v: %d bytes is not a whole number of %d-byte items", rfile.ErrCorrupt, len(b), itemDisk)
					}
					items = len(b) / itemDisk
				}
				ents[row+i] = ListEntry{Offset: uint64(total + segItems), Length: uint64(items)}
				segItems += items
			}
		}
		// A split collection's member: its counts must be its master's.
		if c.Master != nil {
			if err := r.checkMasterCounts(first, ents[row:row+k]); err != nil {
				return err
			}
		}
		if lead == nil {
			if err := v.ListReserve(total + segItems); err != nil {
				return err
			}
		} else if bad := firstMismatch(ents[row:row+k], entries[row:row+k]); bad >= 0 {
			count := c.Count
			if c.Master != nil {
				count = c.Master.Path
			}
			return r.errorf(r.cur.First+int64(first+bad), "%d elements, but branch %q of the same collection has %d (both counted by %q): the collection's fields would not line up",
				ents[row+bad].Length, lead.col.Name, entries[row+bad].Length, rfile.SafeText(count))
		}
		child := v.ListChild()
		if field >= 0 {
			child = child.StructChild(field)
		}
		child = leafVector(child, len(c.dims))
		out := child.Bytes((total + segItems) * itemOut)
		if c.Layout == LayoutJagged {
			// The segment's entries are contiguous whole items on disk and
			// in the child vector: decode them in one call, not per entry.
			o := r.cur.Offsets
			if err := decodeElems(c.enc, c.pack, out[total*itemOut:], r.cur.Data[o[first]:o[first+k]], segItems*per); err != nil {
				return err
			}
		} else {
			for i := range k {
				b := r.entryBytes(first + i)
				switch c.Layout {
				case LayoutVector:
					_, b, _ = vectorBody(b)
				case LayoutPtrArray:
					_, b, _ = ptrArrayBody(b, itemDisk)
				}
				e := ents[row+i]
				if err := decodeElems(c.enc, c.pack, out[int(e.Offset)*itemOut:], b, int(e.Length)*per); err != nil {
					return err
				}
			}
		}
		total += segItems
		if lead != nil {
			return nil
		}
		return v.ListSetSize(total)
	})
}

// firstMismatch is the first row whose element count differs between a
// and b, or -1.
func firstMismatch(a, b []ListEntry) int {
	for i := range a {
		if a[i].Length != b[i].Length {
			return i
		}
	}
	return -1
}

// jaggedEntries writes the list entries of a jagged branch's entries from
// their byte offsets o (one more than ents), items of itemDisk bytes (a
// power of two) from child row at on; it returns the child row after the
// last, and the first entry whose size is not a whole number of items, or
// -1. A function of its own, not part of fillList's closure, so that the
// loop keeps its variables in registers (the closure's spilled ones were
// reloaded per entry: ~half of fillList's time in ADL Q5); inlined, it
// would be part of the closure again.
//
//go:noinline
func jaggedEntries(ents []ListEntry, o []int32, itemDisk int, at uint64) (uint64, int) {
	shift := uint(bits.TrailingZeros(uint(itemDisk)))
	mask := int32(itemDisk - 1)
	o = o[:len(ents)+1]
	for i := range ents {
		nb := o[i+1] - o[i]
		if nb&mask != 0 {
			return at, i
		}
		items := uint64(nb) >> shift
		ents[i] = ListEntry{Offset: at, Length: items}
		at += items
	}
	return at, -1
}

// fillVecVec writes std::vector<std::vector<T>> as T[][]. Each segment is
// read twice: once for the sizes, so both list levels are reserved once, then
// for the values.
func (r *Reader) fillVecVec(v Vector, entry int64, n int) error {
	c := r.col
	size := c.enc.diskSize(c.pack)
	osz := outSize(c.enc)
	outer := v.Lists(n)
	return r.segments(entry, n, func(row, k, first int) error {
		lens := r.counts[:0] // per entry: m, then the m inner lengths
		nInner, nLeaf := 0, 0
		for i := range k {
			e := r.cur.First + int64(first+i)
			m, body, err := vectorBody(r.entryBytes(first + i))
			if err != nil {
				return r.errorf(e, "%v", err)
			}
			if m > len(body)/4 {
				return r.errorf(e, "%v: %d inner vectors in %d bytes", rfile.ErrCorrupt, m, len(body))
			}
			lens = append(lens, m)
			pos := 0
			for range m {
				if pos+4 > len(body) {
					return r.errorf(e, "%v: inner vector header past the entry", rfile.ErrCorrupt)
				}
				l := int(int32(binary.BigEndian.Uint32(body[pos:])))
				if l < 0 || pos+4+l*size > len(body) {
					return r.errorf(e, "%v: inner vector of %d elements past the entry", rfile.ErrCorrupt, l)
				}
				lens = append(lens, l)
				pos += 4 + l*size
				nLeaf += l
			}
			nInner += m
		}
		r.counts = lens
		innerBase := v.ListSize()
		if err := v.ListReserve(innerBase + nInner); err != nil {
			return err
		}
		inner := v.ListChild()
		leafBase := inner.ListSize()
		if err := inner.ListReserve(leafBase + nLeaf); err != nil {
			return err
		}
		innerEntries := inner.Lists(innerBase + nInner)
		out := inner.ListChild().Bytes((leafBase + nLeaf) * osz)
		at, li, leafAt := innerBase, 0, leafBase
		for i := range k {
			_, body, _ := vectorBody(r.entryBytes(first + i))
			m := lens[li]
			li++
			outer[row+i] = ListEntry{Offset: uint64(at), Length: uint64(m)}
			pos := 0
			for range m {
				l := lens[li]
				li++
				innerEntries[at] = ListEntry{Offset: uint64(leafAt), Length: uint64(l)}
				if err := decodeElems(c.enc, c.pack, out[leafAt*osz:], body[pos+4:], l); err != nil {
					return err
				}
				pos += 4 + l*size
				at++
				leafAt += l
			}
		}
		if err := inner.ListSetSize(leafAt); err != nil {
			return err
		}
		return v.ListSetSize(at)
	})
}

// readString reads one length-prefixed string at the start of b.
func readString(b []byte) (s []byte, rest []byte, err error) {
	if len(b) < 1 {
		return nil, nil, fmt.Errorf("%w: empty string field", rfile.ErrCorrupt)
	}
	n, hdr := int(b[0]), 1
	if n == 255 {
		if len(b) < 5 {
			return nil, nil, fmt.Errorf("%w: long string header truncated", rfile.ErrCorrupt)
		}
		n, hdr = int(int32(binary.BigEndian.Uint32(b[1:]))), 5
	}
	if n < 0 || hdr+n > len(b) {
		return nil, nil, fmt.Errorf("%w: string of %d bytes past the entry", rfile.ErrCorrupt, n)
	}
	return b[hdr : hdr+n], b[hdr+n:], nil
}

func (r *Reader) fillStrings(v Vector, entry int64, n int) error {
	r.strs, r.ends = r.strs[:0], r.ends[:0]
	err := r.segments(entry, n, func(row, k, first int) error {
		for i := range k {
			b := r.entryBytes(first + i)
			if r.col.strHeader {
				if len(b) < 6 || binary.BigEndian.Uint32(b)&0x40000000 == 0 {
					return r.errorf(r.cur.First+int64(first+i), "%v: std::string without its byte-count header", rfile.ErrCorrupt)
				}
				b = b[6:]
			}
			var s []byte
			if r.col.element || len(b) > 0 {
				var err error
				if s, _, err = readString(b); err != nil {
					return r.errorf(r.cur.First+int64(first+i), "%v", err)
				}
			}
			r.strs = append(r.strs, s...)
			r.ends = append(r.ends, uint64(len(r.strs)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	v.AssignStrings(0, r.strs, r.ends)
	return nil
}

func (r *Reader) fillVecStrings(v Vector, entry int64, n int) error {
	r.strs, r.ends = r.strs[:0], r.ends[:0]
	entries := v.Lists(n)
	base := v.ListSize()
	err := r.segments(entry, n, func(row, k, first int) error {
		for i := range k {
			e := r.cur.First + int64(first+i)
			m, body, err := vectorBody(r.entryBytes(first + i))
			if err != nil {
				return r.errorf(e, "%v", err)
			}
			if m > len(body) {
				return r.errorf(e, "%v: %d strings in %d bytes", rfile.ErrCorrupt, m, len(body))
			}
			entries[row+i] = ListEntry{Offset: uint64(base + len(r.ends)), Length: uint64(m)}
			if _, err := r.appendStrings(body, m); err != nil {
				return r.errorf(e, "%v", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.assignStringList(v, base)
}

// appendStrings reads m length-prefixed strings from body into r.strs
// and r.ends, and returns the bytes after them.
func (r *Reader) appendStrings(body []byte, m int) ([]byte, error) {
	for range m {
		s, rest, err := readString(body)
		if err != nil {
			return nil, err
		}
		r.strs = append(r.strs, s...)
		r.ends = append(r.ends, uint64(len(r.strs)))
		body = rest
	}
	return body, nil
}

// fillVecVecStrings writes std::vector<std::vector<std::string>> (inner
// sets and TStrings alike) as VARCHAR[][]: after the outer vector's
// header, its length, then per inner vector its length and its strings,
// the inner ones without a header of their own, as for vector<vector<T>>.
// The strings and the inner list entries are gathered first, so each
// level is reserved once per chunk.
func (r *Reader) fillVecVecStrings(v Vector, entry int64, n int) error {
	r.strs, r.ends, r.inner = r.strs[:0], r.ends[:0], r.inner[:0]
	outer := v.Lists(n)
	innerBase := v.ListSize()
	strBase := v.ListChild().ListSize()
	err := r.segments(entry, n, func(row, k, first int) error {
		for i := range k {
			e := r.cur.First + int64(first+i)
			m, body, err := vectorBody(r.entryBytes(first + i))
			if err != nil {
				return r.errorf(e, "%v", err)
			}
			if m > len(body)/4 {
				return r.errorf(e, "%v: %d inner vectors in %d bytes", rfile.ErrCorrupt, m, len(body))
			}
			outer[row+i] = ListEntry{Offset: uint64(innerBase + len(r.inner)), Length: uint64(m)}
			for range m {
				if len(body) < 4 {
					return r.errorf(e, "%v: inner vector header past the entry", rfile.ErrCorrupt)
				}
				l := int(int32(binary.BigEndian.Uint32(body)))
				body = body[4:]
				if l < 0 || l > len(body) {
					return r.errorf(e, "%v: inner vector of %d strings past the entry", rfile.ErrCorrupt, l)
				}
				r.inner = append(r.inner, ListEntry{Offset: uint64(strBase + len(r.ends)), Length: uint64(l)})
				if body, err = r.appendStrings(body, l); err != nil {
					return r.errorf(e, "%v", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	total := innerBase + len(r.inner)
	if err := v.ListReserve(total); err != nil {
		return err
	}
	inner := v.ListChild()
	copy(inner.Lists(total)[innerBase:], r.inner)
	if err := r.assignStringList(inner, strBase); err != nil {
		return err
	}
	return v.ListSetSize(total)
}

// decodeElems converts count big-endian elements of src into native values
// in dst. It is the hot loop of the reader: one tight loop per Encoding.
func decodeElems(e Encoding, p packing, dst, src []byte, count int) error {
	in := count * e.diskSize(p)
	if in > len(src) || count*outSize(e) > len(dst) {
		return fmt.Errorf("%w: %d elements need %d bytes, entry has %d", rfile.ErrCorrupt, count, in, len(src))
	}
	switch e {
	case EncBool:
		for i := range count {
			dst[i] = b2u8(src[i] != 0)
		}
	case EncI8, EncU8:
		copy(dst[:count], src[:count])
	case EncI16, EncU16:
		swap16(dst[:2*count], src[:2*count])
	case EncI32, EncU32, EncF32:
		swap32(dst[:4*count], src[:4*count])
	case EncI64, EncU64, EncF64:
		swap64(dst[:8*count], src[:8*count])
	case EncF16:
		for i := range count {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(unpackFloat(p, src, i)))
		}
	case EncD32:
		for i := range count {
			var f float64
			if p.factor == 0 && p.nbits == 0 {
				f = float64(math.Float32frombits(binary.BigEndian.Uint32(src[4*i:])))
			} else {
				f = float64(unpackFloat(p, src, i))
				if p.factor != 0 {
					f = float64(binary.BigEndian.Uint32(src[4*i:]))/p.factor + p.xmin
				}
			}
			binary.LittleEndian.PutUint64(dst[8*i:], math.Float64bits(f))
		}
	}
	return nil
}

// unpackFloat decodes element i of a Float16_t/Double32_t array stored with
// a range (4-byte integer scaled by factor) or with truncated mantissa bits
// (1-byte exponent, 2-byte mantissa with the sign above it).
func unpackFloat(p packing, src []byte, i int) float32 {
	if p.factor != 0 {
		return float32(float64(binary.BigEndian.Uint32(src[4*i:]))/p.factor + p.xmin)
	}
	nbits := p.nbits
	if nbits == 0 {
		nbits = 12
	}
	exp := uint32(src[3*i])
	man := uint32(binary.BigEndian.Uint16(src[3*i+1:]))
	bits := exp<<23 | (man&(1<<(nbits+1)-1))<<(23-nbits)
	f := math.Float32frombits(bits)
	if man&(1<<(nbits+1)) != 0 {
		f = -f
	}
	return f
}

func b2u8(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// swap16, swap32 and swap64 turn big-endian elements into little-endian
// ones, a whole number of them (a trailing partial element is left alone).
// They move 8 bytes a step, reversed as one word and then rotated or
// masked back into element order, with bounds checked once per step: 4.5x
// the speed of a 4-byte step on the CMS sample's float baskets
// (BenchmarkSwap32).
func swap16(dst, src []byte) {
	n := len(src) &^ 1
	d, s := dst[:n], src[:n]
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := binary.LittleEndian.Uint64(s[i : i+8])
		v = (v&0x00ff00ff00ff00ff)<<8 | (v>>8)&0x00ff00ff00ff00ff
		binary.LittleEndian.PutUint64(d[i:i+8], v)
	}
	for ; i+2 <= len(s); i += 2 {
		binary.LittleEndian.PutUint16(d[i:i+2], binary.BigEndian.Uint16(s[i:i+2]))
	}
}

func swap32(dst, src []byte) {
	n := len(src) &^ 3
	d, s := dst[:n], src[:n]
	i := 0
	for ; i+8 <= len(s); i += 8 {
		binary.LittleEndian.PutUint64(d[i:i+8], bits.RotateLeft64(binary.BigEndian.Uint64(s[i:i+8]), 32))
	}
	if i+4 <= len(s) {
		binary.LittleEndian.PutUint32(d[i:i+4], binary.BigEndian.Uint32(s[i:i+4]))
	}
}

func swap64(dst, src []byte) {
	n := len(src) &^ 7
	d, s := dst[:n], src[:n]
	for i := 0; i+8 <= len(s); i += 8 {
		binary.LittleEndian.PutUint64(d[i:i+8], binary.BigEndian.Uint64(s[i:i+8]))
	}
}

// assignStringList writes the strings gathered in r.strs and r.ends as the
// elements of v's list child from row base on, the entries already set.
func (r *Reader) assignStringList(v Vector, base int) error {
	total := base + len(r.ends)
	if err := v.ListReserve(total); err != nil {
		return err
	}
	v.ListChild().AssignStrings(base, r.strs, r.ends)
	return v.ListSetSize(total)
}
