package ttree

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// BasketTable is where a branch's baskets live in its file.
type BasketTable struct {
	Seek     []int64 // file offset of each basket's key
	Bytes    []int32 // on-disk size of each basket (key + payload)
	First    []int64 // first entry of each basket; first[len] = entries
	Entries  int64
	InMemory int // baskets kept inside the TTree object (not on disk)
	// Embedded holds, when the tree record keeps baskets (embedded.go),
	// one entry per basket of the table: nil for a basket on disk, the
	// basket itself for one kept in the record.
	Embedded  []*EmbeddedBasket
	Compress  int
	ZipBytes  int64
	TotBytes  int64
	OffsetLen int // fEntryOffsetLen: > 0 when baskets carry entry offsets
}

// leanLeafClasses are the leaf classes the fast path maps, as rootscan's leafColumn
// does, from their own fields alone.
var leanLeafClasses = map[string]bool{
	"TLeafO": true, "TLeafB": true, "TLeafS": true, "TLeafI": true, "TLeafL": true,
	"TLeafG": true, "TLeafF": true, "TLeafD": true, "TLeafC": true,
}

// LeafSignature describes what rootscan's leafColumn reads from a leaf; two plain
// branches whose leaves have equal signatures map to equal columns. Fields
// are separated by NUL, which ROOT's names and titles cannot hold.
func LeafSignature(class, name, title string, n, lenType, offset int, unsigned, counted bool) string {
	return string(appendLeafSignature(make([]byte, 0, len(class)+len(name)+len(title)+32), class, name, title, n, lenType, offset, unsigned, counted))
}

// appendLeafSignature appends leafSignature's text to b; the lean reader
// builds a branch's signatures in one reused buffer.
func appendLeafSignature[S string | []byte](b []byte, class string, name, title S, n, lenType, offset int, unsigned, counted bool) []byte {
	b = append(append(append(append(append(append(b, class...), 0), name...), 0), title...), 0)
	b = append(strconv.AppendInt(b, int64(n), 10), 0)
	b = append(strconv.AppendInt(b, int64(lenType), 10), 0)
	b = append(strconv.AppendInt(b, int64(offset), 10), 0)
	b = append(strconv.AppendBool(b, unsigned), 0)
	return strconv.AppendBool(b, counted)
}

// TreeRecordReader reads a record of ROOT's object stream with a sticky error.
type TreeRecordReader struct {
	rfile.RecordReader
	ints  []int64 // slab for the branches' basket tables
	bytes []int32
	sigs  []byte   // the current branch's leaf signatures, being built
	nodes []Branch // slab for the branch nodes
	// Keep names the top-level branches to read (as rootscan's memberName names
	// them); the others are skipped whole by their byte count. nil reads
	// every branch.
	Keep map[string]bool
	Full bool // keep every field of the leaves (rootio/tbranch's LeanSchema)
	// depth is how deeply the branch being read nests; a hostile record
	// must not exhaust the stack.
	depth int
}

// newBranch hands out a zeroed branch node from a slab: a NanoAOD file has
// ~90 branches, and the nodes live only until rootio/tbranch's LeanMember returns.
func (r *TreeRecordReader) newBranch() *Branch {
	if len(r.nodes) == 0 {
		n := 64
		if r.Keep != nil {
			n = 4 // a query's few branches
		}
		r.nodes = make([]Branch, n)
	}
	b := &r.nodes[0]
	r.nodes = r.nodes[1:]
	return b
}

// int64s and int32s hand out n zeroed elements from a slab, so that a
// file's ~250 basket tables cost a few allocations rather than one each
// (allocation and GC were a third of the lean reader's time).
func (r *TreeRecordReader) int64s(n int) []int64 {
	if n == 0 {
		return []int64{} // as groot's tables: empty, not nil
	}
	if len(r.ints) < n {
		r.ints = make([]int64, max(n, 512))
	}
	out := r.ints[:n:n]
	r.ints = r.ints[n:]
	return out
}

func (r *TreeRecordReader) int32s(n int) []int32 {
	if n == 0 {
		return []int32{}
	}
	if len(r.bytes) < n {
		r.bytes = make([]int32, max(n, 256))
	}
	out := r.bytes[:n:n]
	r.bytes = r.bytes[n:]
	return out
}

// Branch is a plain TBranch as read by the fast path.
type Branch struct {
	Name    string
	Subs    []*Branch
	Leaves  []Leaf
	Baskets BasketTable
	Sigs    string // the leaves' signatures, as rootscan's columnsOf records them
}

// Leaf is a leaf as the lean reader reads it: its name, and when the
// reader builds a first file's schema (objReader.full) the fields
// rootscan's leafColumn maps from.
type Leaf struct {
	Name               string
	Class, Title       string
	N, LenType, Offset int
	Unsigned, Counted  bool
}

// branch reads a TBranch; a top-level one outside r.keep is skipped, and
// branch returns nil for it.
func (r *TreeRecordReader) branch(top bool) *Branch {
	class, end, present := r.AnyObject()
	if !present || class != "TBranch" {
		r.Fail("branch class %q", class)
		return nil
	}
	vers, bend := r.Header()
	if vers < 10 || vers > 13 {
		r.Fail("TBranch version %d", vers)
		return nil
	}
	name, _ := r.Named()
	if top && r.Keep != nil {
		short := name
		if i := bytes.IndexByte(short, '['); i >= 0 {
			short = short[:i]
		}
		if !r.Keep[string(short)] {
			r.JumpTo(end)
			return nil
		}
	}
	b := r.newBranch()
	b.Name = string(name)
	r.SkipObject() // TAttFill
	bt := &b.Baskets
	bt.Compress = int(r.I32())
	r.Skip(4) // fBasketSize
	bt.OffsetLen = int(r.I32())
	writeBasket := int(r.I32())
	r.Skip(8) // fEntryNumber
	if vers >= 13 {
		r.SkipObject() // fIOFeatures
	}
	r.Skip(4) // fOffset
	maxBaskets := int(r.I32())
	r.Skip(4) // fSplitLevel
	bt.Entries = r.I64()
	if vers >= 11 {
		r.Skip(8) // fFirstEntry
	}
	bt.TotBytes = r.I64()
	bt.ZipBytes = r.I64()

	n, aend := r.ObjArray()
	if n > 0 && r.depth >= rfile.MaxNesting {
		r.Fail("branches nested more than %d deep", rfile.MaxNesting)
		return nil
	}
	r.depth++
	for range n {
		if r.Err != nil {
			return nil
		}
		b.Subs = append(b.Subs, r.branch(false))
	}
	r.depth--
	r.JumpTo(aend)
	n, aend = r.ObjArray()
	r.sigs = r.sigs[:0]
	for i := range n {
		if r.Err != nil {
			return nil
		}
		if i > 0 {
			r.sigs = append(r.sigs, "; "...)
		}
		b.Leaves = append(b.Leaves, r.leaf())
	}
	b.Sigs = string(r.sigs)
	r.JumpTo(aend)
	// fBaskets: the baskets kept in the record (embedded.go).
	var kept []*EmbeddedBasket
	n, aend = r.ObjArray()
	for range n {
		class, oend, present := r.AnyObject()
		if !present || oend == 0 {
			continue
		}
		if class != "TBasket" {
			r.Fail("branch %q: %q in its baskets", b.Name, class)
			return nil
		}
		if e := r.keptBasket(oend); e != nil && e.Nevbuf > 0 {
			kept = append(kept, e)
		}
		r.JumpTo(oend)
	}
	r.JumpTo(aend)
	if writeBasket < 0 || maxBaskets < writeBasket+1 || maxBaskets > (len(r.Buf)-r.Pos)/20 {
		r.Fail("branch %q: %d baskets written of %d", b.Name, writeBasket, maxBaskets)
		return nil
	}
	r.Skip(1)
	bt.Bytes = r.int32s(writeBasket)
	for i := range maxBaskets {
		if v := r.I32(); i < writeBasket {
			bt.Bytes[i] = v
		}
	}
	r.Skip(1)
	bt.First = r.int64s(writeBasket + 1)
	for i := range maxBaskets {
		if v := r.I64(); i <= writeBasket {
			bt.First[i] = v
		}
	}
	r.Skip(1)
	bt.Seek = r.int64s(writeBasket)
	for i := range maxBaskets {
		if v := r.I64(); i < writeBasket {
			bt.Seek[i] = v
		}
	}
	bt.TrimUnwritten()
	for _, e := range kept {
		bt.AddEmbedded(e)
	}
	if fname := r.Str(); fname != "" {
		r.Fail("branch %q: baskets in file %q", b.Name, fname)
	}
	r.JumpTo(bend)
	r.JumpTo(end)
	return b
}

// keptBasket reads a TBasket kept in the tree record, whose body ends at
// end, as groot's Basket.UnmarshalROOT does (embedded.go); its bytes are
// copied, the record's buffer being recycled. A basket with I/O bits is
// left to groot.
func (r *TreeRecordReader) keptBasket(end int) *EmbeddedBasket {
	r.Skip(4) // fNbytes
	kvers := r.I16()
	r.Skip(4 + 4) // fObjlen, fDatime
	keylen := int64(r.I16())
	r.Skip(2) // fCycle
	if kvers > 1000 {
		r.Skip(16)
	} else {
		r.Skip(8)
	}
	for range 3 { // class, name, title
		r.Skip(r.Strlen())
	}
	vers := r.I16()
	r.Skip(4) // fBufferSize
	if r.I32() < 0 {
		r.Fail("kept basket with I/O bits")
		return nil
	}
	e := &EmbeddedBasket{Keylen: keylen, Nevbuf: int64(r.I32()), Last: int64(r.I32())}
	flag := r.U8()
	gen := flag >= 80
	if gen {
		flag -= 80
		if flag <= 40 {
			r.Fail("kept basket flag %d", flag+80) // groot refuses it
			return nil
		}
	}
	array := func() []int32 {
		n := int(r.I32())
		if r.Err != nil || n < 0 || n > (end-r.Pos)/4 {
			r.Fail("kept basket: array of %d in %d bytes", n, end-r.Pos)
			return nil
		}
		out := make([]int32, n)
		for i := range out {
			out[i] = r.I32()
		}
		return out
	}
	if !gen && flag != 0 && flag%10 != 2 {
		if e.Nevbuf > 0 {
			e.Offsets = array()
			if flag > 20 && flag < 40 {
				for i, v := range e.Offsets {
					e.Offsets[i] = int32(uint32(v) &^ 0xff000000)
				}
			}
			if len(e.Offsets) == 0 {
				e.Offsets = nil
			}
		}
		if flag > 40 {
			array() // displacements
		}
	}
	if flag == 1 || flag > 10 {
		size := int(e.Last)
		if vers <= 1 {
			size = int(r.I32())
		}
		if r.Err != nil || size < 0 || size > end-r.Pos {
			r.Fail("kept basket: %d bytes of data in %d", size, end-r.Pos)
			return nil
		}
		e.Buf = bytes.Clone(r.Buf[r.Pos : r.Pos+size])
		if e.Buf == nil {
			e.Buf = []byte{}
		}
		r.Pos += size
	}
	if r.Err != nil {
		return nil
	}
	return e
}

func (r *TreeRecordReader) leaf() Leaf {
	class, end, present := r.AnyObject()
	if !present || !leanLeafClasses[class] {
		r.Fail("leaf class %q", class)
		return Leaf{}
	}
	_, lend := r.Header() // TLeafX
	_, tend := r.Header() // TLeaf
	name, title := r.Named()
	n := int(r.I32())
	lenType := int(r.I32())
	offset := int(r.I32())
	r.Skip(1) // fIsRange
	unsigned := r.U8() != 0
	_, cend, counted := r.AnyObject()
	if cend > 0 {
		r.JumpTo(cend) // a count leaf streamed here for the first time
	}
	if n == 0 {
		n = 1 // as groot reads it
	}
	r.JumpTo(tend)
	r.JumpTo(lend)
	r.JumpTo(end)
	r.sigs = appendLeafSignature(r.sigs, class, name, title, n, lenType, offset, unsigned, counted)
	l := Leaf{Name: string(name)}
	if r.Full {
		l.Class, l.Title, l.N, l.LenType, l.Offset, l.Unsigned, l.Counted = class, string(title), n, lenType, offset, unsigned, counted
	}
	return l
}

// TreeRecord reads a TTree record: the tree's name, title, entries and
// top-level branches.
func (r *TreeRecordReader) TreeRecord() (name, title string, entries int64, branches []*Branch) {
	vers, _ := r.Header()
	if vers < 16 || vers > 20 {
		r.Fail("TTree version %d", vers)
		return
	}
	rawName, rawTitle := r.Named()
	name, title = string(rawName), string(rawTitle)
	r.SkipObject() // TAttLine
	r.SkipObject() // TAttFill
	r.SkipObject() // TAttMarker
	entries = r.I64()
	r.Skip(3 * 8) // fTotBytes, fZipBytes, fSavedBytes
	if vers >= 18 {
		r.Skip(8) // fFlushedBytes
	}
	r.Skip(8 + 3*4) // fWeight, fTimerInterval, fScanField, fUpdate
	if vers >= 17 {
		r.Skip(4) // fDefaultEntryOffsetLen
	}
	nclus := 0
	if vers >= 19 {
		nclus = int(r.I32())
	}
	r.Skip(4 * 8) // fMaxEntries, fMaxEntryLoop, fMaxVirtualSize, fAutoSave
	if vers >= 18 {
		r.Skip(8) // fAutoFlush
	}
	r.Skip(8) // fEstimate
	if vers >= 19 {
		if nclus < 0 || nclus > len(r.Buf)/16 {
			r.Fail("%d cluster ranges", nclus)
			return
		}
		r.Skip(1 + 8*nclus + 1 + 8*nclus)
	}
	if vers >= 20 {
		r.SkipObject() // fIOFeatures
	}
	n, _ := r.ObjArray()
	for range n {
		if r.Err != nil {
			return
		}
		if b := r.branch(true); b != nil {
			branches = append(branches, b)
		}
	}
	return
}

// TreeKey is a TTree's record, inflated.
type TreeKey struct {
	Name    string // the tree's, chosen by findKey when asked for the default
	Keylen  int
	Payload []byte
	bufs    [][]byte // taken from keyBuffers
}

// keyBuffers recycles the buffers of tree records (tens of kB per file),
// so that opening a long chain does not fault in fresh memory per file.
var keyBuffers = make(chan []byte, 8)

func (k *TreeKey) buffer(n int) []byte {
	var b []byte
	select {
	case b = <-keyBuffers:
	default:
	}
	if cap(b) < n {
		b = make([]byte, n)
	}
	k.bufs = append(k.bufs, b)
	return b[:n]
}

func (k *TreeKey) Release() {
	for _, b := range k.bufs {
		select {
		case keyBuffers <- b:
		default:
		}
	}
	k.bufs = nil
}

// FindKey reads a file's header and top directory and returns the record
// of its TTree named tree (the highest cycle); tree "" asks for the default
// as rootio/tbranch's ChooseTree applies it (the only tree, else "Events"), and any other
// case (no tree, several) is left to groot.
func FindKey(cf *rfile.CountingFile, tree string) (TreeKey, error) {
	read := func(off int64, n int) ([]byte, error) {
		if off < 0 || n <= 0 || n > 1<<28 || off+int64(n) > cf.FileSize {
			return nil, fmt.Errorf("%w: %d bytes at %d", rfile.ErrNotLean, n, off)
		}
		b := make([]byte, n)
		_, err := cf.ReadAt(b, off)
		return b, err
	}
	hdr, err := read(0, min(64, int(cf.FileSize)))
	if err != nil {
		return TreeKey{}, err
	}
	if len(hdr) < 4 || string(hdr[:4]) != "root" {
		return TreeKey{}, fmt.Errorf("%w: not a ROOT file", rfile.ErrNotLean)
	}
	h := TreeRecordReader{RecordReader: rfile.RecordReader{Buf: hdr, Pos: 4}}
	version := h.I32()
	begin := int64(h.I32())
	if version >= 1000000 {
		h.Skip(8 + 8 + 4 + 4) // fEND, fSeekFree, fNbytesFree, nfree
	} else {
		h.Skip(4 + 4 + 4 + 4)
	}
	nbytesName := int64(h.I32())
	if h.Err != nil {
		return TreeKey{}, fmt.Errorf("%w: file header: %v", rfile.ErrNotLean, h.Err)
	}
	dir, err := read(begin+nbytesName, min(64, int(cf.FileSize-begin-nbytesName)))
	if err != nil {
		return TreeKey{}, err
	}
	d := TreeRecordReader{RecordReader: rfile.RecordReader{Buf: dir}}
	_, nbytesKeys64, seekKeys := d.DirRecord()
	nbytesKeys := int(nbytesKeys64)
	if d.Err != nil {
		return TreeKey{}, fmt.Errorf("%w: directory: %v", rfile.ErrNotLean, d.Err)
	}
	list, err := read(seekKeys, nbytesKeys)
	if err != nil {
		return TreeKey{}, err
	}
	k := TreeRecordReader{RecordReader: rfile.RecordReader{Buf: list}}
	k.Skip(4 + 2 + 4 + 4)
	if k.Pos = int(k.I16()); k.Pos < 0 { // past the list's own key
		return TreeKey{}, fmt.Errorf("%w: keys list's key length %d", rfile.ErrNotLean, k.Pos)
	}
	nkeys := int(k.I32())
	type keyInfo struct {
		cycle  int
		seek   int64
		nbytes int
		objlen int
		keylen int
		class  string
	}
	var best keyInfo
	best.cycle = -1
	var trees []string            // names of the tree keys, for the default
	var byName map[string]keyInfo // their highest cycles, for the default
	if tree == "" {
		byName = map[string]keyInfo{}
	}
	for i := 0; i < nkeys && k.Err == nil; i++ {
		nbytes := int(k.I32())
		kversion := k.I16()
		objlen := int(k.I32())
		k.Skip(4)
		keylen := int(k.I16())
		cycle := int(k.I16())
		var seek int64
		if kversion > 1000 {
			seek = k.I64()
			k.Skip(8)
		} else {
			seek = int64(k.I32())
			k.Skip(4)
		}
		class, name := k.Str(), k.Str()
		k.Str() // title
		ki := keyInfo{cycle, seek, nbytes, objlen, keylen, class}
		if name == tree && cycle > best.cycle {
			best = ki
		}
		if byName != nil && (class == "TTree" || class == "TNtuple" || class == "TNtupleD") {
			old, seen := byName[name]
			if !seen {
				trees = append(trees, name)
			}
			if !seen || cycle > old.cycle {
				byName[name] = ki
			}
		}
	}
	if tree == "" {
		switch {
		case len(trees) == 1:
			tree = trees[0]
		case slices.Contains(trees, "Events"):
			tree = "Events"
		default:
			return TreeKey{}, fmt.Errorf("%w: no default tree among %d", rfile.ErrNotLean, len(trees))
		}
		best = byName[tree]
	}
	if k.Err != nil || best.cycle < 0 || best.class != "TTree" {
		return TreeKey{}, fmt.Errorf("%w: no TTree key %q", rfile.ErrNotLean, tree)
	}
	if best.keylen <= 0 || best.nbytes < best.keylen || best.objlen <= 0 || best.objlen > math.MaxInt32 ||
		int64(best.objlen) > max(rfile.MinMetaBound, rfile.MaxMetaInflation*int64(best.nbytes-best.keylen)) {
		return TreeKey{}, fmt.Errorf("%w: key sizes", rfile.ErrNotLean)
	}
	if best.seek < 0 || best.seek+int64(best.nbytes) > cf.FileSize {
		return TreeKey{}, fmt.Errorf("%w: key outside the file", rfile.ErrNotLean)
	}
	key := TreeKey{Name: tree, Keylen: best.keylen}
	raw := key.buffer(best.nbytes)
	if _, err := cf.ReadAt(raw, best.seek); err != nil {
		key.Release()
		return TreeKey{}, err
	}
	stored := raw[best.keylen:]
	if len(stored) == best.objlen {
		key.Payload = stored
		return key, nil
	}
	key.Payload = key.buffer(best.objlen)
	if err := rfile.Decompress(key.Payload, stored); err != nil {
		key.Release()
		return TreeKey{}, fmt.Errorf("%w: %v", rfile.ErrNotLean, err)
	}
	return key, nil
}
