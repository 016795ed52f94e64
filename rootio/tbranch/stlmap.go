package tbranch

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// A std::map<K, V> (and std::unordered_map, streamed the
// same way) whose keys and values are numbers or strings reads as a DuckDB
// MAP(K, V). ROOT writes a map branch member-wise: the collection's byte
// count and version (with kStreamedMemberWise, 0x4000), the version of the
// std::pair class (and its 4-byte checksum when that version is 0), the
// pair count, all the keys, then all the values. Numbers are big-endian;
// strings are a length byte (255 and a 4-byte length for long ones) and the
// bytes; a run of std::strings (the keys, or the values) is behind one byte
// count and version, TStrings are bare. A value that is a sequence
// container (map<int, vector<short>>) reads as a list: the run of values
// has one byte count and version, then each value is its count and
// elements. Pairs keep the file's order.

// mapPart is how a map's key or value is streamed.
type mapPart struct {
	enc Encoding // when !str
	str bool     // std::string or TString
	// strHeader: std::strings, whose run of keys or values carries its
	// own byte count and version; TStrings do not.
	strHeader bool
	// list: a value that is a sequence container of numbers or strings
	// (enc, str); its run of values carries one byte count and version,
	// then each value is a count and its elements.
	list bool
}

// diskMin is the fewest bytes one key or value takes.
func (p mapPart) diskMin() int {
	if p.str || p.list {
		return 1
	}
	return p.enc.diskSize(packing{})
}

func (p mapPart) sqlType() Type {
	t := Scalar(p.enc.sqlType())
	if p.str {
		t = Scalar(Varchar)
	}
	if p.list {
		return ListOf(t)
	}
	return t
}

// mapBuf collects the keys or the values of a chunk: big-endian bytes of
// numbers, or the bytes and end offsets of strings.
type mapBuf struct {
	raw  []byte
	strs []byte
	ends []uint64
	lens []int // list values: each value's element count
}

// mapContainers are the associative containers streamed as std::map and
// read as MAP. The multimaps, streamed alike, stay refused: a DuckDB MAP
// must have unique keys, and nothing checks a vector filled through the C
// API for that.
var mapContainers = []string{"map<", "unordered_map<"}

// mapOf returns K and V for "map<K,V>" and the other map containers,
// dropping a comparator, hash or allocator that follows them.
func mapOf(s string) (key, val string, ok bool) {
	prefix := ""
	for _, p := range mapContainers {
		if strings.HasPrefix(s, p) {
			prefix = p
		}
	}
	if prefix == "" || !strings.HasSuffix(s, ">") {
		return "", "", false
	}
	args := splitTemplateArgs(s[len(prefix) : len(s)-1])
	if len(args) < 2 {
		return "", "", false
	}
	return args[0], args[1], true
}

// splitTemplateArgs splits a template's argument list at its top-level commas.
func splitTemplateArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// mapPartOf types a map's key or value: a basic number or a string.
func mapPartOf(cxx string) (mapPart, bool) {
	if stringTypes[cxx] {
		return mapPart{str: true, strHeader: cxx != "TString"}, true
	}
	if enc, ok := cxxEncodings[cxx]; ok {
		return mapPart{enc: enc}, true
	}
	return mapPart{}, false
}

// mapValueOf types a map's value: a number, a string, or a sequence
// container of them.
func mapValueOf(cxx string) (mapPart, bool) {
	if inner, ok := vectorOf(cxx); ok {
		p, ok := mapPartOf(inner)
		p.list, p.strHeader = true, false
		return p, ok
	}
	return mapPartOf(cxx)
}

// mapColumn makes c a MAP column when cxx is a map of numbers and strings.
func mapColumn(c *Column, cxx string) bool {
	k, v, ok := mapOf(cxx)
	if !ok {
		return false
	}
	kp, okK := mapPartOf(k)
	vp, okV := mapValueOf(v)
	if !okK || !okV {
		return false
	}
	c.Layout, c.mapKey, c.mapVal = LayoutMap, kp, vp
	c.Type = MapOf(kp.sqlType(), vp.sqlType())
	return true
}

// readPart appends one key or value at the start of b to buf.
func readPart(b []byte, p mapPart, buf *mapBuf) ([]byte, error) {
	if p.str {
		s, rest, err := readString(b)
		if err != nil {
			return nil, err
		}
		buf.strs = append(buf.strs, s...)
		buf.ends = append(buf.ends, uint64(len(buf.strs)))
		return rest, nil
	}
	size := p.enc.diskSize(packing{})
	if len(b) < size {
		return nil, fmt.Errorf("%w: map element of %d bytes past the entry", rfile.ErrCorrupt, size)
	}
	buf.raw = append(buf.raw, b[:size]...)
	return b[size:], nil
}

// mapEntry reads one entry's pairs into bufs and returns their count.
func (c *Column) mapEntry(b []byte, bufs *[2]mapBuf) (int, error) {
	if len(b) < 6 || binary.BigEndian.Uint32(b)&0x40000000 == 0 {
		return 0, fmt.Errorf("%w: map without its byte-count header (%d bytes)", rfile.ErrCorrupt, len(b))
	}
	if binary.BigEndian.Uint16(b[4:])&0x4000 == 0 {
		// ROOT writes a map branch member-wise; the object-wise layout
		// has no file to check a reader against.
		return 0, fmt.Errorf("map streamed object-wise (version %#x): not supported", binary.BigEndian.Uint16(b[4:]))
	}
	b = b[6:]
	// The std::pair class's version, and its checksum when that is 0.
	if len(b) < 2 {
		return 0, fmt.Errorf("%w: member-wise map of %d bytes", rfile.ErrCorrupt, len(b))
	}
	pairVersion := binary.BigEndian.Uint16(b)
	b = b[2:]
	if pairVersion == 0 {
		if len(b) < 4 {
			return 0, fmt.Errorf("%w: member-wise map of %d bytes", rfile.ErrCorrupt, len(b))
		}
		b = b[4:]
	}
	if len(b) < 4 {
		return 0, fmt.Errorf("%w: map of %d bytes", rfile.ErrCorrupt, len(b))
	}
	n := int(int32(binary.BigEndian.Uint32(b)))
	b = b[4:]
	if n < 0 || n > len(b)/(c.mapKey.diskMin()+c.mapVal.diskMin()) {
		return 0, fmt.Errorf("%w: map of %d pairs in %d bytes", rfile.ErrCorrupt, n, len(b))
	}
	var err error
	before := bufs[0].count(c.mapKey)
	if b, err = readRun(b, c.mapKey, n, &bufs[0]); err != nil {
		return 0, err
	}
	if i, j, dup := bufs[0].repeated(c.mapKey, before, n); dup {
		return 0, fmt.Errorf("%w: map pair %d repeats the key of pair %d (a std::map's keys are unique)", rfile.ErrCorrupt, j, i)
	}
	if _, err = readRun(b, c.mapVal, n, &bufs[1]); err != nil {
		return 0, err
	}
	return n, nil
}

// readRun appends the n keys or the n values at the start of b to buf. A
// run of std::strings is behind one byte count and version.
func readRun(b []byte, p mapPart, n int, buf *mapBuf) ([]byte, error) {
	if (p.strHeader || p.list) && n > 0 {
		if len(b) < 6 || binary.BigEndian.Uint32(b)&0x40000000 == 0 {
			return nil, fmt.Errorf("%w: the keys or values of a map without their byte-count header", rfile.ErrCorrupt)
		}
		b = b[6:]
	}
	var err error
	if p.list {
		elem := mapPart{enc: p.enc, str: p.str}
		for range n {
			if len(b) < 4 {
				return nil, fmt.Errorf("%w: map value's length past the entry", rfile.ErrCorrupt)
			}
			m := int(int32(binary.BigEndian.Uint32(b)))
			b = b[4:]
			if m < 0 || m > len(b)/elem.diskMin() {
				return nil, fmt.Errorf("%w: map value of %d elements in %d bytes", rfile.ErrCorrupt, m, len(b))
			}
			buf.lens = append(buf.lens, m)
			for range m {
				if b, err = readPart(b, elem, buf); err != nil {
					return nil, err
				}
			}
		}
		return b, nil
	}
	for range n {
		if b, err = readPart(b, p, buf); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// fillMaps writes a MAP column: the list entries of rows [0, n), then the
// keys and the values into the STRUCT child, each in one pass.
func (r *Reader) fillMaps(v Vector, entry int64, n int) error {
	for i := range r.maps {
		r.maps[i] = mapBuf{raw: r.maps[i].raw[:0], strs: r.maps[i].strs[:0], ends: r.maps[i].ends[:0], lens: r.maps[i].lens[:0]}
	}
	entries := v.Lists(n)
	base := v.ListSize()
	at := base
	err := r.segments(entry, n, func(row, k, first int) error {
		for i := range k {
			m, err := r.col.mapEntry(r.entryBytes(first+i), &r.maps)
			if err != nil {
				return r.errorf(r.cur.First+int64(first+i), "%v", err)
			}
			entries[row+i] = ListEntry{Offset: uint64(at), Length: uint64(m)}
			at += m
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := v.ListReserve(at); err != nil {
		return err
	}
	pairs := v.ListChild()
	for i, p := range [2]mapPart{r.col.mapKey, r.col.mapVal} {
		dst := pairs.StructChild(i)
		buf := &r.maps[i]
		first, count := base, at-base
		if p.list {
			// A LIST of values: its entries, then the elements below.
			ents := dst.Lists(at)
			first = dst.ListSize()
			pos := first
			for j, m := range buf.lens {
				ents[base+j] = ListEntry{Offset: uint64(pos), Length: uint64(m)}
				pos += m
			}
			if err := dst.ListReserve(pos); err != nil {
				return err
			}
			if err := dst.ListSetSize(pos); err != nil {
				return err
			}
			dst, count = dst.ListChild(), pos-first
		}
		if err := fillMapPart(dst, p, buf, first, count); err != nil {
			return err
		}
	}
	return v.ListSetSize(at)
}

// fillMapPart writes count keys, values or value elements of buf into rows
// first, first+1, ... of dst.
func fillMapPart(dst Vector, p mapPart, buf *mapBuf, first, count int) error {
	if p.str {
		dst.AssignStrings(first, buf.strs, buf.ends)
		return nil
	}
	osz := outSize(p.enc)
	out := dst.Bytes((first + count) * osz)
	return decodeElems(p.enc, packing{}, out[first*osz:], buf.raw, count)
}

// count is how many keys or values (not list values) buf holds.
func (buf *mapBuf) count(p mapPart) int {
	if p.str {
		return len(buf.ends)
	}
	return len(buf.raw) / p.enc.diskSize(packing{})
}

// key is the bytes of buf's i-th key.
func (buf *mapBuf) key(p mapPart, i int) []byte {
	if p.str {
		lo := uint64(0)
		if i > 0 {
			lo = buf.ends[i-1]
		}
		return buf.strs[lo:buf.ends[i]]
	}
	size := p.enc.diskSize(packing{})
	return buf.raw[i*size : (i+1)*size]
}

// repeated finds a key among buf's n keys from first that an earlier one
// of them repeats, and returns both pairs' positions in the entry. A
// std::map's keys are unique and a DuckDB MAP relies on it, so a repeat
// means the bytes are not a map. (Numbers compare by their bytes: the
// same on-disk bytes are the same value.)
func (buf *mapBuf) repeated(p mapPart, first, n int) (int, int, bool) {
	if n < 2 {
		return 0, 0, false
	}
	if n <= 16 {
		for j := 1; j < n; j++ {
			kj := buf.key(p, first+j)
			for i := range j {
				if string(buf.key(p, first+i)) == string(kj) {
					return i, j, true
				}
			}
		}
		return 0, 0, false
	}
	seen := make(map[string]int, n)
	for j := range n {
		k := string(buf.key(p, first+j))
		if i, dup := seen[k]; dup {
			return i, j, true
		}
		seen[k] = j
	}
	return 0, 0, false
}
