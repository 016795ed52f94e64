package rootscan_test

import (
	"testing"

	"go-hep.org/x/hep/groot/rbase"
	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/rcont"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/root"
	"go-hep.org/x/hep/groot/rvers"

	"github.com/hepsql/hepsql/rootscan"
)

// A test-only writer of the TTree records that groot's writer cannot
// make: TBranchElements of split collections (fType 3/31, 4/41). groot
// lays out the file (header, directory, keys, streamer list) and writes
// each basket's key; this file writes the TTree, TBranch, TBranchElement,
// TLeaf and TLeafElement records field by field in ROOT's order (TTree
// v20, TBranch v13, TBranchElement v10, TLeaf v2, TLeafElement v1) and
// the baskets' TBasket fields and entry offsets. What it writes is
// checked by jsroot, which must read it as ROOT's own files.
//
// A member's fBranchCount points back at its master, whose record is not
// finished when the member's is written: the reference is ROOT's bare
// object tag, the master's position, which groot's writer cannot give.

// wBranch is one TBranchElement to write, with its entries' bytes.
type wBranch struct {
	name, title           string
	class, parent, clones string
	clsver                uint16
	chksum                uint32
	id, btype, stype      int32
	max                   int32
	offsets               bool // entries of variable size: baskets carry entry offsets
	noData                bool // no baskets (a split object's own branch)
	leaf                  wLeaf
	subs                  []*wBranch
	count                 *wBranch // fBranchCount: the master of a member
	entries               [][]byte
	// perBasket: entries per basket, cycled (0: all in one basket).
	perBasket []int
	// noOffsetsBasket: baskets (by index) written without entry
	// offsets, flagged for the reader to regenerate them (flag 80+).
	genOffsets map[int]bool

	seek  []int64
	bytes []int32
	first []int64
	tot   int64
}

type wLeaf struct {
	name, title  string
	len, lenType int32
	ltype        int32 // TLeafElement fType
	count        *wLeaf
	obj          *leafElem
}

// writeBaskets writes b's entries (and its sub-branches') as baskets.
func (b *wBranch) writeBaskets(t *testing.T, f *riofs.File, tree string) {
	t.Helper()
	for _, s := range b.subs {
		s.writeBaskets(t, f, tree)
	}
	n := len(b.entries)
	b.first = []int64{0}
	if b.noData {
		b.first = []int64{int64(n)} // a split object's branch: its members hold the data
		return
	}
	for start, i := 0, 0; start < n; i++ {
		size := n
		if len(b.perBasket) > 0 {
			size = b.perBasket[i%len(b.perBasket)]
		}
		end := min(n, start+size)
		b.writeBasket(t, f, tree, start, end, b.genOffsets[i])
		b.first = append(b.first, int64(end))
		start = end
	}
}

func (b *wBranch) writeBasket(t *testing.T, f *riofs.File, tree string, start, end int, noOffsets bool) {
	t.Helper()
	var data []byte
	var offs []int
	for _, e := range b.entries[start:end] {
		offs = append(offs, len(data))
		data = append(data, e...)
	}
	payload := rbytes.NewWBuffer(nil, nil, 0, nil)
	payload.Write(data)
	// The key's length, known once groot has placed the key: offsets
	// count from the key's start.
	withOffsets := b.offsets && !noOffsets
	tail := 0
	if withOffsets {
		tail = 4 * (end - start + 2)
	}
	key, err := riofs.NewKey(nil, b.name, tree, "TBasket", 1, make([]byte, len(data)+tail), f)
	if err != nil {
		t.Fatal(err)
	}
	keylen := key.KeyLen()
	if withOffsets {
		payload.WriteI32(int32(end - start + 1))
		for _, o := range offs {
			payload.WriteI32(keylen + int32(o))
		}
		payload.WriteI32(0)
	}
	hdr := rbytes.NewWBuffer(nil, nil, 0, nil)
	if _, err := key.MarshalROOT(hdr); err != nil {
		t.Fatal(err)
	}
	// TBasket's own fields, counted in the key's length.
	hdr.WriteI16(3) // TBasket version
	hdr.WriteI32(32000)
	nevsize := int32(10)
	if !b.offsets {
		nevsize = int32(len(b.entries[start])) // fixed-size entries: their size
	}
	hdr.WriteI32(nevsize)
	hdr.WriteI32(int32(end - start))
	hdr.WriteI32(keylen + int32(len(data)))
	flag := byte(0)
	if noOffsets {
		flag = 80
	}
	hdr.WriteU8(flag)
	if int32(len(hdr.Bytes())) != keylen {
		t.Fatalf("basket header of %d bytes, key says %d", len(hdr.Bytes()), keylen)
	}
	if _, err := f.WriteAt(hdr.Bytes(), key.SeekKey()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(payload.Bytes(), key.SeekKey()+int64(keylen)); err != nil {
		t.Fatal(err)
	}
	b.seek = append(b.seek, key.SeekKey())
	b.bytes = append(b.bytes, key.Nbytes())
	b.tot += int64(key.Nbytes())
}

// object builds the records of b and its sub-branches; a member's
// fBranchCount is the master above it.
func (b *wBranch) object(classWritten *bool, master *branchElem) *branchElem {
	be := &branchElem{b: b, classWritten: classWritten}
	if b.btype == 31 || b.btype == 41 {
		be.count = master
	}
	if b.btype == 3 || b.btype == 4 {
		master = be
	}
	b.leaf.obj = &leafElem{l: &b.leaf}
	for _, s := range b.subs {
		be.subs = append(be.subs, s.object(classWritten, master))
	}
	return be
}

type branchElem struct {
	b     *wBranch
	subs  []*branchElem
	count *branchElem
	// tag: where the master's record starts (its byte count), the
	// position ROOT's object map knows it by.
	tag int64
	// classWritten is shared by a tree's branches: whether a record
	// before this one named the class TBranchElement.
	classWritten *bool
}

func (*branchElem) Class() string { return "TBranchElement" }

func (be *branchElem) MarshalROOT(w *rbytes.WBuffer) (int, error) {
	b := be.b
	// Before the record: its byte count and the class's tag, and, in the
	// first TBranchElement record, the class's name.
	be.tag = w.Pos() - 8
	if !*be.classWritten {
		*be.classWritten = true
		be.tag -= int64(len("TBranchElement") + 1)
	}
	hdr := w.WriteHeader("TBranchElement", rvers.BranchElement)
	// TBranch
	bh := w.WriteHeader("TBranch", rvers.Branch)
	w.WriteObject(rbase.NewNamed(b.name, b.title))
	w.WriteObject(rbase.NewAttFill())
	w.WriteI32(0)     // fCompress
	w.WriteI32(32000) // fBasketSize
	offLen := int32(0)
	if b.offsets {
		offLen = 10
	}
	w.WriteI32(offLen)
	nb := len(b.seek)
	w.WriteI32(int32(nb)) // fWriteBasket
	w.WriteI64(int64(len(b.entries)))
	writeIOFeatures(w)
	w.WriteI32(0) // fOffset
	maxBaskets := nb + 1
	w.WriteI32(int32(maxBaskets))
	split := int32(0)
	if len(b.subs) > 0 {
		split = 99
	}
	w.WriteI32(split)
	w.WriteI64(int64(len(b.entries)))
	w.WriteI64(0) // fFirstEntry
	w.WriteI64(b.tot)
	w.WriteI64(b.tot)
	subs := rcont.NewObjArray()
	var elems []root.Object
	for _, s := range be.subs {
		elems = append(elems, s)
	}
	subs.SetElems(elems)
	w.WriteObject(subs)
	leaves := rcont.NewObjArray()
	leaves.SetElems([]root.Object{b.leaf.obj})
	w.WriteObject(leaves)
	w.WriteObject(rcont.NewObjArray()) // fBaskets: none kept in the record
	w.WriteI8(1)
	w.WriteArrayI32(append(append([]int32(nil), b.bytes...), make([]int32, maxBaskets-nb)...))
	w.WriteI8(1)
	w.WriteArrayI64(append(append([]int64(nil), b.first...), make([]int64, maxBaskets-len(b.first))...))
	w.WriteI8(1)
	w.WriteArrayI64(append(append([]int64(nil), b.seek...), make([]int64, maxBaskets-nb)...))
	w.WriteString("") // fFileName
	w.SetHeader(bh)
	// TBranchElement
	w.WriteString(b.class)
	w.WriteString(b.parent)
	w.WriteString(b.clones)
	w.WriteU32(b.chksum)
	w.WriteU16(b.clsver)
	w.WriteI32(b.id)
	w.WriteI32(b.btype)
	w.WriteI32(b.stype)
	w.WriteI32(b.max)
	if be.count != nil {
		// A reference to the master, whose record is still being
		// written: ROOT's bare object tag (its map offset), which
		// groot's writer cannot make for an object it has not finished.
		w.WriteU32(uint32(be.count.tag + 2))
	} else {
		w.WriteObjectAny(nil)
	}
	w.WriteObjectAny(nil) // fBranchCount2
	return w.SetHeader(hdr)
}

type leafElem struct{ l *wLeaf }

func (*leafElem) Class() string { return "TLeafElement" }

func (le *leafElem) MarshalROOT(w *rbytes.WBuffer) (int, error) {
	l := le.l
	hdr := w.WriteHeader("TLeafElement", rvers.LeafElement)
	lh := w.WriteHeader("TLeaf", rvers.Leaf)
	w.WriteObject(rbase.NewNamed(l.name, l.title))
	w.WriteI32(l.len)
	w.WriteI32(l.lenType)
	w.WriteI32(0) // fOffset
	w.WriteBool(false)
	w.WriteBool(false)
	if l.count != nil {
		w.WriteObjectAny(l.count.obj)
	} else {
		w.WriteObjectAny(nil)
	}
	w.SetHeader(lh)
	w.WriteI32(-1) // fID
	w.WriteI32(l.ltype)
	return w.SetHeader(hdr)
}

func writeIOFeatures(w *rbytes.WBuffer) {
	h := w.WriteHeader("TIOFeatures", rvers.ROOT_IOFeatures)
	w.WriteU8(0)
	w.SetHeader(h)
}

// wTree is a TTree record over top-level branches.
type wTree struct {
	name    string
	entries int64
	top     []*branchElem
}

func (*wTree) Class() string { return "TTree" }

func (tr *wTree) MarshalROOT(w *rbytes.WBuffer) (int, error) {
	hdr := w.WriteHeader("TTree", rvers.Tree)
	w.WriteObject(rbase.NewNamed(tr.name, tr.name))
	w.WriteObject(rbase.NewAttLine())
	w.WriteObject(rbase.NewAttFill())
	w.WriteObject(rbase.NewAttMarker())
	var tot int64
	var leaves []root.Object
	var walk func(be *branchElem)
	walk = func(be *branchElem) {
		tot += be.b.tot
		leaves = append(leaves, be.b.leaf.obj)
		for _, s := range be.subs {
			walk(s)
		}
	}
	for _, be := range tr.top {
		walk(be)
	}
	w.WriteI64(tr.entries)
	w.WriteI64(tot) // fTotBytes
	w.WriteI64(tot) // fZipBytes
	w.WriteI64(0)   // fSavedBytes
	w.WriteI64(0)   // fFlushedBytes
	w.WriteF64(1)   // fWeight
	w.WriteI32(0)   // fTimerInterval
	w.WriteI32(25)  // fScanField
	w.WriteI32(0)   // fUpdate
	w.WriteI32(1000)
	w.WriteI32(0) // fNClusterRange
	w.WriteI64(1000000000000)
	w.WriteI64(1000000000000)
	w.WriteI64(0)
	w.WriteI64(-300000000)
	w.WriteI64(-30000000)
	w.WriteI64(1000000)
	w.WriteI8(0) // fClusterRangeEnd: none
	w.WriteI8(0) // fClusterSize: none
	writeIOFeatures(w)
	branches := rcont.NewObjArray()
	var elems []root.Object
	for _, be := range tr.top {
		elems = append(elems, be)
	}
	branches.SetElems(elems)
	w.WriteObject(branches)
	ls := rcont.NewObjArray()
	ls.SetElems(leaves)
	w.WriteObject(ls)
	for range 7 { // aliases, index values, index, tree index, friends, user info, branch ref
		w.WriteObjectAny(nil)
	}
	return w.SetHeader(hdr)
}

// writeSplitFile writes a file holding one tree per collection (each
// built by its function after the file is created, so that its streamers
// can be the file's), with the given streamers.
func writeSplitFile(t *testing.T, path string, sinfos []rbytes.StreamerInfo, trees map[string]*wBranch, entries int64) {
	t.Helper()
	f, err := riofs.Create(path, riofs.WithoutCompression())
	if err != nil {
		t.Fatal(err)
	}
	if err := rootscan.AddFileStreamers(f, sinfos); err != nil {
		t.Fatal(err)
	}
	for name, top := range trees {
		top.writeBaskets(t, f, name)
		if err := f.Put(name, &wTree{name: name, entries: entries, top: []*branchElem{top.object(new(bool), nil)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
