package rntuple_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/rntconform"
	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rntuple"
)

// TestROOTPageRule reads the page rule off ROOT's own file: the 100
// million int16 entries of test_int_multicluster are cut into pages of
// 524,288 elements, DefaultPageSize bytes of 2-byte values.
func TestROOTPageRule(t *testing.T) {
	b, err := os.ReadFile(testfiles.Shared(t, "rntuple/test_int_multicluster_rntuple_v1-0-0-0.root"))
	if err != nil {
		t.Fatal(err)
	}
	rep := rntconform.Check(b)
	if len(rep.Errors) > 0 || len(rep.NTuples) != 1 {
		t.Fatalf("checker: %v", rep.Errors)
	}
	nt := rep.NTuples[0]
	pages := nt.PageElements[0][0]
	for i, n := range pages[:len(pages)-1] {
		if n*int64(nt.Columns[0].Bits/8) != rntuple.DefaultPageSize {
			t.Fatalf("ROOT's page %d: %d elements of %d bits, not %d bytes", i, n, nt.Columns[0].Bits, rntuple.DefaultPageSize)
		}
	}
}

// TestPageAndClusterSizes writes a byte column, a double column and a
// bool column with several page and cluster sizes, gathering rows as
// COPY does (chunks of 1000 until ClusterFull), and checks with the
// independent checker: every page but a cluster's last holds
// PAGE_SIZE/width elements (never none), the clusters' compressed bytes
// come near ClusterSize after the first (estimated at a compression
// factor 2), and the values read back equal.
func TestPageAndClusterSizes(t *testing.T) {
	u8 := &rntuple.Type{Kind: rntuple.KindUint8}
	f64 := &rntuple.Type{Kind: rntuple.KindFloat64}
	bl := &rntuple.Type{Kind: rntuple.KindBool}
	const all, chunk = 50_000, 1000
	// Pseudo-random values compress little, so cluster sizes are
	// predictable.
	bs, ds, bools := make([]uint64, all), make([]float64, all), make([]bool, all)
	x := uint64(12345)
	for i := range all {
		x = x*6364136223846793005 + 1442695040888963407
		bs[i], ds[i], bools[i] = x>>56, float64(x>>11)/(1<<53), x>>40&1 == 1
	}
	for _, c := range []struct {
		page, cluster int64
		rows          int
	}{{0, 0, all}, {4096, 80_000, all}, {1000, 120_000, all}, {3, 0, 300}} {
		rows := c.rows
		t.Run(fmt.Sprint(c.page, "/", c.cluster), func(t *testing.T) {
			var f memFile
			opts := rntuple.WriteOptions{Compression: 505, PageSize: c.page, ClusterSize: c.cluster}
			w, err := rntuple.NewWriter(&f, "s", []string{"b", "d", "o"}, []*rntuple.Type{u8, f64, bl}, opts)
			if err != nil {
				t.Fatal(err)
			}
			var unzipped []int64 // per cluster, as ClusterFull saw it
			from, bytes := 0, int64(0)
			for to := min(chunk, rows); to <= rows; to += min(chunk, rows) {
				arrays := []rntuple.Array{
					{Type: u8, Len: to - from, Uints: bs[from:to]},
					{Type: f64, Len: to - from, Floats: ds[from:to]},
					{Type: bl, Len: to - from, Bools: bools[from:to]},
				}
				bytes = 0
				for i := range arrays {
					bytes += rntuple.UnzippedBytes(&arrays[i], 0)
				}
				if w.ClusterFull(bytes) || to == rows {
					if err := w.WriteCluster(arrays); err != nil {
						t.Fatal(err)
					}
					unzipped = append(unzipped, bytes)
					from = to
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rep := conforms(t, f.b)
			nt := rep.NTuples[0]
			page := c.page
			if page == 0 {
				page = rntuple.DefaultPageSize
			}
			for ci, cols := range nt.PageElements {
				for col, pages := range cols {
					width := max(int64(nt.Columns[col].Bits)/8, 1) // a bit counts as a byte
					want := max(page/width, 1)
					for p, n := range pages {
						if n > want || (p < len(pages)-1 && n != want) {
							t.Fatalf("cluster %d column %d page %d: %d elements of %d bytes, want %d (page size %d)", ci, col, p, n, width, want, page)
						}
					}
				}
			}
			// A byte column and a double column: 8 times the elements per page.
			if b, d := nt.PageElements[0][0][0], nt.PageElements[0][1][0]; c.page%8 == 0 && len(nt.PageElements[0][1]) > 1 && b != 8*d {
				t.Errorf("first pages: %d bytes, %d doubles", b, d)
			}
			if c.cluster > 0 {
				// Chunks hold 10,000 bytes (1 + 8 + 1 per row): a
				// cluster overshoots its target by less than that.
				if len(unzipped) < 3 {
					t.Fatalf("%d clusters", len(unzipped))
				}
				if u := unzipped[0]; u < 2*c.cluster || u >= 2*c.cluster+10*chunk {
					t.Errorf("first cluster: %d bytes uncompressed, want 2×%d and less than a chunk more", u, c.cluster)
				}
				for ci, z := range nt.ClusterZipped[1 : len(nt.ClusterZipped)-1] {
					if float64(z) < 0.85*float64(c.cluster) || float64(z) > 1.15*float64(c.cluster) {
						t.Errorf("cluster %d: %d bytes compressed, want about %d", ci+1, z, c.cluster)
					}
				}
			} else if len(unzipped) != 1 {
				t.Errorf("default sizes: %d clusters for %d rows", len(unzipped), rows)
			}
			for name, want := range map[string]int{"b": 0, "d": 1, "o": 2} {
				got := nt.TopValues[name]
				if len(got) != rows {
					t.Fatalf("%s: %d values", name, len(got))
				}
				for i, v := range got {
					var exp any
					switch want {
					case 0:
						exp = bs[i]
					case 1:
						exp = ds[i]
					default:
						exp = bools[i]
					}
					if fmt.Sprint(v) != fmt.Sprint(exp) {
						t.Fatalf("%s[%d]: %v, want %v", name, i, v, exp)
					}
				}
			}
		})
	}
}

// TestSizeOptionsRefused: sizes out of range name the option.
func TestSizeOptionsRefused(t *testing.T) {
	f64 := &rntuple.Type{Kind: rntuple.KindFloat64}
	for _, c := range []struct {
		opts rntuple.WriteOptions
		want string
	}{
		{rntuple.WriteOptions{PageSize: -1}, "page size -1"},
		{rntuple.WriteOptions{ClusterSize: -5}, "cluster size -5"},
		{rntuple.WriteOptions{ClusterSize: 1 << 30, MaxUnzippedClusterSize: 1 << 20}, "maximum uncompressed cluster size 1048576"},
	} {
		var f memFile
		_, err := rntuple.NewWriter(&f, "s", []string{"x"}, []*rntuple.Type{f64}, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opts, err, c.want)
		}
	}
}

// TestUnzippedBytesIncremental: counting the entries from one on (those a
// writer added since its last count) in nested lists, strings, fixed
// arrays, structs and variants, against sums done by hand.
func TestUnzippedBytesIncremental(t *testing.T) {
	i32 := &rntuple.Type{Kind: rntuple.KindInt32}
	str := &rntuple.Type{Kind: rntuple.KindString}
	f32 := &rntuple.Type{Kind: rntuple.KindFloat32}
	rec := &rntuple.Type{Kind: rntuple.KindStruct, Names: []string{"a", "s"}, Members: []*rntuple.Type{i32, str}}
	list := &rntuple.Type{Kind: rntuple.KindList, Elem: rec}
	arr := &rntuple.Type{Kind: rntuple.KindArray, Elem: f32, Size: 3}
	vari := &rntuple.Type{Kind: rntuple.KindVariant, Names: []string{"_0", "_1"}, Members: []*rntuple.Type{i32, str}}
	// Four entries: lists of 2, 0, 1, 3 records; variants i32, none, str, i32.
	l := rntuple.Array{Type: list, Len: 4, Offsets: []int64{0, 2, 2, 3, 6}, Children: []rntuple.Array{{Type: rec, Len: 6, Children: []rntuple.Array{
		{Type: i32, Len: 6, Ints: []int64{1, 2, 3, 4, 5, 6}},
		{Type: str, Len: 6, Strings: []string{"a", "bb", "", "cccc", "d", "ee"}}}}}}
	a := rntuple.Array{Type: arr, Len: 4, Children: []rntuple.Array{{Type: f32, Len: 12, Floats: make([]float64, 12)}}}
	v := rntuple.Array{Type: vari, Len: 4, Tags: []int32{1, 0, 2, 1}, Index: []int64{0, 0, 0, 1}, Children: []rntuple.Array{
		{Type: i32, Len: 2, Ints: []int64{7, 8}}, {Type: str, Len: 1, Strings: []string{"xyz"}}}}
	for _, c := range []struct {
		a    *rntuple.Array
		from int
		want int64
	}{
		// 4 offsets + 6 ints + 6 string offsets + 10 characters.
		{&l, 0, 4*8 + 6*4 + 6*8 + 10},
		// Entries 2 and 3: 2 offsets, records 2 to 5 (4 ints, 4 string
		// offsets, 7 characters).
		{&l, 2, 2*8 + 4*4 + 4*8 + 7},
		{&a, 0, 12 * 4},
		{&a, 3, 3 * 4},
		// 4 switches + 2 ints + a string offset and 3 characters.
		{&v, 0, 4*12 + 2*4 + 8 + 3},
		// Entries 2 and 3: 2 switches, the string, the second int.
		{&v, 2, 2*12 + 8 + 3 + 4},
		// Entry 1 holds nothing; entry 3 the second int.
		{&v, 3, 12 + 4},
		{&v, 4, 0},
	} {
		if got := rntuple.UnzippedBytes(c.a, c.from); got != c.want {
			t.Errorf("%v from %d: %d bytes, want %d", c.a.Type.Kind, c.from, got, c.want)
		}
	}
}
