package rootscan

import (
	"bytes"
	"encoding/binary"
	"hash/adler32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/pierrec/xxHash/xxHash64"
	"github.com/ulikunitz/xz"
)

// basketSeeds returns the raw on-disk bytes of the first basket of every
// branch of the CMS sample (when present) and of a go-hep testdata file.
func basketSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	files := []string{"../../shared/data/Run2012B_SingleMu_10000.root"}
	if m, err := filepath.Glob(filepath.Join(os.Getenv("HEPSQL_GROOT_TESTDATA"), "*.root")); err == nil {
		files = append(files, m...)
	}
	for _, name := range files {
		f, err := openTree(name, "")
		if err != nil {
			continue
		}
		for _, c := range f.cols {
			if len(c.baskets.seek) == 0 || !c.supported() {
				continue
			}
			raw := make([]byte, c.baskets.bytes[0])
			if _, err := f.r.ReadAt(raw, c.baskets.seek[0]); err == nil {
				seeds = append(seeds, raw)
			}
		}
		f.Close()
	}
	return seeds
}

// FuzzDecodeBasket feeds arbitrary bytes to the basket decoder: it must
// return an error or entry data that lies inside the payload, never panic
// or allocate without bound.
func FuzzDecodeBasket(f *testing.F) {
	for _, s := range basketSeeds(f) {
		f.Add(s, true)
		f.Add(s, false)
	}
	// Keep each execution small: the fuzzer explores the decoding logic,
	// the size cap itself is checked by TestBasketSizeCap.
	maxBasketPayload = 1 << 20
	f.Fuzz(func(t *testing.T, raw []byte, offsets bool) {
		b, _, err := decodeBasket(raw, offsets, nil)
		if err != nil {
			return
		}
		if offsets {
			if len(b.offsets) != b.entries+1 {
				t.Fatalf("%d offsets for %d entries", len(b.offsets), b.entries)
			}
			for i := 0; i < b.entries; i++ {
				if b.offsets[i] < 0 || b.offsets[i] > b.offsets[i+1] || int(b.offsets[i+1]) > len(b.data) {
					t.Fatalf("entry %d offsets [%d, %d) outside %d bytes", i, b.offsets[i], b.offsets[i+1], len(b.data))
				}
			}
		}
		// Every layout's decoders must cope with the entries.
		for _, e := range []encoding{encF32, encF64, encI16, encBool, encF16, encD32} {
			dst := make([]byte, 8*len(b.data)+8)
			_ = decodeElems(e, packing{nbits: 12}, dst, b.data, len(b.data)/max(1, e.diskSize(packing{nbits: 12})))
		}
		if offsets {
			for i := 0; i < b.entries; i++ {
				entry := b.data[b.offsets[i]:b.offsets[i+1]]
				if n, body, err := vectorBody(entry); err == nil && n > len(body) {
					_ = n // callers check n against len(body); nothing to do here
				}
				_, _, _ = readString(entry)
			}
		}
	})
}

func TestBasketSizeCap(t *testing.T) {
	seeds := basketSeeds(t)
	if len(seeds) == 0 {
		t.Skip("no ROOT files to take a basket from")
	}
	raw := append([]byte(nil), seeds[0]...)
	// objlen is the int32 at byte 6 of the key.
	raw[6], raw[7], raw[8], raw[9] = 0x7f, 0xff, 0xff, 0xff
	if _, _, err := decodeBasket(raw, false, nil); err == nil {
		t.Fatal("a 2 GiB payload claim was accepted")
	}
}

// rootBlock frames compressed bytes as one of ROOT's compressed blocks:
// algorithm, method, compressed and uncompressed sizes, then the data.
func rootBlock(alg string, method byte, data []byte, usize int) []byte {
	c := len(data)
	hdr := []byte{alg[0], alg[1], method, byte(c), byte(c >> 8), byte(c >> 16), byte(usize), byte(usize >> 8), byte(usize >> 16)}
	return append(hdr, data...)
}

// fuzzPayloads are uncompressed payloads to make seed blocks from: basket
// payloads of real files (the first few bytes of each seed basket) and
// some synthetic ones.
func fuzzPayloads(t testing.TB) [][]byte {
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
	out = append(out, noise)
	for i, raw := range basketSeeds(t) {
		if i%9 != 0 || len(out) > 10 {
			continue
		}
		b, _, err := decodeBasket(raw, false, nil)
		if err == nil && len(b.data) > 0 {
			out = append(out, bytes.Clone(b.data[:min(len(b.data), 8192)]))
		}
	}
	return out
}

// fuzzInflate is the body of the per-algorithm fuzz targets. It decodes
// block as a ROOT compressed block of the size its header gives; it must
// never panic. When that succeeds, it flips one byte (pos, x) and decodes
// again: where checked says the pair is covered by a checksum, a decode
// without error must give the original bytes.
func fuzzInflate(f *testing.F, seeds [][]byte, checked func(orig, bad []byte) bool) {
	for _, s := range seeds {
		f.Add(s, uint32(len(s)/2), byte(0x10))
		f.Add(s, uint32(len(s)-1), byte(0x01))
		f.Add(s, uint32(12), byte(0x80))
	}
	f.Fuzz(func(t *testing.T, block []byte, pos uint32, x byte) {
		if len(block) < 9 {
			_ = decompress(make([]byte, 1), block)
			return
		}
		usize := int(block[6]) | int(block[7])<<8 | int(block[8])<<16
		if usize == 0 || usize > 1<<20 {
			return
		}
		orig := make([]byte, usize)
		if err := decompress(orig, block); err != nil || x == 0 {
			return
		}
		bad := bytes.Clone(block)
		bad[int(pos)%len(bad)] ^= x
		got := make([]byte, usize)
		if err := decompress(got, bad); err != nil {
			return
		}
		if checked(block, bad) && !bytes.Equal(got, orig) {
			if adlerCollision(bad, orig, got) {
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

// sameAlg reports whether both blocks are of algorithm alg.
func sameAlg(alg string) func(orig, bad []byte) bool {
	return func(orig, bad []byte) bool { return string(orig[:2]) == alg && string(bad[:2]) == alg }
}

// zlibSeeds are zlib blocks made by klauspost's compressor and the first
// few of the CMS sample, when present.
func zlibSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, p := range fuzzPayloads(f) {
		var buf bytes.Buffer
		w, _ := zlib.NewWriterLevel(&buf, 1)
		w.Write(p)
		w.Close()
		seeds = append(seeds, rootBlock("ZL", 8, buf.Bytes(), len(p)))
	}
	if raw, err := os.ReadFile("../../shared/data/Run2012B_SingleMu_10000.root"); err == nil {
		blocks, sizes := zlibBlocks(f, raw)
		for i := range blocks {
			if len(blocks[i]) < 16<<10 && len(seeds) < 12 {
				seeds = append(seeds, rootBlock("ZL", 8, blocks[i], sizes[i]))
			}
		}
	}
	return seeds
}

// FuzzInflateZlibGo fuzzes zlib blocks through klauspost's inflater.
func FuzzInflateZlibGo(f *testing.F) {
	goInflate.Store(true)
	f.Cleanup(func() { goInflate.Store(false) })
	fuzzInflate(f, zlibSeeds(f), sameAlg("ZL"))
}

// FuzzInflateZlibLibdeflate fuzzes zlib blocks through libdeflate.
func FuzzInflateZlibLibdeflate(f *testing.F) {
	if !capi.HaveZlibInflater() {
		if os.Getenv("CI") != "" {
			f.Fatal("libdeflate.so.0 not found in CI")
		}
		f.Skip("libdeflate.so.0 not found")
	}
	fuzzInflate(f, zlibSeeds(f), sameAlg("ZL"))
}

// FuzzInflateLZ4 fuzzes ROOT's lz4 blocks (XXH64, then the lz4 block),
// made by pierrec/lz4 and taken from uproot's Zmumu-lz4 when present.
func FuzzInflateLZ4(f *testing.F) {
	var seeds [][]byte
	for _, p := range fuzzPayloads(f) {
		dst := make([]byte, lz4.CompressBlockBound(len(p)))
		n, err := lz4.CompressBlock(p, dst, nil)
		if err != nil || n == 0 {
			continue
		}
		blk := binary.BigEndian.AppendUint64(nil, xxHash64.Checksum(dst[:n], 0))
		seeds = append(seeds, rootBlock("L4", 1, append(blk, dst[:n]...), len(p)))
	}
	if raw, err := os.ReadFile("../../shared/data/uproot/uproot-Zmumu-lz4.root"); err == nil {
		for i := 0; i+17 < len(raw) && len(seeds) < 12; i++ {
			if raw[i] != 'L' || raw[i+1] != '4' {
				continue
			}
			csize := int(raw[i+3]) | int(raw[i+4])<<8 | int(raw[i+5])<<16
			if i+9+csize <= len(raw) && csize < 16<<10 && decompress(make([]byte, int(raw[i+6])|int(raw[i+7])<<8|int(raw[i+8])<<16), raw[i:i+9+csize]) == nil {
				seeds = append(seeds, bytes.Clone(raw[i:i+9+csize]))
			}
		}
	}
	fuzzInflate(f, seeds, sameAlg("L4"))
}

// FuzzInflateXZ fuzzes lzma (xz) blocks made by ulikunitz/xz with each of
// the checks an xz stream may carry.
func FuzzInflateXZ(f *testing.F) {
	var seeds [][]byte
	for i, p := range fuzzPayloads(f) {
		var buf bytes.Buffer
		cfg := xz.WriterConfig{CheckSum: []byte{xz.CRC32, xz.CRC64, xz.SHA256}[i%3], DictCap: 1 << 16}
		w, err := cfg.NewWriter(&buf)
		if err != nil {
			f.Fatal(err)
		}
		w.Write(p)
		w.Close()
		seeds = append(seeds, rootBlock("XZ", 0, buf.Bytes(), len(p)))
	}
	fuzzInflate(f, seeds, sameAlg("XZ"))
}

// FuzzInflateZstd fuzzes zstd blocks made by klauspost's encoder, with a
// content checksum (which must then be verified) and without one, as ROOT
// writes them (where a flip may go unnoticed, but must not panic).
func FuzzInflateZstd(f *testing.F) {
	var seeds [][]byte
	for i, p := range fuzzPayloads(f) {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(i%2 == 0), zstd.WithEncoderConcurrency(1))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, rootBlock("ZS", 1, enc.EncodeAll(p, nil), len(p)))
		enc.Close()
	}
	fuzzInflate(f, seeds, func(orig, bad []byte) bool {
		// Checked when both frames declare a checksum in the same header.
		return sameAlg("ZS")(orig, bad) && len(orig) > 13 && orig[13]&0x04 != 0 && bytes.Equal(orig[:14], bad[:14])
	})
}

// adlerCollision reports whether bad is a zlib block whose decoded bytes
// got differ from orig yet have the same Adler-32: a change the checksum
// cannot show.
func adlerCollision(bad, orig, got []byte) bool {
	return string(bad[:2]) == "ZL" && adler32.Checksum(orig) == adler32.Checksum(got)
}
