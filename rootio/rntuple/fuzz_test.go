package rntuple

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// seedFiles are the small test files (the fuzz seeds come from them).
func seedFiles(t testing.TB) [][]byte {
	names, _ := filepath.Glob("../../../shared/data/rntuple/test_*.root")
	var out [][]byte
	for _, n := range names {
		if st, err := os.Stat(n); err != nil || st.Size() > 200<<10 {
			continue
		}
		if b, err := os.ReadFile(n); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// envelopes returns the uncompressed header, footer and first page-list
// payloads of a file, for seeds.
func envelopes(raw []byte) (h, f, p []byte, ok bool) {
	r := bytes.NewReader(raw)
	size := int64(len(raw))
	keys, _, err := readKeys(r, size)
	if err != nil {
		return nil, nil, nil, false
	}
	for _, k := range keys {
		if !isAnchorClass(k.Class) {
			continue
		}
		pl, err := k.payload(r, size)
		if err != nil {
			return nil, nil, nil, false
		}
		a, err := parseAnchor(pl)
		if err != nil {
			return nil, nil, nil, false
		}
		hp, hsum, err1 := readEnvelope(r, size, Locator{a.nbytesHeader, a.seekHeader}, a.lenHeader, envHeader, a.maxKeySize)
		fp, _, err2 := readEnvelope(r, size, Locator{a.nbytesFooter, a.seekFooter}, a.lenFooter, envFooter, a.maxKeySize)
		if err1 != nil || err2 != nil {
			return nil, nil, nil, false
		}
		nt := &NTuple{}
		al, _ := nt.parseHeader(hp)
		groups, err := nt.parseFooter(fp, hsum, al)
		if err != nil || len(groups) == 0 {
			return nil, nil, nil, false
		}
		pp, _, err := readEnvelope(r, size, groups[0].loc, groups[0].length, envPageList, a.maxKeySize)
		return hp, fp, pp, err == nil
	}
	return nil, nil, nil, false
}

// FuzzEnvelopes feeds arbitrary header, footer and page-list payloads
// (past their checksums) to the schema parser and then reads every field
// of what it accepted from a small real file's bytes: errors, never a
// panic or an unbounded allocation.
func FuzzEnvelopes(f *testing.F) {
	files := seedFiles(f)
	for _, raw := range files {
		if h, ft, p, ok := envelopes(raw); ok {
			f.Add(h, ft, p)
		}
	}
	var data []byte
	if len(files) > 0 {
		data = files[0]
	}
	old := MaxAlloc
	MaxAlloc = 1 << 20
	f.Cleanup(func() { MaxAlloc = old })
	f.Fuzz(func(t *testing.T, h, ft, p []byte) {
		nt := &NTuple{r: bytes.NewReader(data), size: int64(len(data))}
		al, err := nt.parseHeader(h)
		if err != nil {
			return
		}
		groups, err := nt.parseFooter(ft, 0, al)
		if err != nil {
			// Retry with the checksum the footer names, so that the
			// fuzzer need not guess it.
			if len(ft) < 16 {
				return
			}
			nt = &NTuple{r: bytes.NewReader(data), size: int64(len(data))}
			al, _ = nt.parseHeader(h)
			b := &le{b: ft}
			b.features()
			hsum := b.u64()
			if groups, err = nt.parseFooter(ft, hsum, al); err != nil {
				return
			}
		}
		for gi, g := range groups {
			if nt.parsePageList(gi, p, g.clusters, nt.pageListSum(p)) != nil {
				return
			}
		}
		if nt.orderClusters() != nil {
			return
		}
		for i := range nt.Fields {
			if !nt.Fields[i].TopLevel() {
				continue
			}
			ty, err := nt.TypeOf(i)
			if err != nil {
				continue
			}
			for ci := range min(len(nt.Clusters), 4) {
				a, err := nt.ReadType(ty, ci)
				if err == nil && a.Len > 0 {
					_ = a.Value(a.Len - 1)
				}
			}
		}
	})
}

// pageListSum is the header checksum a page-list payload names.
func (nt *NTuple) pageListSum(p []byte) uint64 {
	b := &le{b: p}
	return b.u64()
}

// FuzzPages decodes arbitrary page bytes as every column type: an error
// for a page of the wrong size, else exactly n elements, never a panic;
// the page read in two parts (a scan's units start and end inside pages)
// gives the elements it gives read whole, and so does a read into
// narrower types (as into DuckDB's vectors) up to Go's conversion.
func FuzzPages(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, uint16(ColSplitIndex64), uint16(64), uint16(2), uint16(1))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint16(ColSplitIndex32), uint16(32), uint16(3), uint16(2))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint16(ColSplitInt32), uint16(32), uint16(3), uint16(1))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint16(ColSplitReal32), uint16(32), uint16(3), uint16(1))
	f.Add([]byte{0xff, 0x01, 0x80, 0x7f}, uint16(ColReal32Quant), uint16(7), uint16(4), uint16(3))
	f.Add([]byte{0xff, 0x01, 0x80, 0x7f, 0, 0}, uint16(ColReal32Trunc), uint16(12), uint16(4), uint16(2))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, uint16(ColSwitch), uint16(96), uint16(1), uint16(0))
	f.Fuzz(func(t *testing.T, page []byte, typ, bits, n, cut uint16) {
		col := &Column{Type: typ, Bits: bits, Flags: colRange, Min: -2, Max: 3}
		l, err := layoutOf(col)
		if err != nil {
			return
		}
		c := &cursor{c: col, l: l, pi: 0, total: int64(n)}
		if err := c.setPage(page, int64(n)); err != nil {
			return
		}
		name := ColumnTypeName(typ)
		at := int(cut) % (int(n) + 1)
		// read reads the page whole (parts false) or in two parts.
		read := func(parts bool, into func(lo, hi int) error) {
			t.Helper()
			c.pos, c.acc, c.accAt = 0, 0, 0
			ranges := [][2]int{{0, int(n)}}
			if parts {
				ranges = [][2]int{{0, at}, {at, int(n)}}
			}
			for _, r := range ranges {
				if err := into(r[0], r[1]); err != nil {
					t.Fatalf("%s: elements [%d, %d): %v", name, r[0], r[1], err)
				}
			}
			if c.pos != int64(n) {
				t.Fatalf("%s: %d elements decoded, want %d", name, c.pos, n)
			}
		}
		switch l.kind {
		case kindSwitch:
			idx, tags := make([]uint64, n), make([]int32, n)
			read(false, func(lo, hi int) error { return readSwitch(c, idx[lo:hi], tags[lo:hi]) })
			idx2, tags2 := make([]uint64, n), make([]int32, n)
			read(true, func(lo, hi int) error { return readSwitch(c, idx2[lo:hi], tags2[lo:hi]) })
			if !reflect.DeepEqual(idx, idx2) || !reflect.DeepEqual(tags, tags2) {
				t.Fatalf("%s: read in parts at %d differs", name, at)
			}
		case kindFloat:
			whole, parts, narrow := make([]float64, n), make([]float64, n), make([]float32, n)
			read(false, func(lo, hi int) error { return readNumbers(c, whole[lo:hi]) })
			read(true, func(lo, hi int) error { return readNumbers(c, parts[lo:hi]) })
			read(true, func(lo, hi int) error { return readNumbers(c, narrow[lo:hi]) })
			for i := range whole {
				if math.Float64bits(whole[i]) != math.Float64bits(parts[i]) {
					t.Fatalf("%s: element %d read in parts at %d: %v, whole: %v", name, i, at, parts[i], whole[i])
				}
				if w := float32(whole[i]); math.Float32bits(w) != math.Float32bits(narrow[i]) && !(w != w && narrow[i] != narrow[i]) {
					t.Fatalf("%s: element %d as float32: %v, whole: %v", name, i, narrow[i], whole[i])
				}
			}
		default:
			whole, parts, narrow := make([]int64, n), make([]int64, n), make([]int16, n)
			bools := make([]bool, n)
			read(false, func(lo, hi int) error { return readNumbers(c, whole[lo:hi]) })
			read(true, func(lo, hi int) error { return readNumbers(c, parts[lo:hi]) })
			read(true, func(lo, hi int) error { return readNumbers(c, narrow[lo:hi]) })
			read(true, func(lo, hi int) error { return readBools(c, bools[lo:hi]) })
			for i := range whole {
				if whole[i] != parts[i] || int16(whole[i]) != narrow[i] || (whole[i] != 0) != bools[i] {
					t.Fatalf("%s: element %d read in parts at %d: %d, as int16 %d, as bool %v; whole: %d", name, i, at, parts[i], narrow[i], bools[i], whole[i])
				}
			}
		}
	})
}

// TestHostileFiles flips bytes of, and truncates, every small test file:
// opening and reading must give errors, never panic.
func TestHostileFiles(t *testing.T) {
	files := seedFiles(t)
	if len(files) == 0 {
		t.Skip("no test files")
	}
	old := MaxAlloc
	MaxAlloc = 1 << 22
	defer func() { MaxAlloc = old }()
	readAll := func(raw []byte) {
		r := bytes.NewReader(raw)
		names, err := NTuples(r, int64(len(raw)))
		if err != nil {
			return
		}
		for _, n := range names {
			nt, err := Open(r, int64(len(raw)), n)
			if err != nil {
				continue
			}
			var streamed []*Type
			for i := range nt.Fields {
				if ty, err := nt.TypeOf(i); err == nil && nt.Fields[i].TopLevel() {
					for ci := range nt.Clusters {
						nt.ReadType(ty, ci)
					}
					if Streamable(ty) {
						streamed = append(streamed, ty)
					}
				}
			}
			// The Streams read_root reads through, side by side, in
			// steps that start and end inside pages (the first 10,000
			// entries of a cluster).
			for ci, c := range nt.Clusters {
				ss, err := nt.NewStreams(streamed, ci, 0)
				if err != nil {
					continue
				}
				step, end := int64(5), min(c.Entries, 10000)
				for at := int64(0); at < end; at += step {
					if at >= 100 {
						step = 4096 // past the first 100 entries, in a scan's strides
					}
					for k, s := range ss {
						if s != nil && drainStream(s, int(min(step, end-at))) != nil {
							s.Close()
							ss[k] = nil
						}
					}
				}
				for _, s := range ss {
					s.Close()
				}
			}
		}
	}
	for _, raw := range files {
		for _, cut := range []int{len(raw) / 3, len(raw) / 2, len(raw) - 100} {
			readAll(raw[:cut])
		}
		for i := 0; i < len(raw); i += 97 {
			bad := bytes.Clone(raw)
			bad[i] ^= 0x5a
			readAll(bad)
		}
	}
}

// TestReadChunksHostile: objects split over keys, read from random bytes
// with random sizes, key sizes and offsets, fail with an error and never
// panic or read outside the file.
func TestReadChunksHostile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		file := make([]byte, rng.IntN(4096))
		for i := range file {
			file[i] = byte(rng.Uint32())
		}
		size := int64(len(file))
		loc := Locator{Size: rng.Int64N(8192) - 16, Offset: rng.Int64N(size+32) - 16}
		maxKey := rng.Int64N(300) - 10
		b, err := readBlob(bytes.NewReader(file), size, loc, rng.Int64N(9), maxKey)
		if err == nil && int64(len(b)) < loc.Size {
			t.Fatalf("%d bytes for a locator of %d", len(b), loc.Size)
		}
	}
}

// drainStream reads n entries of s, every value at its width, as a scan
// does, and returns the first error.
func drainStream(s *Stream, n int) error {
	switch t := s.Type; t.Kind {
	case KindBool:
		return s.ReadBools(make([]bool, n))
	case KindFloat32:
		return ReadValues(s, make([]float32, n))
	case KindFloat64:
		return ReadValues(s, make([]float64, n))
	case KindInt8, KindUint8:
		return ReadValues(s, make([]int8, n))
	case KindInt16, KindUint16:
		return ReadValues(s, make([]uint16, n))
	case KindInt32, KindUint32:
		return ReadValues(s, make([]int32, n))
	case KindInt64, KindUint64:
		return ReadValues(s, make([]uint64, n))
	case KindString, KindList:
		items, err := s.ReadLengths(make([]uint64, n))
		if err != nil {
			return err
		}
		if t.Kind == KindString {
			return s.ReadChars(make([]byte, items))
		}
		return drainStream(s.Children[0], items)
	case KindArray:
		return drainStream(s.Children[0], n*t.Size)
	case KindStruct:
		for _, c := range s.Children {
			if err := drainStream(c, n); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("kind %d not streamed", s.Type.Kind)
}
