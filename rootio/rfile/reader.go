package rfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// RecordReader reads big-endian fields with a sticky error, so header parsing
// stays a straight line and is checked once.
type RecordReader struct {
	Buf     []byte
	Pos     int
	Err     error
	Base    int            // stream offset of b[0]: the key's length
	Classes map[int]string // class names by the stream offset of their tag
}

// ErrNotLean says the fast path does not cover a file; the caller parses
// it with groot.
var ErrNotLean = errors.New("rootscan: outside the lean metadata reader")

// MaxNesting bounds how deeply lists and arrays nest in metadata records:
// groot reads them recursively, and ROOT's own stay a few levels deep.
const MaxNesting = 64

// ROOT's object-stream tags (TBufferFile).
const (
	ByteCountMask = 0x40000000
	NewClassTag   = 0xFFFFFFFF
	ClassMask     = 0x80000000
	MapOffset     = 2
	VersionBCMask = 0x4000 // a TObject version followed by a byte count
	IsReferenced  = 1 << 4 // TObject bit: a process-id follows
)

func (r *RecordReader) Need(n int) bool {
	if r.Err != nil {
		return false
	}
	if n < 0 || r.Pos+n > len(r.Buf) {
		r.Err = io.ErrUnexpectedEOF
		return false
	}
	return true
}

func (r *RecordReader) Skip(n int) {
	if r.Need(n) {
		r.Pos += n
	}
}

func (r *RecordReader) I16() int16 {
	if !r.Need(2) {
		return 0
	}
	v := int16(binary.BigEndian.Uint16(r.Buf[r.Pos:]))
	r.Pos += 2
	return v
}

func (r *RecordReader) I32() int32 {
	if !r.Need(4) {
		return 0
	}
	v := int32(binary.BigEndian.Uint32(r.Buf[r.Pos:]))
	r.Pos += 4
	return v
}

func (r *RecordReader) Strlen() int {
	if !r.Need(1) {
		return 0
	}
	n := int(r.Buf[r.Pos])
	r.Pos++
	if n == 255 {
		n = int(r.I32())
	}
	return n
}

func (r *RecordReader) Fail(format string, args ...any) {
	if r.Err == nil {
		r.Err = fmt.Errorf("%w: "+format, append([]any{ErrNotLean}, args...)...)
	}
}

func (r *RecordReader) U8() uint8 {
	if !r.Need(1) {
		return 0
	}
	r.Pos++
	return r.Buf[r.Pos-1]
}

func (r *RecordReader) U16() uint16 { return uint16(r.I16()) }

func (r *RecordReader) U32() uint32 { return uint32(r.I32()) }

func (r *RecordReader) I64() int64 {
	if !r.Need(8) {
		return 0
	}
	v := int64(binary.BigEndian.Uint64(r.Buf[r.Pos:]))
	r.Pos += 8
	return v
}

func (r *RecordReader) Str() string {
	n := r.Strlen()
	if !r.Need(n) {
		return ""
	}
	s := string(r.Buf[r.Pos : r.Pos+n])
	r.Pos += n
	return s
}

// StrBytes reads a string as a slice of the record, without copying.
func (r *RecordReader) StrBytes() []byte {
	n := r.Strlen()
	if !r.Need(n) {
		return nil
	}
	s := r.Buf[r.Pos : r.Pos+n : r.Pos+n]
	r.Pos += n
	return s
}

// JumpTo jumps to the end of an object, which must lie ahead.
func (r *RecordReader) JumpTo(end int) {
	if r.Err == nil && (end < r.Pos || end > len(r.Buf)) {
		r.Fail("object end %d outside [%d, %d]", end, r.Pos, len(r.Buf))
	}
	if r.Err == nil {
		r.Pos = end
	}
}

// Header reads a class version with its byte count and returns the version
// and where the object ends. Objects without a byte count are not skippable
// and so not lean.
func (r *RecordReader) Header() (vers int, end int) {
	start := r.Pos
	bcnt := r.U32()
	if bcnt&ByteCountMask == 0 {
		r.Fail("object without byte count at %d", start)
		return 0, 0
	}
	vers = int(int16(r.U16()))
	return vers, start + int(bcnt&^ByteCountMask) + 4
}

// SkipObject skips a streamed base or member that carries a byte count.
func (r *RecordReader) SkipObject() {
	_, end := r.Header()
	r.JumpTo(end)
}

// TObject skips a TObject's fields.
func (r *RecordReader) TObject() {
	if v := r.U16(); v&VersionBCMask != 0 {
		r.Skip(4)
	}
	r.Skip(4) // fUniqueID
	if bits := r.U32(); bits&IsReferenced != 0 {
		r.Skip(2)
	}
}

// Named reads a TNamed's name and title as slices of the record.
func (r *RecordReader) Named() (name, title []byte) {
	_, end := r.Header()
	r.TObject()
	name, title = r.StrBytes(), r.StrBytes()
	r.JumpTo(end)
	return name, title
}

// AnyObject reads the tag of a pointer member or an array element: null,
// a reference to an object already read, or an object of a (new or known)
// class. For an object it returns its class and end; the body is next.
func (r *RecordReader) AnyObject() (class string, end int, present bool) {
	beg := r.Pos
	bcnt := r.U32()
	if r.Err != nil {
		return "", 0, false
	}
	if bcnt&ByteCountMask == 0 || bcnt == NewClassTag {
		if bcnt&ClassMask == 0 {
			return "", 0, bcnt != 0 // null, or a reference
		}
		r.Fail("object without byte count at %d", beg)
		return "", 0, false
	}
	tagPos := r.Pos
	tag := r.U32()
	end = beg + int(bcnt&^ByteCountMask) + 4
	switch {
	case tag&ClassMask == 0:
		// A reference (groot writes them with a byte count): no body.
		return "", 0, tag != 0
	case tag == NewClassTag:
		class = r.ClassName(r.Pos)
		r.Pos += len(class) + 1
		r.Classes[r.Base+tagPos+MapOffset] = class
	default:
		ref := int(tag &^ ClassMask)
		var ok bool
		if class, ok = r.Classes[ref]; !ok {
			// The class was first streamed inside an object skipped by its
			// byte count (a branch outside r.keep): its name is still
			// there, after the new-class tag the reference points at.
			at := ref - MapOffset - r.Base
			if at < 0 || at+4 > len(r.Buf) || binary.BigEndian.Uint32(r.Buf[at:]) != NewClassTag {
				r.Fail("unknown class reference %d", ref)
				return "", 0, false
			}
			class = r.ClassName(at + 4)
			r.Classes[ref] = class
		}
	}
	return class, end, r.Err == nil
}

// ClassName reads the NUL-terminated class name at pos.
func (r *RecordReader) ClassName(pos int) string {
	i := bytes.IndexByte(r.Buf[pos:min(len(r.Buf), pos+256)], 0)
	if i < 0 {
		r.Fail("class name at %d", pos)
		return ""
	}
	return string(r.Buf[pos : pos+i])
}

// ObjArray reads a TObjArray's header and returns its length.
func (r *RecordReader) ObjArray() (n int, end int) {
	vers, end := r.Header()
	if vers > 2 {
		r.TObject()
	}
	if vers > 1 {
		r.Str()
	}
	n = int(r.I32())
	r.Skip(4) // lower bound
	// Every element takes at least a 4-byte tag.
	if n < 0 || n > (len(r.Buf)-r.Pos)/4 {
		r.Fail("array of %d objects", n)
		return 0, end
	}
	return n, end
}

// CheckList checks a TList streamed at r (its header and elements), which
// groot reads into slices of the length it states.
func (r *RecordReader) CheckList(depth int) error {
	if depth > MaxNesting {
		return fmt.Errorf("lists nested more than %d deep", MaxNesting)
	}
	vers, end := r.Header()
	if r.Err != nil {
		return r.Err
	}
	if end > len(r.Buf) {
		return fmt.Errorf("list of %d bytes in a %d-byte record", end, len(r.Buf))
	}
	if vers <= 3 {
		return fmt.Errorf("TList version %d", vers)
	}
	r.TObject()
	r.Str()
	n := int(r.I32())
	if r.Err != nil {
		return r.Err
	}
	// Each element takes at least a 4-byte tag and a 1-byte option.
	if n < 0 || n > (end-r.Pos)/5 {
		return fmt.Errorf("list of %d objects in %d bytes", n, end-r.Pos)
	}
	for i := range n {
		class, oend, present := r.AnyObject()
		if r.Err != nil {
			return fmt.Errorf("object %d of %d: %w", i, n, r.Err)
		}
		if present && oend > 0 {
			if oend > end {
				return fmt.Errorf("object %d of %d ends at %d, past its list's end %d", i, n, oend, end)
			}
			switch class {
			case "TList":
				if err := r.CheckList(depth + 1); err != nil {
					return err
				}
			case "TStreamerInfo":
				if err := r.checkStreamerInfo(depth + 1); err != nil {
					return fmt.Errorf("object %d of %d: %w", i, n, err)
				}
			}
			r.JumpTo(oend)
		}
		r.Str() // option
		if r.Err != nil {
			return fmt.Errorf("object %d of %d: %w", i, n, r.Err)
		}
	}
	r.JumpTo(end)
	return r.Err
}

// checkStreamerInfo checks a TStreamerInfo's array of elements.
func (r *RecordReader) checkStreamerInfo(depth int) error {
	_, end := r.Header()
	r.Named()
	r.Skip(8) // fCheckSum, fClassVersion
	if r.Err != nil {
		return r.Err
	}
	class, aend, present := r.AnyObject()
	if r.Err != nil || !present || aend == 0 {
		return r.Err
	}
	if class != "TObjArray" || aend > end {
		return fmt.Errorf("streamer elements in a %q of %d bytes", SafeText(class), aend)
	}
	return r.CheckObjArrayOf(depth+1, r.checkStreamerElement)
}

// checkStreamerElement checks the strings and the array groot allocates
// from a streamer element's stated lengths (a string's up to 4 GB).
func (r *RecordReader) checkStreamerElement(class string, end int) error {
	if !strings.HasPrefix(class, "TStreamer") {
		return nil
	}
	r.Header() // the element's class
	if class == "TStreamerSTLstring" {
		r.Header() // its base, TStreamerSTL
	}
	vers, eend := r.Header()
	if r.Err != nil {
		return r.Err
	}
	if eend > end {
		return fmt.Errorf("element of %d bytes past its end %d", eend, end)
	}
	r.Named()
	r.Skip(4 * 4) // fType, fSize, fArrayLength, fArrayDim
	if vers == 1 {
		n := int(r.I32())
		if n < 0 || n > (eend-r.Pos)/4 {
			return fmt.Errorf("array of %d indices in %d bytes", n, eend-r.Pos)
		}
		r.Skip(4 * n)
	} else {
		r.Skip(5 * 4) // fMaxIndex
	}
	r.Str() // fTypeName
	if r.Err != nil {
		return r.Err
	}
	r.JumpTo(eend)
	switch class {
	case "TStreamerBasicPointer", "TStreamerLoop":
		r.Skip(4) // fCountVersion
		r.Str()   // fCountName
		r.Str()   // fCountClass
	}
	return r.Err
}

// CheckObjArray checks a TObjArray's length against its bytes (a null
// element takes 4) and each element's byte count against the array's.
func (r *RecordReader) CheckObjArray(depth int) error {
	return r.CheckObjArrayOf(depth, nil)
}

// CheckObjArrayOf is CheckObjArray, with each present element's body
// (class, end) also checked by elem when it is not nil.
func (r *RecordReader) CheckObjArrayOf(depth int, elem func(class string, end int) error) error {
	if depth > MaxNesting {
		return fmt.Errorf("arrays nested more than %d deep", MaxNesting)
	}
	vers, end := r.Header()
	if r.Err != nil {
		return r.Err
	}
	if end > len(r.Buf) {
		return fmt.Errorf("array of %d bytes in a %d-byte record", end, len(r.Buf))
	}
	if vers > 2 {
		r.TObject()
	}
	if vers > 1 {
		r.Str()
	}
	n := int(r.I32())
	r.Skip(4) // lower bound
	if r.Err != nil {
		return r.Err
	}
	if n < 0 || n > (end-r.Pos)/4 {
		return fmt.Errorf("array of %d objects in %d bytes", n, end-r.Pos)
	}
	for i := range n {
		class, oend, present := r.AnyObject()
		if r.Err != nil {
			return fmt.Errorf("element %d of %d: %w", i, n, r.Err)
		}
		if present && oend > 0 {
			if oend > end {
				return fmt.Errorf("element %d of %d ends at %d, past its array's end %d", i, n, oend, end)
			}
			if elem != nil {
				if err := elem(class, oend); err != nil {
					return fmt.Errorf("element %d of %d (%s): %w", i, n, SafeText(class), err)
				}
			}
			r.JumpTo(oend)
		}
	}
	r.JumpTo(end)
	return r.Err
}
