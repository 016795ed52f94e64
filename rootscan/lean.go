package rootscan

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// A chain's files after the first usually share its layout (NanoAOD: plain
// TBranches of primitive leaves), and from them a scan needs only each
// projected branch's basket table and proof that its leaves match the first
// file's. groot parses every file fully, streamers and all, at about a
// millisecond a file. leanMeta reads that subset straight from the TTree
// record instead (and leanSchema, in leanschema.go, a first file's
// whole schema when its layout is that simple):
// the file header, the top directory's keys, the tree's key (inflated), and
// a walk over its branches that skips every object it does not need by its
// byte count. Anything outside the subset (other branch classes, packed
// floats, old versions, a leaf that differs from the first file's, a corrupt
// byte) makes it give up, and the file is parsed by groot as before, so the
// result and the errors stay groot's; the fast path only ever agrees with it
// (TestLeanMatchesGroot).

// leanLeafClasses are the leaf classes the fast path maps, as leafColumn
// does, from their own fields alone.
var leanLeafClasses = map[string]bool{
	"TLeafO": true, "TLeafB": true, "TLeafS": true, "TLeafI": true, "TLeafL": true,
	"TLeafG": true, "TLeafF": true, "TLeafD": true, "TLeafC": true,
}

// leafSignature describes what leafColumn reads from a leaf; two plain
// branches whose leaves have equal signatures map to equal columns. Fields
// are separated by NUL, which ROOT's names and titles cannot hold.
func leafSignature(class, name, title string, n, lenType, offset int, unsigned, counted bool) string {
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

// objReader reads a record of ROOT's object stream with a sticky error.
type objReader struct {
	rfile.RecordReader
	ints  []int64 // slab for the branches' basket tables
	bytes []int32
	sigs  []byte       // the current branch's leaf signatures, being built
	nodes []leanBranch // slab for the branch nodes
	// keep names the top-level branches to read (as memberName names
	// them); the others are skipped whole by their byte count. nil reads
	// every branch.
	keep map[string]bool
	full bool // keep every field of the leaves (leanSchema)
	// depth is how deeply the branch being read nests; a hostile record
	// must not exhaust the stack.
	depth int
}

// newBranch hands out a zeroed branch node from a slab: a NanoAOD file has
// ~90 branches, and the nodes live only until leanMeta returns.
func (r *objReader) newBranch() *leanBranch {
	if len(r.nodes) == 0 {
		n := 64
		if r.keep != nil {
			n = 4 // a query's few branches
		}
		r.nodes = make([]leanBranch, n)
	}
	b := &r.nodes[0]
	r.nodes = r.nodes[1:]
	return b
}

// int64s and int32s hand out n zeroed elements from a slab, so that a
// file's ~250 basket tables cost a few allocations rather than one each
// (allocation and GC were a third of the lean reader's time).
func (r *objReader) int64s(n int) []int64 {
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

func (r *objReader) int32s(n int) []int32 {
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

// leanBranch is a plain TBranch as read by the fast path.
type leanBranch struct {
	name    string
	subs    []*leanBranch
	leaves  []leanLeaf
	baskets basketTable
	sigs    string // the leaves' signatures, as columnsOf records them
}

// leanLeaf is a leaf as the lean reader reads it: its name, and when the
// reader builds a first file's schema (objReader.full) the fields
// leafColumn maps from.
type leanLeaf struct {
	name               string
	class, title       string
	n, lenType, offset int
	unsigned, counted  bool
}

// branch reads a TBranch; a top-level one outside r.keep is skipped, and
// branch returns nil for it.
func (r *objReader) branch(top bool) *leanBranch {
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
	if top && r.keep != nil {
		short := name
		if i := bytes.IndexByte(short, '['); i >= 0 {
			short = short[:i]
		}
		if !r.keep[string(short)] {
			r.JumpTo(end)
			return nil
		}
	}
	b := r.newBranch()
	b.name = string(name)
	r.SkipObject() // TAttFill
	bt := &b.baskets
	bt.compress = int(r.I32())
	r.Skip(4) // fBasketSize
	bt.offsetLen = int(r.I32())
	writeBasket := int(r.I32())
	r.Skip(8) // fEntryNumber
	if vers >= 13 {
		r.SkipObject() // fIOFeatures
	}
	r.Skip(4) // fOffset
	maxBaskets := int(r.I32())
	r.Skip(4) // fSplitLevel
	bt.entries = r.I64()
	if vers >= 11 {
		r.Skip(8) // fFirstEntry
	}
	bt.totBytes = r.I64()
	bt.zipBytes = r.I64()

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
		b.subs = append(b.subs, r.branch(false))
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
		b.leaves = append(b.leaves, r.leaf())
	}
	b.sigs = string(r.sigs)
	r.JumpTo(aend)
	// fBaskets: the baskets kept in the record (embedded.go).
	var kept []*ttree.EmbeddedBasket
	n, aend = r.ObjArray()
	for range n {
		class, oend, present := r.AnyObject()
		if !present || oend == 0 {
			continue
		}
		if class != "TBasket" {
			r.Fail("branch %q: %q in its baskets", b.name, class)
			return nil
		}
		if e := r.keptBasket(oend); e != nil && e.Nevbuf > 0 {
			kept = append(kept, e)
		}
		r.JumpTo(oend)
	}
	r.JumpTo(aend)
	if writeBasket < 0 || maxBaskets < writeBasket+1 || maxBaskets > (len(r.Buf)-r.Pos)/20 {
		r.Fail("branch %q: %d baskets written of %d", b.name, writeBasket, maxBaskets)
		return nil
	}
	r.Skip(1)
	bt.bytes = r.int32s(writeBasket)
	for i := range maxBaskets {
		if v := r.I32(); i < writeBasket {
			bt.bytes[i] = v
		}
	}
	r.Skip(1)
	bt.first = r.int64s(writeBasket + 1)
	for i := range maxBaskets {
		if v := r.I64(); i <= writeBasket {
			bt.first[i] = v
		}
	}
	r.Skip(1)
	bt.seek = r.int64s(writeBasket)
	for i := range maxBaskets {
		if v := r.I64(); i < writeBasket {
			bt.seek[i] = v
		}
	}
	bt.trimUnwritten()
	for _, e := range kept {
		bt.addEmbedded(e)
	}
	if fname := r.Str(); fname != "" {
		r.Fail("branch %q: baskets in file %q", b.name, fname)
	}
	r.JumpTo(bend)
	r.JumpTo(end)
	return b
}

// keptBasket reads a TBasket kept in the tree record, whose body ends at
// end, as groot's Basket.UnmarshalROOT does (embedded.go); its bytes are
// copied, the record's buffer being recycled. A basket with I/O bits is
// left to groot.
func (r *objReader) keptBasket(end int) *ttree.EmbeddedBasket {
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
	e := &ttree.EmbeddedBasket{Keylen: keylen, Nevbuf: int64(r.I32()), Last: int64(r.I32())}
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

func (r *objReader) leaf() leanLeaf {
	class, end, present := r.AnyObject()
	if !present || !leanLeafClasses[class] {
		r.Fail("leaf class %q", class)
		return leanLeaf{}
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
	l := leanLeaf{name: string(name)}
	if r.full {
		l.class, l.title, l.n, l.lenType, l.offset, l.unsigned, l.counted = class, string(title), n, lenType, offset, unsigned, counted
	}
	return l
}

// treeRecord reads a TTree record: the tree's name, title, entries and
// top-level branches.
func (r *objReader) treeRecord() (name, title string, entries int64, branches []*leanBranch) {
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

// leanWant is what a scan asks of its chain's other files: the first
// file's metadata, and the columns the query projects. Parsing every branch
// of a member costs ~0.2 ms a NanoAOD file, most of it on the ~85 branches a
// short query never reads; reading only the projected ones, the others
// skipped by their byte counts, leaves the key look-up and the record's
// inflation.
type leanWant struct {
	schema *fileMeta       // the chain's first file's
	cols   []*column       // schema's columns to read
	keep   map[string]bool // every dotted prefix of their paths
	key    string          // the columns' names, for the metadata cache
}

// newLeanWant limits a member's read to cols, columns of schema.
func newLeanWant(schema *fileMeta, cols []*column) *leanWant {
	// A jagged column's counter gives its entries' sizes in a basket
	// written without entry offsets (decode.go): the member's metadata
	// must hold its basket table too.
	for _, c := range cols {
		if c.count == "" || slices.ContainsFunc(cols, func(o *column) bool { return o.path == c.count }) {
			continue
		}
		for _, sc := range schema.cols {
			if sc.path == c.count {
				cols = append(slices.Clip(cols), sc)
				break
			}
		}
	}
	w := &leanWant{schema: schema, cols: cols, keep: map[string]bool{}}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
		for j := range len(c.path) {
			if c.path[j] == '.' {
				w.keep[c.path[:j]] = true
			}
		}
		w.keep[c.path] = true
	}
	w.key = strings.Join(names, "\x00")
	return w
}

// leanMeta reads, without groot, the metadata of file cf (tree) as a member
// of want's chain: the basket tables of want's columns, typed from the
// first file's columns, matched by branch path and leaf signature. It
// returns rfile.ErrNotLean (wrapped) when the file is outside what it reads, or a
// wanted branch is missing or differs (groot then parses the file, and the
// scan's TChain check names the branch).
func leanMeta(cf *rfile.CountingFile, tree string, want *leanWant) (*fileMeta, error) {
	key, err := findKey(cf, tree)
	if err != nil {
		return nil, err
	}
	defer key.release() // nothing below keeps a slice of it
	r := objReader{RecordReader: rfile.RecordReader{Buf: key.payload, Base: key.keylen, Classes: map[int]string{}}, keep: want.keep}
	name, title, entries, branches := r.treeRecord()
	if r.Err != nil {
		return nil, r.Err
	}
	if name != tree {
		return nil, fmt.Errorf("%w: tree record named %q", rfile.ErrNotLean, name)
	}
	type leanCol struct {
		baskets *basketTable
		sig     string
	}
	found := map[string]leanCol{} // by column path, as columnsOf names them
	err = eachStorageBranch(branches, func(b *leanBranch, name string) error {
		for _, l := range b.leaves {
			path := name
			if len(b.leaves) > 1 {
				path = name + "." + l.name
			}
			found[path] = leanCol{baskets: &b.baskets, sig: b.sigs}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m := &fileMeta{tree: name, title: title, entries: entries, byName: make(map[string]*column, len(want.cols))}
	copies := make([]column, len(want.cols))
	for i, sc := range want.cols {
		c, ok := found[sc.path]
		// (A split collection's member, whose master is a column of its
		// own file, has no signature: groot parses such files.)
		if !ok || sc.leanSig == "" || sc.leanSig != c.sig || sc.master != nil {
			return nil, fmt.Errorf("%w: branch %q differs from the first file's", rfile.ErrNotLean, sc.path)
		}
		copies[i] = *sc
		copies[i].baskets = *c.baskets
		m.cols = append(m.cols, &copies[i])
		m.byName[sc.name] = &copies[i]
	}
	if err := checkEntries(entries, m.cols); err != nil {
		return nil, fmt.Errorf("%w: %v", rfile.ErrNotLean, err) // groot's parse checks every branch
	}
	m.bytes = metaBytes(m.cols)
	return m, nil
}

// eachStorageBranch calls f for every branch that stores entries (one
// without sub-branches) with its column path, as columnsOf walks them.
func eachStorageBranch(branches []*leanBranch, f func(b *leanBranch, path string) error) error {
	var walk func(b *leanBranch, prefix string) error
	walk = func(b *leanBranch, prefix string) error {
		path := memberName(prefix, b.name)
		if len(b.subs) > 0 {
			for _, sb := range b.subs {
				if err := walk(sb, path); err != nil {
					return err
				}
			}
			return nil
		}
		return f(b, path)
	}
	for _, b := range branches {
		if err := walk(b, ""); err != nil {
			return err
		}
	}
	return nil
}

// treeKey is a TTree's record, inflated.
type treeKey struct {
	name    string // the tree's, chosen by findKey when asked for the default
	keylen  int
	payload []byte
	bufs    [][]byte // taken from keyBuffers
}

// keyBuffers recycles the buffers of tree records (tens of kB per file),
// so that opening a long chain does not fault in fresh memory per file.
var keyBuffers = make(chan []byte, 8)

func (k *treeKey) buffer(n int) []byte {
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

func (k *treeKey) release() {
	for _, b := range k.bufs {
		select {
		case keyBuffers <- b:
		default:
		}
	}
	k.bufs = nil
}

// findKey reads a file's header and top directory and returns the record
// of its TTree named tree (the highest cycle); tree "" asks for the default
// as chooseTree applies it (the only tree, else "Events"), and any other
// case (no tree, several) is left to groot.
func findKey(cf *rfile.CountingFile, tree string) (treeKey, error) {
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
		return treeKey{}, err
	}
	if len(hdr) < 4 || string(hdr[:4]) != "root" {
		return treeKey{}, fmt.Errorf("%w: not a ROOT file", rfile.ErrNotLean)
	}
	h := objReader{RecordReader: rfile.RecordReader{Buf: hdr, Pos: 4}}
	version := h.I32()
	begin := int64(h.I32())
	if version >= 1000000 {
		h.Skip(8 + 8 + 4 + 4) // fEND, fSeekFree, fNbytesFree, nfree
	} else {
		h.Skip(4 + 4 + 4 + 4)
	}
	nbytesName := int64(h.I32())
	if h.Err != nil {
		return treeKey{}, fmt.Errorf("%w: file header: %v", rfile.ErrNotLean, h.Err)
	}
	dir, err := read(begin+nbytesName, min(64, int(cf.FileSize-begin-nbytesName)))
	if err != nil {
		return treeKey{}, err
	}
	d := objReader{RecordReader: rfile.RecordReader{Buf: dir}}
	dversion := d.I16()
	d.Skip(8) // fDatimeC, fDatimeM
	nbytesKeys := int(d.I32())
	d.Skip(4) // fNbytesName
	var seekKeys int64
	if dversion > 1000 {
		d.Skip(16)
		seekKeys = d.I64()
	} else {
		d.Skip(8)
		seekKeys = int64(d.I32())
	}
	if d.Err != nil {
		return treeKey{}, fmt.Errorf("%w: directory: %v", rfile.ErrNotLean, d.Err)
	}
	list, err := read(seekKeys, nbytesKeys)
	if err != nil {
		return treeKey{}, err
	}
	k := objReader{RecordReader: rfile.RecordReader{Buf: list}}
	k.Skip(4 + 2 + 4 + 4)
	if k.Pos = int(k.I16()); k.Pos < 0 { // past the list's own key
		return treeKey{}, fmt.Errorf("%w: keys list's key length %d", rfile.ErrNotLean, k.Pos)
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
			return treeKey{}, fmt.Errorf("%w: no default tree among %d", rfile.ErrNotLean, len(trees))
		}
		best = byName[tree]
	}
	if k.Err != nil || best.cycle < 0 || best.class != "TTree" {
		return treeKey{}, fmt.Errorf("%w: no TTree key %q", rfile.ErrNotLean, tree)
	}
	if best.keylen <= 0 || best.nbytes < best.keylen || best.objlen <= 0 || best.objlen > math.MaxInt32 ||
		int64(best.objlen) > max(rfile.MinMetaBound, rfile.MaxMetaInflation*int64(best.nbytes-best.keylen)) {
		return treeKey{}, fmt.Errorf("%w: key sizes", rfile.ErrNotLean)
	}
	if best.seek < 0 || best.seek+int64(best.nbytes) > cf.FileSize {
		return treeKey{}, fmt.Errorf("%w: key outside the file", rfile.ErrNotLean)
	}
	key := treeKey{name: tree, keylen: best.keylen}
	raw := key.buffer(best.nbytes)
	if _, err := cf.ReadAt(raw, best.seek); err != nil {
		key.release()
		return treeKey{}, err
	}
	stored := raw[best.keylen:]
	if len(stored) == best.objlen {
		key.payload = stored
		return key, nil
	}
	key.payload = key.buffer(best.objlen)
	if err := rfile.Decompress(key.payload, stored); err != nil {
		key.release()
		return treeKey{}, fmt.Errorf("%w: %v", rfile.ErrNotLean, err)
	}
	return key, nil
}
