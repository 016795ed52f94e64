package rootscan

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// TestSwapMatchesElementwise compares swap16/32/64 with an element-by-element
// conversion on every length up to 40 bytes: whole elements converted, a
// trailing partial element and the rest of dst untouched.
func TestSwapMatchesElementwise(t *testing.T) {
	for _, c := range []struct {
		size int
		swap func(dst, src []byte)
	}{{2, swap16}, {4, swap32}, {8, swap64}} {
		for n := 0; n <= 40; n++ {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(31*i + 7)
			}
			want := bytes.Repeat([]byte{0xAA}, n+3)
			for i := 0; i+c.size <= n; i += c.size {
				for k := range c.size {
					want[i+k] = src[i+c.size-1-k]
				}
			}
			got := bytes.Repeat([]byte{0xAA}, n+3)
			c.swap(got, src)
			if !bytes.Equal(got, want) {
				t.Errorf("swap%d of %d bytes: %x, want %x", 8*c.size, n, got, want)
			}
		}
	}
}

// BenchmarkSwap32 converts a basket's worth of floats (the CMS sample's
// Jet_pt basket holds ~53 kB of them).
func BenchmarkSwap32(b *testing.B) {
	src := make([]byte, 53000)
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]byte, len(src))
	b.Run("4-byte steps", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			for i := 0; i+3 < len(src); i += 4 {
				binary.LittleEndian.PutUint32(dst[i:], binary.BigEndian.Uint32(src[i:]))
			}
		}
	})
	b.Run("swap32", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			swap32(dst, src)
		}
	})
}

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
		i, ok := entryOffsets(offs, c.tbl, c.mask, 100, c.end)
		switch {
		case c.bad >= 0 && (ok || i != c.bad):
			t.Errorf("%s: entry %d, %v; want entry %d refused", c.name, i, ok, c.bad)
		case c.bad < 0 && (!ok || !slices.Equal(offs, c.want)):
			t.Errorf("%s: %v, %v; want %v", c.name, offs, ok, c.want)
		}
	}
}
