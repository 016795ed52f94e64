package tbranch_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
	"github.com/hepsql/hepsql/rootio/tbranch/tbranchtest"
)

// decodeEntries decodes entries [0, n) of a column through the decoder
// into a tbranch.MemVector, plain Go slices, no database: the path Fill
// takes into DuckDB's vectors under read_root. Each entry is its row's Go
// value.
func decodeEntries(r *tbranch.Reader, c *tbranch.Column, n int) ([]any, error) {
	m := tbranch.NewMemVector(c.Type)
	if err := r.Fill(m, 0, n); err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		out[i] = m.Value(i)
	}
	return out, nil
}

// holdsEntries is read_root's check that the tree's entry count is one its
// branches hold; a tree that fails it is refused before any decoding.
func holdsEntries(entries int64, cols []*tbranch.Column) bool {
	most := int64(-1)
	for _, c := range cols {
		most = max(most, c.Baskets.Entries)
	}
	return entries >= 0 && (len(cols) == 0 || entries <= most)
}

// hasIOBits says whether a basket on disk of one of cols (groot's reader
// reads every branch) carries I/O bits (a negative fNevBufSize): groot
// v0.40.0's reader reads them as an object header and panics in its own
// goroutine, which no test can recover.
func hasIOBits(cf *rfile.CountingFile, cols []*tbranch.Column) bool {
	for _, c := range cols {
		for i, seek := range c.Baskets.Seek {
			if c.Baskets.EmbeddedAt(i) != nil {
				continue
			}
			if k, err := tbranchtest.ReadDiskKey(cf, seek); err != nil || k.IOBits {
				return true
			}
		}
	}
	return false
}

// TestDecodeWithoutDuckDB reads every numeric column (scalars, fixed
// arrays, jagged leaves, std::vector, Float16_t/Double32_t) of
// every tree of every test file through the decoder (Reader.Fill) into a MemVector, plain Go
// slices, no database, and compares with groot's per-entry reader, value
// for value (up to 2000 entries a tree). TestAgainstGroot checks the same
// through DuckDB; this one pins the decoder apart from it.
func TestDecodeWithoutDuckDB(t *testing.T) {
	const maxEntries = 2000
	seen := map[string]int{}
	var compared int
	for _, name := range tbranchtest.EveryTestFile(t) {
		base := filepath.Base(name)
		tbranchtest.GrootTrees(t, name, func(_ *riofs.File, cf *rfile.CountingFile, path string, tree rtree.Tree, guard *tbranch.StreamerGuard) {
			all, err := tbranch.ColumnsOf(tree, guard)
			if err != nil || !holdsEntries(tree.Entries(), all) {
				return // the error tests cover trees read_root refuses
			}
			f := &tbranch.File{Path: name, Tree: path, R: cf, Cols: all}
			n := int(min(tree.Entries(), maxEntries))
			var cols []*tbranch.Column
			var names []string
			for _, c := range all {
				switch c.Layout {
				case tbranch.LayoutFixed, tbranch.LayoutJagged, tbranch.LayoutVector:
					cols = append(cols, c)
					names = append(names, c.Name)
				}
			}
			if len(cols) == 0 || n == 0 {
				return
			}
			if hasIOBits(cf, all) {
				return // no reference: groot's reader dies on these baskets
			}
			want, err := tbranchtest.GrootEntries(tree, names, 0, n)
			if err != nil {
				return // no reference: groot's reader fails on this tree
			}
			for _, c := range cols {
				ref, ok := want[c.Name]
				if !ok || len(ref) != n {
					continue
				}
				got, err := decodeEntries(tbranch.NewReader(c, f), c, n)
				if err != nil {
					t.Errorf("%s:%s:%s: %v", base, path, c.Name, err)
					continue
				}
				if from, ok := tbranchtest.GrootReaderSkips[base+":"+path+":"+c.Name]; ok && from < n {
					tail, err := tbranchtest.GrootEntries(tree, []string{c.Name}, from, n)
					if err != nil || len(tail[c.Name]) != n-from {
						t.Fatalf("%s:%s:%s: groot's reader from entry %d: %v", base, path, c.Name, from, err)
					}
					ref = append(ref[:from:from], tail[c.Name]...)
				}
				for i := range n {
					g, w := tbranchtest.FlatValues(nil, reflect.ValueOf(got[i])), ref[i]
					if !tbranchtest.SameValues(g, w) {
						t.Errorf("%s:%s:%s: entry %d: decoded %v, groot %v", base, path, c.Name, i, g, w)
						break
					}
				}
				compared++
				seen[fmt.Sprintf("layout %d", c.Layout)]++
				seen[fmt.Sprintf("encoding %d", c.ElemEncoding())]++
			}
		})
	}
	t.Logf("%d columns compared: %v", compared, seen)
	for e := tbranch.EncBool; e <= tbranch.EncD32; e++ {
		if seen[fmt.Sprintf("encoding %d", e)] == 0 {
			t.Errorf("no column of encoding %d compared", e)
		}
	}
	for _, l := range []tbranch.Layout{tbranch.LayoutFixed, tbranch.LayoutJagged, tbranch.LayoutVector} {
		if seen[fmt.Sprintf("layout %d", l)] == 0 {
			t.Errorf("no column of layout %d compared", l)
		}
	}
}
