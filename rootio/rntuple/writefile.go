package rntuple

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/zeebo/xxh3"
	"go-hep.org/x/hep/groot/rbase"
	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/rcont"
	"go-hep.org/x/hep/groot/rdict"
	"go-hep.org/x/hep/groot/rmeta"
	"go-hep.org/x/hep/groot/root"
)

// The ROOT file around a written RNTuple: the file header, the top
// directory's key (TFile), RBlob keys for pages and envelopes, the anchor
// key, and the directory's key list. Keys use 64-bit offsets (key version
// 1004, directory version 1005, file version above 1000000), so that any
// file size is written the same way. The StreamerInfo record describes
// ROOT::RNTuple (class version 2, as ROOT 6.34 writes it): some readers
// (jsroot) need it to read the anchor.
const (
	fileBegin     = 100 // ROOT's kBEGIN: the top directory's key
	dirKeyReserve = 300 // room for that key (with a name of up to 64 bytes), rewritten by Close
	fileVersion   = 1_063_406
	fileName      = "rntuple.root" // the name the top directory records by default
	// defaultMaxKey is the anchor's max key size, ROOT's default (1 GiB).
	defaultMaxKey = 1 << 30
	// maxPage bounds a page or an envelope: its standard locator's size
	// is a 32-bit integer.
	maxPage = 1<<31 - 1 - 8
	// maxBlobBatch bounds the RBlob holding a cluster's pages.
	maxBlobBatch = 256 << 20
)

// bew builds big-endian ROOT records.
type bew struct{ b []byte }

func (w *bew) u8(v uint8)   { w.b = append(w.b, v) }
func (w *bew) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *bew) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *bew) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *bew) str(s string) {
	if len(s) < 255 {
		w.u8(uint8(len(s)))
	} else {
		w.u8(255)
		w.u32(uint32(len(s)))
	}
	w.b = append(w.b, s...)
}

// datime is ROOT's packed TDatime.
func datime(t time.Time) uint32 {
	return uint32(t.Year()-1995)<<26 | uint32(t.Month())<<22 | uint32(t.Day())<<17 |
		uint32(t.Hour())<<12 | uint32(t.Minute())<<6 | uint32(t.Second())
}

// keyHeader is a TKey header for an object of objlen bytes at seek.
func keyHeader(class, name, title string, objlen int, seek int64) []byte {
	var w bew
	w.u32(0) // nbytes, set below
	w.u16(1004)
	w.u32(uint32(objlen))
	w.u32(datime(time.Now()))
	w.u16(0) // keylen, set below
	w.u16(1) // cycle
	w.u64(uint64(seek))
	w.u64(fileBegin) // the top directory
	w.str(class)
	w.str(name)
	w.str(title)
	binary.BigEndian.PutUint32(w.b, uint32(len(w.b)+objlen))
	binary.BigEndian.PutUint16(w.b[14:], uint16(len(w.b)))
	return w.b
}

func errorf(format string, args ...any) error { return fmt.Errorf("rntuple: "+format, args...) }

func (wr *Writer) writeAt(b []byte, off int64) error {
	_, err := wr.w.WriteAt(b, off)
	return err
}

// blob appends an RBlob key holding payload and returns the payload's
// offset, which locators name. As in ROOT's files, the key's object
// length is the payload's uncompressed length (length), its byte count
// what is stored.
//
// A payload over the maximum key size is split as ROOT splits it: the
// other chunks first (maxKey bytes each, the last what remains), then
// the first key: the payload's start and the chunks' offsets (64-bit,
// little-endian); the returned offset is the first key's.
func (wr *Writer) blob(payload []byte, length int64) (int64, error) {
	if n := int64(len(payload)); n > wr.maxKey {
		k := chunksFor(n, wr.maxKey)
		firstData := wr.maxKey - 8*(k-1)
		if firstData <= 0 {
			return 0, errorf("%d bytes do not split into keys of %d (the first key cannot hold the others' offsets)", n, wr.maxKey)
		}
		first := append([]byte(nil), payload[:firstData]...)
		for rest := payload[firstData:]; len(rest) > 0; {
			m := min(int64(len(rest)), wr.maxKey)
			off, err := wr.blob(rest[:m], m)
			if err != nil {
				return 0, err
			}
			first = binary.LittleEndian.AppendUint64(first, uint64(off))
			rest = rest[m:]
		}
		return wr.blob(first, length)
	}
	k := keyHeader("RBlob", "", "", len(payload), wr.pos)
	binary.BigEndian.PutUint32(k[6:], uint32(length))
	if err := wr.writeAt(append(k, payload...), wr.pos); err != nil {
		return 0, err
	}
	off := wr.pos + int64(len(k))
	wr.pos += int64(len(k) + len(payload))
	wr.blobs++
	return off, nil
}

// blobParts is blob for a payload given in parts (size bytes in all),
// written one after the other: a cluster's pages are stored without
// first being copied into one buffer.
func (wr *Writer) blobParts(parts [][]byte, size, length int64) (int64, error) {
	switch {
	case len(parts) == 1:
		return wr.blob(parts[0], length)
	case size > wr.maxKey:
		return wr.blob(bytes.Join(parts, nil), length)
	}
	k := keyHeader("RBlob", "", "", int(size), wr.pos)
	binary.BigEndian.PutUint32(k[6:], uint32(length))
	if err := wr.writeAt(k, wr.pos); err != nil {
		return 0, err
	}
	off := wr.pos + int64(len(k))
	at := off
	for _, p := range parts {
		if err := wr.writeAt(p, at); err != nil {
			return 0, err
		}
		at += int64(len(p))
	}
	wr.pos = at
	wr.blobs++
	return off, nil
}

// finishFile writes, in ROOT's order, the anchor, the top directory's
// key list, the StreamerInfo and the free-segments record, then the top
// directory and the file header.
func (wr *Writer) finishFile(a anchor) error {
	var fields bew
	for _, v := range a.version {
		fields.u16(v)
	}
	for _, v := range []int64{a.seekHeader, a.nbytesHeader, a.lenHeader, a.seekFooter, a.nbytesFooter, a.lenFooter, a.maxKeySize} {
		fields.u64(uint64(v))
	}
	var obj bew
	obj.u32(0x40000000 | uint32(2+len(fields.b)))
	obj.u16(2) // ROOT::RNTuple class version
	obj.b = append(obj.b, fields.b...)
	obj.u64(xxh3.Hash(fields.b))
	anchorSeek := wr.pos
	anchorKey := keyHeader("ROOT::RNTuple", wr.name, "", len(obj.b), anchorSeek)
	if err := wr.writeAt(append(anchorKey, obj.b...), anchorSeek); err != nil {
		return err
	}
	wr.pos += int64(len(anchorKey) + len(obj.b))

	// The top directory's key list: the anchor's key header.
	var list bew
	list.u32(1)
	list.b = append(list.b, anchorKey...)
	keysSeek := wr.pos
	keysKey := keyHeader("TFile", wr.fileName, "", len(list.b), keysSeek)
	if err := wr.writeAt(append(keysKey, list.b...), keysSeek); err != nil {
		return err
	}
	nbytesKeys := len(keysKey) + len(list.b)
	wr.pos += int64(nbytesKeys)

	infoSeek, infoBytes, err := wr.writeStreamerInfo()
	if err != nil {
		return err
	}

	// The free segments: one, from the end of the file on (what ROOT
	// leaves in a closed file), in TFree's 64-bit form.
	freeSeek := wr.pos
	freeKey := keyHeader("TFile", wr.fileName, "", 2+8+8, freeSeek)
	end := freeSeek + int64(len(freeKey)) + 2 + 8 + 8
	var free bew
	free.u16(1001) // TFree version 1, +1000: 64-bit bounds
	free.u64(uint64(end))
	free.u64(uint64(max(end+1, 2_000_000_000))) // ROOT's kStartBigFile
	if err := wr.writeAt(append(freeKey, free.b...), freeSeek); err != nil {
		return err
	}
	nbytesFree := len(freeKey) + len(free.b)
	wr.pos = end

	// The top directory: TNamed (name, title), then TDirectory; its key
	// covers the whole reserved room, so that keys tile the file.
	var named bew
	named.str(wr.fileName)
	named.str("")
	var dir bew
	now := datime(time.Now())
	dir.u16(1005)
	dir.u32(now)
	dir.u32(now)
	dir.u32(uint32(nbytesKeys))
	dirKeyLen := len(keyHeader("TFile", wr.fileName, "", 0, fileBegin))
	nbytesName := dirKeyLen + len(named.b)
	dir.u32(uint32(nbytesName))
	dir.u64(fileBegin) // seekdir
	dir.u64(0)         // seekparent
	dir.u64(uint64(keysSeek))
	dir.u16(1) // UUID version
	dir.b = append(dir.b, make([]byte, 16)...)
	obj2 := append(named.b, dir.b...)
	if dirKeyLen+len(obj2) > wr.dirReserve {
		return errorf("top directory record of %d bytes", dirKeyLen+len(obj2))
	}
	obj2 = append(obj2, make([]byte, wr.dirReserve-dirKeyLen-len(obj2))...)
	dirKey := keyHeader("TFile", wr.fileName, "", len(obj2), fileBegin)
	if err := wr.writeAt(append(dirKey, obj2...), fileBegin); err != nil {
		return err
	}

	var h bew
	h.b = append(h.b, "root"...)
	h.u32(fileVersion)
	h.u32(fileBegin)
	h.u64(uint64(end))      // fEND
	h.u64(uint64(freeSeek)) // fSeekFree
	h.u32(uint32(nbytesFree))
	h.u32(1) // nfree
	h.u32(uint32(nbytesName))
	h.u8(8) // fUnits: 64-bit offsets
	h.u32(uint32(wr.opts.Compression))
	h.u64(uint64(infoSeek))
	h.u32(uint32(infoBytes))
	h.u16(1) // UUID version
	h.b = append(h.b, make([]byte, 16)...)
	h.b = append(h.b, make([]byte, fileBegin-len(h.b))...)
	return wr.writeAt(h.b, 0)
}

// anchorChecksum is the class checksum ROOT 6.34 records for
// ROOT::RNTuple version 2 (as its files' StreamerInfo say).
const anchorChecksum = 1268915189

// writeStreamerInfo writes the StreamerInfo key: a TList holding the
// TStreamerInfo of ROOT::RNTuple.
func (wr *Writer) writeStreamerInfo() (seek int64, nbytes int, err error) {
	var elems []rbytes.StreamerElement
	for _, n := range []string{"fVersionEpoch", "fVersionMajor", "fVersionMinor", "fVersionPatch"} {
		elems = append(elems, &rdict.StreamerBasicType{StreamerElement: rdict.Element{
			Name: *rbase.NewNamed(n, ""), Type: rmeta.UShort, Size: 2, EName: "unsigned short"}.New()})
	}
	for _, n := range []string{"fSeekHeader", "fNBytesHeader", "fLenHeader", "fSeekFooter", "fNBytesFooter", "fLenFooter", "fMaxKeySize"} {
		elems = append(elems, &rdict.StreamerBasicType{StreamerElement: rdict.Element{
			Name: *rbase.NewNamed(n, ""), Type: rmeta.ULong64, Size: 8, EName: "ULong64_t"}.New()})
	}
	si := rdict.NewCxxStreamerInfo("ROOT::RNTuple", 2, anchorChecksum, elems)
	list := rcont.NewList("", []root.Object{si})
	keylen := len(keyHeader("TList", "StreamerInfo", "Doubly linked list", 0, 0))
	buf := rbytes.NewWBuffer(nil, nil, uint32(keylen), nil)
	if _, err := list.MarshalROOT(buf); err != nil {
		return 0, 0, fmt.Errorf("rntuple: StreamerInfo: %w", err)
	}
	payload := buf.Bytes()
	k := keyHeader("TList", "StreamerInfo", "Doubly linked list", len(payload), wr.pos)
	seek = wr.pos
	if err := wr.writeAt(append(k, payload...), seek); err != nil {
		return 0, 0, err
	}
	wr.pos += int64(len(k) + len(payload))
	return seek, len(k) + len(payload), nil
}
