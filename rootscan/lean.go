package rootscan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// A chain's files after the first usually share its layout (NanoAOD: plain
// TBranches of primitive leaves), and from them a scan needs only each
// projected branch's basket table and proof that its leaves match the first
// file's. groot parses every file fully, streamers and all, at about a
// millisecond a file. leanMeta reads that subset straight from the TTree
// record instead (and leanSchema, in leanschema.go, a first file's
// whole schema when its layout is that simple):
// the file header, the top directory's keys, the tree's key (inflated), and
// a walk over its branches that skips every object it does not need by its
// byte count. Anything outside the subset (other branch classes, packed
// floats, old versions, a leaf that differs from the first file's, a corrupt
// byte) makes it give up, and the file is parsed by groot as before, so the
// result and the errors stay groot's; the fast path only ever agrees with it
// (TestLeanMatchesGroot). The parsing itself (the tree's key, the TTree,
// TBranch and TLeaf records, basket tables, baskets kept in the record) is
// rootio/ttree's TreeRecordReader and FindKey; this file maps what they
// read onto the first file's columns.

// leanWant is what a scan asks of its chain's other files: the first
// file's metadata, and the columns the query projects. Parsing every branch
// of a member costs ~0.2 ms a NanoAOD file, most of it on the ~85 branches a
// short query never reads; reading only the projected ones, the others
// skipped by their byte counts, leaves the key look-up and the record's
// inflation.
type leanWant struct {
	schema *fileMeta         // the chain's first file's
	cols   []*tbranch.Column // schema's columns to read
	keep   map[string]bool   // every dotted prefix of their paths
	key    string            // the columns' names, for the metadata cache
}

// newLeanWant limits a member's read to cols, columns of schema.
func newLeanWant(schema *fileMeta, cols []*tbranch.Column) *leanWant {
	// A jagged column's counter gives its entries' sizes in a basket
	// written without entry offsets (rootio/tbranch's decode.go): the member's metadata
	// must hold its basket table too.
	for _, c := range cols {
		if c.Count == "" || slices.ContainsFunc(cols, func(o *tbranch.Column) bool { return o.Path == c.Count }) {
			continue
		}
		for _, sc := range schema.cols {
			if sc.Path == c.Count {
				cols = append(slices.Clip(cols), sc)
				break
			}
		}
	}
	w := &leanWant{schema: schema, cols: cols, keep: map[string]bool{}}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
		for j := range len(c.Path) {
			if c.Path[j] == '.' {
				w.keep[c.Path[:j]] = true
			}
		}
		w.keep[c.Path] = true
	}
	w.key = strings.Join(names, "\x00")
	return w
}

// leanMeta reads, without groot, the metadata of file cf (tree) as a member
// of want's chain: the basket tables of want's columns, typed from the
// first file's columns, matched by branch path and leaf signature. It
// returns rfile.ErrNotLean (wrapped) when the file is outside what it reads, or a
// wanted branch is missing or differs (groot then parses the file, and the
// scan's TChain check names the branch).
func leanMeta(cf *rfile.CountingFile, tree string, want *leanWant) (*fileMeta, error) {
	key, err := ttree.FindKey(cf, tree)
	if err != nil {
		return nil, err
	}
	defer key.Release() // nothing below keeps a slice of it
	r := ttree.TreeRecordReader{RecordReader: rfile.RecordReader{Buf: key.Payload, Base: key.Keylen, Classes: map[int]string{}}, Keep: want.keep}
	name, title, entries, branches := r.TreeRecord()
	if r.Err != nil {
		return nil, r.Err
	}
	if name != tree {
		return nil, fmt.Errorf("%w: tree record named %q", rfile.ErrNotLean, name)
	}
	type leanCol struct {
		baskets *ttree.BasketTable
		sig     string
	}
	found := map[string]leanCol{} // by column path, as tbranch.ColumnsOf names them
	err = tbranch.EachStorageBranch(branches, func(b *ttree.Branch, name string) error {
		for _, l := range b.Leaves {
			path := name
			if len(b.Leaves) > 1 {
				path = name + "." + l.Name
			}
			found[path] = leanCol{baskets: &b.Baskets, sig: b.Sigs}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m := &fileMeta{tree: name, title: title, entries: entries, byName: make(map[string]*tbranch.Column, len(want.cols))}
	copies := make([]tbranch.Column, len(want.cols))
	for i, sc := range want.cols {
		c, ok := found[sc.Path]
		// (A split collection's member, whose master is a column of its
		// own file, has no signature: groot parses such files.)
		if !ok || sc.LeanSig == "" || sc.LeanSig != c.sig || sc.Master != nil {
			return nil, fmt.Errorf("%w: branch %q differs from the first file's", rfile.ErrNotLean, sc.Path)
		}
		copies[i] = *sc
		copies[i].Baskets = *c.baskets
		m.cols = append(m.cols, &copies[i])
		m.byName[sc.Name] = &copies[i]
	}
	if err := checkEntries(entries, m.cols); err != nil {
		return nil, fmt.Errorf("%w: %v", rfile.ErrNotLean, err) // groot's parse checks every branch
	}
	m.bytes = metaBytes(m.cols)
	return m, nil
}
