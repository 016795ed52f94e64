package tbranch

import (
	"encoding/binary"
	"fmt"
	"strings"

	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/rdict"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rmeta"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/rootio/gohep"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// Members of split collections. A TClonesArray or an std::vector of
// objects written with a split level (Delphes' Jet, Electron ...; ROOT's
// Event tutorial's fTracks; user ntuples of split std::vector<MyClass>)
// is a master branch (fType 3 for a TClonesArray, 4 for an STL
// collection) whose entries hold the element count as an Int_t, and one
// sub-branch per member of the element class (fType 31, 41): its entry
// holds that member of the entry's N elements back to back, big-endian,
// with no header (TStreamerInfo::WriteBufferClones / WriteBufferSTL over
// the N objects). The sub-branch's fClassName is the class that declares
// the member (the element class, or one of its bases: TObject's
// fUniqueID and fBits), and fID the member's index in that class's
// streamer.
//
// A member of a number type, or of a fixed array of them, is a LIST
// column with one item per element, exactly as a counted leaf
// (Jet_pt[nJet]) is: it is read by the jagged decoder (fillListTo), the
// element count of an entry coming from its byte range (entry offsets
// from the basket). The master branch's count is read alongside and each
// entry's count must equal it (checkMasterCounts): a disagreement is an
// error naming the file, branch and entry, never a misaligned row. A
// basket written without entry offsets (ROOT's kGenerateOffsetMap), or a
// branch that stores none (fEntryOffsetLen 0), has them rebuilt from the
// master's counts (genOffsets), as ROOT's TLeafElement does.
//
// TObject's fBits (ROOT's kBits) is 4 bytes per element, and 2 more, a
// process id, for an element marked kIsReferenced (a TRef points to it:
// Delphes' particles, tracks and towers): its entries are parsed element
// by element (fillBitsList), as are a TString member's (fillStringList,
// a VARCHAR[] column).
//
// The master branch itself is not a column (it has sub-branches, as a
// split object's branch has, and those are its columns); its count is
// list length of any member. Members that are std::strings, objects not
// split further, TRef/TRefArray, pointers to arrays and nested collections
// are refused, each with its reason.

// masterColumn is the internal column of a split collection's master
// branch (fType 3/4): one Int_t per entry, the element count. It is not a
// column of the table; its members check their counts against it.
func masterColumn(b rtree.Branch, path string, bt ttree.BasketTable) *Column {
	return &Column{
		Name: path, Path: path, RootType: "TBranchElement " + b.Title(),
		Layout: LayoutFixed, enc: EncI32, Type: Scalar(Int32), entrySize: 4,
		element: true, Baskets: bt,
	}
}

// memberElement finds the streamer element a member branch (fType 31/41)
// stores: element fID of the streamer of fClassName at the branch's class
// version (or the file's latest), which must carry the branch's member
// name. groot attaches elements to such branches by name within the
// element class only, which misses members of its bases.
func memberElement(b rtree.Branch, info gohep.ElementInfo, file *riofs.File) (rbytes.StreamerElement, string) {
	member := b.Name()
	if i := strings.IndexByte(member, '['); i >= 0 {
		member = member[:i]
	}
	if i := strings.LastIndexByte(member, '.'); i >= 0 {
		member = member[i+1:]
	}
	// The class's streamer at the version the branch was written with:
	// a file may hold several versions (groot's look-up gives the first).
	var si rbytes.StreamerInfo
	if file != nil {
		for _, s := range file.StreamerInfos() {
			if s.Name() == info.Class && s.ClassVersion() == info.ClassVersion {
				si = s
				break
			}
		}
		if si == nil {
			si, _ = file.StreamerInfo(info.Class, -1)
		}
	}
	if si == nil {
		si = info.Streamer
	}
	if si != nil && si.Name() == info.Class {
		elems := si.Elements()
		if info.ID >= 0 && int(info.ID) < len(elems) && elems[info.ID].Name() == member {
			return elems[info.ID], ""
		}
		// A streamer of another version than the one fID counts in, or
		// a member of a base class named with the derived class: the
		// member of that name and of the branch's streamer type, as
		// jsroot looks for it, in the class and then in its bases.
		if e := findMember(file, si, member, info.SType, 0); e != nil {
			return e, ""
		}
	}
	if info.Element != nil && info.Element.Name() == member {
		return info.Element, ""
	}
	if si == nil {
		return nil, fmt.Sprintf("no streamer info for class %s in the file", info.Class)
	}
	return nil, fmt.Sprintf("class %s has no member %s at index %d", info.Class, member, info.ID)
}

// findMember looks for the element named member of streamer type stype
// in si and, depth first, in the streamers of its base classes.
func findMember(file *riofs.File, si rbytes.StreamerInfo, member string, stype int32, depth int) rbytes.StreamerElement {
	if si == nil || depth > maxObjDepth {
		return nil
	}
	for _, e := range si.Elements() {
		if e.Name() == member && int32(e.Type()) == stype {
			return e
		}
	}
	if file == nil {
		return nil
	}
	for _, e := range si.Elements() {
		if _, ok := e.(*rdict.StreamerBase); !ok {
			continue
		}
		if base, err := file.StreamerInfo(e.Name(), -1); err == nil {
			if found := findMember(file, base, member, stype, depth+1); found != nil {
				return found
			}
		}
	}
	return nil
}

// memberColumn types a member of a split collection (fType 31/41).
func memberColumn(c *Column, b rtree.Branch, info gohep.ElementInfo, file *riofs.File, master *Column) {
	kind := "TClonesArray"
	if info.BType == 41 {
		kind = "STL collection"
	}
	refuse := func(format string, args ...any) {
		c.Layout = LayoutUnsupported
		c.Why = fmt.Sprintf("member of a split %s: ", kind) + fmt.Sprintf(format, args...)
	}
	if master == nil {
		refuse("no master branch (fType %d) above it", info.BType/10)
		return
	}
	elem, why := memberElement(b, info, file)
	if elem == nil {
		refuse("%s", why)
		return
	}
	c.RootType = "TBranchElement " + elem.TypeName()
	c.Master = master
	t := elem.Type()
	// The branch's streamer type is what was written; an element of
	// another version of the class that says otherwise cannot type it.
	// (Numbers only: an STL member's element says kStreamer where its
	// branch says kSTL.)
	if t < rmeta.Object && info.SType >= 0 && int32(t) != info.SType && !(t == rmeta.Bool && info.SType == int32(rmeta.UChar)) {
		refuse("its streamer type %d differs from member %s's (%d) in the file's class %s", info.SType, elem.Name(), t, info.Class)
		return
	}
	switch {
	case t == rmeta.Bits && elem.ArrayLen() <= 1:
		c.Layout, c.enc = LayoutBitsList, EncU32
		c.Type = ListOf(Scalar(UInt32))
		return
	case t > rmeta.OffsetL && t < rmeta.OffsetP && t != rmeta.OffsetL+rmeta.Bits:
		t -= rmeta.OffsetL
		for _, d := range elem.ArrayDims() {
			c.dims = append(c.dims, int(d))
		}
		if len(c.dims) == 0 {
			c.dims = []int{elem.ArrayLen()}
		}
		if why := checkDims(c.dims); why != "" {
			refuse("%s", why)
			return
		}
		if n := c.elemsPerItem(); n != elem.ArrayLen() {
			refuse("array dimensions %v do not make its %d elements", c.dims, elem.ArrayLen())
			return
		}
	case t > rmeta.OffsetP && t < rmeta.Object:
		refuse("pointer member %s (an array of its own length per element)", elem.TypeName())
		return
	}
	enc, ok := basicEncodings[t]
	if !ok {
		cxx := normalizeCxx(elem.TypeName())
		_, vec := vectorOf(cxx)
		switch {
		case t == rmeta.TString && elem.ArrayLen() <= 1:
			// TString::Streamer per element: a length byte (255, then an
			// Int_t, for 255 bytes or more) and the characters.
			c.Layout, c.Type = LayoutStringList, ListOf(Scalar(Varchar))
		case stringTypes[cxx] || t == rmeta.TString || t == rmeta.STLstring || t == rmeta.CharStar:
			refuse("string member %s (not read yet)", elem.TypeName())
		case strings.HasPrefix(cxx, "TRef"):
			refuse("reference member %s (a TRef is an object id, not data)", elem.TypeName())
		case vec || t >= rmeta.STL && t < rmeta.Streamer:
			refuse("nested collection member %s", elem.TypeName())
		default:
			refuse("member %s of type %s (%d)", elem.Name(), elem.TypeName(), t)
		}
		return
	}
	c.enc = enc
	if enc == EncF16 || enc == EncD32 {
		c.pack = packingOf(elem)
	}
	elemType := Scalar(enc.sqlType())
	for i := len(c.dims) - 1; i >= 0; i-- {
		elemType = ArrayOf(elemType, c.dims[i])
	}
	c.Layout, c.Type = LayoutJagged, ListOf(elemType)
}

// counterReader returns r's reader of cc (a counter or a master branch)
// in r's file, made or reset on first use.
func (r *Reader) counterReader(cc *Column) *Reader {
	if r.counter == nil {
		r.counter = NewReader(cc, r.file)
	} else if r.counter.col != cc || r.counter.file != r.file {
		r.counter.Reset(cc, r.file)
	}
	return r.counter
}

// masterCount reads the element count the master branch gives entry e.
func (r *Reader) masterCount(e int64) (int64, error) {
	m := r.counterReader(r.col.Master)
	if err := m.load(e); err != nil {
		return 0, err
	}
	at := int(e-m.cur.First) * 4
	return int64(int32(binary.BigEndian.Uint32(m.cur.Data[at:]))), nil
}

// checkMasterCounts compares the element counts of entries [first,
// first+len(ents)) of the current basket with the master branch's.
func (r *Reader) checkMasterCounts(first int, ents []ListEntry) error {
	for i, ent := range ents {
		e := r.cur.First + int64(first+i)
		n, err := r.masterCount(e)
		if err != nil {
			return err
		}
		if uint64(n) != ent.Length || n < 0 {
			return r.errorf(e, "%v: %d elements in the entry's bytes, but the collection's branch %q counts %d", rfile.ErrCorrupt, ent.Length, rfile.SafeText(r.col.Master.Path), n)
		}
	}
	return nil
}

// fillBitsList writes a split collection's TObject::fBits member: per
// element a UInt_t, followed by a 2-byte process id when the element is
// referenced (kIsReferenced), so entries are parsed element by element.
func (r *Reader) fillBitsList(v Vector, entry int64, n int) error {
	entries := v.Lists(n)
	return r.segments(entry, n, func(row, k, first int) error {
		total := v.ListSize()
		vals := r.counts[:0] // the segment's values, widened to int
		for i := range k {
			e := r.cur.First + int64(first+i)
			b := r.entryBytes(first + i)
			m := 0
			for len(b) > 0 {
				if len(b) < 4 {
					return r.errorf(e, "%v: %d bytes left of a 4-byte fBits", rfile.ErrCorrupt, len(b))
				}
				bits := binary.BigEndian.Uint32(b)
				b = b[4:]
				if bits&kIsReferenced != 0 {
					if len(b) < 2 {
						return r.errorf(e, "%v: referenced object's process id past the entry", rfile.ErrCorrupt)
					}
					b = b[2:]
				}
				vals = append(vals, int(bits))
				m++
			}
			entries[row+i] = ListEntry{Offset: uint64(total + len(vals) - m), Length: uint64(m)}
		}
		r.counts = vals
		if err := r.checkMasterCounts(first, entries[row:row+k]); err != nil {
			return err
		}
		if err := v.ListReserve(total + len(vals)); err != nil {
			return err
		}
		out := v.ListChild().Bytes((total + len(vals)) * 4)
		for i, x := range vals {
			binary.LittleEndian.PutUint32(out[4*(total+i):], uint32(x))
		}
		return v.ListSetSize(total + len(vals))
	})
}

// fillStringList writes a split collection's TString member: per element
// a length-prefixed string, parsed in turn to the entry's end.
func (r *Reader) fillStringList(v Vector, entry int64, n int) error {
	r.strs, r.ends = r.strs[:0], r.ends[:0]
	entries := v.Lists(n)
	base := v.ListSize()
	err := r.segments(entry, n, func(row, k, first int) error {
		for i := range k {
			e := r.cur.First + int64(first+i)
			b := r.entryBytes(first + i)
			at := len(r.ends)
			for len(b) > 0 {
				s, rest, err := readString(b)
				if err != nil {
					return r.errorf(e, "%v", err)
				}
				r.strs = append(r.strs, s...)
				r.ends = append(r.ends, uint64(len(r.strs)))
				b = rest
			}
			entries[row+i] = ListEntry{Offset: uint64(base + at), Length: uint64(len(r.ends) - at)}
		}
		return r.checkMasterCounts(first, entries[row:row+k])
	})
	if err != nil {
		return err
	}
	return r.assignStringList(v, base)
}
