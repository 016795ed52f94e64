package compress_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/compress"
	"github.com/hepsql/hepsql/rootio/compress/compresstest"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/pierrec/xxHash/xxHash64"
	"github.com/ulikunitz/xz"
)

// cmsSample is the CMS open-data sample, whose baskets are zlib blocks;
// seeds only, so its absence is not an error.
const cmsSample = "../../../shared/data/Run2012B_SingleMu_10000.root"

// samplePayloads are the first bytes of a few of the CMS sample's
// inflated baskets, when it is present.
func samplePayloads(t testing.TB) [][]byte {
	raw, err := os.ReadFile(cmsSample)
	if err != nil {
		return nil
	}
	var out [][]byte
	blocks, sizes := compresstest.ZlibBlocks(t, raw)
	for i := 0; i < len(blocks) && len(out) < 7; i += 9 {
		p := make([]byte, sizes[i])
		if compress.InflateZlibGo(p, blocks[i]) == nil {
			out = append(out, p[:min(len(p), 8192)])
		}
	}
	return out
}

// FuzzInflateZlibGo fuzzes zlib blocks through klauspost's inflater.
func FuzzInflateZlibGo(f *testing.F) {
	old := compress.ForceGoZlib(true)
	f.Cleanup(func() { compress.ForceGoZlib(old) })
	compresstest.Fuzz(f, compresstest.ZlibSeeds(f, compresstest.Payloads(samplePayloads(f)...), cmsSample), compresstest.SameAlg("ZL"))
}

// lz4Blocks finds ROOT's lz4 blocks in a file by their headers, keeping
// those whose XXH64 matches (computed here, independently of the package).
func lz4Blocks(raw []byte, limit int) [][]byte {
	var out [][]byte
	for i := 0; i+17 < len(raw) && len(out) < limit; i++ {
		if raw[i] != 'L' || raw[i+1] != '4' {
			continue
		}
		csize := int(raw[i+3]) | int(raw[i+4])<<8 | int(raw[i+5])<<16
		if csize < 8 || i+9+csize > len(raw) {
			continue
		}
		if binary.BigEndian.Uint64(raw[i+9:]) == xxHash64.Checksum(raw[i+17:i+9+csize], 0) {
			out = append(out, raw[i:i+9+csize])
			i += 8 + csize
		}
	}
	return out
}

// FuzzInflateLZ4 fuzzes ROOT's lz4 blocks (XXH64, then the lz4 block),
// made by pierrec/lz4 and taken from uproot's Zmumu-lz4 when present.
func FuzzInflateLZ4(f *testing.F) {
	var seeds [][]byte
	for _, p := range compresstest.Payloads(samplePayloads(f)...) {
		dst := make([]byte, lz4.CompressBlockBound(len(p)))
		n, err := lz4.CompressBlock(p, dst, nil)
		if err != nil || n == 0 {
			continue
		}
		blk := binary.BigEndian.AppendUint64(nil, xxHash64.Checksum(dst[:n], 0))
		seeds = append(seeds, compresstest.RootBlock("L4", 1, append(blk, dst[:n]...), len(p)))
	}
	if raw, err := os.ReadFile("../../../shared/data/uproot/uproot-Zmumu-lz4.root"); err == nil {
		for _, b := range lz4Blocks(raw, 12) {
			if len(b) < 16<<10 {
				seeds = append(seeds, bytes.Clone(b))
			}
		}
	}
	compresstest.Fuzz(f, seeds, compresstest.SameAlg("L4"))
}

// FuzzInflateXZ fuzzes lzma (xz) blocks made by ulikunitz/xz with each of
// the checks an xz stream may carry.
func FuzzInflateXZ(f *testing.F) {
	var seeds [][]byte
	for i, p := range compresstest.Payloads(samplePayloads(f)...) {
		var buf bytes.Buffer
		cfg := xz.WriterConfig{CheckSum: []byte{xz.CRC32, xz.CRC64, xz.SHA256}[i%3], DictCap: 1 << 16}
		w, err := cfg.NewWriter(&buf)
		if err != nil {
			f.Fatal(err)
		}
		w.Write(p)
		w.Close()
		seeds = append(seeds, compresstest.RootBlock("XZ", 0, buf.Bytes(), len(p)))
	}
	compresstest.Fuzz(f, seeds, compresstest.SameAlg("XZ"))
}

// FuzzInflateZstd fuzzes zstd blocks made by klauspost's encoder, with a
// content checksum (which must then be verified) and without one, as ROOT
// writes them (where a flip may go unnoticed, but must not panic).
func FuzzInflateZstd(f *testing.F) {
	var seeds [][]byte
	for i, p := range compresstest.Payloads(samplePayloads(f)...) {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(i%2 == 0), zstd.WithEncoderConcurrency(1))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, compresstest.RootBlock("ZS", 1, enc.EncodeAll(p, nil), len(p)))
		enc.Close()
	}
	compresstest.Fuzz(f, seeds, func(orig, bad []byte) bool {
		// Checked when both frames declare a checksum in the same header.
		return compresstest.SameAlg("ZS")(orig, bad) && len(orig) > 13 && orig[13]&0x04 != 0 && bytes.Equal(orig[:14], bad[:14])
	})
}

// TestInflateZlibGoChecks checks that the Go inflater, like libdeflate,
// rejects a damaged Adler-32, a truncated stream and a size other than the
// stream's: it reads to the stream's end rather than stopping at the
// expected size.
func TestInflateZlibGoChecks(t *testing.T) {
	raw, err := os.ReadFile(testfiles.CMSSample(t))
	if err != nil {
		t.Fatal(err)
	}
	blocks, sizes := compresstest.ZlibBlocks(t, raw)
	if len(blocks) == 0 {
		t.Fatal("no zlib block in the CMS sample")
	}
	block, size := blocks[0], sizes[0]
	damaged := bytes.Clone(block)
	damaged[len(damaged)-1] ^= 0x40 // the Adler-32 checksum
	cases := map[string]struct {
		dst, src []byte
		want     string
	}{
		"checksum":     {make([]byte, size), damaged, "Adler-32 checksum mismatch"},
		"truncated":    {make([]byte, size), block[:len(block)/2], ""},
		"output short": {make([]byte, size-1), block, "longer than"},
		"output long":  {make([]byte, size+1), block, "ends after"},
		"empty input":  {make([]byte, size), nil, ""},
	}
	for name, c := range cases {
		err := compress.InflateZlibGo(c.dst, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", name, err, c.want)
		}
	}
}

// TestBlockChecksums checks that a damaged checksum or payload is an
// error for lzma and checksummed zstd, that a stream longer than its
// header says is refused, and that the framing's sizes are checked
// (rootscan's TestBlockChecksums checks the lz4 blocks of real files).
func TestBlockChecksums(t *testing.T) {
	payload := []byte(strings.Repeat("a checksummed basket payload ", 200))
	var xzBuf bytes.Buffer
	w, err := xz.WriterConfig{CheckSum: xz.CRC32}.NewWriter(&xzBuf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(payload)
	w.Close()
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderCRC(true))
	zs := enc.EncodeAll(payload, nil)
	enc.Close()
	for _, c := range []struct {
		name string
		blk  []byte
		at   int // from the block's end
		want string
	}{
		{"lzma index", compresstest.RootBlock("XZ", 0, xzBuf.Bytes(), len(payload)), 13, "lzma:"},
		{"lzma payload", compresstest.RootBlock("XZ", 0, xzBuf.Bytes(), len(payload)), 40, "lzma:"},
		{"zstd checksum", compresstest.RootBlock("ZS", 1, zs, len(payload)), 1, "zstd:"},
	} {
		if err := compress.Decompress(make([]byte, len(payload)), c.blk); err != nil {
			t.Fatalf("%s: pristine block: %v", c.name, err)
		}
		bad := bytes.Clone(c.blk)
		bad[len(bad)-c.at] ^= 0x20
		if err := compress.Decompress(make([]byte, len(payload)), bad); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: damaged block gave %v", c.name, err)
		}
	}
	// A stream longer than the block header says is an error, not a
	// silently truncated payload.
	for _, alg := range []struct {
		name string
		blk  []byte
	}{{"XZ", xzBuf.Bytes()}, {"ZS", zs}} {
		if err := compress.Decompress(make([]byte, len(payload)-1), compresstest.RootBlock(alg.name, 0, alg.blk, len(payload)-1)); err == nil {
			t.Errorf("%s: a stream longer than its header's size was accepted", alg.name)
		}
	}
	// Framing: two blocks must fill dst exactly and end where src does.
	half := len(payload) / 2
	two := append(compresstest.RootBlock("ZS", 1, enc2(payload[:half]), half), compresstest.RootBlock("ZS", 1, enc2(payload[half:]), len(payload)-half)...)
	got := make([]byte, len(payload))
	if err := compress.Decompress(got, two); err != nil || !bytes.Equal(got, payload) {
		t.Errorf("two blocks: %v", err)
	}
	for name, c := range map[string]struct {
		dst, src []byte
	}{
		"trailing bytes":  {make([]byte, len(payload)), append(bytes.Clone(two), 0)},
		"short output":    {make([]byte, len(payload)+1), two},
		"unknown":         {make([]byte, 4), []byte("QQ\x01\x04\x00\x00\x04\x00\x00abcd")},
		"header cut":      {make([]byte, 4), []byte("ZS\x01")},
		"block too large": {make([]byte, half-1), two},
	} {
		if err := compress.Decompress(c.dst, c.src); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func enc2(p []byte) []byte {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	defer enc.Close()
	return enc.EncodeAll(p, nil)
}

// BenchmarkLZ4Checksum puts the cost of verifying ROOT's XXH64 next to
// that of inflating the same lz4 blocks (uproot's Zmumu-lz4, written by
// ROOT); MB/s are of uncompressed bytes.
func BenchmarkLZ4Checksum(b *testing.B) {
	raw, err := os.ReadFile(testfiles.Shared(b, "uproot/uproot-Zmumu-lz4.root"))
	if err != nil {
		b.Fatal(err)
	}
	blocks := lz4Blocks(raw, 1<<20)
	total := 0
	for _, blk := range blocks {
		total += int(blk[6]) | int(blk[7])<<8 | int(blk[8])<<16
	}
	dst := make([]byte, 1<<24)
	for _, c := range []struct {
		name string
		fn   func(blk []byte) error
	}{
		{"xxh64-only", func(blk []byte) error {
			if binary.BigEndian.Uint64(blk[9:]) != xxHash64.Checksum(blk[17:], 0) {
				return fmt.Errorf("checksum mismatch")
			}
			return nil
		}},
		{"uncompress-only", func(blk []byte) error {
			_, err := lz4.UncompressBlock(blk[17:], dst)
			return err
		}},
		{"decompress", func(blk []byte) error {
			return compress.Decompress(dst[:int(blk[6])|int(blk[7])<<8|int(blk[8])<<16], blk)
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(total))
			for b.Loop() {
				for _, blk := range blocks {
					if err := c.fn(blk); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// TestCompressRoundTrip compresses with each algorithm and reads back
// through Decompress, across the 16 MiB block limit.
func TestCompressRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte("an RNTuple page of numbers 0123456789 "), 500_000) // 19 MB: two blocks
	for _, settings := range []int{101, 109, 207, 404, 505} {
		for _, src := range [][]byte{[]byte(strings.Repeat("abc", 1000)), big} {
			out, err := compress.Compress(settings, src)
			if err != nil || out == nil {
				t.Fatalf("%d: %v (nil: %v)", settings, err, out == nil)
			}
			got := make([]byte, len(src))
			if err := compress.Decompress(got, out); err != nil || !bytes.Equal(got, src) {
				t.Fatalf("%d: round trip: %v", settings, err)
			}
		}
	}
	if out, err := compress.Compress(505, []byte{1, 2, 3}); err != nil || out != nil {
		t.Errorf("an incompressible payload gave %d bytes (%v), want nil to store it raw", len(out), err)
	}
}

// BenchmarkCompress compresses one 64 KiB block, as the RNTuple writer
// does per page: with encoders kept between calls, the cost is the
// compression, not building the encoder.
func BenchmarkCompress(b *testing.B) {
	src := make([]byte, 64<<10)
	for i := range src {
		src[i] = byte(i * 7 % 13)
	}
	for _, settings := range []int{101, 505} {
		b.Run(fmt.Sprint(settings), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := compress.Compress(settings, src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
