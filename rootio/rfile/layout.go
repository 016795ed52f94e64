package rfile

import (
	"fmt"
	"sync/atomic"
)

// groot trusts the sizes and counts a file states: it allocates what the
// header says the directory, the keys list or the streamer record take,
// what a key says its object inflates to, and a slice per count it reads
// (make([]Key, nkeys) with nkeys from the file) before it finds that the
// bytes are not there. A few corrupt bytes could so make it ask for
// hundreds of GB, which Go answers with a fatal "out of memory" no
// recover can catch. CheckLayout reads the same structures first and
// checks each size against the file's and each count against the bytes
// that would have to hold it, so that groot is only handed files whose
// metadata it can parse within the file's own size.

// MaxMetaInflation bounds how much larger than its stored bytes a key's
// object may inflate; ROOT's metadata compresses far less.
const (
	MaxMetaInflation = 256
	MinMetaBound     = 64 << 20
	// minKeyLen is the smallest key header: sizes, version, date, cycle,
	// seeks and three empty strings.
	minKeyLen = 4 + 2 + 4 + 4 + 2 + 2 + 4 + 4 + 3
)

// Layout is what CheckLayout found: the locations groot will read.
type Layout struct {
	Size        int64
	Big         bool // 64-bit seeks
	Begin, End  int64
	NbytesName  int64
	SeekInfo    int64
	NbytesInfo  int64
	SeekFree    int64
	NbytesFree  int64
	SeekKeys    int64
	NbytesKeys  int64
	Keys        []Key
	StreamerKey Key
}

// Key is a key's header as the keys list or its record states it.
type Key struct {
	Nbytes, Objlen, Keylen int64
	Seek                   int64
	Cycle                  int
	Class, Name            string
}

// CheckLayout validates the file header, the top directory, its keys list
// and the streamer record's key of cf.
func CheckLayout(cf *CountingFile) (*Layout, error) {
	l := &Layout{Size: cf.FileSize}
	read := func(k CorruptKind, what string, off, n int64) ([]byte, error) {
		if off < 0 || n < 0 || off > cf.FileSize || n > cf.FileSize-off {
			return nil, Corruptf(k, "%s: %d bytes at offset %d of a %d-byte file", what, n, off, cf.FileSize)
		}
		b := make([]byte, n)
		if _, err := cf.ReadAt(b, off); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", k, what, err)
		}
		return b, nil
	}
	hdr, err := read(ErrCorruptHeader, "header", 0, min(cf.FileSize, 64+12))
	if err != nil {
		return nil, err
	}
	if len(hdr) < 4 || string(hdr[:4]) != "root" {
		return nil, ErrNotROOT
	}
	h := RecordReader{Buf: hdr, Pos: 4}
	version := h.I32()
	l.Begin = int64(h.I32())
	if version >= 1000000 {
		l.Big = true
		l.End, l.SeekFree = h.I64(), h.I64()
	} else {
		l.End, l.SeekFree = int64(h.I32()), int64(h.I32())
	}
	l.NbytesFree = int64(h.I32())
	h.Skip(4) // nfree
	l.NbytesName = int64(h.I32())
	h.Skip(1 + 4) // units, compression
	if l.Big {
		l.SeekInfo = h.I64()
	} else {
		l.SeekInfo = int64(h.I32())
	}
	l.NbytesInfo = int64(h.I32())
	h.Skip(18) // UUID
	if h.Err != nil {
		return nil, Corruptf(ErrCorruptHeader, "%d bytes", len(hdr))
	}
	switch {
	case l.Begin <= 0 || l.Begin >= cf.FileSize:
		return nil, Corruptf(ErrCorruptHeader, "fBEGIN %d outside the %d-byte file", l.Begin, cf.FileSize)
	case l.End < l.Begin:
		return nil, Corruptf(ErrCorruptHeader, "fEND %d before fBEGIN %d", l.End, l.Begin)
	case l.NbytesName <= 0 || l.NbytesName > 1<<16:
		return nil, Corruptf(ErrCorruptHeader, "fNbytesName %d", l.NbytesName)
	case l.SeekInfo > 0 && (l.NbytesInfo <= 0 || l.SeekInfo+l.NbytesInfo > cf.FileSize):
		return nil, Corruptf(ErrCorruptHeader, "streamer record of %d bytes at %d, past the file's %d bytes", l.NbytesInfo, l.SeekInfo, cf.FileSize)
	case l.SeekFree > 0 && (l.NbytesFree <= 0 || l.SeekFree+l.NbytesFree > cf.FileSize):
		return nil, Corruptf(ErrCorruptHeader, "free-segments record of %d bytes at %d, past the file's %d bytes", l.NbytesFree, l.SeekFree, cf.FileSize)
	}

	// The top directory's key (with the file's name and title) and its
	// record, which groot reads into a buffer of the record's size for the
	// file's version and parses without bounds checks.
	recSize := int64(2 + 4 + 4 + 4 + 4 + 3*4 + 18)
	if version%1000000 >= 40000 {
		recSize += 3 * 4
	}
	top, err := read(ErrCorruptDirectory, "top directory", l.Begin, l.NbytesName+recSize)
	if err != nil {
		return nil, err
	}
	if _, end, err := ParseKeyHeader(top, 0); err != nil || int64(end) > int64(len(top)) {
		return nil, Corruptf(ErrCorruptDirectory, "top directory's key: header past its %d bytes", len(top))
	}
	dir := top[l.NbytesName:]
	d := RecordReader{Buf: dir}
	dversion, nbytesKeys, seekKeys := d.DirRecord()
	l.NbytesKeys, l.SeekKeys = nbytesKeys, seekKeys
	switch v := dversion % 1000; {
	case v == 2:
		d.Skip(16) // UUID, version 1
	case v > 2:
		d.Skip(18) // UUID
	}
	if d.Err != nil {
		return nil, Corruptf(ErrCorruptDirectory, "record truncated")
	}
	if l.SeekKeys > 0 {
		if l.Keys, err = readKeysList(cf, l.SeekKeys, l.NbytesKeys); err != nil {
			return nil, err
		}
	}

	if l.SeekInfo > 0 {
		b, err := read(ErrCorruptStreamers, "streamer record", l.SeekInfo, min(l.NbytesInfo, 512))
		if err != nil {
			return nil, err
		}
		k, _, err := ParseKeyHeader(b, 0)
		if err != nil {
			return nil, Corruptf(ErrCorruptStreamers, "key: %v", err)
		}
		k.Seek = l.SeekInfo
		if err := checkKeySizes(cf, k, l.NbytesInfo); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorruptStreamers, err)
		}
		l.StreamerKey = k
	}
	if l.SeekFree > 0 {
		b, err := read(ErrCorruptHeader, "free-segments record", l.SeekFree, min(l.NbytesFree, 512))
		if err != nil {
			return nil, err
		}
		k, _, err := ParseKeyHeader(b, 0)
		if err != nil {
			return nil, Corruptf(ErrCorruptHeader, "free-segments key: %v", err)
		}
		k.Seek = l.SeekFree
		if err := checkKeySizes(cf, k, l.NbytesFree); err != nil {
			return nil, fmt.Errorf("%w: free segments: %w", ErrCorruptHeader, err)
		}
	}
	return l, nil
}

// readKeysList reads and checks a directory's keys list of nbytes at
// seek, as groot reads it: the list's own key, then objlen bytes holding
// the count and the keys.
func readKeysList(cf *CountingFile, seek, nbytes int64) ([]Key, error) {
	read := func(off, n int64) ([]byte, error) {
		if off < 0 || n < 0 || off > cf.FileSize || n > cf.FileSize-off {
			return nil, Corruptf(ErrCorruptDirectory, "keys list: %d bytes at offset %d of a %d-byte file", n, off, cf.FileSize)
		}
		b := make([]byte, n)
		if _, err := cf.ReadAt(b, off); err != nil {
			return nil, fmt.Errorf("%w: keys list: %w", ErrCorruptDirectory, err)
		}
		return b, nil
	}
	if nbytes < minKeyLen+4 || seek+nbytes > cf.FileSize {
		return nil, Corruptf(ErrCorruptDirectory, "keys list of %d bytes at %d, outside the %d-byte file", nbytes, seek, cf.FileSize)
	}
	list, err := read(seek, nbytes)
	if err != nil {
		return nil, err
	}
	own, _, err := ParseKeyHeader(list, 0)
	if err != nil {
		return nil, Corruptf(ErrCorruptDirectory, "keys list's key: %v", err)
	}
	// groot reads the list's objlen bytes after its key.
	if own.Keylen < minKeyLen || own.Objlen < 4 || seek+own.Keylen+own.Objlen > cf.FileSize {
		return nil, Corruptf(ErrCorruptDirectory, "keys list's key: %d+%d bytes at %d, outside the %d-byte file", own.Keylen, own.Objlen, seek, cf.FileSize)
	}
	if own.Keylen+own.Objlen > nbytes {
		if list, err = read(seek, own.Keylen+own.Objlen); err != nil {
			return nil, err
		}
	}
	body := list[own.Keylen : own.Keylen+own.Objlen]
	r := RecordReader{Buf: body}
	nkeys := int64(r.I32())
	if nkeys < 0 || nkeys > int64(len(body)-4)/minKeyLen {
		return nil, Corruptf(ErrCorruptDirectory, "%d keys in a %d-byte list", nkeys, len(body))
	}
	keys := make([]Key, 0, nkeys)
	at := 4
	for i := range nkeys {
		k, next, err := ParseKeyHeader(body, at)
		if err != nil {
			return nil, Corruptf(ErrCorruptDirectory, "key %d of %d: %v", i, nkeys, err)
		}
		keys = append(keys, k)
		at = next
	}
	return keys, nil
}

// ParseKeyHeader reads a TKey header at b[at:]: its sizes, seek, class
// and name; it returns the offset past it.
func ParseKeyHeader(b []byte, at int) (Key, int, error) {
	var k Key
	r := RecordReader{Buf: b, Pos: at}
	k.Nbytes = int64(r.I32())
	version := r.I16()
	k.Objlen = int64(r.I32())
	r.Skip(4) // datime
	k.Keylen = int64(r.I16())
	k.Cycle = int(r.I16())
	if version > 1000 {
		k.Seek = r.I64()
		r.Skip(8)
	} else {
		k.Seek = int64(r.I32())
		r.Skip(4)
	}
	k.Class = string(r.StrBytes())
	k.Name = string(r.StrBytes())
	r.Skip(r.Strlen()) // title
	if r.Err != nil {
		return k, 0, fmt.Errorf("header truncated at byte %d of %d", at, len(b))
	}
	return k, r.Pos, nil
}

// checkKeySizes checks what groot will read for key k: its nbytes inside
// the file (and equal to want when want > 0), an object size that its
// stored bytes can hold, and for a compressed object, chunk headers that
// add up to it.
func checkKeySizes(cf *CountingFile, k Key, want int64) error {
	switch {
	case k.Nbytes < 0:
		return fmt.Errorf("key of %d bytes", k.Nbytes)
	case k.Keylen < minKeyLen || k.Keylen > k.Nbytes:
		return fmt.Errorf("key header of %d bytes in a %d-byte key", k.Keylen, k.Nbytes)
	case k.Seek < 0 || k.Seek+k.Nbytes > cf.FileSize:
		return fmt.Errorf("key of %d bytes at %d, past the file's %d bytes", k.Nbytes, k.Seek, cf.FileSize)
	case want > 0 && k.Nbytes != want:
		return fmt.Errorf("key says %d bytes, the file header %d", k.Nbytes, want)
	case k.Objlen < 0:
		return fmt.Errorf("object of %d bytes", k.Objlen)
	}
	stored := k.Nbytes - k.Keylen
	if k.Objlen <= stored {
		return nil // stored as it is
	}
	if k.Objlen > max(MinMetaBound, MaxMetaInflation*stored) {
		return fmt.Errorf("object of %d bytes inflated from %d", k.Objlen, stored)
	}
	// Compressed chunks: a 9-byte header each, with the stored and
	// inflated sizes; they must add up to the key's.
	var hdr [9]byte
	off, end, total := k.Seek+k.Keylen, k.Seek+k.Nbytes, int64(0)
	for off < end && total < k.Objlen {
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
	if total != k.Objlen {
		return fmt.Errorf("compressed chunks inflate to %d bytes, the key says %d", total, k.Objlen)
	}
	return nil
}

// CheckObjectKeys checks the keys groot will read to get object name from
// a directory whose keys are keys: every cycle of it.
func CheckObjectKeys(cf *CountingFile, keys []Key, name string, k CorruptKind) error {
	for _, key := range keys {
		if key.Name != name {
			continue
		}
		if err := checkKeySizes(cf, key, 0); err != nil {
			return Corruptf(k, "key %q;%d: %v", SafeText(name), key.Cycle, err)
		}
	}
	return nil
}

// StructureAt names the structure that holds file offset off, for errors
// groot raises while reading there.
func (l *Layout) StructureAt(off int64) CorruptKind {
	in := func(start, n int64) bool { return start > 0 && off >= start && off < start+n }
	switch {
	case off < l.Begin:
		return ErrCorruptHeader
	case in(l.SeekInfo, l.NbytesInfo):
		return ErrCorruptStreamers
	case in(l.SeekKeys, l.NbytesKeys), in(l.Begin, l.NbytesName+64):
		return ErrCorruptDirectory
	case in(l.SeekFree, l.NbytesFree):
		return ErrCorruptHeader
	}
	return ErrCorruptTree
}

// TrackedFile is the reader groot gets: it remembers where groot last
// read, so that an error or a panic of groot's names the structure, and
// whether the read itself failed (an I/O error, not corruption).
type TrackedFile struct {
	*CountingFile
	Last   atomic.Int64
	Failed atomic.Bool
}

func (t *TrackedFile) ReadAt(p []byte, off int64) (int, error) {
	t.Last.Store(off)
	n, err := t.CountingFile.ReadAt(p, off)
	if err != nil {
		t.Failed.Store(true)
	}
	return n, err
}

// CheckStreamerRecord reads the streamer record (a TList of
// TStreamerInfo) and checks the counts groot allocates from: the list's
// length and each streamer's number of elements, against the bytes left.
func CheckStreamerRecord(cf *CountingFile, l *Layout) error {
	if l.SeekInfo <= 0 {
		return nil
	}
	k := l.StreamerKey
	raw := make([]byte, k.Nbytes)
	if _, err := cf.ReadAt(raw, k.Seek); err != nil {
		return fmt.Errorf("%w: %w", ErrCorruptStreamers, err)
	}
	payload := raw[k.Keylen:]
	if int64(len(payload)) != k.Objlen {
		payload = make([]byte, k.Objlen)
		if err := Decompress(payload, raw[k.Keylen:]); err != nil {
			return Corruptf(ErrCorruptStreamers, "%s", Detail(err))
		}
	}
	r := RecordReader{Buf: payload, Base: int(k.Keylen), Classes: map[int]string{}}
	if err := r.CheckList(0); err != nil {
		return Corruptf(ErrCorruptStreamers, "%s", Detail(err))
	}
	return nil
}
