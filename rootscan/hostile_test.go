package rootscan

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/testfiles"
)

// writeUncompressed writes a small tree with no compression, so that the
// file's records (keys list, streamers, tree record) lie in the file as
// groot and the lean reader parse them, for tests to patch.
func writeUncompressed(t testing.TB, name string) []byte {
	t.Helper()
	f, err := riofs.Create(name, riofs.WithoutCompression())
	if err != nil {
		t.Fatal(err)
	}
	var (
		n   int32
		x   float64
		arr [3]float32
		jag []float32
		s   string
	)
	w, err := rtree.NewWriter(f, "Events", []rtree.WriteVar{
		{Name: "n", Value: &n},
		{Name: "x", Value: &x},
		{Name: "arr", Value: &arr},
		{Name: "jag", Value: &jag, Count: "n"},
		{Name: "s", Value: &s},
	}, rtree.WithoutCompression(), rtree.WithTitle("hostile"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		n, x, s = int32(i%4), float64(i)/2, strings.Repeat("s", i%3)
		arr = [3]float32{float32(i), 1, 2}
		jag = make([]float32, n)
		if _, err := w.Write(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// memCF serves bytes as a countingFile.
func memCF(data []byte) *countingFile {
	return &countingFile{File: memFile{bytes.NewReader(data)}, size: int64(len(data))}
}

// metadataErrors runs what root_trees, root_branches and read_root's bind
// do with a file's metadata (groot's parse and the lean reader's) on data,
// and returns the errors; a panic that escapes is returned as one too.
func metadataErrors(name string, data []byte) (errs []error) {
	defer func() {
		if r := recover(); r != nil {
			errs = append(errs, fmt.Errorf("PANIC escaped: %v", r))
		}
	}()
	rf, _, err := openRiofs(name, memCF(data))
	if err != nil {
		return []error{err}
	}
	defer rf.Close()
	for _, tn := range treesIn(rf) {
		if _, err := parseTree(name, memCF(data), tn); err != nil {
			errs = append(errs, err)
		}
		leanSafely(func() (*fileMeta, error) { return leanSchema(memCF(data), tn) })
		// The lean reader must not panic either: it runs unguarded here.
		leanSchema(memCF(data), tn)
	}
	return errs
}

// metadataRegions are the byte ranges of a file's metadata: the header and
// top directory, the keys list, the streamer record and the tree's key.
func metadataRegions(t testing.TB, data []byte) map[string][2]int64 {
	t.Helper()
	cf := memCF(data)
	l, err := checkLayout(cf)
	if err != nil {
		t.Fatal(err)
	}
	regions := map[string][2]int64{
		"header":    {0, l.begin + l.nbytesName + 60},
		"keys list": {l.seekKeys, l.seekKeys + l.nbytesKeys},
		"streamers": {l.seekInfo, l.seekInfo + l.nbytesInfo},
	}
	for _, k := range l.keys {
		if k.class == "TTree" {
			regions["tree key "+k.name] = [2]int64{k.seek, k.seek + k.nbytes}
		}
	}
	return regions
}

// TestMetadataCorruption flips bytes in each metadata structure of an
// uncompressed groot file, of the CMS sample and of a split-object file:
// every failure must be an error naming the file, never a Go runtime
// error's text, never a panic that escapes.
func TestMetadataCorruption(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	files["uncompressed"] = writeUncompressed(t, filepath.Join(dir, "plain.root"))
	for _, p := range []string{
		filepath.Join(testfiles.GrootTestdata(t), "small-evnt-tree-fullsplit.root"),
		filepath.Join(testfiles.GrootTestdata(t), "struct-nested-split.root"),
	} {
		if data, err := os.ReadFile(p); err == nil {
			files[filepath.Base(p)] = data
		}
	}
	// HEPSQL_SWEEP=n sweeps every go-hep test file and the CMS sample,
	// n flips per structure.
	sweep, _ := strconv.Atoi(os.Getenv("HEPSQL_SWEEP"))
	if sweep > 0 {
		all, _ := filepath.Glob(filepath.Join(testfiles.GrootTestdata(t), "*.root"))
		for _, p := range all {
			if data, err := os.ReadFile(p); err == nil {
				if _, err := checkLayout(memCF(data)); err == nil && len(metadataErrors(p, data)) == 0 {
					files[filepath.Base(p)] = data
				}
			}
		}
	}
	if sweep > 0 || os.Getenv("CI") != "" {
		data, err := os.ReadFile(testfiles.CMSSample(t))
		if err != nil {
			t.Fatal(err)
		}
		files["cms"] = data
	}
	seed, _ := strconv.ParseUint(os.Getenv("HEPSQL_SWEEP_SEED"), 10, 64)
	rng := rand.New(rand.NewPCG(15+seed, 443))
	iters := 60
	if testing.Short() {
		iters = 15
	}
	if sweep > 0 {
		iters = sweep
	}
	var nerr, nok int
	for _, fname := range slices.Sorted(maps.Keys(files)) {
		data := files[fname]
		if errs := metadataErrors(fname, data); len(errs) > 0 {
			t.Fatalf("%s intact: %v", fname, errs)
		}
		regions := metadataRegions(t, data)
		for _, region := range slices.Sorted(maps.Keys(regions)) {
			span := regions[region]
			for i := range iters {
				bad := append([]byte(nil), data...)
				for range 1 + i%3 {
					pos := span[0] + rng.Int64N(span[1]-span[0])
					bad[pos] ^= byte(1 + rng.IntN(255))
				}
				name := fmt.Sprintf("%s-%s-%d.root", fname, strings.ReplaceAll(region, " ", "_"), i)
				if os.Getenv("HEPSQL_SWEEP_TRACE") != "" {
					fmt.Fprintln(os.Stderr, "sweep:", name)
				}
				errs := metadataErrors(name, bad)
				if len(errs) == 0 {
					nok++
				}
				for _, err := range errs {
					if os.Getenv("HEPSQL_SWEEP_TRACE") != "" {
						fmt.Fprintln(os.Stderr, "sweep error:", err)
					}
					nerr++
					msg := err.Error()
					switch {
					case strings.Contains(msg, "PANIC"):
						t.Errorf("%s: %v", region, err)
					case strings.Contains(msg, "runtime error") && !strings.Contains(msg, "(groot: runtime error"):
						t.Errorf("%s: runtime error from hepsql's code: %v", region, err)
					case !strings.Contains(msg, name):
						t.Errorf("%s: error without the file's name: %v", region, err)
					case !strings.Contains(msg, "corrupt ") && !strings.Contains(msg, "no TTree") &&
						!strings.Contains(msg, "not a ROOT file") && !strings.Contains(msg, "not a TTree"):
						t.Logf("%s: uncategorised: %v", region, err)
					}
					if !utf8.ValidString(msg) {
						t.Errorf("%s: message is not valid UTF-8: %q", region, msg)
					}
				}
			}
		}
	}
	t.Logf("%d errors, %d corrupt copies parsed", nerr, nok)
}
