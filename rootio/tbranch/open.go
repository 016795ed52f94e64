package tbranch

import (
	"fmt"
	"strings"

	"github.com/hepsql/hepsql/rootio/rfile"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/root"
	"go-hep.org/x/hep/groot/rtree"
)

// Tree is one tree of one file, parsed: its schema and every column's
// basket table. It holds no groot object and no open file, and is never
// modified once built, so any number of scans may share it.
type Tree struct {
	Name    string // the tree's path in its file ("dir/tree" in a subdirectory)
	Title   string
	Entries int64
	Cols    []*Column
	ByName  map[string]*Column // Cols by Name
}

func newTree(name, title string, entries int64, cols []*Column) *Tree {
	t := &Tree{Name: name, Title: title, Entries: entries, Cols: cols, ByName: make(map[string]*Column, len(cols))}
	for _, c := range cols {
		t.ByName[c.Name] = c
	}
	return t
}

// grootReader is what OpenGroot knows of a file groot parses: where its
// structures are, and where groot last read, to name what was corrupt.
type grootReader struct {
	layout *rfile.Layout
	tf     *rfile.TrackedFile
}

// failure turns an error groot returned, or a panic it raised, into one
// naming the structure it was reading: a corrupt one, unless the read
// itself failed.
func (g *grootReader) failure(err error, r any) error {
	kind := g.layout.StructureAt(g.tf.Last.Load())
	if r != nil {
		return safeError(recoveredError(kind, r))
	}
	if g.tf.Failed.Load() {
		return safeError(err)
	}
	return safeError(fmt.Errorf("%w: %w", kind, err))
}

// CheckedLayout runs rfile.CheckLayout and rfile.CheckStreamerRecord. They
// check every offset they read; a panic would be a bug of theirs, reported
// as one rather than taking down a scan's goroutine.
func CheckedLayout(cf *rfile.CountingFile) (l *rfile.Layout, err error) {
	defer func() {
		if r := recover(); r != nil {
			l, err = nil, fmt.Errorf("rootscan bug checking the file's layout (please report): %v", r)
		}
	}()
	if l, err = rfile.CheckLayout(cf); err != nil {
		return nil, err
	}
	if err := rfile.CheckStreamerRecord(cf, l); err != nil {
		return nil, err
	}
	return l, nil
}

// OpenGroot checks the layout of the file's metadata (rootio/rfile's
// layout.go) and calls groot's parser on file name (cf), turning its
// errors and panics on malformed input into errors that name the file and
// the structure. It returns the layout CheckLayout found; the caller
// closes the riofs.File.
func OpenGroot(name string, cf *rfile.CountingFile) (*riofs.File, *rfile.Layout, error) {
	f, g, err := openGroot(name, cf)
	if err != nil {
		return nil, nil, err
	}
	return f, g.layout, nil
}

func openGroot(name string, cf *rfile.CountingFile) (f *riofs.File, g *grootReader, err error) {
	layout, err := CheckedLayout(cf)
	if err != nil {
		return nil, nil, safeError(fmt.Errorf("read_root: %s: not a readable ROOT file: %w", name, err))
	}
	g = &grootReader{layout: layout, tf: &rfile.TrackedFile{CountingFile: cf}}
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("read_root: %s: not a readable ROOT file: %w", name, g.failure(nil, r))
		}
	}()
	f, err = riofs.NewReader(g.tf)
	if err != nil {
		return nil, nil, fmt.Errorf("read_root: %s: not a readable ROOT file: %w", name, g.failure(err, nil))
	}
	return f, g, nil
}

// TreesIn lists the names of the TTrees at the top of a file.
func TreesIn(rf *riofs.File) []string {
	var names []string
	seen := map[string]bool{}
	for _, k := range rf.Keys() {
		if rfile.IsTreeClass(k.ClassName()) && !seen[k.Name()] {
			seen[k.Name()] = true
			names = append(names, k.Name())
		}
	}
	return names
}

// TreeDir is where a tree chosen by ChooseTree sits: its path, its
// directory's path ("" at the top) and name, and that directory's keys.
type TreeDir struct {
	Path, Dir, Name string
	Keys            []rfile.Key
}

// ChooseTree finds tree want (a name at the top, or a path "dir/tree"
// into subdirectories) in file name (cf, parsed by groot as rf, with
// layout l), or applies the default, among the top directory's trees only
// (rootio/rfile's dirs.go says why): the only tree, else "Events".
func ChooseTree(name string, cf *rfile.CountingFile, rf *riofs.File, l *rfile.Layout, want string) (TreeDir, error) {
	if dir, base := rfile.SplitTreePath(want); dir != "" {
		w := l.WalkDirs(cf)
		d, err := w.Dir(dir)
		if err != nil {
			return TreeDir{}, fmt.Errorf("read_root: %s: tree %q: %w", name, rfile.SafeText(want), err)
		}
		for _, k := range d.Keys {
			if k.Name == base && rfile.IsTreeClass(k.Class) {
				return TreeDir{Path: dir + "/" + base, Dir: dir, Name: base, Keys: d.Keys}, nil
			}
		}
		return TreeDir{}, fmt.Errorf("read_root: %s: no tree %q (trees: %s)", name, rfile.SafeText(want), rfile.SafeText(listOrNone(w.Trees())))
	}
	top := TreeDir{Keys: l.Keys}
	trees := TreesIn(rf)
	if want != "" {
		want = strings.TrimPrefix(want, "/")
		for _, t := range trees {
			if t == want {
				top.Path, top.Name = want, want
				return top, nil
			}
		}
		return TreeDir{}, fmt.Errorf("read_root: %s: no tree %q (trees: %s)", name, rfile.SafeText(want), rfile.SafeText(listOrNone(l.WalkDirs(cf).Trees())))
	}
	switch {
	case len(trees) == 1:
		top.Path, top.Name = trees[0], trees[0]
		return top, nil
	case len(trees) == 0:
		if nested := l.WalkDirs(cf).Trees(); len(nested) > 0 {
			return TreeDir{}, fmt.Errorf("read_root: %s: no TTree at the top of the file; in its directories: %s (choose one with tree := '...')", name, rfile.SafeText(strings.Join(nested, ", ")))
		}
		return TreeDir{}, fmt.Errorf("read_root: %s: no TTree in file", name)
	}
	for _, t := range trees {
		if t == "Events" {
			top.Path, top.Name = t, t
			return top, nil
		}
	}
	return TreeDir{}, fmt.Errorf("read_root: %s: several trees (%s): choose one with tree := '...'", name, rfile.SafeText(strings.Join(trees, ", ")))
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// ParseTree reads the directory of file name (cf) and the metadata of its
// tree (tree, or the default when empty: ChooseTree) with groot, and maps
// the branches to columns. groot's objects are dropped afterwards: only
// the columns and their basket tables are kept. Errors and panics of
// groot's on malformed input come back as errors naming the file, the
// tree and the corrupt structure.
func ParseTree(name string, cf *rfile.CountingFile, tree string) (_ *Tree, err error) {
	rf, g, err := openGroot(name, cf)
	if err != nil {
		return nil, err
	}
	tname := tree
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read_root: %s: tree %q: %w", name, rfile.SafeText(tname), g.failure(nil, r))
		}
	}()
	td, err := ChooseTree(name, cf, rf, g.layout, tree)
	if err != nil {
		return nil, safeError(err)
	}
	tname = td.Path
	if err := rfile.CheckObjectKeys(cf, td.Keys, td.Name, rfile.ErrCorruptTree); err != nil {
		return nil, safeError(fmt.Errorf("read_root: %s: %w", name, err))
	}
	var dir riofs.Directory = rf
	if td.Dir != "" {
		// rfile.Layout.WalkDirs has checked every directory on the path.
		obj, err := riofs.Dir(rf).Get(td.Dir)
		if err != nil {
			return nil, fmt.Errorf("read_root: %s: directory %q: %w", name, rfile.SafeText(td.Dir), g.failure(err, nil))
		}
		d, ok := obj.(riofs.Directory)
		if !ok {
			return nil, safeError(fmt.Errorf("read_root: %s: %q is a %s, not a directory", name, td.Dir, obj.Class()))
		}
		dir = d
	}
	classes, err := CheckTreeKey(dir, td.Name)
	if err != nil {
		return nil, safeError(fmt.Errorf("read_root: %s: tree %q: %w", name, tname, err))
	}
	// groot builds the types of the tree's classes while it reads the
	// record: first make sure that terminates (streamers.go).
	guard, err := GuardStreamers(rf, classes, false)
	if err != nil {
		return nil, fmt.Errorf("read_root: %s: %w", name, err)
	}
	// groot reports some failures by panicking: get returns the panic,
	// and the error it stands for (recoveredError must run in the
	// deferred function that recovers it).
	get := func() (obj root.Object, err error, panicked any, perr error) {
		defer func() {
			if panicked = recover(); panicked != nil {
				perr = g.failure(nil, panicked)
			}
		}()
		obj, err = riofs.Dir(rf).Get(tname)
		return obj, err, nil, nil
	}
	obj, err, panicked, perr := get()
	if err != nil && MissingStreamer(err) || panicked != nil && MissingStreamer(fmt.Errorf("%v", panicked)) {
		// A class the file does not describe sank the whole tree: give
		// groot empty stand-ins for the missing classes, so that the
		// branches storing them are unsupported and the rest reads.
		if guard, err = GuardStreamers(rf, classes, true); err != nil {
			return nil, fmt.Errorf("read_root: %s: %w", name, err)
		}
		obj, err, panicked, perr = get()
	}
	if panicked != nil {
		return nil, fmt.Errorf("read_root: %s: tree %q: %w", name, rfile.SafeText(tname), perr)
	}
	if err != nil {
		return nil, fmt.Errorf("read_root: %s: reading tree %q: %w", name, rfile.SafeText(tname), g.failure(err, nil))
	}
	t, ok := obj.(rtree.Tree)
	if !ok {
		return nil, safeError(fmt.Errorf("read_root: %s: %q is a %s, not a TTree", name, tname, obj.Class()))
	}
	cols, err := ColumnsOf(t, guard)
	if err != nil {
		return nil, safeError(fmt.Errorf("read_root: %s: tree %q: %w", name, tname, err))
	}
	if err := CheckEntries(t.Entries(), cols); err != nil {
		return nil, safeError(fmt.Errorf("read_root: %s: tree %q: %w", name, tname, err))
	}
	// The tree is named by its key's path, as chains find it in the
	// other files.
	return newTree(tname, t.Title(), t.Entries(), cols), nil
}

// CheckEntries checks a tree's entry count against its branches': a scan
// plans its work from it (and a count may read nothing else), so a
// flipped fEntries must not make up rows or billions of work units.
// ROOT's branches hold at most the tree's entries, and one (a branch
// filled with the tree) exactly as many; cols may be a subset of the
// tree's columns only when rfile.ErrNotLean lets groot check the whole
// tree.
func CheckEntries(entries int64, cols []*Column) error {
	if entries < 0 {
		return rfile.Corruptf(rfile.ErrCorruptTree, "%d entries", entries)
	}
	if len(cols) == 0 {
		return nil
	}
	most := int64(-1)
	for _, c := range cols {
		most = max(most, c.Baskets.Entries)
	}
	if entries > most {
		return rfile.Corruptf(rfile.ErrCorruptTree, "the tree says %d entries, its branches hold at most %d", entries, most)
	}
	return nil
}
