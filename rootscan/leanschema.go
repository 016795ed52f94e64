package rootscan

import (
	"fmt"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// leanSchema reads the metadata of a chain's first file, or of a file on
// its own, without groot, when every branch is a plain TBranch of scalar,
// C-string or counted (NanoAOD X_y[nX]) leaves: the columns leafColumn
// would make, named and checked as columnsOf does them. groot's parse of
// such a file is ~1.3 ms, serial at the start of every cold query (bind);
// anything outside that subset returns rfile.ErrNotLean and the file goes to
// groot, so results and errors stay groot's (TestLeanMatchesGroot checks
// the columns are equal field for field).
func leanSchema(cf *rfile.CountingFile, tree string) (*fileMeta, error) {
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
	var cols []*column
	err = eachStorageBranch(branches, func(b *ttree.Branch, path string) error {
		for _, l := range b.Leaves {
			c, err := leanLeafColumn(b, l, len(b.Leaves) > 1)
			if err != nil {
				return err
			}
			c.name, c.leanSig, c.baskets = path, b.Sigs, b.Baskets
			if len(b.Leaves) > 1 {
				c.name = path + "." + l.Name
			}
			cols = append(cols, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	uniqueNames(cols)
	for _, c := range cols {
		c.rootType, c.why = rfile.SafeText(c.rootType), rfile.SafeText(c.why)
	}
	if err := checkEntries(entries, cols); err != nil {
		return nil, fmt.Errorf("%w: %v", rfile.ErrNotLean, err) // groot's parse reports it
	}
	m := &fileMeta{tree: name, title: title, entries: entries, cols: cols, byName: make(map[string]*column, len(cols))}
	for _, c := range cols {
		m.byName[c.name] = c
	}
	m.bytes = metaBytes(cols)
	return m, nil
}

// leanLeafColumn is leafColumn for the leaves leanSchema covers; any other
// leaf is rfile.ErrNotLean, for groot to map.
func leanLeafColumn(b *ttree.Branch, l ttree.Leaf, leafList bool) (*column, error) {
	c := &column{rootType: l.Class + " " + l.Title}
	if l.Class == "TLeafC" {
		if leafList {
			return nil, fmt.Errorf("%w: C string in a leaf list", rfile.ErrNotLean)
		}
		c.layout, c.typ = layoutString, capi.Scalar(capi.Varchar)
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
	elem := capi.Scalar(c.enc.sqlType())
	if l.Counted {
		if leafList {
			return nil, fmt.Errorf("%w: counted leaf in a leaf list", rfile.ErrNotLean)
		}
		c.layout, c.typ = layoutJagged, capi.ListOf(elem)
		c.count = countOf(l.Title)
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
	c.layout, c.typ, c.leafOffset = layoutFixed, elem, l.Offset
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
