package rootscan

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/compress"
	"github.com/hepsql/hepsql/rootio/compress/compresstest"
	"github.com/hepsql/hepsql/rootio/rfile"
)

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
	blocks, sizes := compresstest.ZlibBlocks(t, raw)
	if len(blocks) < 50 {
		t.Fatalf("found %d zlib blocks in the CMS sample, want at least 50", len(blocks))
	}
	for i, block := range blocks {
		want := make([]byte, sizes[i])
		if err := compress.InflateZlibGo(want, block); err != nil {
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
	blocks, sizes := compresstest.ZlibBlocks(b, raw)
	total := 0
	for _, n := range sizes {
		total += n
	}
	dst := make([]byte, slices.Max(sizes))
	for _, c := range []struct {
		name    string
		inflate func(dst, src []byte) error
		ok      bool
	}{{"klauspost", compress.InflateZlibGo, true}, {"libdeflate", capi.InflateZlib, capi.HaveZlibInflater()}} {
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
	blocks, sizes := compresstest.ZlibBlocks(b, raw)
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

// TestBlockChecksums checks the byte order of ROOT's lz4 checksum on
// every lz4 block of real files (ROOT's and groot's), found through the
// baskets' spans, and that a damaged checksum is an error (rootio/compress
// checks the other algorithms' checksums).
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
			if err := rfile.Decompress(make([]byte, usize), blk); err != nil {
				t.Errorf("%s, column %s, basket %d: %v", name, s.Column, s.Basket, err)
			}
			bad := bytes.Clone(blk)
			bad[9] ^= 1 // the checksum's first byte
			if err := rfile.Decompress(make([]byte, usize), bad); err == nil || !strings.Contains(err.Error(), "lz4: XXH64 checksum mismatch") {
				t.Errorf("%s, basket %d: damaged checksum gave %v", name, s.Basket, err)
			}
			n++
		}
	}
	if n < 10 {
		t.Fatalf("only %d lz4 blocks checked", n)
	}

}
