package rntconform

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/hepsql/hepsql/rootio/compress"
	"github.com/zeebo/xxh3"
)

// clusterCol is what a page list says of one column in one cluster.
type clusterCol struct {
	elements   int64
	offset     int64
	suppressed bool
	compress   uint32
	pages      [][]byte // inflated
	counts     []int64  // elements per page
}

// pageList checks one page-list envelope and returns the entries its
// clusters hold.
func (c *checker) pageList(env []byte, nt *NTuple, firstCluster, nclusters int, minEntry, span int64, hsum uint64, what string, strict bool) int64 {
	r := &le{b: env[:len(env)-8], pos: 8}
	if s := r.u64(); s != hsum {
		c.errorf("%s: header checksum %016x, header's %016x", what, s, hsum)
	}
	end, n := c.frame(r, true, what+" cluster summaries")
	if n != nclusters {
		c.errorf("%s: %d cluster summaries, the group says %d clusters", what, n, nclusters)
	}
	type summary struct{ first, entries int64 }
	var sums []summary
	next := minEntry
	for i := range n {
		w := fmt.Sprintf("%s cluster %d", what, firstCluster+i)
		send, _ := c.frame(r, false, w)
		first := int64(r.u64())
		word := r.u64()
		entries, flags := int64(word&(1<<56-1)), word>>56
		c.endFrame(r, send, w, strict)
		if flags&1 != 0 {
			c.errorf("%s: sharded-cluster flag set", w)
		}
		if first != next {
			c.errorf("%s: first entry %d, the clusters before end at %d", w, first, next)
		}
		next = first + entries
		sums = append(sums, summary{first, entries})
	}
	c.endFrame(r, end, what+" cluster summaries", strict)
	if next-minEntry != span {
		c.errorf("%s: clusters span %d entries, the group says %d", what, next-minEntry, span)
	}
	end, n = c.frame(r, true, what+" page locations")
	if n != len(sums) {
		c.errorf("%s: page locations for %d clusters, %d summaries", what, n, len(sums))
	}
	for ci := 0; ci < n && !r.bad; ci++ {
		w := fmt.Sprintf("%s cluster %d", what, firstCluster+ci)
		cend, ncols := c.frame(r, true, w+" columns")
		// A page list written before the schema was extended lists only
		// the columns known then (ROOT does so); the others must be
		// extension columns.
		if ncols > len(nt.Columns) || ncols < nt.headerColumns {
			c.errorf("%s: %d columns in the page list, %d in the schema (%d in the header)", w, ncols, len(nt.Columns), nt.headerColumns)
		}
		cols := make([]clusterCol, max(ncols, len(nt.Columns)))
		blobPages := map[int64]int{}
		var zipped int64
		for col := 0; col < ncols && !r.bad; col++ {
			cw := fmt.Sprintf("%s column %d", w, col)
			pend, npages := c.frame(r, true, cw)
			cc := &cols[col]
			var pages [][2]int64
			var counts []int64
			var sums []bool
			for range npages {
				ne := int32(r.u32())
				loc := c.locator(r, cw)
				sum := ne < 0
				if sum {
					ne = -ne
				}
				if ne == 0 {
					c.errorf("%s: a page of no elements", cw)
				}
				pages = append(pages, loc)
				zipped += loc[0]
				counts = append(counts, int64(ne))
				sums = append(sums, sum)
			}
			cc.offset = int64(r.u64())
			if cc.offset < 0 {
				cc.suppressed = true
				if npages != 0 {
					c.errorf("%s: suppressed with %d pages", cw, npages)
				}
				if strict && uint64(cc.offset) != 1<<63 {
					c.errorf("%s: suppressed column's offset %d, writers write the lowest int64", cw, cc.offset)
				}
			} else {
				cc.compress = r.u32()
				nt.Compressions[cc.compress]++
			}
			c.endFrame(r, pend, cw, strict)
			if r.bad || col >= len(nt.Columns) {
				break
			}
			for p, loc := range pages {
				pw := fmt.Sprintf("%s page %d", cw, p)
				data := c.page(nt, col, loc, counts[p], sums[p], cc.compress, pw, blobPages)
				cc.pages = append(cc.pages, data)
				cc.counts = append(cc.counts, counts[p])
				cc.elements += counts[p]
			}
		}
		c.endFrame(r, cend, w+" columns", strict)
		perCol := make([][]int64, ncols)
		for col := range min(ncols, len(cols)) {
			perCol[col] = cols[col].counts
		}
		nt.PageElements = append(nt.PageElements, perCol)
		nt.ClusterZipped = append(nt.ClusterZipped, zipped)
		for _, k := range blobPages {
			nt.BlobsPerKey = append(nt.BlobsPerKey, k)
		}
		if ci < len(sums) && ncols == len(nt.Columns) {
			c.clusterCounts(nt, cols, sums[ci].entries, w, strict)
		}
	}
	c.endFrame(r, end, what+" page locations", strict)
	if r.bad {
		c.errorf("%s: truncated", what)
	} else if r.pos != len(r.b) && strict {
		c.errorf("%s: %d bytes after the page locations", what, len(r.b)-r.pos)
	}
	return next - minEntry
}

// page checks one page: inside an RBlob, its checksum, its inflated
// length against elements × bits.
func (c *checker) page(nt *NTuple, col int, loc [2]int64, n int64, sum bool, settings uint32, what string, perBlob map[int64]int) []byte {
	size := loc[0]
	bits := int64(nt.Columns[col].Bits)
	length := (n*bits + 7) / 8
	if sum {
		size += 8
		length += 8
	}
	stored, ok := c.blobRange(loc[1], size, length, "page "+what)
	if !ok {
		return nil
	}
	for i := range c.rep.Keys {
		if k := c.rep.Keys[i]; k.Class == "RBlob" && loc[1] >= k.payloadFrom && loc[1] < k.payloadTo {
			perBlob[k.Seek]++
			break
		}
	}
	nt.Pages++
	if sum {
		nt.PageChecksum++
		data := stored[:loc[0]]
		if got, want := xxh3.Hash(data), binary.LittleEndian.Uint64(stored[loc[0]:]); got != want {
			c.errorf("%s: page XXH3 %016x stored, %016x computed", what, want, got)
		}
		stored = data
	}
	if sum {
		length -= 8
	}
	if length == int64(len(stored)) {
		return stored
	}
	if settings%100 == 0 {
		c.errorf("%s: compressed (%d of %d bytes) in a column whose settings are %d", what, len(stored), length, settings)
	}
	alg := c.checkBlocks(stored, what)
	want := map[uint32]string{1: "ZL", 2: "XZ", 4: "L4", 5: "ZS"}[settings/100]
	if alg != want {
		c.errorf("%s: blocks of %q, settings %d", what, alg, settings)
	}
	out := make([]byte, length)
	if err := compress.Decompress(out, stored); err != nil {
		c.errorf("%s: %v", what, err)
		return nil
	}
	return out
}

// indexValues decodes an (Split)Index32/64 column's pages: the
// cumulative offsets, relative to the cluster.
func indexValues(col Column, pages [][]byte) []uint64 {
	var out []uint64
	w := int(col.Bits / 8)
	split := col.Type == 0x1A || col.Type == 0x1B
	for _, p := range pages {
		n := len(p) / w
		var prev uint64
		for i := range n {
			v := element(p, n, w, i, split)
			if split && i > 0 {
				v += prev
			}
			prev = v
			out = append(out, v)
		}
	}
	return out
}

// clusterCounts checks the element counts of a cluster's columns
// against the schema: a top-level leaf has one element per entry, a
// collection's children as many as its last offset, an array's N per
// parent element.
func (c *checker) clusterCounts(nt *NTuple, cols []clusterCol, entries int64, what string, strict bool) {
	// Elements of each field's primary representation.
	byField := map[uint32][]int{}
	for id, col := range nt.Columns {
		byField[col.Field] = append(byField[col.Field], id)
	}
	// repeats[f]: how many values field f holds in this cluster.
	repeats := make([]int64, len(nt.Fields))
	kids := make([][]int, len(nt.Fields))
	for id, f := range nt.Fields {
		if int(f.Parent) != id && int(f.Parent) < len(nt.Fields) {
			kids[f.Parent] = append(kids[f.Parent], id)
		}
	}
	for id := range nt.Fields {
		f := nt.Fields[id]
		if f.Flags&fieldProjected != 0 {
			repeats[id] = -1
			continue
		}
		if int(f.Parent) == id {
			repeats[id] = entries
		} else {
			p := nt.Fields[f.Parent]
			pr := repeats[f.Parent]
			switch {
			case pr < 0:
				repeats[id] = -1
			case p.Role == roleCollection:
				ids := byField[f.Parent]
				repeats[id] = -1
				for _, k := range ids {
					if isIndex(nt.Columns[k].Type) && !cols[k].suppressed {
						v := indexValues(nt.Columns[k], cols[k].pages)
						if int64(len(v)) != cols[k].elements {
							repeats[id] = -1 // pages did not inflate
						} else if len(v) > 0 {
							repeats[id] = int64(v[len(v)-1])
						} else {
							repeats[id] = 0
						}
						break
					}
				}
			case p.Flags&fieldRepetitive != 0:
				repeats[id] = pr * int64(p.ArraySize)
			case p.Role == roleVariant:
				// Alternative k holds as many items as entries tagged k+1
				// (tags 1..n, 0 none); each index points inside them.
				repeats[id] = -1
				k := -1
				for i, sib := range kids[f.Parent] {
					if sib == id {
						k = i
					}
				}
				for _, ci := range byField[f.Parent] {
					if nt.Columns[ci].Type != 0x10 || cols[ci].suppressed || int64(len(concat(cols[ci].pages))) != 12*cols[ci].elements {
						continue
					}
					sw := concat(cols[ci].pages)
					var count int64
					var maxIdx int64 = -1
					for e := 0; e+12 <= len(sw); e += 12 {
						tag := int(binary.LittleEndian.Uint32(sw[e+8:]))
						if tag > len(kids[f.Parent]) {
							c.errorf("%s: variant %q: tag %d", what, p.Name, tag)
						}
						if tag == k+1 {
							count++
							maxIdx = max(maxIdx, int64(binary.LittleEndian.Uint64(sw[e:])))
						}
					}
					if maxIdx >= count {
						c.errorf("%s: variant %q alternative %d: index %d of %d items", what, p.Name, k, maxIdx, count)
					}
					repeats[id] = count
					break
				}
			default:
				repeats[id] = pr
			}
		}
		r := repeats[id]
		if r < 0 {
			continue
		}
		// The values, for hepsql's files (the tests compare them with
		// what was written), up to a million a column and cluster.
		if ids := byField[uint32(id)]; strict && r <= 1<<20 && int(f.Parent) == id && f.Role == roleLeaf && len(ids) > 0 && len(kids[id]) == 0 {
			for _, k := range ids {
				if cols[k].suppressed {
					continue
				}
				if f.Type == "std::string" && k+1 < len(cols) { // offsets, then characters
					offs := decodeColumn(nt.Columns[k], cols[k].pages, cols[k].counts)
					chars := decodeColumn(nt.Columns[k+1], cols[k+1].pages, cols[k+1].counts)
					var prev uint64
					for _, o := range offs {
						end := o.(uint64)
						if end < prev || end > uint64(len(chars)) {
							c.errorf("%s: string %q: offset %d after %d of %d characters", what, f.Name, end, prev, len(chars))
							break
						}
						b := make([]byte, 0, end-prev)
						for _, ch := range chars[prev:end] {
							b = append(b, byte(ch.(uint64)))
						}
						if nt.TopValues == nil {
							nt.TopValues = map[string][]any{}
						}
						nt.TopValues[f.Name] = append(nt.TopValues[f.Name], string(b))
						prev = end
					}
					break
				}
				if v := decodeColumn(nt.Columns[k], cols[k].pages, cols[k].counts); int64(len(v)) == cols[k].elements {
					if nt.TopValues == nil {
						nt.TopValues = map[string][]any{}
					}
					nt.TopValues[f.Name] = append(nt.TopValues[f.Name], v...)
				}
				break
			}
		}
		for _, k := range byField[uint32(id)] {
			col := nt.Columns[k]
			want := r
			if f.Flags&fieldRepetitive != 0 && col.Type == 0x00 { // bitset
				want = r * int64(f.ArraySize)
			}
			if col.Type == 0x02 && f.Type == "std::string" || k != byField[uint32(id)][0] && f.Role == roleStreamer {
				// The characters: as many as the index column's last offset.
				v := indexValues(nt.Columns[k-1], cols[k-1].pages)
				want = 0
				if len(v) > 0 {
					want = int64(v[len(v)-1])
				}
			}
			if col.Flags&colDeferred != 0 {
				continue // elements before the first are not in the page list
			}
			if cols[k].suppressed {
				continue
			}
			if cols[k].elements != want {
				c.errorf("%s: column %d (%s of %q) has %d elements, the schema says %d", what, k, ColumnNames[col.Type], f.Name, cols[k].elements, want)
			}
		}
	}
	_ = entries
}

// children lists a field's subfields in id order.
func children(nt *NTuple, parent int) []int {
	var out []int
	for id, f := range nt.Fields {
		if int(f.Parent) == parent && id != parent {
			out = append(out, id)
		}
	}
	return out
}

func concat(pages [][]byte) []byte {
	if len(pages) == 1 {
		return pages[0]
	}
	var out []byte
	for _, p := range pages {
		out = append(out, p...)
	}
	return out
}

// decodeColumn decodes a column's pages by the specification: little
// endian; split types byte-transposed within each page; split signed
// integers zigzag-encoded, split indexes delta-encoded within each page.
// Types it does not decode give nil.
func decodeColumn(col Column, pages [][]byte, counts []int64) []any {
	var out []any
	for pi, p := range pages {
		switch col.Type {
		case 0x00: // Bit: least significant bit first
			for i := range int(counts[pi]) {
				out = append(out, p[i/8]>>(i%8)&1 == 1)
			}
			continue
		}
		w := int(col.Bits / 8)
		split := col.Type >= 0x11 && col.Type <= 0x1B
		if w == 0 || len(p)%w != 0 || col.Type == 0x10 || col.Type > 0x1B {
			return nil
		}
		n := len(p) / w
		var prev uint64
		for i := range n {
			u := element(p, n, w, i, split)
			switch col.Type {
			case 0x1A, 0x1B: // SplitIndex: delta
				if i > 0 {
					u += prev
				}
				prev = u
				out = append(out, u)
			case 0x11, 0x13, 0x15: // SplitInt: zigzag
				out = append(out, int64(u>>1)^-int64(u&1))
			case 0x03, 0x05, 0x07, 0x09: // Int
				sh := 64 - 8*w
				out = append(out, int64(u<<sh)>>sh)
			case 0x0C, 0x18: // Real32
				out = append(out, float64(math.Float32frombits(uint32(u))))
			case 0x0D, 0x19: // Real64
				out = append(out, math.Float64frombits(u))
			case 0x0B, 0x17, 0x1C, 0x1D:
				return nil
			default: // unsigned, bytes, chars, indexes
				out = append(out, u)
			}
		}
	}
	return out
}

// element is the i-th of n little-endian w-byte elements of page p, whose
// bytes are split into planes (byte k of every element together) when
// split is set.
func element(p []byte, n, w, i int, split bool) uint64 {
	var v uint64
	for k := range w {
		b := p[i*w+k]
		if split {
			b = p[k*n+i]
		}
		v |= uint64(b) << (8 * k)
	}
	return v
}
