package rootscan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/root"
	"go-hep.org/x/hep/groot/rtree"
)

// expandSources turns the source argument (a name, a glob, or a list of
// them) into an ordered list of file names.
func expandSources(arg any, o rfile.SourceOptions) ([]string, error) {
	var patterns []string
	switch v := arg.(type) {
	case string:
		patterns = []string{v}
	case []any:
		for _, p := range v {
			s, ok := p.(string)
			if !ok {
				return nil, fmt.Errorf("read_root: source list must hold strings, got %T", p)
			}
			patterns = append(patterns, s)
		}
	default:
		return nil, fmt.Errorf("read_root: source must be a path, a glob or a list of them, got %T", arg)
	}
	if len(patterns) == 0 {
		return nil, errors.New("read_root: empty source list")
	}
	var names []string
	for _, p := range patterns {
		if p == "" {
			return nil, errors.New("read_root: empty file name")
		}
		if err := checkAccess(p); err != nil {
			return nil, err
		}
		if !strings.ContainsAny(p, "*?[") {
			names = append(names, p)
			continue
		}
		b, err := rfile.BackendFor(p)
		if err != nil {
			return nil, err
		}
		m, err := rfile.GlobBackend(b, p, o)
		if err != nil {
			return nil, fmt.Errorf("read_root: glob %q: %w", p, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("read_root: no file matches %q", p)
		}
		names = append(names, m...)
	}
	return names, nil
}

// openFile is one ROOT file opened for scanning: its bytes and its tree's
// parsed metadata (shared through the cache, read-only).
type openFile struct {
	path string
	r    *rfile.CountingFile
	*fileMeta
	// dec is the same file as rootio/tbranch's readers see it.
	dec *tbranch.File
}

func newOpenFile(path string, r *rfile.CountingFile, m *fileMeta) *openFile {
	return &openFile{path: path, r: r, fileMeta: m, dec: &tbranch.File{Path: path, Tree: m.tree, R: r, Cols: m.cols}}
}

// Close closes the file's reader.
func (f *openFile) Close() error { return f.r.File.Close() }

// openRaw opens name through its backend.
func openRaw(name string, o rfile.SourceOptions) (*rfile.CountingFile, error) {
	if err := checkAccess(name); err != nil {
		return nil, err
	}
	b, err := rfile.BackendFor(name)
	if err != nil {
		return nil, err
	}
	raw, err := rfile.OpenBackend(b, name, o)
	if err != nil {
		return nil, fmt.Errorf("read_root: %w", err)
	}
	size, err := raw.Size()
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("read_root: %s: %w", name, err)
	}
	return &rfile.CountingFile{File: raw, FileSize: size}, nil
}

// openROOT opens name and parses its directory, without choosing a tree.
func openROOT(name string) (*rfile.CountingFile, *riofs.File, error) {
	cf, rf, _, err := openROOTWith(name, rfile.DefaultSourceOptions)
	return cf, rf, err
}

// openROOTWith is openROOT with the source options of a call; it also
// returns the layout rfile.CheckLayout found.
func openROOTWith(name string, o rfile.SourceOptions) (*rfile.CountingFile, *riofs.File, *rfile.Layout, error) {
	cf, err := openRaw(name, o)
	if err != nil {
		return nil, nil, nil, err
	}
	rf, g, err := openRiofs(name, cf)
	if err != nil {
		cf.File.Close()
		return nil, nil, nil, err
	}
	return cf, rf, g.layout, nil
}

// grootReader is what openRiofs knows of a file groot parses: where its
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

// checkedLayout runs rfile.CheckLayout and rfile.CheckStreamerRecord. They check
// every offset they read; a panic would be a bug of theirs, reported as
// one rather than taking down a scan's goroutine.
func checkedLayout(cf *rfile.CountingFile) (l *rfile.Layout, err error) {
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

// openRiofs checks the layout of the file's metadata (rootio/rfile's layout.go) and
// calls groot's parser, turning its errors and panics on malformed input
// into errors that name the file and the structure.
func openRiofs(name string, cf *rfile.CountingFile) (f *riofs.File, g *grootReader, err error) {
	layout, err := checkedLayout(cf)
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

// treesIn lists the names of the TTrees at the top of a file.
func treesIn(rf *riofs.File) []string {
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

// treeDir is where a tree chosen by chooseTree sits: its path, its
// directory's path ("" at the top) and name, and that directory's keys.
type treeDir struct {
	path, dir, name string
	keys            []rfile.Key
}

// chooseTree finds tree want (a name at the top, or a path "dir/tree"
// into subdirectories), or applies the default, among the top
// directory's trees only (rootio/rfile's dirs.go says why): the only tree, else
// "Events".
func chooseTree(name string, cf *rfile.CountingFile, rf *riofs.File, l *rfile.Layout, want string) (treeDir, error) {
	if dir, base := rfile.SplitTreePath(want); dir != "" {
		w := l.WalkDirs(cf)
		d, err := w.Dir(dir)
		if err != nil {
			return treeDir{}, fmt.Errorf("read_root: %s: tree %q: %w", name, rfile.SafeText(want), err)
		}
		for _, k := range d.Keys {
			if k.Name == base && rfile.IsTreeClass(k.Class) {
				return treeDir{path: dir + "/" + base, dir: dir, name: base, keys: d.Keys}, nil
			}
		}
		return treeDir{}, fmt.Errorf("read_root: %s: no tree %q (trees: %s)", name, rfile.SafeText(want), rfile.SafeText(listOrNone(w.Trees())))
	}
	top := treeDir{keys: l.Keys}
	trees := treesIn(rf)
	if want != "" {
		want = strings.TrimPrefix(want, "/")
		for _, t := range trees {
			if t == want {
				top.path, top.name = want, want
				return top, nil
			}
		}
		return treeDir{}, fmt.Errorf("read_root: %s: no tree %q (trees: %s)", name, rfile.SafeText(want), rfile.SafeText(listOrNone(l.WalkDirs(cf).Trees())))
	}
	switch {
	case len(trees) == 1:
		top.path, top.name = trees[0], trees[0]
		return top, nil
	case len(trees) == 0:
		if nested := l.WalkDirs(cf).Trees(); len(nested) > 0 {
			return treeDir{}, fmt.Errorf("read_root: %s: no TTree at the top of the file; in its directories: %s (choose one with tree := '...')", name, rfile.SafeText(strings.Join(nested, ", ")))
		}
		return treeDir{}, fmt.Errorf("read_root: %s: no TTree in file", name)
	}
	for _, t := range trees {
		if t == "Events" {
			top.path, top.name = t, t
			return top, nil
		}
	}
	return treeDir{}, fmt.Errorf("read_root: %s: several trees (%s): choose one with tree := '...'", name, rfile.SafeText(strings.Join(trees, ", ")))
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// openTree opens name and finds its tree (tree, or the default when
// empty), taking the parsed metadata from the cache when the file has not
// changed since it was parsed.
func openTree(name, tree string) (*openFile, error) {
	return openMember(name, tree, nil, rfile.DefaultSourceOptions)
}

// openTreeWith is openTree with the source options of a read_root call.
func openTreeWith(name, tree string, o rfile.SourceOptions) (*openFile, error) {
	return openMember(name, tree, nil, o)
}

// openMember opens file name: a chain's first file or a lone one when
// member is nil, else a member of the chain that member describes. A file
// gets its metadata from the cache, else from the lean reader (a member
// only the projected columns', a first file its whole schema) when it
// covers the file, else from groot. Any lean failure, corrupt bytes
// included, leaves the file to groot, whose errors are the ones users see.
func openMember(name, tree string, member *leanWant, o rfile.SourceOptions) (*openFile, error) {
	cf, err := openRaw(name, o)
	if err != nil {
		return nil, err
	}
	key, cacheable := metaKey{name: name, tree: tree, size: cf.FileSize}, false
	if mt, ok := cf.File.(ModTimer); ok {
		if t, err := mt.ModTime(); err == nil {
			key.mtime, cacheable = t, true
		}
	}
	leanKey := key
	if member != nil {
		leanKey.schema, leanKey.cols = member.schema, member.key
	}
	if cacheable {
		if m := metas.get(key); m != nil {
			return newOpenFile(name, cf, m), nil
		}
		if member != nil {
			if m := metas.get(leanKey); m != nil {
				return newOpenFile(name, cf, m), nil
			}
		}
	}
	if member != nil && tree != "" {
		if m, err := leanSafely(func() (*fileMeta, error) { return leanMeta(cf, tree, member) }); err == nil {
			leanParses.Add(1)
			if cacheable {
				metas.put(leanKey, m)
			}
			return newOpenFile(name, cf, m), nil
		}
	}
	var m *fileMeta
	if member == nil {
		if m, err = leanSafely(func() (*fileMeta, error) { return leanSchema(cf, tree) }); err == nil {
			leanSchemas.Add(1)
		}
	}
	if m == nil {
		if m, err = parseTree(name, cf, tree); err != nil {
			cf.File.Close()
			return nil, err
		}
	}
	if cacheable {
		metas.put(key, m)
	}
	return newOpenFile(name, cf, m), nil
}

// leanSafely runs a lean parse. The lean reader checks every offset it
// reads; should one still slip, its panic only sends the file to groot,
// whose checked parse gives the result or the error.
func leanSafely(parse func() (*fileMeta, error)) (m *fileMeta, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: %v", rfile.ErrNotLean, r)
		}
	}()
	return parse()
}

// parseTree reads a file's directory and the metadata of its tree with
// groot and maps the branches to columns. groot's objects are dropped
// afterwards: only the columns and their basket tables are kept.
func parseTree(name string, cf *rfile.CountingFile, tree string) (_ *fileMeta, err error) {
	parses.Add(1)
	rf, g, err := openRiofs(name, cf)
	if err != nil {
		return nil, err
	}
	tname := tree
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read_root: %s: tree %q: %w", name, rfile.SafeText(tname), g.failure(nil, r))
		}
	}()
	td, err := chooseTree(name, cf, rf, g.layout, tree)
	if err != nil {
		return nil, safeError(err)
	}
	tname = td.path
	if err := rfile.CheckObjectKeys(cf, td.keys, td.name, rfile.ErrCorruptTree); err != nil {
		return nil, safeError(fmt.Errorf("read_root: %s: %w", name, err))
	}
	var dir riofs.Directory = rf
	if td.dir != "" {
		// rfile.Layout.WalkDirs has checked every directory on the path.
		obj, err := riofs.Dir(rf).Get(td.dir)
		if err != nil {
			return nil, fmt.Errorf("read_root: %s: directory %q: %w", name, rfile.SafeText(td.dir), g.failure(err, nil))
		}
		d, ok := obj.(riofs.Directory)
		if !ok {
			return nil, safeError(fmt.Errorf("read_root: %s: %q is a %s, not a directory", name, td.dir, obj.Class()))
		}
		dir = d
	}
	classes, err := tbranch.CheckTreeKey(dir, td.name)
	if err != nil {
		return nil, safeError(fmt.Errorf("read_root: %s: tree %q: %w", name, tname, err))
	}
	// groot builds the types of the tree's classes while it reads the
	// record: first make sure that terminates (rootio/tbranch's streamers.go).
	guard, err := tbranch.GuardStreamers(rf, classes, false)
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
	if err != nil && tbranch.MissingStreamer(err) || panicked != nil && tbranch.MissingStreamer(fmt.Errorf("%v", panicked)) {
		// A class the file does not describe sank the whole tree: give
		// groot empty stand-ins for the missing classes, so that the
		// branches storing them are unsupported and the rest reads.
		if guard, err = tbranch.GuardStreamers(rf, classes, true); err != nil {
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
	cols, err := tbranch.ColumnsOf(t, guard)
	if err != nil {
		return nil, safeError(fmt.Errorf("read_root: %s: tree %q: %w", name, tname, err))
	}
	if err := checkEntries(t.Entries(), cols); err != nil {
		return nil, safeError(fmt.Errorf("read_root: %s: tree %q: %w", name, tname, err))
	}
	// The tree is named by its key's path, as chains find it in the
	// other files.
	m := &fileMeta{tree: tname, title: t.Title(), entries: t.Entries(), cols: cols, byName: make(map[string]*tbranch.Column, len(cols))}
	for _, c := range cols {
		m.byName[c.Name] = c
	}
	m.bytes = metaBytes(cols)
	return m, nil
}

// checkEntries checks a tree's entry count against its branches': the
// scan plans its units from it (and count(*) may read nothing else), so
// a flipped fEntries must not make up rows or billions of units. ROOT's
// branches hold at most the tree's entries, and one (a branch filled with
// the tree) exactly as many; cols may be a subset of the tree's columns
// only when rfile.ErrNotLean lets groot check the whole tree.
func checkEntries(entries int64, cols []*tbranch.Column) error {
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
