package rootscan

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/pierrec/xxHash/xxHash64"
	"github.com/ulikunitz/xz"
)

// zlibBlocks finds the zlib-compressed blocks of a ROOT file by their
// 9-byte headers, keeping those that klauspost's inflater accepts (a header
// look-alike inside other data does not inflate).
func zlibBlocks(t testing.TB, raw []byte) (blocks [][]byte, sizes []int) {
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
		if inflateZlibGo(make([]byte, usize), block) != nil {
			continue
		}
		blocks = append(blocks, block)
		sizes = append(sizes, usize)
		i += 8 + csize
	}
	return blocks, sizes
}

// TestLibdeflateMatchesGo inflates every zlib block of the CMS sample with
// libdeflate and with klauspost/compress, and checks that libdeflate
// rejects damaged streams and wrong sizes. In CI libdeflate must be there
// (scripts/test installs libdeflate0): the fast path is the one users run.
func TestLibdeflateMatchesGo(t *testing.T) {
	if !capi.HaveZlibInflater() {
		if os.Getenv("CI") != "" {
			t.Fatal("libdeflate.so.0 not found (Debian package libdeflate0) or HEPSQL_INFLATE=go set")
		}
		t.Skip("libdeflate.so.0 not found; rootscan inflates in Go")
	}
	raw, err := os.ReadFile(testfiles.CMSSample(t))
	if err != nil {
		t.Fatal(err)
	}
	blocks, sizes := zlibBlocks(t, raw)
	if len(blocks) < 50 {
		t.Fatalf("found %d zlib blocks in the CMS sample, want at least 50", len(blocks))
	}
	for i, block := range blocks {
		want := make([]byte, sizes[i])
		if err := inflateZlibGo(want, block); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, sizes[i])
		if err := capi.InflateZlib(got, block); err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("block %d: libdeflate and klauspost disagree", i)
		}
	}

	block, size := blocks[0], sizes[0]
	damaged := bytes.Clone(block)
	damaged[len(damaged)-1] ^= 0x40 // the Adler-32 checksum
	cases := map[string]struct {
		dst, src []byte
	}{
		"checksum":       {make([]byte, size), damaged},
		"truncated":      {make([]byte, size), block[:len(block)/2]},
		"output short":   {make([]byte, size-1), block},
		"output long":    {make([]byte, size+1), block},
		"empty input":    {make([]byte, size), nil},
		"not compressed": {make([]byte, size), bytes.Repeat([]byte{0xff}, 64)},
	}
	for name, c := range cases {
		if err := capi.InflateZlib(c.dst, c.src); err == nil {
			t.Errorf("%s: libdeflate accepted a bad stream", name)
		}
	}
}

// BenchmarkInflateZlib inflates every zlib block of the CMS sample with
// each inflater; MB/s are of uncompressed bytes.
func BenchmarkInflateZlib(b *testing.B) {
	raw, err := os.ReadFile(testfiles.CMSSample(b))
	if err != nil {
		b.Fatal(err)
	}
	blocks, sizes := zlibBlocks(b, raw)
	total := 0
	for _, n := range sizes {
		total += n
	}
	dst := make([]byte, slices.Max(sizes))
	for _, c := range []struct {
		name    string
		inflate func(dst, src []byte) error
		ok      bool
	}{{"klauspost", inflateZlibGo, true}, {"libdeflate", capi.InflateZlib, capi.HaveZlibInflater()}} {
		b.Run(c.name, func(b *testing.B) {
			if !c.ok {
				b.Skip("libdeflate.so.0 not found")
			}
			b.SetBytes(int64(total))
			for b.Loop() {
				for i, block := range blocks {
					if err := c.inflate(dst[:sizes[i]], block); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkInflateZlibThreads inflates the CMS sample's zlib blocks 20
// times over, in one goroutine and split between two: how far two cores
// scale the scan's largest cost with no DuckDB, no shared state and no
// I/O. Run it with -cpu 2,4: on the 2-core VM, two goroutines in these
// ~100 µs cgo calls ran 1.40-1.48x faster than one with GOMAXPROCS 2 and
// 1.69-1.82x with GOMAXPROCS 4, the runtime's P hand-offs around long cgo
// calls again (capi.ReserveCallbackProcs).
func BenchmarkInflateZlibThreads(b *testing.B) {
	if !capi.HaveZlibInflater() {
		b.Skip("libdeflate.so.0 not found")
	}
	raw, err := os.ReadFile(testfiles.CMSSample(b))
	if err != nil {
		b.Fatal(err)
	}
	blocks, sizes := zlibBlocks(b, raw)
	const rounds = 20
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("%d", workers), func(b *testing.B) {
			for b.Loop() {
				var wg sync.WaitGroup
				for w := range workers {
					wg.Go(func() {
						dst := make([]byte, slices.Max(sizes))
						for k := w; k < rounds*len(blocks); k += workers {
							i := k % len(blocks)
							if err := capi.InflateZlib(dst[:sizes[i]], blocks[i]); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
			}
		})
	}
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
	blocks, sizes := zlibBlocks(t, raw)
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
		err := inflateZlibGo(c.dst, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", name, err, c.want)
		}
	}
}

// TestBlockChecksums checks the byte order of ROOT's lz4 checksum on
// every lz4 block of real files (ROOT's and groot's), and that a damaged
// checksum or payload is an error for lz4, lzma and checksummed zstd.
func TestBlockChecksums(t *testing.T) {
	files := []string{testfiles.Shared(t, "uproot/uproot-Zmumu-lz4.root")}
	lz4s, _ := filepath.Glob(filepath.Join(testfiles.GrootTestdata(t), "uproot", "*-lz4.root"))
	files = append(files, lz4s...)
	n := 0
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		spans, err := BasketSpans(name, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range spans {
			if s.Kind != "L4" {
				continue
			}
			blk := raw[s.Start:s.End]
			usize := int(blk[6]) | int(blk[7])<<8 | int(blk[8])<<16
			if err := decompress(make([]byte, usize), blk); err != nil {
				t.Errorf("%s, column %s, basket %d: %v", name, s.Column, s.Basket, err)
			}
			bad := bytes.Clone(blk)
			bad[9] ^= 1 // the checksum's first byte
			if err := decompress(make([]byte, usize), bad); err == nil || !strings.Contains(err.Error(), "lz4: XXH64 checksum mismatch") {
				t.Errorf("%s, basket %d: damaged checksum gave %v", name, s.Basket, err)
			}
			n++
		}
	}
	if n < 10 {
		t.Fatalf("only %d lz4 blocks checked", n)
	}

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
		{"lzma index", rootBlock("XZ", 0, xzBuf.Bytes(), len(payload)), 13, "lzma:"},
		{"lzma payload", rootBlock("XZ", 0, xzBuf.Bytes(), len(payload)), 40, "lzma:"},
		{"zstd checksum", rootBlock("ZS", 1, zs, len(payload)), 1, "zstd:"},
	} {
		if err := decompress(make([]byte, len(payload)), c.blk); err != nil {
			t.Fatalf("%s: pristine block: %v", c.name, err)
		}
		bad := bytes.Clone(c.blk)
		bad[len(bad)-c.at] ^= 0x20
		if err := decompress(make([]byte, len(payload)), bad); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: damaged block gave %v", c.name, err)
		}
	}
	// A stream longer than the block header says is an error, not a
	// silently truncated payload.
	for _, alg := range []struct {
		name string
		blk  []byte
	}{{"XZ", xzBuf.Bytes()}, {"ZS", zs}} {
		if err := decompress(make([]byte, len(payload)-1), rootBlock(alg.name, 0, alg.blk, len(payload)-1)); err == nil {
			t.Errorf("%s: a stream longer than its header's size was accepted", alg.name)
		}
	}
}

// BenchmarkLZ4Checksum puts the cost of verifying ROOT's XXH64 next to
// that of inflating the same lz4 blocks (uproot's Zmumu-lz4, written by
// ROOT); MB/s are of uncompressed bytes.
func BenchmarkLZ4Checksum(b *testing.B) {
	name := testfiles.Shared(b, "uproot/uproot-Zmumu-lz4.root")
	raw, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	spans, err := BasketSpans(name, "")
	if err != nil {
		b.Fatal(err)
	}
	var blocks [][]byte
	total := 0
	for _, s := range spans {
		if s.Kind == "L4" {
			blk := raw[s.Start:s.End]
			blocks = append(blocks, blk)
			total += int(blk[6]) | int(blk[7])<<8 | int(blk[8])<<16
		}
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
			return decompress(dst[:int(blk[6])|int(blk[7])<<8|int(blk[8])<<16], blk)
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
