// Package rntconform checks a ROOT file holding RNTuples against the
// RNTuple binary format specification (1.0.x, root-project/root
// tree/ntuple/doc/BinaryFormatSpecification.md) and against the way ROOT
// itself lays such files out. It is a test helper: written from the
// specification's text, it parses the TFile records, the anchor, the
// envelopes, frames and pages on its own and shares no code with
// rootio/rntuple, whose reader and writer it is meant to judge. Only the
// compressed blocks are inflated through rootio/compress (a TTree concern
// as much as an RNTuple one, tested on its own).
//
// Check returns a Report: the rule violations found (Errors), and a
// description of the layout (physical key order, anchor values, field and
// column descriptions) that tests compare with ROOT's fixtures.
package rntconform

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// Report is what Check found in one file.
type Report struct {
	Errors   []string
	Warnings []string // ROOT's practice (not the specification's rules) differs
	Version  int32    // the TFile's format version
	Keys     []Key    // every key, in file order
	NTuples  []*NTuple
}

// Key is one TKey header found walking the file from fBEGIN to fEND.
type Key struct {
	Seek                   int64
	Nbytes, Objlen         int32
	Keylen                 int16
	Version                int16
	Cycle                  int16
	SeekPdir               int64
	Class, Name, Title     string
	Role                   string // what the checker found it holds ("page", "header", "anchor", ...)
	payloadFrom, payloadTo int64
	inflated               int64 // uncompressed bytes of what the RNTuples reference in it
}

// NTuple is one RNTuple's anchor and schema, as stored.
type NTuple struct {
	Name          string
	AnchorClassV  int16
	Anchor        Anchor
	Writer        string
	Description   string
	Fields        []Field
	Columns       []Column
	Aliases       [][2]uint32
	ExtFields     int // fields in the footer's schema extension
	headerColumns int
	Groups        int
	Clusters      int
	Entries       int64
	Pages         int
	PageChecksum  int // pages with a checksum
	Compressions  map[uint32]int
	BlobsPerKey   []int    // pages found per RBlob key holding pages
	Header        []byte   // the header envelope, inflated
	PageLists     []uint64 // each page list envelope's length
	// PageElements: per cluster (all groups in order), per column, the
	// elements of each page; ClusterZipped: per cluster, the stored
	// bytes of its pages (checksums left out).
	PageElements  [][][]int64
	ClusterZipped []int64
	// TopValues: for files hepsql wrote, the values of top-level leaf
	// fields of one column, decoded here from the pages by the
	// specification's encodings (bool, int64, uint64 or float64), all
	// clusters in order.
	TopValues map[string][]any
}

// Anchor is the ROOT::RNTuple object's fields.
type Anchor struct {
	Version                             [4]uint16
	SeekHeader, NbytesHeader, LenHeader uint64
	SeekFooter, NbytesFooter, LenFooter uint64
	MaxKeySize                          uint64
}

// Field is a field description record.
type Field struct {
	FieldVersion, TypeVersion, Parent uint32
	Role, Flags                       uint16
	Name, Type, Alias, Description    string
	ArraySize                         uint64
	Source                            uint32
	Checksum                          uint32
}

// Column is a column description record.
type Column struct {
	Type, Bits   uint16
	Field        uint32
	Flags, Repr  uint16
	FirstElement int64
	Min, Max     float64
}

type checker struct {
	f      []byte
	maxKey int64 // the current RNTuple's anchor's
	rep    *Report
	// locators: byte ranges the RNTuples reference, to find orphans and
	// overlaps.
	refs []ref
}

type ref struct {
	from, to int64
	what     string
}

func (c *checker) errorf(format string, args ...any) {
	c.rep.Errors = append(c.rep.Errors, fmt.Sprintf(format, args...))
}

func (c *checker) warnf(format string, args ...any) {
	c.rep.Warnings = append(c.rep.Warnings, fmt.Sprintf(format, args...))
}

// Check walks file (a whole ROOT file in memory).
func Check(file []byte) *Report {
	c := &checker{f: file, rep: &Report{}}
	c.check()
	return c.rep
}

// be reads big-endian ROOT records.
type be struct {
	b   []byte
	pos int
	bad bool
}

func (r *be) need(n int) []byte {
	if r.bad || n < 0 || r.pos+n > len(r.b) {
		r.bad = true
		return make([]byte, n&0xffff)
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s
}
func (r *be) u8() uint8   { return r.need(1)[0] }
func (r *be) u16() uint16 { return binary.BigEndian.Uint16(r.need(2)) }
func (r *be) u32() uint32 { return binary.BigEndian.Uint32(r.need(4)) }
func (r *be) u64() uint64 { return binary.BigEndian.Uint64(r.need(8)) }
func (r *be) str() string {
	n := int(r.u8())
	if n == 255 {
		n = int(r.u32())
	}
	return string(r.need(n))
}

// keyAt parses the key header at off.
func (c *checker) keyAt(off int64) (Key, bool) {
	if off < 0 || off+18 > int64(len(c.f)) {
		return Key{}, false
	}
	r := &be{b: c.f[off:]}
	k := Key{Seek: off}
	k.Nbytes = int32(r.u32())
	k.Version = int16(r.u16())
	k.Objlen = int32(r.u32())
	r.u32() // datime
	k.Keylen = int16(r.u16())
	k.Cycle = int16(r.u16())
	var seek int64
	if k.Version > 1000 {
		seek = int64(r.u64())
		k.SeekPdir = int64(r.u64())
	} else {
		seek = int64(r.u32())
		k.SeekPdir = int64(r.u32())
	}
	k.Class, k.Name, k.Title = r.str(), r.str(), r.str()
	if r.bad {
		return k, false
	}
	if seek != off {
		c.errorf("key at %d records its seek as %d", off, seek)
	}
	if int(k.Keylen) != r.pos {
		c.errorf("key %s %q at %d: keylen %d, header is %d bytes", k.Class, k.Name, off, k.Keylen, r.pos)
	}
	k.payloadFrom, k.payloadTo = off+int64(k.Keylen), off+int64(k.Nbytes)
	return k, true
}

func (c *checker) check() {
	f := c.f
	if len(f) < 64 || string(f[:4]) != "root" {
		c.errorf("no \"root\" magic")
		return
	}
	r := &be{b: f, pos: 4}
	version := int32(r.u32())
	c.rep.Version = version
	begin := int64(r.u32())
	var end, seekFree, seekInfo int64
	var nbytesFree, nbytesName, nbytesInfo int32
	big := version >= 1000000
	if big {
		end, seekFree = int64(r.u64()), int64(r.u64())
	} else {
		end, seekFree = int64(r.u32()), int64(r.u32())
	}
	nbytesFree = int32(r.u32())
	r.u32() // nfree
	nbytesName = int32(r.u32())
	units := r.u8()
	r.u32() // compression
	if big {
		seekInfo = int64(r.u64())
	} else {
		seekInfo = int64(r.u32())
	}
	nbytesInfo = int32(r.u32())
	if begin != 100 {
		c.errorf("fBEGIN %d, ROOT writes 100", begin)
	}
	if end != int64(len(f)) {
		c.errorf("fEND %d, file is %d bytes", end, len(f))
		end = min(end, int64(len(f)))
	}
	if (units == 8) != big || (units != 4 && units != 8) {
		c.errorf("fUnits %d with file version %d", units, version)
	}
	// Walk every key from fBEGIN to fEND: the keys must tile the file.
	keyAt := map[int64]int{}
	for off := begin; off < end; {
		if off+4 <= end && int32(binary.BigEndian.Uint32(f[off:])) < 0 {
			off += -int64(int32(binary.BigEndian.Uint32(f[off:]))) // a gap: ROOT marks freed space with -nbytes
			continue
		}
		k, ok := c.keyAt(off)
		if !ok {
			c.errorf("no key header at %d", off)
			return
		}
		if k.Nbytes <= 0 || k.Keylen <= 0 || k.Nbytes < int32(k.Keylen) || off+int64(k.Nbytes) > end {
			c.errorf("key %s %q at %d: %d bytes", k.Class, k.Name, off, k.Nbytes)
			return
		}
		if big && k.Version <= 1000 {
			c.errorf("key at %d: version %d (32-bit seeks) in a file of 64-bit offsets", off, k.Version)
		}
		keyAt[off] = len(c.rep.Keys)
		c.rep.Keys = append(c.rep.Keys, k)
		off += int64(k.Nbytes)
	}
	if len(c.rep.Keys) == 0 || c.rep.Keys[0].Class != "TFile" {
		c.errorf("the first key is not the top directory's TFile key")
		return
	}
	top := &c.rep.Keys[0]
	top.Role = "top directory"
	if int32(top.Keylen)+int32(len(top.Name))+int32(len(top.Title))+2 > nbytesName+2 || nbytesName < int32(top.Keylen) {
		c.errorf("fNbytesName %d vs the top key's %d-byte header", nbytesName, top.Keylen)
	}
	// The top directory record follows the key header and TNamed.
	d := &be{b: f[begin+int64(nbytesName):]}
	dirVersion := int16(d.u16())
	d.u32()
	d.u32()
	nbytesKeys := int32(d.u32())
	if int32(d.u32()) != nbytesName {
		c.errorf("the directory's fNbytesName differs from the file header's")
	}
	var seekDir, seekKeys int64
	if dirVersion > 1000 {
		seekDir = int64(d.u64())
		d.u64()
		seekKeys = int64(d.u64())
	} else {
		seekDir = int64(d.u32())
		d.u32()
		seekKeys = int64(d.u32())
	}
	if d.bad || seekDir != begin {
		c.errorf("top directory record: seekdir %d", seekDir)
	}
	if seekInfo > 0 {
		if i, ok := keyAt[seekInfo]; !ok || c.rep.Keys[i].Class != "TList" || c.rep.Keys[i].Name != "StreamerInfo" || c.rep.Keys[i].Nbytes != nbytesInfo {
			c.errorf("fSeekInfo %d does not name the StreamerInfo TList key of %d bytes", seekInfo, nbytesInfo)
		} else {
			c.rep.Keys[i].Role = "streamer info"
		}
	} else {
		c.errorf("no StreamerInfo record (fSeekInfo 0)")
	}
	if seekFree > 0 {
		if i, ok := keyAt[seekFree]; !ok || c.rep.Keys[i].Nbytes != nbytesFree {
			c.errorf("fSeekFree %d does not name a key of %d bytes", seekFree, nbytesFree)
		} else {
			c.rep.Keys[i].Role = "free segments"
		}
	}
	ki, ok := keyAt[seekKeys]
	if !ok || c.rep.Keys[ki].Nbytes != nbytesKeys {
		c.errorf("fSeekKeys %d does not name a key of %d bytes", seekKeys, nbytesKeys)
		return
	}
	c.rep.Keys[ki].Role = "key list"
	// The key list: its own key header, a count, and the listed headers,
	// each equal to the header at the key's seek.
	lk := c.rep.Keys[ki]
	l := &be{b: f[lk.payloadFrom:lk.payloadTo]}
	n := int(l.u32())
	var anchors []int
	for range n {
		start := lk.payloadFrom + int64(l.pos)
		hk, ok := c.keyAtList(f, start)
		if !ok {
			c.errorf("key list: truncated")
			return
		}
		l.pos += int(hk.Keylen)
		i, ok := keyAt[hk.Seek]
		if !ok {
			c.errorf("key list names %s %q at %d where no key starts", hk.Class, hk.Name, hk.Seek)
			continue
		}
		k := c.rep.Keys[i]
		if k.Class != hk.Class || k.Name != hk.Name || k.Nbytes != hk.Nbytes || k.Objlen != hk.Objlen || k.Cycle != hk.Cycle {
			c.errorf("key list entry %s %q differs from the key at %d", hk.Class, hk.Name, hk.Seek)
		}
		if k.Class == "ROOT::RNTuple" {
			anchors = append(anchors, i)
		} else if k.Class == "RBlob" {
			c.errorf("an RBlob key is listed in the directory (they are invisible)")
		}
	}
	for _, i := range anchors {
		c.rep.Keys[i].Role = "anchor"
		c.ntuple(&c.rep.Keys[i])
	}
	// Every RBlob must hold something an RNTuple references.
	for i := range c.rep.Keys {
		k := &c.rep.Keys[i]
		if k.Class != "RBlob" {
			continue
		}
		if k.Role == "" {
			c.errorf("RBlob at %d (%d bytes) holds nothing the RNTuples reference", k.Seek, k.Nbytes)
		} else if int64(k.Objlen) != k.inflated && !strings.Contains(k.Role, "page") {
			// ROOT records an envelope's uncompressed length as its key's
			// object length (for a cluster's pages, a figure near their
			// uncompressed length, not checked).
			c.warnf("RBlob at %d (%s): objlen %d, its contents inflate to %d bytes", k.Seek, k.Role, k.Objlen, k.inflated)
		}
	}
	sort.Slice(c.refs, func(i, j int) bool { return c.refs[i].from < c.refs[j].from })
	for i := 1; i < len(c.refs); i++ {
		a, b := c.refs[i-1], c.refs[i]
		if b.from < a.to && !(a.from == b.from && a.to == b.to) {
			c.errorf("%s [%d,%d) overlaps %s [%d,%d)", b.what, b.from, b.to, a.what, a.from, a.to)
		}
	}
}

// keyAtList parses a key header copied into a key list (its seek is the
// listed key's, not its own position).
func (c *checker) keyAtList(f []byte, off int64) (Key, bool) {
	if off+18 > int64(len(f)) {
		return Key{}, false
	}
	r := &be{b: f[off:]}
	var k Key
	k.Nbytes = int32(r.u32())
	k.Version = int16(r.u16())
	k.Objlen = int32(r.u32())
	r.u32()
	k.Keylen = int16(r.u16())
	k.Cycle = int16(r.u16())
	if k.Version > 1000 {
		k.Seek, k.SeekPdir = int64(r.u64()), int64(r.u64())
	} else {
		k.Seek, k.SeekPdir = int64(r.u32()), int64(r.u32())
	}
	k.Class, k.Name, k.Title = r.str(), r.str(), r.str()
	return k, !r.bad && int(k.Keylen) == r.pos
}

// blobRange checks that [off, off+size) lies inside one RBlob's payload,
// records what it holds, and returns its bytes.
//
// An object larger than the anchor's maximum key size is split over
// several RBlobs: "the offsets of all but the first RBlob will be written
// at the end of the first one" (the specification's anchor section); the
// first holds max-key-size bytes, the others as much each, the last the
// rest (ROOT's RNTupleFileWriter).
func (c *checker) blobRange(off, size, length int64, what string) ([]byte, bool) {
	m := c.maxKey
	if m <= 0 || size <= m {
		return c.oneRange(off, size, length, what)
	}
	n := int64(2)
	for n*m-8*(n-1) < size {
		n++
	}
	dataFirst := m - 8*(n-1)
	if dataFirst <= 0 {
		c.errorf("%s: %d bytes cannot be split in keys of %d", what, size, m)
		return nil, false
	}
	first, ok := c.oneRange(off, m, length, what)
	if !ok {
		return nil, false
	}
	out := append([]byte(nil), first[:dataFirst]...)
	for i := range n - 1 {
		at := int64(binary.LittleEndian.Uint64(first[dataFirst+8*i:]))
		part := min(m, size-int64(len(out)))
		b, ok := c.oneRange(at, part, part, fmt.Sprintf("%s (chunk %d of %d)", what, i+2, n))
		if !ok {
			return nil, false
		}
		out = append(out, b...)
	}
	if int64(len(out)) != size {
		c.errorf("%s: chunks hold %d of %d bytes", what, len(out), size)
		return nil, false
	}
	return out, true
}

func (c *checker) oneRange(off, size, length int64, what string) ([]byte, bool) {
	if off < 0 || size < 0 || off+size > int64(len(c.f)) {
		c.errorf("%s: [%d,+%d) outside the file", what, off, size)
		return nil, false
	}
	i := sort.Search(len(c.rep.Keys), func(i int) bool { return c.rep.Keys[i].Seek > off }) - 1
	if i < 0 || c.rep.Keys[i].Class != "RBlob" || off < c.rep.Keys[i].payloadFrom || off+size > c.rep.Keys[i].payloadTo {
		c.errorf("%s: [%d,+%d) is not inside one RBlob key's payload", what, off, size)
		return nil, false
	}
	k := &c.rep.Keys[i]
	k.inflated += length
	role := strings.Fields(what)[0]
	if k.Role == "" {
		k.Role = role
	} else if !strings.Contains(k.Role, role) {
		k.Role += "+" + role
	}
	c.refs = append(c.refs, ref{off, off + size, what})
	return c.f[off : off+size], true
}
