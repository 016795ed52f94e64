package tbranch

import (
	"fmt"
	"slices"

	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// EachStorageBranch calls f for every branch that stores entries (one
// without sub-branches) with its column path, as ColumnsOf walks them.
func EachStorageBranch(branches []*ttree.Branch, f func(b *ttree.Branch, path string) error) error {
	var walk func(b *ttree.Branch, prefix string) error
	walk = func(b *ttree.Branch, prefix string) error {
		path := MemberName(prefix, b.Name)
		if len(b.Subs) > 0 {
			for _, sb := range b.Subs {
				if err := walk(sb, path); err != nil {
					return err
				}
			}
			return nil
		}
		return f(b, path)
	}
	for _, b := range branches {
		if err := walk(b, ""); err != nil {
			return err
		}
	}
	return nil
}

// LeanLeafColumn is leafColumn for the leaves LeanSchema covers; any other
// leaf is rfile.ErrNotLean, for groot to map.
func LeanLeafColumn(b *ttree.Branch, l ttree.Leaf, leafList bool) (*Column, error) {
	c := &Column{RootType: l.Class + " " + l.Title}
	if l.Class == "TLeafC" {
		if leafList {
			return nil, fmt.Errorf("%w: C string in a leaf list", rfile.ErrNotLean)
		}
		c.Layout, c.Type = LayoutString, Scalar(Varchar)
		return c, nil
	}
	encs, ok := leafEncodings[l.Class]
	if !ok || hasTitleDims(l.Title) {
		return nil, fmt.Errorf("%w: leaf %q (%s %s)", rfile.ErrNotLean, l.Name, l.Class, l.Title)
	}
	c.enc = encs[0]
	if l.Unsigned {
		c.enc = encs[1]
	}
	elem := Scalar(c.enc.sqlType())
	if l.Counted {
		if leafList {
			return nil, fmt.Errorf("%w: counted leaf in a leaf list", rfile.ErrNotLean)
		}
		c.Layout, c.Type = LayoutJagged, ListOf(elem)
		c.Count = countOf(l.Title)
		return c, nil
	}
	if l.N != 1 {
		return nil, fmt.Errorf("%w: leaf %q of length %d", rfile.ErrNotLean, l.Name, l.N)
	}
	for _, ll := range b.Leaves {
		if ll.Counted {
			return nil, fmt.Errorf("%w: leaf list with counted leaves", rfile.ErrNotLean)
		}
		c.entrySize += ll.N * ll.LenType
	}
	c.Layout, c.Type, c.leafOffset = LayoutFixed, elem, l.Offset
	return c, nil
}

// hasTitleDims reports whether groot reads array dimensions from a leaf's
// title: a "[" followed by digits or nothing and "]" ("x[3]", "x[]"); a
// count leaf's name ("Jet_pt[nJet]") is not one.
func hasTitleDims(title string) bool {
	for i := 0; i < len(title); i++ {
		if title[i] != '[' {
			continue
		}
		j := i + 1
		for j < len(title) && title[j] >= '0' && title[j] <= '9' {
			j++
		}
		if j < len(title) && title[j] == ']' {
			return true
		}
	}
	return false
}

// The lean reader: a chain's files after the first usually share its
// layout (NanoAOD: plain TBranches of primitive leaves), and from them a
// scan needs only each projected branch's basket table and proof that its
// leaves match the first file's. groot parses every file fully, streamers
// and all, at about a millisecond a file. LeanMember reads that subset
// straight from the TTree record instead (and LeanSchema a first file's
// whole schema when its layout is that simple): the file header, the top
// directory's keys, the tree's key (inflated), and a walk over its
// branches that skips every object it does not need by its byte count.
// Anything outside the subset (other branch classes, packed floats, old
// versions, a leaf that differs from the first file's, a corrupt byte)
// makes it give up with rfile.ErrNotLean, and the caller has the file
// parsed by groot (ParseTree), so the result and the errors stay groot's;
// the fast path only ever agrees with it (rootscan's TestLeanMatchesGroot).
// The parsing itself (the tree's key, the TTree, TBranch and TLeaf
// records, basket tables, baskets kept in the record) is rootio/ttree's
// TreeRecordReader and FindKey; the functions below map what they read
// onto columns.

// LeanWant is what a scan asks of its chain's other files: the columns of
// the first file's that the query projects. Parsing every branch of a
// member costs ~0.2 ms a NanoAOD file, most of it on the ~85 branches a
// short query never reads; reading only the projected ones, the others
// skipped by their byte counts, leaves the key look-up and the record's
// inflation.
type LeanWant struct {
	Cols []*Column       // the first file's columns to read
	keep map[string]bool // every dotted prefix of their paths
}

// NewLeanWant limits a member's read to cols, columns of the first file's
// schema, and the counters of the jagged ones among them.
func NewLeanWant(schema, cols []*Column) *LeanWant {
	// A jagged column's counter gives its entries' sizes in a basket
	// written without entry offsets (decode.go): the member's metadata
	// must hold its basket table too.
	for _, c := range cols {
		if c.Count == "" || slices.ContainsFunc(cols, func(o *Column) bool { return o.Path == c.Count }) {
			continue
		}
		for _, sc := range schema {
			if sc.Path == c.Count {
				cols = append(slices.Clip(cols), sc)
				break
			}
		}
	}
	w := &LeanWant{Cols: cols, keep: map[string]bool{}}
	for _, c := range cols {
		for j := range len(c.Path) {
			if c.Path[j] == '.' {
				w.keep[c.Path[:j]] = true
			}
		}
		w.keep[c.Path] = true
	}
	return w
}

// LeanMember reads, without groot, the metadata of file cf (tree) as a
// member of a chain: the basket tables of want's columns, typed from the
// first file's columns, matched by branch path and leaf signature. It
// returns rfile.ErrNotLean (wrapped) when the file is outside what it
// reads, or a wanted branch is missing or differs (groot then parses the
// file, and the scan's TChain check names the branch).
func LeanMember(cf *rfile.CountingFile, tree string, want *LeanWant) (*Tree, error) {
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
	found := map[string]leanCol{} // by column path, as ColumnsOf names them
	err = EachStorageBranch(branches, func(b *ttree.Branch, name string) error {
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
	cols := make([]*Column, len(want.Cols))
	copies := make([]Column, len(want.Cols))
	for i, sc := range want.Cols {
		c, ok := found[sc.Path]
		// (A split collection's member, whose master is a column of its
		// own file, has no signature: groot parses such files.)
		if !ok || sc.LeanSig == "" || sc.LeanSig != c.sig || sc.Master != nil {
			return nil, fmt.Errorf("%w: branch %q differs from the first file's", rfile.ErrNotLean, sc.Path)
		}
		copies[i] = *sc
		copies[i].Baskets = *c.baskets
		cols[i] = &copies[i]
	}
	if err := CheckEntries(entries, cols); err != nil {
		return nil, fmt.Errorf("%w: %v", rfile.ErrNotLean, err) // groot's parse checks every branch
	}
	return newTree(name, title, entries, cols), nil
}

// LeanSchema reads the metadata of a chain's first file, or of a file on
// its own, without groot, when every branch is a plain TBranch of scalar,
// C-string or counted (NanoAOD X_y[nX]) leaves: the columns leafColumn
// would make, named and checked as ColumnsOf does them. groot's parse of
// such a file is ~1.3 ms, serial at the start of every cold query;
// anything outside that subset returns rfile.ErrNotLean and the file goes
// to groot (ParseTree), so results and errors stay groot's (rootscan's
// TestLeanMatchesGroot checks the columns are equal field for field).
func LeanSchema(cf *rfile.CountingFile, tree string) (*Tree, error) {
	key, err := ttree.FindKey(cf, tree)
	if err != nil {
		return nil, err
	}
	defer key.Release() // the columns copy what they keep
	r := ttree.TreeRecordReader{RecordReader: rfile.RecordReader{Buf: key.Payload, Base: key.Keylen, Classes: map[int]string{}}, Full: true}
	name, title, entries, branches := r.TreeRecord()
	if r.Err != nil {
		return nil, r.Err
	}
	if name != key.Name {
		return nil, fmt.Errorf("%w: tree record named %q", rfile.ErrNotLean, name)
	}
	var cols []*Column
	err = EachStorageBranch(branches, func(b *ttree.Branch, path string) error {
		for _, l := range b.Leaves {
			c, err := LeanLeafColumn(b, l, len(b.Leaves) > 1)
			if err != nil {
				return err
			}
			c.Name, c.LeanSig, c.Baskets = path, b.Sigs, b.Baskets
			if len(b.Leaves) > 1 {
				c.Name = path + "." + l.Name
			}
			cols = append(cols, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	UniqueNames(cols)
	for _, c := range cols {
		c.RootType, c.Why = rfile.SafeText(c.RootType), rfile.SafeText(c.Why)
	}
	if err := CheckEntries(entries, cols); err != nil {
		return nil, fmt.Errorf("%w: %v", rfile.ErrNotLean, err) // groot's parse reports it
	}
	return newTree(name, title, entries, cols), nil
}

// GuardLean runs a lean parse (LeanSchema, LeanMember). The lean reader
// checks every offset it reads; should one still slip, its panic comes
// back as rfile.ErrNotLean, which only sends the file to groot, whose
// checked parse gives the result or the error.
func GuardLean(parse func() (*Tree, error)) (t *Tree, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("%w: %v", rfile.ErrNotLean, r)
		}
	}()
	return parse()
}
