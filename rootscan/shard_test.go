package rootscan_test

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/internal/testfiles"
)

// shardRow is one entry as a shard reads it: where it comes from and a
// value computed from its branches.
type shardRow struct {
	file  string
	entry int64
	value float64
}

// readRows runs query (which selects _file, _entry and one DOUBLE) on a
// database opened with dsn.
func readRows(t *testing.T, dsn, query string) []shardRow {
	t.Helper()
	db, err := hepsql.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", dsn, err)
	}
	defer rows.Close()
	var out []shardRow
	for rows.Next() {
		var r shardRow
		if err := rows.Scan(&r.file, &r.entry, &r.value); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", dsn, err)
	}
	return out
}

func sortRows(rs []shardRow) {
	slices.SortFunc(rs, func(a, b shardRow) int {
		return cmp.Or(strings.Compare(a.file, b.file), cmp.Compare(a.entry, b.entry))
	})
}

// checkShards runs query unsharded and as each of n shards, and checks
// that the shards' rows are disjoint and together exactly the unsharded
// rows, values included. It returns the shards' row counts.
func checkShards(t *testing.T, query string, n int) []int {
	t.Helper()
	whole := readRows(t, "", query)
	if len(whole) == 0 {
		t.Fatal("the unsharded query read no row")
	}
	var union []shardRow
	counts := make([]int, n)
	for k := range n {
		part := readRows(t, fmt.Sprintf("?shard=%d/%d", k, n), query)
		counts[k] = len(part)
		union = append(union, part...)
	}
	sortRows(whole)
	sortRows(union)
	if len(union) != len(whole) {
		t.Fatalf("%d shards read %d rows together (per shard %v), the whole input has %d", n, len(union), counts, len(whole))
	}
	for i := range whole {
		if union[i] != whole[i] {
			t.Fatalf("%d shards: row %d is %+v, unsharded %+v (a shard read an entry twice or missed one)", n, i, union[i], whole[i])
		}
	}
	t.Logf("%d shards read %v rows", n, counts)
	return counts
}

// TestShardsPartitionOneFile splits the CMS sample, one file of one
// cluster, into entry ranges.
func TestShardsPartitionOneFile(t *testing.T) {
	q := fmt.Sprintf(`SELECT _file, _entry, MET_pt + coalesce(list_sum(Jet_pt), 0) FROM read_root(%s)`, quote(cmsSample(t)))
	for _, n := range []int{2, 3, 7} {
		counts := checkShards(t, q, n)
		for k, c := range counts {
			// One file of 10000 entries without common basket boundaries
			// is cut evenly.
			if want := 10000/n + 1; c > want || c < want-2 {
				t.Errorf("%d shards: shard %d read %d entries, want about %d", n, k, c, 10000/n)
			}
		}
	}
}

// writeChain writes files of the given entry counts, each tree with a
// float and a jagged branch; baskets are small, so that the files have
// many of them.
func writeChain(t *testing.T, dir string, entries []int) string {
	t.Helper()
	for i, n := range entries {
		var x float64
		var nv int32
		var v []float32
		vars := []rtree.WriteVar{
			{Name: "x", Value: &x},
			{Name: "n", Value: &nv},
			{Name: "v", Value: &v, Count: "n"},
		}
		testfiles.WriteTree(t, filepath.Join(dir, fmt.Sprintf("f%02d.root", i)), "Events", vars, n, func(e int) {
			x = float64(i*100000 + e)
			nv = int32(e % 4)
			v = v[:0]
			for j := range int(nv) {
				v = append(v, float32(e)+float32(j)/4)
			}
		}, rtree.WithBasketSize(512))
	}
	return filepath.Join(dir, "*.root")
}

// TestShardsPartitionFewFiles cuts a chain of a few files of different
// sizes into entry ranges that cross file boundaries, with more shards
// than some files have entries.
func TestShardsPartitionFewFiles(t *testing.T) {
	glob := writeChain(t, t.TempDir(), []int{100, 2500, 7, 700})
	q := fmt.Sprintf(`SELECT _file, _entry, x + coalesce(list_sum(v), 0) FROM read_root(%s)`, quote(glob))
	for _, n := range []int{2, 3, 5} {
		counts := checkShards(t, q, n)
		for k, c := range counts {
			// Cuts move at most a quarter of a share to a cluster boundary.
			if share := 3307 / n; c < share/2 || c > share*3/2+1 {
				t.Errorf("%d shards: shard %d read %d entries of 3307 (unbalanced)", n, k, c)
			}
		}
	}
	// More shards than entries in a chain: some shards are empty, still
	// with the chain's schema.
	small := writeChain(t, t.TempDir(), []int{3, 2})
	checkShards(t, fmt.Sprintf(`SELECT _file, _entry, x FROM read_root(%s)`, quote(small)), 9)
}

// TestShardsPartitionManyFiles splits a chain of many files by whole files.
func TestShardsPartitionManyFiles(t *testing.T) {
	sizes := make([]int, 13)
	for i := range sizes {
		sizes[i] = 50 + 31*i
	}
	glob := writeChain(t, t.TempDir(), sizes)
	q := fmt.Sprintf(`SELECT _file, _entry, x FROM read_root(%s)`, quote(glob))
	checkShards(t, q, 3)
	// Every file is read whole by one shard.
	for k := range 3 {
		rows := readRows(t, fmt.Sprintf("?shard=%d/3", k), q)
		perFile := map[string]int{}
		for _, r := range rows {
			perFile[r.file]++
		}
		for f, c := range perFile {
			var i int
			fmt.Sscanf(filepath.Base(f), "f%02d.root", &i)
			if c != sizes[i] {
				t.Errorf("shard %d/3 read %d of the %d entries of %s: files must not be cut", k, c, sizes[i], f)
			}
		}
	}
}

// TestShardOptOut: read_root(..., shard := false) reads everything in
// every shard, and other table functions are never split.
func TestShardOptOut(t *testing.T) {
	glob := writeChain(t, t.TempDir(), []int{40, 60})
	q := fmt.Sprintf(`SELECT _file, _entry, x FROM read_root(%s, shard := false)`, quote(glob))
	whole := readRows(t, "", q)
	for k := range 2 {
		if got := readRows(t, fmt.Sprintf("?shard=%d/2", k), q); len(got) != len(whole) {
			t.Errorf("shard %d/2 with shard := false read %d rows, want all %d", k, len(got), len(whole))
		}
	}
	if got := readRows(t, "?shard=1/2", `SELECT 'range', range, 0.0 FROM range(10)`); len(got) != 10 {
		t.Errorf("range() in a shard gave %d rows, want 10: only read_root is split", len(got))
	}
}

func TestShardSettingErrors(t *testing.T) {
	for _, dsn := range []string{"?shard=2/2", "?shard=-1/2", "?shard=1", "?shard=a/b", "?shard=0/2&shard=1/2"} {
		db, err := hepsql.Open(dsn)
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "shard") {
			t.Errorf("%s: got %v, want an error about the shard", dsn, err)
		}
	}
}
