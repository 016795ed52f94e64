package rntuple_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/hepsql/hepsql/rootio/compress"
	"github.com/hepsql/hepsql/rootio/rntuple"
)

// TestWriterHoldsClustersCompressed is the writer's memory guard: rows
// appended chunk by chunk, as COPY appends them, go into pages sealed
// (compressed) as they fill, so while a cluster gathers the writer's live
// heap stays within the cluster's compressed bytes, one page per column
// and a little slack, far below the cluster's uncompressed bytes (which
// the values compress to a quarter of here). The live heap is measured
// after a forced collection before each cluster is written (when the
// cluster is largest) and every few chunks; the file goes to disk, so it
// takes no heap.
func TestWriterHoldsClustersCompressed(t *testing.T) {
	const (
		chunk    = 2048
		chunks   = 450 // 921,600 rows, 55 MB uncompressed
		pageSize = 32 << 10
		cluster  = 2 << 20 // compressed target: the first cluster gathers 4 MiB uncompressed, later ones about 10
		floats   = 6
	)
	f32 := &rntuple.Type{Kind: rntuple.KindFloat32}
	names := []string{"vf", "s"}
	types := []*rntuple.Type{{Kind: rntuple.KindList, Elem: f32}, {Kind: rntuple.KindString}}
	for k := range floats {
		names = append(names, fmt.Sprint("f", k))
		types = append(types, f32)
	}
	columns := floats + 4 // and the list's and the string's index and item columns
	path := filepath.Join(t.TempDir(), "memory.root")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w, err := rntuple.NewWriter(out, "events", names, types, rntuple.WriteOptions{Compression: 505, PageSize: pageSize, ClusterSize: cluster})
	if err != nil {
		t.Fatal(err)
	}
	// One chunk's arrays, refilled: values on a coarse grid (about four
	// times smaller compressed), lists of 0–3 items, short strings.
	arrays := make([]rntuple.Array, len(types))
	x := uint64(7)
	next := func() uint64 { x = x*6364136223846793005 + 1442695040888963407; return x >> 33 }
	fill := func() {
		for k := range arrays {
			arrays[k] = rntuple.Array{Type: types[k], Len: chunk, Floats: arrays[k].Floats[:0], Strings: arrays[k].Strings[:0], Offsets: arrays[k].Offsets[:0], Children: arrays[k].Children}
		}
		arrays[0].Offsets = append(arrays[0].Offsets, 0)
		if arrays[0].Children == nil {
			arrays[0].Children = []rntuple.Array{{Type: f32}}
		}
		items := &arrays[0].Children[0]
		items.Floats, items.Len = items.Floats[:0], 0
		for range chunk {
			for range next() % 4 {
				items.Floats = append(items.Floats, float64(next()%64)/4)
				items.Len++
			}
			arrays[0].Offsets = append(arrays[0].Offsets, int64(items.Len))
			arrays[1].Strings = append(arrays[1].Strings, fmt.Sprint("ev", next()%100))
			for k := range floats {
				arrays[2+k].Floats = append(arrays[2+k].Floats, float64(next()%64)/8)
			}
		}
	}
	old := debug.SetGCPercent(10)
	defer debug.SetGCPercent(old)
	live := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	fill()
	// rootio/compress keeps its encoders between pages (a zstd encoder at
	// level 5 holds 1.6 MiB): one is made before the base, which thus
	// holds the compressor's state as a writer has it from its first page.
	if _, err := compress.Compress(505, make([]byte, pageSize)); err != nil {
		t.Fatal(err)
	}
	base := live() // the chunk's arrays, the writer and the compressor, before any cluster
	var peak, unzipped, maxUnzipped int64
	clusters := 0
	for c := range chunks {
		fill()
		for i := range arrays {
			unzipped += rntuple.UnzippedBytes(&arrays[i], 0)
		}
		if err := w.Append(arrays); err != nil {
			t.Fatal(err)
		}
		full := w.ClusterFull(unzipped) || c == chunks-1
		if full || c%8 == 0 {
			peak = max(peak, live()-base)
		}
		if full {
			if err := w.CommitCluster(); err != nil {
				t.Fatal(err)
			}
			maxUnzipped, unzipped = max(maxUnzipped, unzipped), 0
			clusters++
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	nt := conforms(t, b).NTuples[0]
	var maxZipped int64
	for _, z := range nt.ClusterZipped {
		maxZipped = max(maxZipped, z)
	}
	bound := maxZipped + int64(columns)*2*pageSize + 1<<20
	t.Logf("%d clusters, the largest %.1f MiB uncompressed, %.1f MiB compressed; live heap's peak growth %.2f MiB (bound %.2f MiB)",
		clusters, float64(maxUnzipped)/(1<<20), float64(maxZipped)/(1<<20), float64(peak)/(1<<20), float64(bound)/(1<<20))
	if clusters < 5 {
		t.Fatalf("%d clusters: the test needs several", clusters)
	}
	if maxUnzipped < 2*bound {
		t.Fatalf("clusters of %d bytes uncompressed do not tell holding them from the bound %d", maxUnzipped, bound)
	}
	if peak > bound {
		t.Errorf("the live heap grew %d bytes while a cluster gathered: more than its compressed bytes (%d), a page per column and 1 MiB (%d): the writer holds values uncompressed", peak, maxZipped, bound)
	}
	if got := nt.TopValues["f0"]; len(got) != chunk*chunks {
		t.Errorf("f0: %d values, want %d", len(got), chunk*chunks)
	}
}
