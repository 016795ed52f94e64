package rootscan

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// groot trusts the sizes and counts a file states: it allocates what the
// header says the directory, the keys list or the streamer record take,
// what a key says its object inflates to, and a slice per count it reads
// (make([]Key, nkeys) with nkeys from the file) before it finds that the
// bytes are not there. A few corrupt bytes could so make it ask for
// hundreds of GB, which Go answers with a fatal "out of memory" no
// recover can catch. checkLayout reads the same structures first and
// checks each size against the file's and each count against the bytes
// that would have to hold it, so that groot is only handed files whose
// metadata it can parse within the file's own size.

// maxMetaInflation bounds how much larger than its stored bytes a key's
// object may inflate; ROOT's metadata compresses far less.
const (
	maxMetaInflation = 256
	minMetaBound     = 64 << 20
	// minKeyLen is the smallest key header: sizes, version, date, cycle,
	// seeks and three empty strings.
	minKeyLen = 4 + 2 + 4 + 4 + 2 + 2 + 4 + 4 + 3
)

// fileLayout is what checkLayout found: the locations groot will read.
type fileLayout struct {
	size        int64
	big         bool // 64-bit seeks
	begin, end  int64
	nbytesName  int64
	seekInfo    int64
	nbytesInfo  int64
	seekFree    int64
	nbytesFree  int64
	seekKeys    int64
	nbytesKeys  int64
	keys        []keyLayout
	streamerKey keyLayout
}

// keyLayout is a key's header as the keys list or its record states it.
type keyLayout struct {
	nbytes, objlen, keylen int64
	seek                   int64
	cycle                  int
	class, name            string
}

// checkLayout validates the file header, the top directory, its keys list
// and the streamer record's key of cf.
func checkLayout(cf *countingFile) (*fileLayout, error) {
	l := &fileLayout{size: cf.size}
	read := func(k corruptKind, what string, off, n int64) ([]byte, error) {
		if off < 0 || n < 0 || off > cf.size || n > cf.size-off {
			return nil, corruptf(k, "%s: %d bytes at offset %d of a %d-byte file", what, n, off, cf.size)
		}
		b := make([]byte, n)
		if _, err := cf.ReadAt(b, off); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", k, what, err)
		}
		return b, nil
	}
	hdr, err := read(errCorruptHeader, "header", 0, min(cf.size, 64+12))
	if err != nil {
		return nil, err
	}
	if len(hdr) < 4 || string(hdr[:4]) != "root" {
		return nil, errNotROOT
	}
	h := objReader{byteReader: byteReader{b: hdr, pos: 4}}
	version := h.i32()
	l.begin = int64(h.i32())
	if version >= 1000000 {
		l.big = true
		l.end, l.seekFree = h.i64(), h.i64()
	} else {
		l.end, l.seekFree = int64(h.i32()), int64(h.i32())
	}
	l.nbytesFree = int64(h.i32())
	h.skip(4) // nfree
	l.nbytesName = int64(h.i32())
	h.skip(1 + 4) // units, compression
	if l.big {
		l.seekInfo = h.i64()
	} else {
		l.seekInfo = int64(h.i32())
	}
	l.nbytesInfo = int64(h.i32())
	h.skip(18) // UUID
	if h.err != nil {
		return nil, corruptf(errCorruptHeader, "%d bytes", len(hdr))
	}
	switch {
	case l.begin <= 0 || l.begin >= cf.size:
		return nil, corruptf(errCorruptHeader, "fBEGIN %d outside the %d-byte file", l.begin, cf.size)
	case l.end < l.begin:
		return nil, corruptf(errCorruptHeader, "fEND %d before fBEGIN %d", l.end, l.begin)
	case l.nbytesName <= 0 || l.nbytesName > 1<<16:
		return nil, corruptf(errCorruptHeader, "fNbytesName %d", l.nbytesName)
	case l.seekInfo > 0 && (l.nbytesInfo <= 0 || l.seekInfo+l.nbytesInfo > cf.size):
		return nil, corruptf(errCorruptHeader, "streamer record of %d bytes at %d, past the file's %d bytes", l.nbytesInfo, l.seekInfo, cf.size)
	case l.seekFree > 0 && (l.nbytesFree <= 0 || l.seekFree+l.nbytesFree > cf.size):
		return nil, corruptf(errCorruptHeader, "free-segments record of %d bytes at %d, past the file's %d bytes", l.nbytesFree, l.seekFree, cf.size)
	}

	// The top directory's key (with the file's name and title) and its
	// record, which groot reads into a buffer of the record's size for the
	// file's version and parses without bounds checks.
	recSize := int64(2 + 4 + 4 + 4 + 4 + 3*4 + 18)
	if version%1000000 >= 40000 {
		recSize += 3 * 4
	}
	top, err := read(errCorruptDirectory, "top directory", l.begin, l.nbytesName+recSize)
	if err != nil {
		return nil, err
	}
	if _, end, err := parseKeyHeader(top, 0); err != nil || int64(end) > int64(len(top)) {
		return nil, corruptf(errCorruptDirectory, "top directory's key: header past its %d bytes", len(top))
	}
	dir := top[l.nbytesName:]
	d := objReader{byteReader: byteReader{b: dir}}
	dversion := d.i16()
	d.skip(8) // fDatimeC, fDatimeM
	l.nbytesKeys = int64(d.i32())
	d.skip(4) // fNbytesName
	if dversion > 1000 {
		d.skip(16)
		l.seekKeys = d.i64()
	} else {
		d.skip(8)
		l.seekKeys = int64(d.i32())
	}
	switch v := dversion % 1000; {
	case v == 2:
		d.skip(16) // UUID, version 1
	case v > 2:
		d.skip(18) // UUID
	}
	if d.err != nil {
		return nil, corruptf(errCorruptDirectory, "record truncated")
	}
	if l.seekKeys > 0 {
		if l.keys, err = readKeysList(cf, l.seekKeys, l.nbytesKeys); err != nil {
			return nil, err
		}
	}

	if l.seekInfo > 0 {
		b, err := read(errCorruptStreamers, "streamer record", l.seekInfo, min(l.nbytesInfo, 512))
		if err != nil {
			return nil, err
		}
		k, _, err := parseKeyHeader(b, 0)
		if err != nil {
			return nil, corruptf(errCorruptStreamers, "key: %v", err)
		}
		k.seek = l.seekInfo
		if err := checkKeySizes(cf, k, l.nbytesInfo); err != nil {
			return nil, fmt.Errorf("%w: %w", errCorruptStreamers, err)
		}
		l.streamerKey = k
	}
	if l.seekFree > 0 {
		b, err := read(errCorruptHeader, "free-segments record", l.seekFree, min(l.nbytesFree, 512))
		if err != nil {
			return nil, err
		}
		k, _, err := parseKeyHeader(b, 0)
		if err != nil {
			return nil, corruptf(errCorruptHeader, "free-segments key: %v", err)
		}
		k.seek = l.seekFree
		if err := checkKeySizes(cf, k, l.nbytesFree); err != nil {
			return nil, fmt.Errorf("%w: free segments: %w", errCorruptHeader, err)
		}
	}
	return l, nil
}

// readKeysList reads and checks a directory's keys list of nbytes at
// seek, as groot reads it: the list's own key, then objlen bytes holding
// the count and the keys.
func readKeysList(cf *countingFile, seek, nbytes int64) ([]keyLayout, error) {
	read := func(off, n int64) ([]byte, error) {
		if off < 0 || n < 0 || off > cf.size || n > cf.size-off {
			return nil, corruptf(errCorruptDirectory, "keys list: %d bytes at offset %d of a %d-byte file", n, off, cf.size)
		}
		b := make([]byte, n)
		if _, err := cf.ReadAt(b, off); err != nil {
			return nil, fmt.Errorf("%w: keys list: %w", errCorruptDirectory, err)
		}
		return b, nil
	}
	if nbytes < minKeyLen+4 || seek+nbytes > cf.size {
		return nil, corruptf(errCorruptDirectory, "keys list of %d bytes at %d, outside the %d-byte file", nbytes, seek, cf.size)
	}
	list, err := read(seek, nbytes)
	if err != nil {
		return nil, err
	}
	own, _, err := parseKeyHeader(list, 0)
	if err != nil {
		return nil, corruptf(errCorruptDirectory, "keys list's key: %v", err)
	}
	// groot reads the list's objlen bytes after its key.
	if own.keylen < minKeyLen || own.objlen < 4 || seek+own.keylen+own.objlen > cf.size {
		return nil, corruptf(errCorruptDirectory, "keys list's key: %d+%d bytes at %d, outside the %d-byte file", own.keylen, own.objlen, seek, cf.size)
	}
	if own.keylen+own.objlen > nbytes {
		if list, err = read(seek, own.keylen+own.objlen); err != nil {
			return nil, err
		}
	}
	body := list[own.keylen : own.keylen+own.objlen]
	r := byteReader{b: body}
	nkeys := int64(r.i32())
	if nkeys < 0 || nkeys > int64(len(body)-4)/minKeyLen {
		return nil, corruptf(errCorruptDirectory, "%d keys in a %d-byte list", nkeys, len(body))
	}
	keys := make([]keyLayout, 0, nkeys)
	at := 4
	for i := range nkeys {
		k, next, err := parseKeyHeader(body, at)
		if err != nil {
			return nil, corruptf(errCorruptDirectory, "key %d of %d: %v", i, nkeys, err)
		}
		keys = append(keys, k)
		at = next
	}
	return keys, nil
}

// parseKeyHeader reads a TKey header at b[at:]: its sizes, seek, class
// and name; it returns the offset past it.
func parseKeyHeader(b []byte, at int) (keyLayout, int, error) {
	var k keyLayout
	r := objReader{byteReader: byteReader{b: b, pos: at}}
	k.nbytes = int64(r.i32())
	version := r.i16()
	k.objlen = int64(r.i32())
	r.skip(4) // datime
	k.keylen = int64(r.i16())
	k.cycle = int(r.i16())
	if version > 1000 {
		k.seek = r.i64()
		r.skip(8)
	} else {
		k.seek = int64(r.i32())
		r.skip(4)
	}
	k.class = string(r.strBytes())
	k.name = string(r.strBytes())
	r.skip(r.strlen()) // title
	if r.err != nil {
		return k, 0, fmt.Errorf("header truncated at byte %d of %d", at, len(b))
	}
	return k, r.pos, nil
}

// strBytes reads a ROOT string as a slice of b.
func (r *byteReader) strBytes() []byte {
	n := r.strlen()
	if !r.need(n) {
		return nil
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s
}

// checkKeySizes checks what groot will read for key k: its nbytes inside
// the file (and equal to want when want > 0), an object size that its
// stored bytes can hold, and for a compressed object, chunk headers that
// add up to it.
func checkKeySizes(cf *countingFile, k keyLayout, want int64) error {
	switch {
	case k.nbytes < 0:
		return fmt.Errorf("key of %d bytes", k.nbytes)
	case k.keylen < minKeyLen || k.keylen > k.nbytes:
		return fmt.Errorf("key header of %d bytes in a %d-byte key", k.keylen, k.nbytes)
	case k.seek < 0 || k.seek+k.nbytes > cf.size:
		return fmt.Errorf("key of %d bytes at %d, past the file's %d bytes", k.nbytes, k.seek, cf.size)
	case want > 0 && k.nbytes != want:
		return fmt.Errorf("key says %d bytes, the file header %d", k.nbytes, want)
	case k.objlen < 0:
		return fmt.Errorf("object of %d bytes", k.objlen)
	}
	stored := k.nbytes - k.keylen
	if k.objlen <= stored {
		return nil // stored as it is
	}
	if k.objlen > max(minMetaBound, maxMetaInflation*stored) {
		return fmt.Errorf("object of %d bytes inflated from %d", k.objlen, stored)
	}
	// Compressed chunks: a 9-byte header each, with the stored and
	// inflated sizes; they must add up to the key's.
	var hdr [9]byte
	off, end, total := k.seek+k.keylen, k.seek+k.nbytes, int64(0)
	for off < end && total < k.objlen {
		if end-off < 9 {
			return fmt.Errorf("compressed chunk header truncated at %d", off)
		}
		if _, err := cf.ReadAt(hdr[:], off); err != nil {
			return err
		}
		csize := int64(hdr[3]) | int64(hdr[4])<<8 | int64(hdr[5])<<16
		usize := int64(hdr[6]) | int64(hdr[7])<<8 | int64(hdr[8])<<16
		if off+9+csize > end {
			return fmt.Errorf("compressed chunk of %d bytes at %d past the key's end %d", csize, off, end)
		}
		off += 9 + csize
		total += usize
	}
	if total != k.objlen {
		return fmt.Errorf("compressed chunks inflate to %d bytes, the key says %d", total, k.objlen)
	}
	return nil
}

// checkObjectKeys checks the keys groot will read to get object name from
// a directory whose keys are keys: every cycle of it.
func checkObjectKeys(cf *countingFile, keys []keyLayout, name string, k corruptKind) error {
	for _, key := range keys {
		if key.name != name {
			continue
		}
		if err := checkKeySizes(cf, key, 0); err != nil {
			return corruptf(k, "key %q;%d: %v", safeText(name), key.cycle, err)
		}
	}
	return nil
}

// structureAt names the structure that holds file offset off, for errors
// groot raises while reading there.
func (l *fileLayout) structureAt(off int64) corruptKind {
	in := func(start, n int64) bool { return start > 0 && off >= start && off < start+n }
	switch {
	case off < l.begin:
		return errCorruptHeader
	case in(l.seekInfo, l.nbytesInfo):
		return errCorruptStreamers
	case in(l.seekKeys, l.nbytesKeys), in(l.begin, l.nbytesName+64):
		return errCorruptDirectory
	case in(l.seekFree, l.nbytesFree):
		return errCorruptHeader
	}
	return errCorruptTree
}

// trackedFile is the reader groot gets: it remembers where groot last
// read, so that an error or a panic of groot's names the structure, and
// whether the read itself failed (an I/O error, not corruption).
type trackedFile struct {
	*countingFile
	last   atomic.Int64
	failed atomic.Bool
}

func (t *trackedFile) ReadAt(p []byte, off int64) (int, error) {
	t.last.Store(off)
	n, err := t.countingFile.ReadAt(p, off)
	if err != nil {
		t.failed.Store(true)
	}
	return n, err
}

// checkStreamerRecord reads the streamer record (a TList of
// TStreamerInfo) and checks the counts groot allocates from: the list's
// length and each streamer's number of elements, against the bytes left.
func checkStreamerRecord(cf *countingFile, l *fileLayout) error {
	if l.seekInfo <= 0 {
		return nil
	}
	k := l.streamerKey
	raw := make([]byte, k.nbytes)
	if _, err := cf.ReadAt(raw, k.seek); err != nil {
		return fmt.Errorf("%w: %w", errCorruptStreamers, err)
	}
	payload := raw[k.keylen:]
	if int64(len(payload)) != k.objlen {
		payload = make([]byte, k.objlen)
		if err := decompress(payload, raw[k.keylen:]); err != nil {
			return corruptf(errCorruptStreamers, "%s", detail(err))
		}
	}
	r := objReader{byteReader: byteReader{b: payload}, base: int(k.keylen), classes: map[int]string{}}
	if err := r.checkList(0); err != nil {
		return corruptf(errCorruptStreamers, "%s", detail(err))
	}
	return nil
}

// maxNesting bounds how deeply lists and arrays nest in metadata records:
// groot reads them recursively, and ROOT's own stay a few levels deep.
const maxNesting = 64

// checkList checks a TList streamed at r (its header and elements), which
// groot reads into slices of the length it states.
func (r *objReader) checkList(depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("lists nested more than %d deep", maxNesting)
	}
	vers, end := r.header()
	if r.err != nil {
		return r.err
	}
	if end > len(r.b) {
		return fmt.Errorf("list of %d bytes in a %d-byte record", end, len(r.b))
	}
	if vers <= 3 {
		return fmt.Errorf("TList version %d", vers)
	}
	r.tobject()
	r.str()
	n := int(r.i32())
	if r.err != nil {
		return r.err
	}
	// Each element takes at least a 4-byte tag and a 1-byte option.
	if n < 0 || n > (end-r.pos)/5 {
		return fmt.Errorf("list of %d objects in %d bytes", n, end-r.pos)
	}
	for i := range n {
		class, oend, present := r.anyObject()
		if r.err != nil {
			return fmt.Errorf("object %d of %d: %w", i, n, r.err)
		}
		if present && oend > 0 {
			if oend > end {
				return fmt.Errorf("object %d of %d ends at %d, past its list's end %d", i, n, oend, end)
			}
			switch class {
			case "TList":
				if err := r.checkList(depth + 1); err != nil {
					return err
				}
			case "TStreamerInfo":
				if err := r.checkStreamerInfo(depth + 1); err != nil {
					return fmt.Errorf("object %d of %d: %w", i, n, err)
				}
			}
			r.seek(oend)
		}
		r.str() // option
		if r.err != nil {
			return fmt.Errorf("object %d of %d: %w", i, n, r.err)
		}
	}
	r.seek(end)
	return r.err
}

// checkStreamerInfo checks a TStreamerInfo's array of elements.
func (r *objReader) checkStreamerInfo(depth int) error {
	_, end := r.header()
	r.named()
	r.skip(8) // fCheckSum, fClassVersion
	if r.err != nil {
		return r.err
	}
	class, aend, present := r.anyObject()
	if r.err != nil || !present || aend == 0 {
		return r.err
	}
	if class != "TObjArray" || aend > end {
		return fmt.Errorf("streamer elements in a %q of %d bytes", safeText(class), aend)
	}
	return r.checkObjArrayOf(depth+1, r.checkStreamerElement)
}

// checkStreamerElement checks the strings and the array groot allocates
// from a streamer element's stated lengths (a string's up to 4 GB).
func (r *objReader) checkStreamerElement(class string, end int) error {
	if !strings.HasPrefix(class, "TStreamer") {
		return nil
	}
	r.header() // the element's class
	if class == "TStreamerSTLstring" {
		r.header() // its base, TStreamerSTL
	}
	vers, eend := r.header()
	if r.err != nil {
		return r.err
	}
	if eend > end {
		return fmt.Errorf("element of %d bytes past its end %d", eend, end)
	}
	r.named()
	r.skip(4 * 4) // fType, fSize, fArrayLength, fArrayDim
	if vers == 1 {
		n := int(r.i32())
		if n < 0 || n > (eend-r.pos)/4 {
			return fmt.Errorf("array of %d indices in %d bytes", n, eend-r.pos)
		}
		r.skip(4 * n)
	} else {
		r.skip(5 * 4) // fMaxIndex
	}
	r.str() // fTypeName
	if r.err != nil {
		return r.err
	}
	r.seek(eend)
	switch class {
	case "TStreamerBasicPointer", "TStreamerLoop":
		r.skip(4) // fCountVersion
		r.str()   // fCountName
		r.str()   // fCountClass
	}
	return r.err
}

// checkObjArray checks a TObjArray's length against its bytes (a null
// element takes 4) and each element's byte count against the array's.
func (r *objReader) checkObjArray(depth int) error {
	return r.checkObjArrayOf(depth, nil)
}

// checkObjArrayOf is checkObjArray, with each present element's body
// (class, end) also checked by elem when it is not nil.
func (r *objReader) checkObjArrayOf(depth int, elem func(class string, end int) error) error {
	if depth > maxNesting {
		return fmt.Errorf("arrays nested more than %d deep", maxNesting)
	}
	vers, end := r.header()
	if r.err != nil {
		return r.err
	}
	if end > len(r.b) {
		return fmt.Errorf("array of %d bytes in a %d-byte record", end, len(r.b))
	}
	if vers > 2 {
		r.tobject()
	}
	if vers > 1 {
		r.str()
	}
	n := int(r.i32())
	r.skip(4) // lower bound
	if r.err != nil {
		return r.err
	}
	if n < 0 || n > (end-r.pos)/4 {
		return fmt.Errorf("array of %d objects in %d bytes", n, end-r.pos)
	}
	for i := range n {
		class, oend, present := r.anyObject()
		if r.err != nil {
			return fmt.Errorf("element %d of %d: %w", i, n, r.err)
		}
		if present && oend > 0 {
			if oend > end {
				return fmt.Errorf("element %d of %d ends at %d, past its array's end %d", i, n, oend, end)
			}
			if elem != nil {
				if err := elem(class, oend); err != nil {
					return fmt.Errorf("element %d of %d (%s): %w", i, n, safeText(class), err)
				}
			}
			r.seek(oend)
		}
	}
	r.seek(end)
	return r.err
}
