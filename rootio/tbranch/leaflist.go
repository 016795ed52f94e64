package tbranch

import (
	"fmt"

	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/rootio/gohep"
	"github.com/hepsql/hepsql/rootio/rfile"
)

// Leaf lists with variable-length leaves. A plain TBranch whose leaves are
// "n/I:x[n]/F:e/D" stores each entry as its leaves one after the other,
// a counted leaf's items as many as its counter (an earlier leaf of the
// same entry) says. Each leaf is a column: a fixed leaf a scalar or an
// ARRAY, a counted one a LIST. Every entry is walked leaf by leaf from its
// start, and one whose leaves do not fill it exactly is an error.

// llLeaf is one leaf of such a list, as an entry stores it.
type llLeaf struct {
	enc   Encoding
	per   int // elements per item (the fixed dimensions)
	count int // index of the leaf counting its items, -1 for a fixed leaf
}

// leafListVarColumn maps leaf l of branch b, a leaf list with variable-
// length leaves; inner is the type of one item of l.
func leafListVarColumn(c *Column, b rtree.Branch, l rtree.Leaf, inner Type) *Column {
	leaves := b.Leaves()
	c.llist = make([]llLeaf, len(leaves))
	c.llIdx = -1
	for i, ll := range leaves {
		encs, ok := leafEncodings[ll.Class()]
		if !ok {
			c.Layout, c.Why = LayoutUnsupported, fmt.Sprintf("leaf class %s inside a leaf list with variable-length leaves", ll.Class())
			return c
		}
		x := llLeaf{enc: encs[0], per: 1, count: -1}
		if ll.IsUnsigned() {
			x.enc = encs[1]
		}
		for _, d := range ll.Shape() {
			x.per *= d
		}
		if why := checkDims(ll.Shape()); why != "" {
			c.Layout, c.Why = LayoutUnsupported, why
			return c
		}
		if x.enc.diskSize(packing{}) != ll.LenType() {
			c.Layout, c.Why = LayoutUnsupported, fmt.Sprintf("leaf %s of %d bytes per element, its type takes %d", ll.Name(), ll.LenType(), x.enc.diskSize(packing{}))
			return c
		}
		if lc := ll.LeafCount(); lc != nil {
			for j := range i {
				if leaves[j].Name() == lc.Name() && leaves[j].LeafCount() == nil && c.llist[j].per == 1 && c.llist[j].enc >= EncI8 && c.llist[j].enc <= EncU64 {
					x.count = j
				}
			}
			if x.count < 0 {
				c.Layout, c.Why = LayoutUnsupported, fmt.Sprintf("leaf %s counted by %s, not an earlier integer leaf of its list", ll.Name(), lc.Name())
				return c
			}
		} else if n, err := gohep.LeafLen(ll); err != nil || n != x.per {
			c.Layout, c.Why = LayoutUnsupported, fmt.Sprintf("leaf %s: length does not match its dimensions %v", ll.Name(), ll.Shape())
			return c
		}
		if ll == l {
			c.llIdx = i
		}
		c.llist[i] = x
	}
	if c.llIdx < 0 {
		c.Layout, c.Why = LayoutUnsupported, "leaf not found in its branch's list"
		return c
	}
	c.enc, c.dims = c.llist[c.llIdx].enc, l.Shape()
	c.Layout, c.Type = LayoutLeafListVar, inner
	if c.llist[c.llIdx].count >= 0 {
		c.Type = ListOf(inner)
	}
	return c
}

// leafListItems walks an entry of the list and returns where the column's
// leaf starts and how many items it holds.
func (c *Column) leafListItems(b []byte, starts []int) (pos, items int, err error) {
	starts = starts[:0]
	at := 0
	for i, x := range c.llist {
		starts = append(starts, at)
		k := 1
		if x.count >= 0 {
			cx := c.llist[x.count]
			v := countValue(cx.enc, b[starts[x.count]:])
			if v < 0 || v > int64(len(b)) {
				return 0, 0, fmt.Errorf("%w: leaf list counter gives %d items", rfile.ErrCorrupt, v)
			}
			k = int(v)
		}
		if i == c.llIdx {
			pos, items = at, k
		}
		at += k * x.per * x.enc.diskSize(packing{})
		if at > len(b) {
			return 0, 0, fmt.Errorf("%w: leaf list's leaves need more than the entry's %d bytes", rfile.ErrCorrupt, len(b))
		}
	}
	if at != len(b) {
		return 0, 0, fmt.Errorf("%w: leaf list's leaves take %d bytes, the entry %d", rfile.ErrCorrupt, at, len(b))
	}
	return pos, items, nil
}

// fillLeafListVar writes entries [entry, entry+n) of a leaf of a leaf list
// with variable-length leaves into v.
func (r *Reader) fillLeafListVar(v Vector, entry int64, n int) error {
	c := r.col
	per := c.llist[c.llIdx].per
	os := outSize(c.enc)
	starts := make([]int, 0, len(c.llist))
	if c.llist[c.llIdx].count < 0 {
		out := leafVector(v, len(c.dims)).Bytes(n * per * os)
		return r.segments(entry, n, func(row, k, first int) error {
			for i := range k {
				b := r.entryBytes(first + i)
				pos, _, err := c.leafListItems(b, starts)
				if err != nil {
					return r.errorf(r.cur.First+int64(first+i), "%v", err)
				}
				if err := decodeElems(c.enc, packing{}, out[(row+i)*per*os:], b[pos:], per); err != nil {
					return r.errorf(r.cur.First+int64(first+i), "%v", err)
				}
			}
			return nil
		})
	}
	entries := v.Lists(n)
	total := v.ListSize()
	return r.segments(entry, n, func(row, k, first int) error {
		seg := 0
		for i := range k {
			_, items, err := c.leafListItems(r.entryBytes(first+i), starts)
			if err != nil {
				return r.errorf(r.cur.First+int64(first+i), "%v", err)
			}
			entries[row+i] = ListEntry{Offset: uint64(total + seg), Length: uint64(items)}
			seg += items
		}
		if err := v.ListReserve(total + seg); err != nil {
			return err
		}
		out := leafVector(v.ListChild(), len(c.dims)).Bytes((total + seg) * per * os)
		for i := range k {
			b := r.entryBytes(first + i)
			pos, items, _ := c.leafListItems(b, starts)
			if err := decodeElems(c.enc, packing{}, out[int(entries[row+i].Offset)*per*os:], b[pos:], items*per); err != nil {
				return r.errorf(r.cur.First+int64(first+i), "%v", err)
			}
		}
		total += seg
		return v.ListSetSize(total)
	})
}
