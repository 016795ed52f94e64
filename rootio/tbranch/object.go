package tbranch

import (
	"encoding/binary"
	"fmt"

	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/rdict"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rmeta"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/rootio/gohep"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// Whole objects. A branch holding an unsplit object (a TVector3, a
// TLorentzVector, a user's class written with split level 0, or such an
// object as a member of a split one) stores each entry as ROOT's class
// buffer: a byte count and version, then the members in the order of the
// class's streamer. When every member has a size the class fixes (numbers,
// fixed arrays of them, packed Double32_t/Float16_t, TObject as a base, and
// other such classes as bases or members), read_root reads the object as
// a STRUCT of its members: base classes' members first and flattened into
// it, as uproot gives them, object members as nested STRUCTs, TObject's
// fUniqueID and fBits left out (ROOT's bookkeeping, not data). Each
// entry is parsed in turn, and an object whose members do not end where
// its byte count says is an error, never values read out of line.

// objShape is how an object of one class is streamed.
type objShape struct {
	class  string
	fields []objField // in stream order
}

type objKind int

const (
	objNumber  objKind = iota // a number or a fixed array of them
	objTObject                // TObject: version, fUniqueID, fBits (+ a process id when referenced)
	objBase                   // a base class: its own header, its members flattened into the struct
	objMember                 // an object member: its own header, a nested STRUCT
)

type objField struct {
	name string
	kind objKind
	enc  Encoding
	pack packing
	n    int       // elements of a fixed array, 0 for a scalar
	obj  *objShape // objBase, objMember
}

// maxObjDepth bounds the nesting of classes a shape follows; a deeper
// (or recursive) class is not read as a STRUCT.
const maxObjDepth = 8

// objectShape builds the shape of class from the file's streamers, or
// says why the class cannot be read as a STRUCT.
func objectShape(f *riofs.File, class string, depth int) (*objShape, string) {
	if depth > maxObjDepth {
		return nil, fmt.Sprintf("class %s nests more than %d classes deep", class, maxObjDepth)
	}
	si, err := f.StreamerInfo(class, -1)
	if err != nil {
		return nil, fmt.Sprintf("no streamer for class %s", class)
	}
	// A version of 0 or 1 is what classes without ROOT's dictionary
	// macros (streamed with a checksum after the version) and many
	// classes with hand-written Streamers (TDatime, the TArrays, TBits,
	// TRef: no class buffer at all) have: neither is read as one.
	if v := si.ClassVersion(); v <= 1 {
		return nil, fmt.Sprintf("class %s has version %d (a checksum or a hand-written Streamer, not a class buffer)", class, v)
	}
	s := &objShape{class: class}
	for _, e := range si.Elements() {
		fd, why := objectField(f, e, depth)
		if why != "" {
			return nil, fmt.Sprintf("member %s of class %s: %s", e.Name(), class, why)
		}
		s.fields = append(s.fields, fd)
	}
	return s, ""
}

func objectField(f *riofs.File, e rbytes.StreamerElement, depth int) (objField, string) {
	fd := objField{name: e.Name()}
	switch e := e.(type) {
	case *rdict.StreamerBase:
		if e.Name() == "TObject" {
			fd.kind = objTObject
			return fd, ""
		}
		sub, why := objectShape(f, e.Name(), depth+1)
		if why != "" {
			return fd, why
		}
		fd.kind, fd.obj = objBase, sub
		return fd, ""
	case *rdict.StreamerBasicType:
		t := e.Type()
		if e.ArrayLen() > 0 && t > rmeta.OffsetL && t < 2*rmeta.OffsetL {
			t -= rmeta.OffsetL
			fd.n = e.ArrayLen()
			if why := checkDims([]int{fd.n}); why != "" {
				return fd, why
			}
		}
		enc, ok := basicEncodings[t]
		if !ok {
			return fd, fmt.Sprintf("type %s (%d)", e.TypeName(), e.Type())
		}
		fd.enc = enc
		if enc == EncF16 || enc == EncD32 {
			fd.pack = packingOf(e)
		}
		return fd, ""
	case *rdict.StreamerObject, *rdict.StreamerObjectAny:
		if e.ArrayLen() > 1 {
			return fd, fmt.Sprintf("array of objects %s", e.TypeName())
		}
		if e.TypeName() == "TObject" {
			fd.kind = objTObject
			return fd, ""
		}
		sub, why := objectShape(f, e.TypeName(), depth+1)
		if why != "" {
			return fd, why
		}
		fd.kind, fd.obj = objMember, sub
		return fd, ""
	}
	return fd, "type " + e.TypeName()
}

// basicEncodings maps ROOT's streamer types of numbers (TStreamerInfo's
// kChar …) to their encodings. kBits is TObject's alone (it carries a
// process id when set), kCharStar a string: neither is here.
var basicEncodings = map[rmeta.Enum]Encoding{
	rmeta.Char: EncI8, rmeta.Short: EncI16, rmeta.Int: EncI32, rmeta.Long: EncI64,
	rmeta.Float: EncF32, rmeta.Counter: EncI32, rmeta.Double: EncF64, rmeta.Double32: EncD32,
	rmeta.UChar: EncU8, rmeta.UShort: EncU16, rmeta.UInt: EncU32, rmeta.ULong: EncU64,
	rmeta.Long64: EncI64, rmeta.ULong64: EncU64, rmeta.Bool: EncBool, rmeta.Float16: EncF16,
}

// sqlFields is the STRUCT's fields: base members spliced in, TObject's
// left out. A name met twice (a member hiding a base's) cannot be a field.
func (s *objShape) sqlFields(out []Field, seen map[string]bool) ([]Field, string) {
	for _, fd := range s.fields {
		switch fd.kind {
		case objTObject:
			continue
		case objBase:
			var why string
			if out, why = fd.obj.sqlFields(out, seen); why != "" {
				return nil, why
			}
			continue
		}
		if seen[fd.name] {
			return nil, fmt.Sprintf("member %s of class %s appears twice (in a base class too)", fd.name, s.class)
		}
		seen[fd.name] = true
		var t Type
		if fd.kind == objMember {
			fs, why := fd.obj.sqlFields(nil, map[string]bool{})
			if why != "" {
				return nil, why
			}
			if len(fs) == 0 {
				return nil, fmt.Sprintf("member %s of class %s holds no data", fd.name, s.class)
			}
			t = Type{Kind: Struct, Fields: fs}
		} else {
			t = Scalar(fd.enc.sqlType())
			if fd.n > 0 {
				t = ArrayOf(t, fd.n)
			}
		}
		out = append(out, Field{Name: fd.name, Type: t})
	}
	return out, ""
}

// objectColumn maps a branch holding whole objects of class, or leaves c
// unsupported with the reason.
func objectColumn(c *Column, f *riofs.File, class string) {
	if f == nil {
		return
	}
	s, why := objectShape(f, class, 0)
	if why == "" {
		var fs []Field
		fs, why = s.sqlFields(nil, map[string]bool{})
		if why == "" && len(fs) == 0 {
			why = "class " + class + " holds no data"
		}
		if why == "" {
			c.Layout, c.Type, c.obj, c.Why = LayoutObject, Type{Kind: Struct, Fields: fs}, s, ""
			return
		}
	}
	c.Layout, c.Why = LayoutUnsupported, "C++ type "+class+": "+why
}

// treeFile is the file of a tree (nil when groot cannot say: FileOf
// asserts groot's own tree type).
func treeFile(t rtree.Tree) (f *riofs.File) {
	defer func() {
		if recover() != nil {
			f = nil
		}
	}()
	return rtree.FileOf(t)
}

// objSink is where one number member of a chunk's objects goes: the bytes
// of its vector and the bytes one row takes.
type objSink struct {
	out    []byte
	rowLen int
}

// objSinks lists, in stream order, the vectors of the numbers of a STRUCT
// vector v of n rows holding objects of shape s.
func objSinks(v Vector, n int, s *objShape, sinks []objSink, field *int) []objSink {
	for _, fd := range s.fields {
		switch fd.kind {
		case objTObject:
		case objBase:
			sinks = objSinks(v, n, fd.obj, sinks, field)
		case objMember:
			sinks = objSinks(v.StructChild(*field), n, fd.obj, sinks, new(int))
			*field++
		default:
			child := v.StructChild(*field)
			per := 1
			if fd.n > 0 {
				child, per = child.ArrayChild(), fd.n
			}
			rowLen := per * outSize(fd.enc)
			sinks = append(sinks, objSink{out: child.Bytes(n * rowLen), rowLen: rowLen})
			*field++
		}
	}
	return sinks
}

// objReader parses one object's bytes into the sinks at row.
type objParser struct {
	b     []byte
	pos   int
	sinks []objSink
	next  int
	row   int
}

func (p *objParser) u16() (uint16, error) {
	if p.pos+2 > len(p.b) {
		return 0, fmt.Errorf("%w: object truncated at byte %d of %d", rfile.ErrCorrupt, p.pos, len(p.b))
	}
	v := binary.BigEndian.Uint16(p.b[p.pos:])
	p.pos += 2
	return v, nil
}

func (p *objParser) u32() (uint32, error) {
	if p.pos+4 > len(p.b) {
		return 0, fmt.Errorf("%w: object truncated at byte %d of %d", rfile.ErrCorrupt, p.pos, len(p.b))
	}
	v := binary.BigEndian.Uint32(p.b[p.pos:])
	p.pos += 4
	return v, nil
}

// object reads a class buffer: byte count, version, members.
func (p *objParser) object(s *objShape) error {
	start := p.pos
	bc, err := p.u32()
	if err != nil {
		return err
	}
	if bc&kByteCountMask == 0 {
		return fmt.Errorf("%w: object of class %s without a byte count", rfile.ErrCorrupt, s.class)
	}
	end := start + 4 + int(bc&^kByteCountMask)
	if end > len(p.b) {
		return fmt.Errorf("%w: object of class %s says %d bytes, %d are left", rfile.ErrCorrupt, s.class, end-start, len(p.b)-start)
	}
	vers, err := p.u16()
	if err != nil {
		return err
	}
	if vers == 0 || vers&0x4000 != 0 {
		// Version 0 is followed by a checksum (foreign classes), and the
		// member-wise bit belongs to collections: neither is a plain
		// class buffer.
		return fmt.Errorf("object of class %s with version word %#x: not read as a plain class buffer", s.class, vers)
	}
	if err := p.members(s); err != nil {
		return err
	}
	if p.pos != end {
		return fmt.Errorf("%w: the members of class %s end at byte %d, its byte count at %d (the file's class differs from its streamer?)", rfile.ErrCorrupt, s.class, p.pos-start, end-start)
	}
	return nil
}

func (p *objParser) members(s *objShape) error {
	for _, fd := range s.fields {
		switch fd.kind {
		case objTObject:
			if err := p.tobject(); err != nil {
				return err
			}
		case objBase, objMember:
			if err := p.object(fd.obj); err != nil {
				return err
			}
		default:
			n := max(fd.n, 1)
			k := p.sinks[p.next]
			p.next++
			in := n * fd.enc.diskSize(fd.pack)
			if p.pos+in > len(p.b) {
				return fmt.Errorf("%w: member %s of class %s truncated", rfile.ErrCorrupt, fd.name, s.class)
			}
			if err := decodeElems(fd.enc, fd.pack, k.out[p.row*k.rowLen:], p.b[p.pos:p.pos+in], n); err != nil {
				return err
			}
			p.pos += in
		}
	}
	return nil
}

// tobject skips TObject's streamed fields: its version (with a byte
// count when one was written), fUniqueID, fBits, and the process id ROOT
// adds when fBits has kIsReferenced.
func (p *objParser) tobject() error {
	if p.pos+4 <= len(p.b) && binary.BigEndian.Uint32(p.b[p.pos:])&kByteCountMask != 0 {
		p.pos += 4
	}
	if _, err := p.u16(); err != nil {
		return err
	}
	if _, err := p.u32(); err != nil {
		return err
	}
	bits, err := p.u32()
	if err != nil {
		return err
	}
	if bits&kIsReferenced != 0 {
		_, err = p.u16()
	}
	return err
}

const (
	kByteCountMask = 0x40000000
	kIsReferenced  = 1 << 4
)

// fillObjects writes entries [entry, entry+n) of a whole-object column
// into v, a STRUCT vector.
func (r *Reader) fillObjects(v Vector, entry int64, n int) error {
	p := objParser{sinks: objSinks(v, n, r.col.obj, nil, new(int))}
	return r.segments(entry, n, func(row, k, first int) error {
		for i := range k {
			p.b, p.pos, p.next, p.row = r.entryBytes(first+i), 0, 0, row+i
			if err := p.object(r.col.obj); err != nil {
				return r.errorf(r.cur.First+int64(first+i), "%v", err)
			}
			if p.pos != len(p.b) {
				return r.errorf(r.cur.First+int64(first+i), "%v: %d bytes after the object of class %s", rfile.ErrCorrupt, len(p.b)-p.pos, r.col.obj.class)
			}
		}
		return nil
	})
}

// Collections of objects. A std::vector (or another sequence container)
// of such a class, unsplit, stores each entry as the collection's header
// (byte count and version), the number of objects, then each object's
// class buffer in turn: read_root reads it as a LIST of the class's
// STRUCT. ROOT may also write a collection member-wise (all objects' first
// members, then their second, ...; the version's kStreamedMemberWise bit):
// objectListColumn looks at the branch's first stored entry and refuses
// that form rather than fail the scan.

// objectListColumn maps a branch holding collections of objects of class.
func objectListColumn(c *Column, f *riofs.File, b rtree.Branch, class string) {
	if f == nil {
		return
	}
	s, why := objectShape(f, class, 0)
	var fs []Field
	if why == "" {
		fs, why = s.sqlFields(nil, map[string]bool{})
		if why == "" && len(fs) == 0 {
			why = "class " + class + " holds no data"
		}
	}
	if why == "" {
		why = memberWiseProbe(f, b)
	}
	if why != "" {
		c.Layout, c.Why = LayoutUnsupported, "C++ type "+c.RootType[len("TBranchElement "):]+": "+why
		return
	}
	c.Layout, c.Type, c.obj, c.Why = LayoutObjectList, ListOf(Type{Kind: Struct, Fields: fs}), s, ""
}

// memberWiseProbe reads the branch's first basket (when it is stored in
// its own key) and says why the collection cannot be read when its first
// non-empty entry was written member-wise, or "".
func memberWiseProbe(f *riofs.File, b rtree.Branch) string {
	bt, err := gohep.ReadBasketTable(b)
	// A basket too large to be one (a corrupt size) is left to the scan,
	// which checks it against the file.
	if err != nil || len(bt.Seek) == 0 || len(bt.Bytes) == 0 || bt.Seek[0] <= 0 || bt.Bytes[0] <= 0 || bt.Bytes[0] > 256<<20 {
		return ""
	}
	raw := make([]byte, bt.Bytes[0])
	if _, err := f.ReadAt(raw, bt.Seek[0]); err != nil {
		return fmt.Sprintf("its first basket cannot be read: %v", err)
	}
	bk, _, err := ttree.DecodeBasket(raw, true, nil)
	if err != nil {
		return fmt.Sprintf("its first basket cannot be read: %v", err)
	}
	for i := 0; i+1 < len(bk.Offsets); i++ {
		lo, hi := bk.Offsets[i], bk.Offsets[i+1]
		if lo < 0 || hi < lo || int(hi) > len(bk.Data) {
			return ""
		}
		e := bk.Data[lo:hi]
		if len(e) >= 6 && binary.BigEndian.Uint32(e)&kByteCountMask != 0 {
			if binary.BigEndian.Uint16(e[4:])&0x4000 != 0 {
				return "collection written member-wise (not read yet)"
			}
			return ""
		}
	}
	return ""
}

// fillObjectLists writes entries [entry, entry+n) of a collection-of-
// objects column into v, a LIST of STRUCT vector.
func (r *Reader) fillObjectLists(v Vector, entry int64, n int) error {
	entries := v.Lists(n)
	total := v.ListSize()
	return r.segments(entry, n, func(row, k, first int) error {
		// First pass: each entry's header and count, so that the child
		// rows are reserved once per segment.
		seg := 0
		for i := range k {
			m, _, err := r.objectListHeader(r.entryBytes(first + i))
			if err != nil {
				return r.errorf(r.cur.First+int64(first+i), "%v", err)
			}
			entries[row+i] = ListEntry{Offset: uint64(total + seg), Length: uint64(m)}
			seg += m
		}
		if err := v.ListReserve(total + seg); err != nil {
			return err
		}
		p := objParser{sinks: objSinks(v.ListChild(), total+seg, r.col.obj, nil, new(int))}
		for i := range k {
			b := r.entryBytes(first + i)
			m, pos, _ := r.objectListHeader(b)
			p.b, p.pos = b, pos
			for j := range m {
				p.next, p.row = 0, int(entries[row+i].Offset)+j
				if err := p.object(r.col.obj); err != nil {
					return r.errorf(r.cur.First+int64(first+i), "object %d of %d: %v", j, m, err)
				}
			}
			if p.pos != len(b) {
				return r.errorf(r.cur.First+int64(first+i), "%v: %d bytes after the %d objects of class %s", rfile.ErrCorrupt, len(b)-p.pos, m, r.col.obj.class)
			}
		}
		total += seg
		return v.ListSetSize(total)
	})
}

// objectListHeader reads a collection's header (when present) and count:
// the number of objects and where the first begins.
func (r *Reader) objectListHeader(b []byte) (n, pos int, err error) {
	if len(b) >= 6 && binary.BigEndian.Uint32(b)&kByteCountMask != 0 {
		if int(binary.BigEndian.Uint32(b)&^kByteCountMask) != len(b)-4 {
			return 0, 0, fmt.Errorf("%w: collection's byte count %d, entry of %d bytes", rfile.ErrCorrupt, binary.BigEndian.Uint32(b)&^kByteCountMask, len(b)-4)
		}
		if binary.BigEndian.Uint16(b[4:])&0x4000 != 0 {
			return 0, 0, fmt.Errorf("collection of class %s written member-wise: not read yet", r.col.obj.class)
		}
		pos = 6
	}
	if pos+4 > len(b) {
		return 0, 0, fmt.Errorf("%w: collection of %d bytes", rfile.ErrCorrupt, len(b))
	}
	n = int(int32(binary.BigEndian.Uint32(b[pos:])))
	// Each object takes at least its 6-byte header.
	if n < 0 || n > (len(b)-pos-4)/6 {
		return 0, 0, fmt.Errorf("%w: collection of %d objects in %d bytes", rfile.ErrCorrupt, n, len(b))
	}
	return n, pos + 4, nil
}
