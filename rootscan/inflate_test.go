package rootscan

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/internal/testfiles"
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
