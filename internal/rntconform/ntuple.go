package rntconform

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/hepsql/hepsql/rootio/compress"
	"github.com/zeebo/xxh3"
)

// Envelope type IDs, structural roles, flags and column types, as the
// specification's tables give them.
const (
	envHeader, envFooter, envPageList = 1, 2, 3

	roleLeaf, roleCollection, roleRecord, roleVariant, roleStreamer = 0, 1, 2, 3, 4

	fieldRepetitive, fieldProjected, fieldChecksum = 0x01, 0x02, 0x04
	colDeferred, colRange                          = 0x01, 0x02
)

// colBits is each column type's bits on storage (0: a range, checked
// apart); the table of the specification's "Column Description".
var colBits = map[uint16]uint16{
	0x00: 1, 0x01: 8, 0x02: 8, 0x03: 8, 0x04: 8, 0x05: 16, 0x06: 16, 0x07: 32, 0x08: 32,
	0x09: 64, 0x0A: 64, 0x0B: 16, 0x0C: 32, 0x0D: 64, 0x0E: 32, 0x0F: 64, 0x10: 96,
	0x11: 16, 0x12: 16, 0x13: 32, 0x14: 32, 0x15: 64, 0x16: 64, 0x17: 16, 0x18: 32, 0x19: 64,
	0x1A: 32, 0x1B: 64, 0x1C: 0, 0x1D: 0,
}

// ColumnNames are the specification's column type names.
var ColumnNames = map[uint16]string{
	0x00: "Bit", 0x01: "Byte", 0x02: "Char", 0x03: "Int8", 0x04: "UInt8", 0x05: "Int16", 0x06: "UInt16",
	0x07: "Int32", 0x08: "UInt32", 0x09: "Int64", 0x0A: "UInt64", 0x0B: "Real16", 0x0C: "Real32",
	0x0D: "Real64", 0x0E: "Index32", 0x0F: "Index64", 0x10: "Switch", 0x11: "SplitInt16",
	0x12: "SplitUInt16", 0x13: "SplitInt32", 0x14: "SplitUInt32", 0x15: "SplitInt64",
	0x16: "SplitUInt64", 0x17: "SplitReal16", 0x18: "SplitReal32", 0x19: "SplitReal64",
	0x1A: "SplitIndex32", 0x1B: "SplitIndex64", 0x1C: "Real32Trunc", 0x1D: "Real32Quant",
}

func isIndex(t uint16) bool { return t == 0x0E || t == 0x0F || t == 0x1A || t == 0x1B }

// le reads little-endian envelope payloads.
type le struct {
	b   []byte
	pos int
	bad bool
}

func (r *le) need(n int) []byte {
	if r.bad || n < 0 || r.pos+n > len(r.b) {
		r.bad = true
		return make([]byte, 8)
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s
}
func (r *le) u16() uint16 { return binary.LittleEndian.Uint16(r.need(2)) }
func (r *le) u32() uint32 { return binary.LittleEndian.Uint32(r.need(4)) }
func (r *le) u64() uint64 { return binary.LittleEndian.Uint64(r.need(8)) }
func (r *le) str() string {
	n := int(r.u32())
	if n > len(r.b) {
		r.bad = true
		return ""
	}
	return string(r.need(n))
}

// frame reads a frame preamble: size (with the sign as the type), and
// for a list the item count. It returns where the frame ends.
func (c *checker) frame(r *le, list bool, what string) (end, items int) {
	start := r.pos
	size := int64(r.u64())
	if size < 0 != list {
		c.errorf("%s: a %s frame where a %s frame belongs", what, kind(size < 0), kind(list))
		r.bad = true
		return start, 0
	}
	if size < 0 {
		size = -size
		items = int(r.u32())
	}
	if size < int64(r.pos-start) || int64(start)+size > int64(len(r.b)) || int64(items) > size {
		c.errorf("%s: frame of %d bytes at %d in a %d-byte envelope", what, size, start, len(r.b))
		r.bad = true
		return start, 0
	}
	return start + int(size), items
}

func kind(list bool) string {
	if list {
		return "list"
	}
	return "record"
}

// endFrame checks that the frame's known contents end at its stated end
// (strict: our writer) or before it (a newer writer may append), then
// skips to the end as readers must.
func (c *checker) endFrame(r *le, end int, what string, strict bool) {
	if r.bad {
		return
	}
	if r.pos > end {
		c.errorf("%s: contents run %d bytes past the frame", what, r.pos-end)
	} else if r.pos < end && strict {
		c.errorf("%s: %d unexplained bytes at the frame's end", what, end-r.pos)
	}
	r.pos = end
}

// envelope loads, inflates and checks an envelope of the given type.
func (c *checker) envelope(off, size, length uint64, typ uint16, what string) []byte {
	stored, ok := c.blobRange(int64(off), int64(size), int64(length), what+" envelope")
	if !ok {
		return nil
	}
	if length < 16 || length > 1<<34 {
		c.errorf("%s envelope: length %d", what, length)
		return nil
	}
	env := stored
	if size != length {
		env = make([]byte, length)
		c.checkBlocks(stored, what+" envelope")
		if err := compress.Decompress(env, stored); err != nil {
			c.errorf("%s envelope: %v", what, err)
			return nil
		}
	}
	word := binary.LittleEndian.Uint64(env)
	if uint16(word) != typ {
		c.errorf("%s envelope: type %d, want %d", what, uint16(word), typ)
	}
	if word>>16 != length {
		c.errorf("%s envelope: length %d in its preamble, %d in its link", what, word>>16, length)
	}
	sum := binary.LittleEndian.Uint64(env[len(env)-8:])
	if got := xxh3.Hash(env[:len(env)-8]); got != sum {
		c.errorf("%s envelope: XXH3 %016x stored, %016x computed", what, sum, got)
	}
	return env
}

// checkBlocks checks the compressed blocks' headers: a known algorithm,
// at most 16 MiB each, and sizes that tile the stored bytes.
func (c *checker) checkBlocks(stored []byte, what string) string {
	alg := ""
	for p := 0; p < len(stored); {
		if p+9 > len(stored) {
			c.errorf("%s: truncated compressed block header", what)
			return alg
		}
		h := stored[p : p+9]
		a := string(h[:3])
		switch {
		case a == "ZL\x08", a == "XZ\x00", a == "ZS\x01", a[:2] == "L4", a == "CS\x08":
		default:
			c.errorf("%s: compressed block with algorithm %q", what, a)
		}
		if alg != "" && alg != a[:2] {
			c.errorf("%s: blocks of two algorithms", what)
		}
		alg = a[:2]
		csize := int(h[3]) | int(h[4])<<8 | int(h[5])<<16
		p += 9 + csize
		if p > len(stored) {
			c.errorf("%s: compressed block of %d bytes runs past the data", what, csize)
		}
	}
	return alg
}

func (c *checker) ntuple(k *Key) {
	nt := &NTuple{Name: k.Name, Compressions: map[uint32]int{}}
	c.rep.NTuples = append(c.rep.NTuples, nt)
	obj := c.f[k.payloadFrom:k.payloadTo]
	if int(k.Objlen) != len(obj) { // ROOT 6.38 compresses the anchor as any small object
		full := make([]byte, k.Objlen)
		if err := compress.Decompress(full, obj); err != nil {
			c.errorf("anchor %q: %v", k.Name, err)
			return
		}
		obj = full
	}
	r := &be{b: obj}
	bc := r.u32()
	nt.AnchorClassV = int16(r.u16())
	if bc&0x40000000 == 0 || int(bc&^0x40000000) != len(obj)-4-8 {
		c.errorf("anchor %q: byte count %#x for %d bytes (the count covers version and fields, not the checksum)", k.Name, bc, len(obj))
	}
	if nt.AnchorClassV != 2 {
		c.warnf("anchor %q: class version %d (ROOT 6.34+ writes 2)", k.Name, nt.AnchorClassV)
	}
	fields := obj[6 : len(obj)-8]
	a := &nt.Anchor
	for i := range a.Version {
		a.Version[i] = r.u16()
	}
	for _, p := range []*uint64{&a.SeekHeader, &a.NbytesHeader, &a.LenHeader, &a.SeekFooter, &a.NbytesFooter, &a.LenFooter, &a.MaxKeySize} {
		*p = r.u64()
	}
	sum := r.u64()
	if r.bad {
		c.errorf("anchor %q truncated", k.Name)
		return
	}
	if got := xxh3.Hash(fields); got != sum {
		c.errorf("anchor %q: XXH3 %016x stored, %016x computed over its %d field bytes", k.Name, sum, got, len(fields))
	}
	if a.Version[0] != 1 {
		c.errorf("anchor %q: epoch %d", k.Name, a.Version[0])
	}
	if a.MaxKeySize == 0 {
		c.errorf("anchor %q: max key size 0", k.Name)
	}
	c.maxKey = int64(a.MaxKeySize)
	hdr := c.envelope(a.SeekHeader, a.NbytesHeader, a.LenHeader, envHeader, "header")
	if hdr == nil {
		return
	}
	nt.Header = hdr
	hsum := binary.LittleEndian.Uint64(hdr[len(hdr)-8:])
	strict := strings.HasPrefix(c.writerOf(hdr), "hepsql")
	hr := &le{b: hdr[:len(hdr)-8], pos: 8}
	c.features(hr, "header")
	name := hr.str()
	if name != k.Name {
		c.errorf("header names the RNTuple %q, its anchor key %q", name, k.Name)
	}
	if name == "" || strings.ContainsAny(name, forbidden) || strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		c.errorf("RNTuple name %q breaks the naming rules", name)
	}
	nt.Description = hr.str()
	nt.Writer = hr.str()
	c.schema(hr, nt, "header", strict)
	if !hr.bad && hr.pos != len(hr.b) && strict {
		c.errorf("header: %d bytes after the schema", len(hr.b)-hr.pos)
	}
	if hr.bad {
		c.errorf("header: truncated")
		return
	}
	c.checkSchema(nt, len(nt.Fields), strict)

	ftr := c.envelope(a.SeekFooter, a.NbytesFooter, a.LenFooter, envFooter, "footer")
	if ftr == nil {
		return
	}
	fr := &le{b: ftr[:len(ftr)-8], pos: 8}
	c.features(fr, "footer")
	if s := fr.u64(); s != hsum {
		c.errorf("footer: header checksum %016x, header's %016x", s, hsum)
	}
	headerFields := len(nt.Fields)
	nt.headerColumns = len(nt.Columns)
	end, _ := c.frame(fr, false, "footer schema extension")
	c.schema(fr, nt, "schema extension", strict)
	c.endFrame(fr, end, "footer schema extension", strict)
	nt.ExtFields = len(nt.Fields) - headerFields
	c.checkSchema(nt, headerFields, strict)
	end, groups := c.frame(fr, true, "footer cluster groups")
	nt.Groups = groups
	firstCluster := 0
	var entries int64
	for g := range groups {
		what := fmt.Sprintf("cluster group %d", g)
		gend, _ := c.frame(fr, false, what)
		minEntry, span := int64(fr.u64()), int64(fr.u64())
		nclusters := int(fr.u32())
		plen := fr.u64()
		loc := c.locator(fr, what)
		c.endFrame(fr, gend, what, strict)
		if fr.bad {
			break
		}
		if minEntry != entries {
			c.errorf("%s: minimum entry %d, the groups before end at %d", what, minEntry, entries)
		}
		nt.PageLists = append(nt.PageLists, plen)
		pl := c.envelope(uint64(loc[1]), uint64(loc[0]), plen, envPageList, "pagelist of "+what)
		if pl != nil {
			got := c.pageList(pl, nt, firstCluster, nclusters, minEntry, span, hsum, what, strict)
			entries += got
		}
		firstCluster += nclusters
	}
	c.endFrame(fr, end, "footer cluster groups", strict)
	if fr.bad {
		c.errorf("footer: truncated")
	} else if fr.pos != len(fr.b) && strict {
		c.errorf("footer: %d bytes after the cluster groups", len(fr.b)-fr.pos)
	}
	nt.Clusters, nt.Entries = firstCluster, entries
}

// writerOf peeks the header's writer string.
func (c *checker) writerOf(hdr []byte) string {
	r := &le{b: hdr, pos: 8}
	for r.u64()&(1<<63) != 0 {
	}
	r.str()
	r.str()
	return r.str()
}

func (c *checker) features(r *le, what string) {
	for {
		w := r.u64()
		if w&^(1<<63) != 0 {
			c.errorf("%s: feature flags %#x set (none is defined in format 1.0)", what, w)
		}
		if w>>63 == 0 || r.bad {
			return
		}
	}
}

// locator reads a locator and returns its size and offset.
func (c *checker) locator(r *le, what string) [2]int64 {
	size := int32(r.u32())
	if size >= 0 {
		return [2]int64{int64(size), int64(r.u64())}
	}
	word := uint32(size)
	typ := int8(word >> 24)
	if typ < 0 {
		typ = -typ
	}
	lsize := int(word & 0xffff)
	if typ&0x7f != 0x01 {
		c.errorf("%s: locator of type %d", what, typ)
		r.need(lsize - 4)
		return [2]int64{}
	}
	if lsize != 4+16 {
		c.errorf("%s: large locator of %d bytes", what, lsize)
	}
	s, o := int64(r.u64()), int64(r.u64())
	return [2]int64{s, o}
}

func (c *checker) schema(r *le, nt *NTuple, what string, strict bool) {
	end, n := c.frame(r, true, what+" fields")
	for i := range n {
		w := fmt.Sprintf("%s field %d", what, len(nt.Fields))
		fend, _ := c.frame(r, false, w)
		var f Field
		f.FieldVersion, f.TypeVersion, f.Parent = r.u32(), r.u32(), r.u32()
		f.Role, f.Flags = r.u16(), r.u16()
		f.Name, f.Type, f.Alias, f.Description = r.str(), r.str(), r.str(), r.str()
		if f.Flags&fieldRepetitive != 0 {
			f.ArraySize = r.u64()
		}
		if f.Flags&fieldProjected != 0 {
			f.Source = r.u32()
		}
		if f.Flags&fieldChecksum != 0 {
			f.Checksum = r.u32()
		}
		c.endFrame(r, fend, w, strict)
		if r.bad {
			return
		}
		_ = i
		nt.Fields = append(nt.Fields, f)
	}
	c.endFrame(r, end, what+" fields", strict)
	end, n = c.frame(r, true, what+" columns")
	for range n {
		w := fmt.Sprintf("%s column %d", what, len(nt.Columns))
		cend, _ := c.frame(r, false, w)
		var col Column
		col.Type, col.Bits, col.Field = r.u16(), r.u16(), r.u32()
		col.Flags, col.Repr = r.u16(), r.u16()
		if col.Flags&colDeferred != 0 {
			col.FirstElement = int64(r.u64())
		}
		if col.Flags&colRange != 0 {
			col.Min, col.Max = math.Float64frombits(r.u64()), math.Float64frombits(r.u64())
		}
		c.endFrame(r, cend, w, strict)
		if r.bad {
			return
		}
		nt.Columns = append(nt.Columns, col)
	}
	c.endFrame(r, end, what+" columns", strict)
	end, n = c.frame(r, true, what+" alias columns")
	for range n {
		aend, _ := c.frame(r, false, what+" alias column")
		nt.Aliases = append(nt.Aliases, [2]uint32{r.u32(), r.u32()})
		c.endFrame(r, aend, what+" alias column", strict)
	}
	c.endFrame(r, end, what+" alias columns", strict)
	end, n = c.frame(r, true, what+" extra type information")
	for range n {
		xend, _ := c.frame(r, false, what+" extra type information")
		id, _ := r.u32(), r.u32()
		r.str()
		if id != 0 {
			c.warnf("%s: extra type information with content identifier %d", what, id)
		}
		c.endFrame(r, xend, what+" extra type information", strict)
	}
	c.endFrame(r, end, what+" extra type information", strict)
}

// forbidden are the characters a field or RNTuple name may not hold.
const forbidden = ". \\/"

// checkSchema checks the fields and columns from id first on.
func (c *checker) checkSchema(nt *NTuple, first int, strict bool) {
	children := make([][]int, len(nt.Fields))
	for id, f := range nt.Fields {
		if int(f.Parent) >= len(nt.Fields) {
			c.errorf("field %d %q: parent %d does not exist", id, f.Name, f.Parent)
			continue
		}
		if int(f.Parent) != id {
			if int(f.Parent) > id {
				c.errorf("field %d %q: parent %d comes after it (subfields follow their parents)", id, f.Name, f.Parent)
			}
			children[f.Parent] = append(children[f.Parent], id)
		}
	}
	for id := first; id < len(nt.Fields); id++ {
		f := nt.Fields[id]
		w := fmt.Sprintf("field %d %q (%s)", id, f.Name, f.Type)
		if f.Name == "" || strings.ContainsAny(f.Name, forbidden) || strings.IndexFunc(f.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			c.errorf("%s: not a valid field name", w)
		}
		if f.Role > roleStreamer {
			c.errorf("%s: structural role %d", w, f.Role)
		}
		if f.Flags&^7 != 0 {
			c.warnf("%s: unknown flags %#x", w, f.Flags)
		}
		if f.Flags&fieldProjected != 0 && int(f.Source) >= len(nt.Fields) {
			c.errorf("%s: projected from field %d, which does not exist", w, f.Source)
		}
		if strings.Contains(f.Type, " ") && !strings.Contains(f.Type, "unsigned") {
			c.errorf("%s: type name holds a space (names keep only the spaces C++ needs)", w)
		}
		kids := children[id]
		named := func(want ...string) {
			if len(kids) != len(want) {
				c.errorf("%s: %d subfields, want %d", w, len(kids), len(want))
				return
			}
			for i, k := range kids {
				if nt.Fields[k].Name != want[i] {
					c.errorf("%s: subfield %d named %q, want %q", w, i, nt.Fields[k].Name, want[i])
				}
			}
		}
		t := f.Type
		switch {
		case f.Flags&fieldProjected != 0:
		case strings.HasPrefix(t, "std::vector<"), strings.HasPrefix(t, "ROOT::VecOps::RVec<"), strings.HasPrefix(t, "std::optional<"),
			strings.HasPrefix(t, "std::unique_ptr<"), strings.HasPrefix(t, "std::set<"), strings.HasPrefix(t, "std::unordered_set<"),
			strings.HasPrefix(t, "std::multiset<"):
			if f.Role != roleCollection {
				c.errorf("%s: role %d, a collection has 1", w, f.Role)
			}
			named("_0")
		case strings.HasPrefix(t, "std::map<"), strings.HasPrefix(t, "std::unordered_map<"), strings.HasPrefix(t, "std::multimap<"):
			if f.Role != roleCollection {
				c.errorf("%s: role %d, a map is a collection (1)", w, f.Role)
			}
			named("_0")
			if len(kids) == 1 && !strings.HasPrefix(nt.Fields[kids[0]].Type, "std::pair<") {
				c.errorf("%s: its _0 is %s, a map's items are std::pair", w, nt.Fields[kids[0]].Type)
			}
		case strings.HasPrefix(t, "std::array<"):
			if f.Role != roleLeaf || f.Flags&fieldRepetitive == 0 || f.ArraySize == 0 {
				c.errorf("%s: an array is a repetitive leaf field with its size (role %d, flags %#x, size %d)", w, f.Role, f.Flags, f.ArraySize)
			}
			named("_0")
			if !strings.HasSuffix(t, ","+fmt.Sprint(f.ArraySize)+">") {
				c.errorf("%s: array size %d differs from the type name", w, f.ArraySize)
			}
		case strings.HasPrefix(t, "std::pair<"):
			if f.Role != roleRecord {
				c.errorf("%s: role %d, a pair is a record (2)", w, f.Role)
			}
			named("_0", "_1")
		case strings.HasPrefix(t, "std::variant<"):
			if f.Role != roleVariant {
				c.errorf("%s: role %d, a variant has 3", w, f.Role)
			}
			if len(kids) == 0 || len(kids) > 125 {
				c.errorf("%s: %d alternatives", w, len(kids))
			}
			for i, k := range kids {
				if nt.Fields[k].Name != fmt.Sprintf("_%d", i) {
					c.errorf("%s: alternative %d named %q", w, i, nt.Fields[k].Name)
				}
			}
		case strings.HasPrefix(t, "std::atomic<"):
			named("_0")
		case f.Role == roleRecord:
			if strings.HasPrefix(t, "std::") && !strings.HasPrefix(t, "std::tuple<") {
				c.errorf("%s: a record of a std type", w)
			}
		}
		if f.Flags&fieldRepetitive != 0 && f.Role == roleLeaf && !strings.HasPrefix(t, "std::array<") && !strings.HasPrefix(t, "std::bitset<") && !strings.HasSuffix(t, "]") {
			c.errorf("%s: repetitive, but neither an array nor a bitset", w)
		}
		if strict {
			c.strictField(nt, id, w)
		}
	}
	// Columns: known types with their bits, attached to existing fields
	// in order, representations consecutive.
	perField := map[uint32][]int{}
	for id, col := range nt.Columns {
		w := fmt.Sprintf("column %d (%s of field %d)", id, ColumnNames[col.Type], col.Field)
		if int(col.Field) >= len(nt.Fields) {
			c.errorf("%s: no such field", w)
			continue
		}
		if want, ok := colBits[col.Type]; !ok {
			c.warnf("%s: unknown column type %#x", w, col.Type)
		} else if want != 0 && col.Bits != want {
			c.errorf("%s: %d bits, the type has %d", w, col.Bits, want)
		} else if col.Type == 0x1C && (col.Bits < 10 || col.Bits > 31) || col.Type == 0x1D && (col.Bits < 1 || col.Bits > 32) {
			c.errorf("%s: %d bits", w, col.Bits)
		}
		if col.Type == 0x1D && col.Flags&colRange == 0 {
			c.errorf("%s: Real32Quant without a value range", w)
		}
		if nt.Fields[col.Field].Flags&fieldProjected != 0 {
			c.errorf("%s: a physical column on a projected field", w)
		}
		perField[col.Field] = append(perField[col.Field], id)
	}
	for fid, ids := range perField {
		f := nt.Fields[fid]
		if f.Role == roleRecord || (f.Role == roleLeaf && len(children[fid]) > 0 && f.Flags&fieldRepetitive == 0) {
			c.errorf("field %d %q (%s): a record, enum or atomic parent has columns", fid, f.Name, f.Type)
		}
		// Representation indexes: consecutive from 0, each with the same
		// number of columns, in order.
		var reprs []int
		for _, id := range ids {
			r := int(nt.Columns[id].Repr)
			for len(reprs) <= r {
				reprs = append(reprs, 0)
			}
			reprs[r]++
		}
		for r, n := range reprs {
			if n != reprs[0] {
				c.errorf("field %d %q: representation %d has %d columns, representation 0 has %d", fid, f.Name, r, n, reprs[0])
			}
		}
		for k := 1; k < len(ids); k++ {
			if nt.Columns[ids[k]].Repr < nt.Columns[ids[k-1]].Repr {
				c.errorf("field %d %q: columns not in representation order", fid, f.Name)
			}
		}
		switch {
		case f.Role == roleCollection, f.Role == roleStreamer, f.Type == "std::string":
			if !isIndex(nt.Columns[ids[0]].Type) {
				c.errorf("field %d %q (%s): principal column is %s, not an index", fid, f.Name, f.Type, ColumnNames[nt.Columns[ids[0]].Type])
			}
		case f.Role == roleVariant:
			if nt.Columns[ids[0]].Type != 0x10 {
				c.errorf("field %d %q: a variant's column is %s, not Switch", fid, f.Name, ColumnNames[nt.Columns[ids[0]].Type])
			}
		}
		if f.Type == "std::string" && (reprs[0] != 2 || nt.Columns[ids[1]].Type != 0x02) {
			c.errorf("field %d %q: a string is an index and a Char column", fid, f.Name)
		}
	}
	for _, a := range nt.Aliases {
		if int(a[0]) >= len(nt.Columns) || int(a[1]) >= len(nt.Fields) || nt.Fields[a[1]].Flags&fieldProjected == 0 {
			c.errorf("alias column %v: physical column or projected field missing", a)
		}
	}
}

// strictField checks what ROOT's writer does for the fields hepsql
// writes: normalised names, the default column per C++ type.
func (c *checker) strictField(nt *NTuple, id int, w string) {
	f := nt.Fields[id]
	if f.FieldVersion != 0 || f.TypeVersion != 0 || f.Flags&^fieldRepetitive != 0 {
		c.errorf("%s: versions %d/%d, flags %#x", w, f.FieldVersion, f.TypeVersion, f.Flags)
	}
	for _, old := range []string{"int,", "long,", "short,", "char,", "int>", "long>", "short>", "char>"} {
		if strings.Contains(f.Type, "<"+old) || strings.Contains(f.Type, ","+old) {
			c.errorf("%s: a type name not normalised to std::[u]intN_t", w)
		}
	}
}
