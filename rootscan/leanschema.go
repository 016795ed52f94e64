package rootscan

import (
	"fmt"

	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// leanSchema reads the metadata of a chain's first file, or of a file on
// its own, without groot, when every branch is a plain TBranch of scalar,
// C-string or counted (NanoAOD X_y[nX]) leaves: the columns leafColumn
// would make, named and checked as ColumnsOf does them. groot's parse of
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
	var cols []*tbranch.Column
	err = tbranch.EachStorageBranch(branches, func(b *ttree.Branch, path string) error {
		for _, l := range b.Leaves {
			c, err := tbranch.LeanLeafColumn(b, l, len(b.Leaves) > 1)
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
	tbranch.UniqueNames(cols)
	for _, c := range cols {
		c.RootType, c.Why = rfile.SafeText(c.RootType), rfile.SafeText(c.Why)
	}
	if err := checkEntries(entries, cols); err != nil {
		return nil, fmt.Errorf("%w: %v", rfile.ErrNotLean, err) // groot's parse reports it
	}
	m := &fileMeta{tree: name, title: title, entries: entries, cols: cols, byName: make(map[string]*tbranch.Column, len(cols))}
	for _, c := range cols {
		m.byName[c.Name] = c
	}
	m.bytes = metaBytes(cols)
	return m, nil
}
