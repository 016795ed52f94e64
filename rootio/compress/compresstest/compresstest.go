// Package compresstest is the harness that the decompression tests and
// fuzz targets of rootio/compress and rootscan share: ROOT block framing,
// seed payloads and the fuzz body that flips a byte of a valid block.
package compresstest

import (
	"bytes"
	"hash/adler32"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/rootio/compress"
	"github.com/klauspost/compress/zlib"
)

// RootBlock frames compressed bytes as one of ROOT's compressed blocks:
// algorithm, method, compressed and uncompressed sizes, then the data.
func RootBlock(alg string, method byte, data []byte, usize int) []byte {
	c := len(data)
	hdr := []byte{alg[0], alg[1], method, byte(c), byte(c >> 8), byte(c >> 16), byte(usize), byte(usize >> 8), byte(usize >> 16)}
	return append(hdr, data...)
}

// Payloads are uncompressed payloads to make seed blocks from: some
// synthetic ones, then extra (payloads of real files, when the caller has
// them).
func Payloads(extra ...[]byte) [][]byte {
	out := [][]byte{
		[]byte("x"),
		bytes.Repeat([]byte{0, 0, 0x80, 0x3f}, 300),
		[]byte(strings.Repeat("hepsql reads ROOT files; ", 40)),
	}
	rng := rand.New(rand.NewPCG(15, 6))
	noise := make([]byte, 2000)
	for i := range noise {
		noise[i] = byte(rng.IntN(16))
	}
	return append(append(out, noise), extra...)
}

// ZlibBlocks finds the zlib-compressed blocks of a ROOT file by their
// 9-byte headers, keeping those that klauspost's inflater accepts (a header
// look-alike inside other data does not inflate).
func ZlibBlocks(t testing.TB, raw []byte) (blocks [][]byte, sizes []int) {
	t.Helper()
	for i := 0; i+9 < len(raw); i++ {
		if raw[i] != 'Z' || raw[i+1] != 'L' || raw[i+2] != 8 {
			continue
		}
		csize := int(raw[i+3]) | int(raw[i+4])<<8 | int(raw[i+5])<<16
		usize := int(raw[i+6]) | int(raw[i+7])<<8 | int(raw[i+8])<<16
		if usize == 0 || i+9+csize > len(raw) {
			continue
		}
		block := raw[i+9 : i+9+csize]
		if compress.InflateZlibGo(make([]byte, usize), block) != nil {
			continue
		}
		blocks = append(blocks, block)
		sizes = append(sizes, usize)
		i += 8 + csize
	}
	return blocks, sizes
}

// ZlibSeeds are zlib blocks of payloads made by klauspost's compressor
// and the first few of the ROOT file sample (a path; skipped when absent).
func ZlibSeeds(f testing.TB, payloads [][]byte, sample string) [][]byte {
	var seeds [][]byte
	for _, p := range payloads {
		var buf bytes.Buffer
		w, _ := zlib.NewWriterLevel(&buf, 1)
		w.Write(p)
		w.Close()
		seeds = append(seeds, RootBlock("ZL", 8, buf.Bytes(), len(p)))
	}
	if raw, err := os.ReadFile(sample); err == nil {
		blocks, sizes := ZlibBlocks(f, raw)
		for i := range blocks {
			if len(blocks[i]) < 16<<10 && len(seeds) < 12 {
				seeds = append(seeds, RootBlock("ZL", 8, blocks[i], sizes[i]))
			}
		}
	}
	return seeds
}

// Fuzz is the body of the per-algorithm fuzz targets. It decodes block
// as a ROOT compressed block of the size its header gives; it must never
// panic. When that succeeds, it flips one byte (pos, x) and decodes again:
// where checked says the pair is covered by a checksum, a decode without
// error must give the original bytes.
func Fuzz(f *testing.F, seeds [][]byte, checked func(orig, bad []byte) bool) {
	for _, s := range seeds {
		f.Add(s, uint32(len(s)/2), byte(0x10))
		f.Add(s, uint32(len(s)-1), byte(0x01))
		f.Add(s, uint32(12), byte(0x80))
	}
	f.Fuzz(func(t *testing.T, block []byte, pos uint32, x byte) {
		if len(block) < 9 {
			_ = compress.Decompress(make([]byte, 1), block)
			return
		}
		// Blocks of at most 64 KiB keep each execution short: the seeds
		// are smaller, and at 1 MiB (two buffers an execution, under
		// coverage) a CI run's fuzzing outlasted its deadline ("context
		// deadline exceeded") on 2 cores, as FuzzDecodeBasket's had.
		usize := int(block[6]) | int(block[7])<<8 | int(block[8])<<16
		if usize == 0 || usize > 1<<16 {
			return
		}
		orig := make([]byte, usize)
		if err := compress.Decompress(orig, block); err != nil || x == 0 {
			return
		}
		bad := bytes.Clone(block)
		bad[int(pos)%len(bad)] ^= x
		got := make([]byte, usize)
		if err := compress.Decompress(got, bad); err != nil {
			return
		}
		if checked(block, bad) && !bytes.Equal(got, orig) {
			if AdlerCollision(bad, orig, got) {
				// Adler-32 is blind to some changes (+1, -1, -1, +1 at
				// equal spacing leaves both its sums alone): no reader can
				// catch them, and the README says so.
				t.Logf("byte %d ^ %#02x: zlib output changed under an equal Adler-32", int(pos)%len(bad), x)
				return
			}
			t.Fatalf("byte %d ^ %#02x: a checksummed %q block decoded to other bytes without an error", int(pos)%len(bad), x, bad[:2])
		}
	})
}

// SameAlg reports whether both blocks are of algorithm alg.
func SameAlg(alg string) func(orig, bad []byte) bool {
	return func(orig, bad []byte) bool { return string(orig[:2]) == alg && string(bad[:2]) == alg }
}

// AdlerCollision reports whether bad is a zlib block whose decoded bytes
// got differ from orig yet have the same Adler-32: a change the checksum
// cannot show.
func AdlerCollision(bad, orig, got []byte) bool {
	return string(bad[:2]) == "ZL" && adler32.Checksum(orig) == adler32.Checksum(got)
}
