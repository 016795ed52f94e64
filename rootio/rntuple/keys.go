package rntuple

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hepsql/hepsql/rootio/compress"
)

// Key is one entry of a ROOT directory: an object's class, name, cycle
// and where its bytes are.
type Key struct {
	Class, Name, Title string
	Cycle              int16
	Path               string // name with its directory path ("dir/name"); top level: name
	nbytes             int32  // key header + stored object
	objlen             int32  // uncompressed object
	keylen             int16
	seek               int64
}

// maxDirDepth bounds the directory recursion, against files whose
// directories point at each other.
const maxDirDepth = 32

// maxKeys bounds the keys of one directory (a corrupt count must not
// allocate without bound).
const maxKeys = 1 << 20

// readKeys lists the keys of the file's directories, recursively.
func readKeys(r io.ReaderAt, size int64) ([]Key, error) {
	hdr := make([]byte, 64)
	if n, err := r.ReadAt(hdr, 0); n < 64 && !(err == io.EOF && n >= 53) {
		return nil, fmt.Errorf("file header: %d bytes: %w", n, errOr(err, io.ErrUnexpectedEOF))
	}
	if string(hdr[:4]) != "root" {
		return nil, errors.New("not a ROOT file (no \"root\" magic)")
	}
	b := be{b: hdr, pos: 4}
	version := b.i32()
	begin := int64(b.i32())
	var nbytesName int32
	if version >= 1000000 {
		b.skip(8 + 8 + 4 + 4) // fEND, fSeekFree, fNbytesFree, nfree
		nbytesName = b.i32()
	} else {
		b.skip(4 + 4 + 4 + 4)
		nbytesName = b.i32()
	}
	if b.err != nil || begin <= 0 || nbytesName <= 0 || begin+int64(nbytesName) >= size {
		return nil, fmt.Errorf("file header: begin %d, name %d bytes outside a %d-byte file", begin, nbytesName, size)
	}
	var keys []Key
	seen := map[int64]bool{}
	err := readDir(r, size, begin+int64(nbytesName), "", 0, seen, &keys)
	return keys, err
}

func errOr(err, def error) error {
	if err != nil && err != io.EOF {
		return err
	}
	return def
}

// readDir reads the TDirectory record at off and appends its keys (and
// those of its subdirectories) to keys.
func readDir(r io.ReaderAt, size, off int64, prefix string, depth int, seen map[int64]bool, keys *[]Key) error {
	if depth > maxDirDepth {
		return fmt.Errorf("directories nested deeper than %d", maxDirDepth)
	}
	if seen[off] {
		return fmt.Errorf("directory at %d listed twice", off)
	}
	seen[off] = true
	rec, err := readAtMost(r, size, off, 64)
	if err != nil {
		return fmt.Errorf("directory at %d: %w", off, err)
	}
	b := be{b: rec}
	version := b.i16()
	b.skip(4 + 4) // ctime, mtime
	nbytesKeys := b.i32()
	b.skip(4) // nbytes name
	var seekKeys int64
	if version > 1000 {
		b.skip(16)
		seekKeys = b.i64()
	} else {
		b.skip(8)
		seekKeys = int64(b.i32())
	}
	if b.err != nil {
		return fmt.Errorf("directory at %d: %w", off, b.err)
	}
	if seekKeys == 0 {
		return nil // an empty directory
	}
	if seekKeys < 0 || nbytesKeys <= 0 || seekKeys+int64(nbytesKeys) > size {
		return fmt.Errorf("directory at %d: key list of %d bytes at %d outside the %d-byte file", off, nbytesKeys, seekKeys, size)
	}
	list := make([]byte, nbytesKeys)
	if _, err := r.ReadAt(list, seekKeys); err != nil {
		return fmt.Errorf("directory at %d: key list: %w", off, err)
	}
	b = be{b: list}
	if _, err := parseKey(&b); err != nil {
		return fmt.Errorf("directory at %d: key list header: %w", off, err)
	}
	n := b.i32()
	if b.err != nil || n < 0 || n > maxKeys {
		return fmt.Errorf("directory at %d: %d keys", off, n)
	}
	for range n {
		k, err := parseKey(&b)
		if err != nil {
			return fmt.Errorf("directory at %d: key: %w", off, err)
		}
		k.Path = prefix + k.Name
		*keys = append(*keys, k)
		if k.Class == "TDirectory" || k.Class == "TDirectoryFile" {
			if k.seek <= 0 || k.seek+int64(k.keylen) >= size {
				return fmt.Errorf("directory %q at %d outside the file", k.Path, k.seek)
			}
			if err := readDir(r, size, k.seek+int64(k.keylen), k.Path+"/", depth+1, seen, keys); err != nil {
				return err
			}
		}
	}
	return nil
}

// readAtMost reads up to n bytes at off, fewer at the file's end.
func readAtMost(r io.ReaderAt, size, off int64, n int) ([]byte, error) {
	if off < 0 || off >= size {
		return nil, fmt.Errorf("offset %d outside the %d-byte file", off, size)
	}
	n = int(min(int64(n), size-off))
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, err
	}
	return buf, nil
}

// parseKey reads one TKey header.
func parseKey(b *be) (Key, error) {
	var k Key
	k.nbytes = b.i32()
	version := b.i16()
	k.objlen = b.i32()
	b.skip(4) // datime
	k.keylen = b.i16()
	k.Cycle = b.i16()
	if version > 1000 {
		k.seek = b.i64()
		b.skip(8)
	} else {
		k.seek = int64(b.i32())
		b.skip(4)
	}
	k.Class = b.str()
	k.Name = b.str()
	k.Title = b.str()
	if b.err != nil {
		return k, b.err
	}
	if k.keylen <= 0 || k.nbytes < int32(k.keylen) || k.objlen < 0 {
		return k, fmt.Errorf("key %q: sizes nbytes=%d keylen=%d objlen=%d", k.Name, k.nbytes, k.keylen, k.objlen)
	}
	return k, nil
}

// payload reads a key's object, inflated.
func (k Key) payload(r io.ReaderAt, size int64) ([]byte, error) {
	if k.seek <= 0 || k.seek+int64(k.nbytes) > size {
		return nil, fmt.Errorf("key %q: %d bytes at %d outside the %d-byte file", k.Path, k.nbytes, k.seek, size)
	}
	raw := make([]byte, k.nbytes)
	if _, err := r.ReadAt(raw, k.seek); err != nil {
		return nil, fmt.Errorf("key %q: %w", k.Path, err)
	}
	stored := raw[k.keylen:]
	if int(k.objlen) == len(stored) {
		return stored, nil
	}
	if int64(k.objlen) > MaxAlloc {
		return nil, fmt.Errorf("key %q: object of %d bytes", k.Path, k.objlen)
	}
	out := make([]byte, k.objlen)
	if err := compress.Decompress(out, stored); err != nil {
		return nil, fmt.Errorf("key %q: %w", k.Path, err)
	}
	return out, nil
}

// be reads big-endian fields (ROOT's keys and the anchor) with a sticky
// error.
type be struct {
	b   []byte
	pos int
	err error
}

func (b *be) need(n int) bool {
	if b.err != nil {
		return false
	}
	if n < 0 || n > len(b.b)-b.pos {
		b.err = io.ErrUnexpectedEOF
		return false
	}
	return true
}

func (b *be) skip(n int) {
	if b.need(n) {
		b.pos += n
	}
}

func (b *be) i16() int16 {
	if !b.need(2) {
		return 0
	}
	v := int16(binary.BigEndian.Uint16(b.b[b.pos:]))
	b.pos += 2
	return v
}

func (b *be) u16() uint16 { return uint16(b.i16()) }

func (b *be) i32() int32 {
	if !b.need(4) {
		return 0
	}
	v := int32(binary.BigEndian.Uint32(b.b[b.pos:]))
	b.pos += 4
	return v
}

func (b *be) i64() int64 {
	if !b.need(8) {
		return 0
	}
	v := int64(binary.BigEndian.Uint64(b.b[b.pos:]))
	b.pos += 8
	return v
}

func (b *be) u64() uint64 { return uint64(b.i64()) }

func (b *be) str() string {
	if !b.need(1) {
		return ""
	}
	n := int(b.b[b.pos])
	b.pos++
	if n == 255 {
		n = int(b.i32())
	}
	if !b.need(n) {
		return ""
	}
	s := string(b.b[b.pos : b.pos+n])
	b.pos += n
	return s
}

// isAnchorClass reports whether a key's class is an RNTuple anchor: ROOT
// 6.34 and later write ROOT::RNTuple; earlier 1.0 writers the
// ROOT::Experimental name.
func isAnchorClass(c string) bool {
	return c == "ROOT::RNTuple" || c == "ROOT::Experimental::RNTuple"
}

// keyLess orders keys for listing (name, then highest cycle first).
func keyLess(a, b Key) int {
	if c := strings.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return int(b.Cycle) - int(a.Cycle)
}
