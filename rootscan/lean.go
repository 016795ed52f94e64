package rootscan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
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

// errNotLean says the fast path does not cover a file; the caller parses
// it with groot.
var errNotLean = errors.New("rootscan: outside the lean metadata reader")

// ROOT's object-stream tags (TBufferFile).
const (
	byteCountMask = 0x40000000
	newClassTag   = 0xFFFFFFFF
	classMask     = 0x80000000
	mapOffset     = 2
	versionBCMask = 0x4000 // a TObject version followed by a byte count
	isReferenced  = 1 << 4 // TObject bit: a process-id follows
)

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
	byteReader
	base    int            // stream offset of b[0]: the key's length
	classes map[int]string // class names by the stream offset of their tag
	ints    []int64        // slab for the branches' basket tables
	bytes   []int32
	sigs    []byte       // the current branch's leaf signatures, being built
	nodes   []leanBranch // slab for the branch nodes
	// keep names the top-level branches to read (as memberName names
	// them); the others are skipped whole by their byte count. nil reads
	// every branch.
	keep map[string]bool
	full bool // keep every field of the leaves (leanSchema)
	// depth is how deeply the branch being read nests; a hostile record
	// must not exhaust the stack.
	depth int
	// branchClasses collects the classes of TBranchElements
	// (checkTreeRecord).
	branchClasses map[string]bool
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

func (r *objReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{errNotLean}, args...)...)
	}
}

func (r *objReader) u8() uint8 {
	if !r.need(1) {
		return 0
	}
	r.pos++
	return r.b[r.pos-1]
}

func (r *objReader) u16() uint16 { return uint16(r.i16()) }
func (r *objReader) u32() uint32 { return uint32(r.i32()) }

func (r *objReader) i64() int64 {
	if !r.need(8) {
		return 0
	}
	v := int64(binary.BigEndian.Uint64(r.b[r.pos:]))
	r.pos += 8
	return v
}

func (r *objReader) str() string {
	n := r.strlen()
	if !r.need(n) {
		return ""
	}
	s := string(r.b[r.pos : r.pos+n])
	r.pos += n
	return s
}

// strBytes reads a string as a slice of the record, without copying.
func (r *objReader) strBytes() []byte {
	n := r.strlen()
	if !r.need(n) {
		return nil
	}
	s := r.b[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return s
}

// seek jumps to the end of an object, which must lie ahead.
func (r *objReader) seek(end int) {
	if r.err == nil && (end < r.pos || end > len(r.b)) {
		r.fail("object end %d outside [%d, %d]", end, r.pos, len(r.b))
	}
	if r.err == nil {
		r.pos = end
	}
}

// header reads a class version with its byte count and returns the version
// and where the object ends. Objects without a byte count are not skippable
// and so not lean.
func (r *objReader) header() (vers int, end int) {
	start := r.pos
	bcnt := r.u32()
	if bcnt&byteCountMask == 0 {
		r.fail("object without byte count at %d", start)
		return 0, 0
	}
	vers = int(int16(r.u16()))
	return vers, start + int(bcnt&^byteCountMask) + 4
}

// skipObject skips a streamed base or member that carries a byte count.
func (r *objReader) skipObject() {
	_, end := r.header()
	r.seek(end)
}

// tobject skips a TObject's fields.
func (r *objReader) tobject() {
	if v := r.u16(); v&versionBCMask != 0 {
		r.skip(4)
	}
	r.skip(4) // fUniqueID
	if bits := r.u32(); bits&isReferenced != 0 {
		r.skip(2)
	}
}

// named reads a TNamed's name and title as slices of the record.
func (r *objReader) named() (name, title []byte) {
	_, end := r.header()
	r.tobject()
	name, title = r.strBytes(), r.strBytes()
	r.seek(end)
	return name, title
}

// anyObject reads the tag of a pointer member or an array element: null,
// a reference to an object already read, or an object of a (new or known)
// class. For an object it returns its class and end; the body is next.
func (r *objReader) anyObject() (class string, end int, present bool) {
	beg := r.pos
	bcnt := r.u32()
	if r.err != nil {
		return "", 0, false
	}
	if bcnt&byteCountMask == 0 || bcnt == newClassTag {
		if bcnt&classMask == 0 {
			return "", 0, bcnt != 0 // null, or a reference
		}
		r.fail("object without byte count at %d", beg)
		return "", 0, false
	}
	tagPos := r.pos
	tag := r.u32()
	end = beg + int(bcnt&^byteCountMask) + 4
	switch {
	case tag&classMask == 0:
		// A reference (groot writes them with a byte count): no body.
		return "", 0, tag != 0
	case tag == newClassTag:
		class = r.className(r.pos)
		r.pos += len(class) + 1
		r.classes[r.base+tagPos+mapOffset] = class
	default:
		ref := int(tag &^ classMask)
		var ok bool
		if class, ok = r.classes[ref]; !ok {
			// The class was first streamed inside an object skipped by its
			// byte count (a branch outside r.keep): its name is still
			// there, after the new-class tag the reference points at.
			at := ref - mapOffset - r.base
			if at < 0 || at+4 > len(r.b) || binary.BigEndian.Uint32(r.b[at:]) != newClassTag {
				r.fail("unknown class reference %d", ref)
				return "", 0, false
			}
			class = r.className(at + 4)
			r.classes[ref] = class
		}
	}
	return class, end, r.err == nil
}

// className reads the NUL-terminated class name at pos.
func (r *objReader) className(pos int) string {
	i := bytes.IndexByte(r.b[pos:min(len(r.b), pos+256)], 0)
	if i < 0 {
		r.fail("class name at %d", pos)
		return ""
	}
	return string(r.b[pos : pos+i])
}

// objArray reads a TObjArray's header and returns its length.
func (r *objReader) objArray() (n int, end int) {
	vers, end := r.header()
	if vers > 2 {
		r.tobject()
	}
	if vers > 1 {
		r.str()
	}
	n = int(r.i32())
	r.skip(4) // lower bound
	// Every element takes at least a 4-byte tag.
	if n < 0 || n > (len(r.b)-r.pos)/4 {
		r.fail("array of %d objects", n)
		return 0, end
	}
	return n, end
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
	class, end, present := r.anyObject()
	if !present || class != "TBranch" {
		r.fail("branch class %q", class)
		return nil
	}
	vers, bend := r.header()
	if vers < 10 || vers > 13 {
		r.fail("TBranch version %d", vers)
		return nil
	}
	name, _ := r.named()
	if top && r.keep != nil {
		short := name
		if i := bytes.IndexByte(short, '['); i >= 0 {
			short = short[:i]
		}
		if !r.keep[string(short)] {
			r.seek(end)
			return nil
		}
	}
	b := r.newBranch()
	b.name = string(name)
	r.skipObject() // TAttFill
	bt := &b.baskets
	bt.compress = int(r.i32())
	r.skip(4) // fBasketSize
	bt.offsetLen = int(r.i32())
	writeBasket := int(r.i32())
	r.skip(8) // fEntryNumber
	if vers >= 13 {
		r.skipObject() // fIOFeatures
	}
	r.skip(4) // fOffset
	maxBaskets := int(r.i32())
	r.skip(4) // fSplitLevel
	bt.entries = r.i64()
	if vers >= 11 {
		r.skip(8) // fFirstEntry
	}
	bt.totBytes = r.i64()
	bt.zipBytes = r.i64()

	n, aend := r.objArray()
	if n > 0 && r.depth >= maxNesting {
		r.fail("branches nested more than %d deep", maxNesting)
		return nil
	}
	r.depth++
	for range n {
		if r.err != nil {
			return nil
		}
		b.subs = append(b.subs, r.branch(false))
	}
	r.depth--
	r.seek(aend)
	n, aend = r.objArray()
	r.sigs = r.sigs[:0]
	for i := range n {
		if r.err != nil {
			return nil
		}
		if i > 0 {
			r.sigs = append(r.sigs, "; "...)
		}
		b.leaves = append(b.leaves, r.leaf())
	}
	b.sigs = string(r.sigs)
	r.seek(aend)
	// fBaskets: the baskets kept in the record (embedded.go).
	var kept []*embeddedBasket
	n, aend = r.objArray()
	for range n {
		class, oend, present := r.anyObject()
		if !present || oend == 0 {
			continue
		}
		if class != "TBasket" {
			r.fail("branch %q: %q in its baskets", b.name, class)
			return nil
		}
		if e := r.keptBasket(oend); e != nil && e.nevbuf > 0 {
			kept = append(kept, e)
		}
		r.seek(oend)
	}
	r.seek(aend)
	if writeBasket < 0 || maxBaskets < writeBasket+1 || maxBaskets > (len(r.b)-r.pos)/20 {
		r.fail("branch %q: %d baskets written of %d", b.name, writeBasket, maxBaskets)
		return nil
	}
	r.skip(1)
	bt.bytes = r.int32s(writeBasket)
	for i := range maxBaskets {
		if v := r.i32(); i < writeBasket {
			bt.bytes[i] = v
		}
	}
	r.skip(1)
	bt.first = r.int64s(writeBasket + 1)
	for i := range maxBaskets {
		if v := r.i64(); i <= writeBasket {
			bt.first[i] = v
		}
	}
	r.skip(1)
	bt.seek = r.int64s(writeBasket)
	for i := range maxBaskets {
		if v := r.i64(); i < writeBasket {
			bt.seek[i] = v
		}
	}
	bt.trimUnwritten()
	for _, e := range kept {
		bt.addEmbedded(e)
	}
	if fname := r.str(); fname != "" {
		r.fail("branch %q: baskets in file %q", b.name, fname)
	}
	r.seek(bend)
	r.seek(end)
	return b
}

// keptBasket reads a TBasket kept in the tree record, whose body ends at
// end, as groot's Basket.UnmarshalROOT does (embedded.go); its bytes are
// copied, the record's buffer being recycled. A basket with I/O bits is
// left to groot.
func (r *objReader) keptBasket(end int) *embeddedBasket {
	r.skip(4) // fNbytes
	kvers := r.i16()
	r.skip(4 + 4) // fObjlen, fDatime
	keylen := int64(r.i16())
	r.skip(2) // fCycle
	if kvers > 1000 {
		r.skip(16)
	} else {
		r.skip(8)
	}
	for range 3 { // class, name, title
		r.skip(r.strlen())
	}
	vers := r.i16()
	r.skip(4) // fBufferSize
	if r.i32() < 0 {
		r.fail("kept basket with I/O bits")
		return nil
	}
	e := &embeddedBasket{keylen: keylen, nevbuf: int64(r.i32()), last: int64(r.i32())}
	flag := r.u8()
	gen := flag >= 80
	if gen {
		flag -= 80
		if flag <= 40 {
			r.fail("kept basket flag %d", flag+80) // groot refuses it
			return nil
		}
	}
	array := func() []int32 {
		n := int(r.i32())
		if r.err != nil || n < 0 || n > (end-r.pos)/4 {
			r.fail("kept basket: array of %d in %d bytes", n, end-r.pos)
			return nil
		}
		out := make([]int32, n)
		for i := range out {
			out[i] = r.i32()
		}
		return out
	}
	if !gen && flag != 0 && flag%10 != 2 {
		if e.nevbuf > 0 {
			e.offsets = array()
			if flag > 20 && flag < 40 {
				for i, v := range e.offsets {
					e.offsets[i] = int32(uint32(v) &^ 0xff000000)
				}
			}
			if len(e.offsets) == 0 {
				e.offsets = nil
			}
		}
		if flag > 40 {
			array() // displacements
		}
	}
	if flag == 1 || flag > 10 {
		size := int(e.last)
		if vers <= 1 {
			size = int(r.i32())
		}
		if r.err != nil || size < 0 || size > end-r.pos {
			r.fail("kept basket: %d bytes of data in %d", size, end-r.pos)
			return nil
		}
		e.buf = bytes.Clone(r.b[r.pos : r.pos+size])
		if e.buf == nil {
			e.buf = []byte{}
		}
		r.pos += size
	}
	if r.err != nil {
		return nil
	}
	return e
}

func (r *objReader) leaf() leanLeaf {
	class, end, present := r.anyObject()
	if !present || !leanLeafClasses[class] {
		r.fail("leaf class %q", class)
		return leanLeaf{}
	}
	_, lend := r.header() // TLeafX
	_, tend := r.header() // TLeaf
	name, title := r.named()
	n := int(r.i32())
	lenType := int(r.i32())
	offset := int(r.i32())
	r.skip(1) // fIsRange
	unsigned := r.u8() != 0
	_, cend, counted := r.anyObject()
	if cend > 0 {
		r.seek(cend) // a count leaf streamed here for the first time
	}
	if n == 0 {
		n = 1 // as groot reads it
	}
	r.seek(tend)
	r.seek(lend)
	r.seek(end)
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
	vers, _ := r.header()
	if vers < 16 || vers > 20 {
		r.fail("TTree version %d", vers)
		return
	}
	rawName, rawTitle := r.named()
	name, title = string(rawName), string(rawTitle)
	r.skipObject() // TAttLine
	r.skipObject() // TAttFill
	r.skipObject() // TAttMarker
	entries = r.i64()
	r.skip(3 * 8) // fTotBytes, fZipBytes, fSavedBytes
	if vers >= 18 {
		r.skip(8) // fFlushedBytes
	}
	r.skip(8 + 3*4) // fWeight, fTimerInterval, fScanField, fUpdate
	if vers >= 17 {
		r.skip(4) // fDefaultEntryOffsetLen
	}
	nclus := 0
	if vers >= 19 {
		nclus = int(r.i32())
	}
	r.skip(4 * 8) // fMaxEntries, fMaxEntryLoop, fMaxVirtualSize, fAutoSave
	if vers >= 18 {
		r.skip(8) // fAutoFlush
	}
	r.skip(8) // fEstimate
	if vers >= 19 {
		if nclus < 0 || nclus > len(r.b)/16 {
			r.fail("%d cluster ranges", nclus)
			return
		}
		r.skip(1 + 8*nclus + 1 + 8*nclus)
	}
	if vers >= 20 {
		r.skipObject() // fIOFeatures
	}
	n, _ := r.objArray()
	for range n {
		if r.err != nil {
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
// returns errNotLean (wrapped) when the file is outside what it reads, or a
// wanted branch is missing or differs (groot then parses the file, and the
// scan's TChain check names the branch).
func leanMeta(cf *countingFile, tree string, want *leanWant) (*fileMeta, error) {
	key, err := findKey(cf, tree)
	if err != nil {
		return nil, err
	}
	defer key.release() // nothing below keeps a slice of it
	r := objReader{byteReader: byteReader{b: key.payload}, base: key.keylen, classes: map[int]string{}, keep: want.keep}
	name, title, entries, branches := r.treeRecord()
	if r.err != nil {
		return nil, r.err
	}
	if name != tree {
		return nil, fmt.Errorf("%w: tree record named %q", errNotLean, name)
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
			return nil, fmt.Errorf("%w: branch %q differs from the first file's", errNotLean, sc.path)
		}
		copies[i] = *sc
		copies[i].baskets = *c.baskets
		m.cols = append(m.cols, &copies[i])
		m.byName[sc.name] = &copies[i]
	}
	if err := checkEntries(entries, m.cols); err != nil {
		return nil, fmt.Errorf("%w: %v", errNotLean, err) // groot's parse checks every branch
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
func findKey(cf *countingFile, tree string) (treeKey, error) {
	read := func(off int64, n int) ([]byte, error) {
		if off < 0 || n <= 0 || n > 1<<28 || off+int64(n) > cf.size {
			return nil, fmt.Errorf("%w: %d bytes at %d", errNotLean, n, off)
		}
		b := make([]byte, n)
		_, err := cf.ReadAt(b, off)
		return b, err
	}
	hdr, err := read(0, min(64, int(cf.size)))
	if err != nil {
		return treeKey{}, err
	}
	if len(hdr) < 4 || string(hdr[:4]) != "root" {
		return treeKey{}, fmt.Errorf("%w: not a ROOT file", errNotLean)
	}
	h := objReader{byteReader: byteReader{b: hdr, pos: 4}}
	version := h.i32()
	begin := int64(h.i32())
	if version >= 1000000 {
		h.skip(8 + 8 + 4 + 4) // fEND, fSeekFree, fNbytesFree, nfree
	} else {
		h.skip(4 + 4 + 4 + 4)
	}
	nbytesName := int64(h.i32())
	if h.err != nil {
		return treeKey{}, fmt.Errorf("%w: file header: %v", errNotLean, h.err)
	}
	dir, err := read(begin+nbytesName, min(64, int(cf.size-begin-nbytesName)))
	if err != nil {
		return treeKey{}, err
	}
	d := objReader{byteReader: byteReader{b: dir}}
	dversion := d.i16()
	d.skip(8) // fDatimeC, fDatimeM
	nbytesKeys := int(d.i32())
	d.skip(4) // fNbytesName
	var seekKeys int64
	if dversion > 1000 {
		d.skip(16)
		seekKeys = d.i64()
	} else {
		d.skip(8)
		seekKeys = int64(d.i32())
	}
	if d.err != nil {
		return treeKey{}, fmt.Errorf("%w: directory: %v", errNotLean, d.err)
	}
	list, err := read(seekKeys, nbytesKeys)
	if err != nil {
		return treeKey{}, err
	}
	k := objReader{byteReader: byteReader{b: list}}
	k.skip(4 + 2 + 4 + 4)
	if k.pos = int(k.i16()); k.pos < 0 { // past the list's own key
		return treeKey{}, fmt.Errorf("%w: keys list's key length %d", errNotLean, k.pos)
	}
	nkeys := int(k.i32())
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
	for i := 0; i < nkeys && k.err == nil; i++ {
		nbytes := int(k.i32())
		kversion := k.i16()
		objlen := int(k.i32())
		k.skip(4)
		keylen := int(k.i16())
		cycle := int(k.i16())
		var seek int64
		if kversion > 1000 {
			seek = k.i64()
			k.skip(8)
		} else {
			seek = int64(k.i32())
			k.skip(4)
		}
		class, name := k.str(), k.str()
		k.str() // title
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
			return treeKey{}, fmt.Errorf("%w: no default tree among %d", errNotLean, len(trees))
		}
		best = byName[tree]
	}
	if k.err != nil || best.cycle < 0 || best.class != "TTree" {
		return treeKey{}, fmt.Errorf("%w: no TTree key %q", errNotLean, tree)
	}
	if best.keylen <= 0 || best.nbytes < best.keylen || best.objlen <= 0 || best.objlen > math.MaxInt32 ||
		int64(best.objlen) > max(minMetaBound, maxMetaInflation*int64(best.nbytes-best.keylen)) {
		return treeKey{}, fmt.Errorf("%w: key sizes", errNotLean)
	}
	if best.seek < 0 || best.seek+int64(best.nbytes) > cf.size {
		return treeKey{}, fmt.Errorf("%w: key outside the file", errNotLean)
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
	if err := decompress(key.payload, stored); err != nil {
		key.release()
		return treeKey{}, fmt.Errorf("%w: %v", errNotLean, err)
	}
	return key, nil
}
