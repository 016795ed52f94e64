package rootscan

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/compress/compresstest"
	"github.com/hepsql/hepsql/rootio/ttree"
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
		for _, c := range f.Cols {
			if len(c.Baskets.Seek) == 0 || !c.Supported() {
				continue
			}
			raw := make([]byte, c.Baskets.Bytes[0])
			if _, err := f.r.ReadAt(raw, c.Baskets.Seek[0]); err == nil {
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
	// the size cap itself is checked by TestBasketSizeCap. At 1 MiB an
	// execution could allocate ~50 MB and run long enough to outlast the
	// fuzzing deadline on 2 cores (a CI run failed with "context deadline
	// exceeded"); 64 KiB payloads cover the same branches.
	ttree.MaxBasketPayload = 1 << 16
	f.Fuzz(func(t *testing.T, raw []byte, offsets bool) {
		b, _, err := ttree.DecodeBasket(raw, offsets, nil)
		if err != nil {
			return
		}
		// A basket flagged to generate its offsets (flag 80) carries no
		// table: the reader computes them from the entries' counter, which
		// this test does not have.
		offsets = offsets && !b.GenOffsets
		if offsets {
			if len(b.Offsets) != b.Entries+1 {
				t.Fatalf("%d offsets for %d entries", len(b.Offsets), b.Entries)
			}
			for i := 0; i < b.Entries; i++ {
				if b.Offsets[i] < 0 || b.Offsets[i] > b.Offsets[i+1] || int(b.Offsets[i+1]) > len(b.Data) {
					t.Fatalf("entry %d offsets [%d, %d) outside %d bytes", i, b.Offsets[i], b.Offsets[i+1], len(b.Data))
				}
			}
		}
		// The element decoders' part: rootio/tbranch's FuzzDecodeEntry.
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
	if _, _, err := ttree.DecodeBasket(raw, false, nil); err == nil {
		t.Fatal("a 2 GiB payload claim was accepted")
	}
}

// fuzzPayloads are uncompressed payloads to make seed blocks from:
// compresstest's synthetic ones and basket payloads of real files (the
// first few bytes of each seed basket).
func fuzzPayloads(t testing.TB) [][]byte {
	var extra [][]byte
	for i, raw := range basketSeeds(t) {
		if i%9 != 0 || len(extra) > 6 {
			continue
		}
		b, _, err := ttree.DecodeBasket(raw, false, nil)
		if err == nil && len(b.Data) > 0 {
			extra = append(extra, bytes.Clone(b.Data[:min(len(b.Data), 8192)]))
		}
	}
	return compresstest.Payloads(extra...)
}

// FuzzInflateZlibLibdeflate fuzzes zlib blocks through libdeflate, which
// rootscan injects into rootio/compress (the other decompression fuzz
// targets live there).
func FuzzInflateZlibLibdeflate(f *testing.F) {
	if !capi.HaveZlibInflater() {
		if os.Getenv("CI") != "" {
			f.Fatal("libdeflate.so.0 not found in CI")
		}
		f.Skip("libdeflate.so.0 not found")
	}
	compresstest.Fuzz(f, compresstest.ZlibSeeds(f, fuzzPayloads(f), "../../shared/data/Run2012B_SingleMu_10000.root"), compresstest.SameAlg("ZL"))
}
