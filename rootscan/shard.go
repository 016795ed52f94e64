package rootscan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/rfile"
)

// Shard names one of Count disjoint parts of every read_root source list:
// a process given Shard{Index: k, Count: n} reads part k only, and the n
// processes together read every entry of the input exactly once. The zero
// value (and Count 1) reads everything.
//
// A shard is a property of the database, not of a query: the engine takes
// it from the DSN ("?shard=K/N", see engine.NewConnector) and hands it to
// Register, so every read_root of a pipeline is split the same way without
// the SQL saying so. `hepsql run --shard K/N` sets it from the command line;
// a Slurm array task from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT
// through that flag; an MPI rank would open its database with
// "?shard=RANK/SIZE" in the same way. The split depends only on the
// source list (and, for a few large files, on their entry counts and
// cluster boundaries), never on the process, so every shard computes the
// same plan on its own: no coordinator is needed.
//
// How the list is split (split): with at least wholeFilesPerShard files per
// shard, by whole files, in contiguous blocks of the expanded (sorted)
// list; with fewer, by entry ranges over the whole chain, cut at entries
// where every branch starts a basket (the tree's clusters), so that no
// basket is decoded by two shards.
type Shard struct {
	Index, Count int
}

// wholeFilesPerShard is the smallest number of files per shard split by
// whole files: below it the chain is split by entry ranges, which costs
// every shard a metadata read of every file but balances a few large files.
const wholeFilesPerShard = 4

// ParseShard parses "K/N" (0 <= K < N).
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want K/N, e.g. 0/4", s)
	}
	ki, err1 := strconv.Atoi(strings.TrimSpace(k))
	ni, err2 := strconv.Atoi(strings.TrimSpace(n))
	if err := errors.Join(err1, err2); err != nil {
		return Shard{}, fmt.Errorf("shard %q: want K/N with whole numbers: %w", s, err)
	}
	sh := Shard{Index: ki, Count: ni}
	return sh, sh.Check()
}

// Check reports a shard outside 0 <= Index < Count.
func (s Shard) Check() error {
	if s.Count < 0 || s.Count == 0 && s.Index != 0 || s.Count > 0 && (s.Index < 0 || s.Index >= s.Count) {
		return fmt.Errorf("shard %d/%d: want K/N with 0 <= K < N", s.Index, s.Count)
	}
	return nil
}

// Active is true when the shard reads only part of the input.
func (s Shard) Active() bool { return s.Count > 1 }

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// entrySpan is the entries [lo, hi) of one file a shard reads; hi < 0
// means to the file's end.
type entrySpan struct{ lo, hi int64 }

// span is the entries of file fi that the table reads: all of f's, or
// its shard's range.
func (t *rootTable) span(fi int, f *openFile) (lo, hi int64) {
	if t.spans == nil {
		return 0, f.Entries
	}
	s := t.spans[fi]
	if s.hi < 0 || s.hi > f.Entries {
		s.hi = f.Entries
	}
	return min(s.lo, s.hi), s.hi
}

// split returns this shard's part of the expanded source list: file names
// and, when files are cut into entry ranges, each one's span (nil: whole
// files), and the chain's tree. The tree is the one the chain's first file
// has (TChain semantics), whichever file the shard starts at, so every
// shard reads the same tree. A shard with nothing to read gets the chain's
// first file with an empty span, so that its table still has the chain's
// schema.
func (s Shard) split(names []string, tree string, o rfile.SourceOptions) ([]string, []entrySpan, string, error) {
	m, n, k := len(names), s.Count, s.Index
	if m >= wholeFilesPerShard*n {
		if tree == "" && k*m/n > 0 {
			f, err := openTreeWith(names[0], tree, o)
			if err != nil {
				return nil, nil, "", fmt.Errorf("read_root: shard %s: %w", s, err)
			}
			tree = f.Name
			f.Close()
		}
		return names[k*m/n : (k+1)*m/n], nil, tree, nil
	}
	// A few large files: cut the chain's entries into n equal ranges, at
	// cluster boundaries. Every shard reads every file's metadata (cached,
	// and the lean reader reads only the tree's record).
	entries := make([]int64, m)
	bounds := make([][]int64, m)
	for i, name := range names {
		f, err := openTreeWith(name, tree, o)
		if err != nil {
			return nil, nil, "", fmt.Errorf("read_root: shard %s: %w", s, err)
		}
		tree = f.Name // the chain's tree is the one the first file chose
		entries[i], bounds[i] = f.Entries, clusterStarts(f.fileMeta)
		f.Close()
	}
	cum := make([]int64, m+1)
	for i, e := range entries {
		cum[i+1] = cum[i] + e
	}
	total := cum[m]
	cut := func(j int) int64 { // global entry where shard j starts
		if j <= 0 {
			return 0
		}
		if j >= n {
			return total
		}
		c := total * int64(j) / int64(n)
		// A cut moves to a cluster boundary only if one is near: a file
		// written as one cluster (baskets of every branch cut at different
		// entries) is still split evenly, a few baskets then decoded twice.
		if s := snapToCluster(c, cum, entries, bounds); abs64(s-c) <= total/int64(4*n) {
			return s
		}
		return c
	}
	lo, hi := cut(k), cut(k+1)
	var part []string
	var spans []entrySpan
	for i := range names {
		a, b := max(lo, cum[i]), min(hi, cum[i+1])
		if a < b {
			part = append(part, names[i])
			spans = append(spans, entrySpan{a - cum[i], b - cum[i]})
		}
	}
	if len(part) == 0 {
		return names[:1], []entrySpan{{0, 0}}, tree, nil
	}
	return part, spans, tree, nil
}

// clusterStarts lists the entries at which every branch of a file starts
// a basket, ascending: cutting there decodes no basket twice.
func clusterStarts(m *fileMeta) []int64 {
	var common []int64
	first := true
	for _, c := range m.Cols {
		b := c.Baskets.First[:min(len(c.Baskets.First), len(c.Baskets.Seek))]
		if len(b) == 0 {
			continue
		}
		if first {
			common, first = append([]int64(nil), b...), false
			continue
		}
		common = intersectSorted(common, b)
	}
	return common
}

// intersectSorted keeps the values of a (ascending) that b (ascending)
// holds too, in place.
func intersectSorted(a, b []int64) []int64 {
	out, j := a[:0], 0
	for _, v := range a {
		for j < len(b) && b[j] < v {
			j++
		}
		if j < len(b) && b[j] == v {
			out = append(out, v)
		}
	}
	return out
}

// snapToCluster moves global entry c to the nearest cluster start of the
// file holding it (or to that file's end). Snapping is monotonic, so the
// shards' ranges stay disjoint and ordered; two cuts may meet, leaving a
// shard empty, when a file has fewer clusters than there are shards.
func snapToCluster(c int64, cum, entries []int64, bounds [][]int64) int64 {
	for i := range entries {
		if c < cum[i] || c >= cum[i+1] {
			continue
		}
		local, best := c-cum[i], int64(0)
		cands := append(append([]int64{0}, bounds[i]...), entries[i])
		for _, b := range cands {
			if abs64(b-local) < abs64(best-local) {
				best = b
			}
		}
		if len(bounds[i]) == 0 {
			best = local // no common boundary known: cut anywhere
		}
		return cum[i] + best
	}
	return c
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// shardArg says whether a read_root call is split: when the database has
// an active shard, unless the call says shard := false (a small file every
// shard needs whole, such as a lookup table).
func shardArg(args *capi.BindArgs, shard Shard) (bool, error) {
	if !shard.Active() {
		return false, nil
	}
	v, err := args.Named("shard")
	if err != nil {
		return false, fmt.Errorf("read_root: shard: %w", err)
	}
	if v == nil {
		return true, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("read_root: shard must be true or false, got %v", v)
	}
	return b, nil
}
