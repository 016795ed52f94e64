package tbranch

import (
	"bytes"
	"encoding/binary"
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
