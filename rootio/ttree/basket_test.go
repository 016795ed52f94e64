package ttree

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// TestEntryOffsets checks the basket offset table conversion: masking,
// the key length taken off, and each way a table can be out of order.
func TestEntryOffsets(t *testing.T) {
	table := func(vals ...uint32) []byte {
		b := make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.BigEndian.PutUint32(b[4*i:], v)
		}
		return b
	}
	for _, c := range []struct {
		name string
		tbl  []byte
		mask uint32
		end  int32
		want []int32
		bad  int // -1: accepted
	}{
		{"rising", table(100, 104, 104, 120), ^uint32(0), 30, []int32{0, 4, 4, 20, 30}, -1},
		{"masked", table(0x01000064, 0x02000070), 0x00ffffff, 20, []int32{0, 12, 20}, -1},
		{"empty", table(), ^uint32(0), -5, []int32{-5}, -1},
		{"negative first", table(90, 104), ^uint32(0), 30, nil, 0},
		{"falls", table(100, 110, 105), ^uint32(0), 30, nil, 1},
		{"past the end", table(100, 140), ^uint32(0), 30, nil, 1},
		{"unmasked flags", table(0x01000064), ^uint32(0), 30, nil, 0},
	} {
		offs := make([]int32, len(c.tbl)/4+1)
		i, ok := EntryOffsets(offs, c.tbl, c.mask, 100, c.end)
		switch {
		case c.bad >= 0 && (ok || i != c.bad):
			t.Errorf("%s: entry %d, %v; want entry %d refused", c.name, i, ok, c.bad)
		case c.bad < 0 && (!ok || !slices.Equal(offs, c.want)):
			t.Errorf("%s: %v, %v; want %v", c.name, offs, ok, c.want)
		}
	}
}

// rawBasket writes a basket as ROOT lays it on disk, uncompressed: the key
// (version 4, 32-bit seeks, class/name/title), the TBasket fields, then
// the entries, then, when offs is not nil, the entry-offset table
// (fNevBuf+1 values counted from the key's start, the last one 0).
func rawBasket(entries [][]byte, offs bool, flag byte) []byte {
	be := binary.BigEndian
	var key []byte
	key = be.AppendUint32(key, 0)   // nbytes, set below
	key = be.AppendUint16(key, 4)   // version
	key = be.AppendUint32(key, 0)   // objlen, set below
	key = be.AppendUint32(key, 0)   // datime
	key = be.AppendUint16(key, 0)   // keylen, set below
	key = be.AppendUint16(key, 1)   // cycle
	key = be.AppendUint32(key, 100) // seekkey
	key = be.AppendUint32(key, 0)   // seekpdir
	for _, s := range []string{"TBasket", "x", "tree"} {
		key = append(append(key, byte(len(s))), s...)
	}
	key = be.AppendUint16(key, 3)     // TBasket version
	key = be.AppendUint32(key, 32000) // fBufferSize
	key = be.AppendUint32(key, 0)     // fNevBufSize
	key = be.AppendUint32(key, uint32(len(entries)))
	lastAt := len(key)
	key = be.AppendUint32(key, 0) // fLast, set below
	key = append(key, flag)
	keylen := len(key)
	var payload []byte
	var starts []uint32
	for _, e := range entries {
		starts = append(starts, uint32(keylen+len(payload)))
		payload = append(payload, e...)
	}
	last := keylen + len(payload)
	if offs {
		payload = be.AppendUint32(payload, uint32(len(entries)+1))
		for _, s := range starts {
			payload = be.AppendUint32(payload, s)
		}
		payload = be.AppendUint32(payload, 0)
	}
	raw := append(key, payload...)
	be.PutUint32(raw[0:], uint32(len(raw)))
	be.PutUint32(raw[6:], uint32(len(payload)))
	be.PutUint16(raw[14:], uint16(keylen))
	be.PutUint32(raw[lastAt:], uint32(last))
	return raw
}

// TestDecodeBasketByHand decodes baskets written by hand, whose entries
// and offsets are known, and the ways a header can contradict its bytes.
func TestDecodeBasketByHand(t *testing.T) {
	entries := [][]byte{[]byte("ab"), {}, []byte("cde")}
	b, _, err := DecodeBasket(rawBasket(entries, true, 0), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Entries != 3 || string(b.Data) != "abcde" || !slices.Equal(b.Offsets, []int32{0, 2, 2, 5}) || b.GenOffsets {
		t.Errorf("got %d entries %q offsets %v gen %v; want 3 \"abcde\" [0 2 2 5] false", b.Entries, b.Data, b.Offsets, b.GenOffsets)
	}
	// Fixed-size entries: no table wanted, the data is all of the payload.
	b, _, err = DecodeBasket(rawBasket([][]byte{{1, 2}, {3, 4}}, false, 0), false, nil)
	if err != nil || b.Entries != 2 || !slices.Equal(b.Data, []byte{1, 2, 3, 4}) || b.Offsets != nil {
		t.Errorf("fixed: %+v, %v", b, err)
	}
	// ROOT adds 80 to the flag when the reader must generate the offsets.
	b, _, err = DecodeBasket(rawBasket(entries, false, 80+2), true, nil)
	if err != nil || !b.GenOffsets || b.Offsets != nil || string(b.Data) != "abcde" {
		t.Errorf("generated offsets: %+v, %v", b, err)
	}
	// A key that states more bytes than the basket table gave.
	raw := rawBasket(entries, true, 0)
	_, _, err = DecodeBasket(raw[:len(raw)-1], true, nil)
	if !errors.Is(err, rfile.ErrCorrupt) || err.Error() != "corrupt basket: key says 85 bytes, basket table says 84" {
		t.Errorf("truncated: %v", err)
	}
	// Entry offsets that fall.
	raw = rawBasket(entries, true, 0)
	tbl := len(raw) - 4*4
	binary.BigEndian.PutUint32(raw[tbl+4:], binary.BigEndian.Uint32(raw[tbl:])+4)
	if _, _, err := DecodeBasket(raw, true, nil); err == nil || err.Error() != "corrupt basket: entry 1 offset 4 outside [0, 2]" {
		t.Errorf("falling offsets: %v", err)
	}
}
