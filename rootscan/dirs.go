package rootscan

import (
	"fmt"
	"sort"
	"strings"
)

// Trees may sit in subdirectories (TDirectoryFile keys): root_trees lists
// them by path ("dir/sub/tree") and read_root(..., tree := 'dir/sub/tree')
// reads one. groot reads a subdirectory's record and keys list as trusting
// as the top one's (layout.go), and a hostile file can make directories
// point at themselves or nest without end, so walkDirs reads them first,
// each checked as checkLayout checks the top, and bounds the walk: at most
// maxDirDepth levels, maxDirs directories, and no directory whose keys
// list was already walked (a cycle).
//
// The default tree (no tree :=) is chosen among the top directory's trees
// only: choosing it must not cost a walk of every directory of every file
// of a chain (a file of histograms may hold thousands), and a tree written
// into a subdirectory must not change which tree a query reads.

const (
	maxDirDepth = 16
	maxDirs     = 4096
)

// dirLayout is one directory: its path ("" for the top) and its keys.
type dirLayout struct {
	path string
	keys []keyLayout
}

// dirWalk is what walkDirs found: the directories it could read, top
// first, and why each one it could not read was left out, by path.
type dirWalk struct {
	dirs []dirLayout
	bad  map[string]error
}

func isDirClass(class string) bool { return class == "TDirectory" || class == "TDirectoryFile" }

func isTreeClass(class string) bool {
	return class == "TTree" || class == "TNtuple" || class == "TNtupleD"
}

// walkDirs reads the file's subdirectories below l's top directory.
func (l *fileLayout) walkDirs(cf *countingFile) *dirWalk {
	w := &dirWalk{dirs: []dirLayout{{path: "", keys: l.keys}}, bad: map[string]error{}}
	seen := map[int64]bool{l.seekKeys: true}
	var walk func(parent dirLayout, depth int)
	walk = func(parent dirLayout, depth int) {
		for _, k := range highestCycles(parent.keys) {
			if !isDirClass(k.class) {
				continue
			}
			path := k.name
			if parent.path != "" {
				path = parent.path + "/" + k.name
			}
			if depth >= maxDirDepth {
				w.bad[path] = corruptf(errCorruptDirectory, "directories nested more than %d deep", maxDirDepth)
				continue
			}
			if len(w.dirs) >= maxDirs {
				w.bad[path] = corruptf(errCorruptDirectory, "more than %d directories", maxDirs)
				continue
			}
			keys, err := readSubdir(cf, k, l.big, seen)
			if err != nil {
				w.bad[path] = fmt.Errorf("directory %q: %w", safeText(path), err)
				continue
			}
			d := dirLayout{path: path, keys: keys}
			w.dirs = append(w.dirs, d)
			walk(d, depth+1)
		}
	}
	walk(w.dirs[0], 0)
	return w
}

// highestCycles returns keys with only the highest cycle of each name,
// in their order.
func highestCycles(keys []keyLayout) []keyLayout {
	best := map[string]int{}
	for i, k := range keys {
		if j, ok := best[k.name]; !ok || k.cycle > keys[j].cycle {
			best[k.name] = i
		}
	}
	var out []keyLayout
	for i, k := range keys {
		if best[k.name] == i {
			out = append(out, k)
		}
	}
	return out
}

// readSubdir reads a subdirectory's record (a TDirectoryFile key's
// object) and its keys list, checked; seen holds the keys lists already
// read, so that a directory listing an ancestor is a cycle.
func readSubdir(cf *countingFile, k keyLayout, big bool, seen map[int64]bool) ([]keyLayout, error) {
	if err := checkKeySizes(cf, k, 0); err != nil {
		return nil, corruptf(errCorruptDirectory, "key: %v", err)
	}
	if k.objlen != k.nbytes-k.keylen {
		return nil, corruptf(errCorruptDirectory, "record stored compressed")
	}
	const recMax = 2 + 4 + 4 + 4 + 4 + 3*8
	rec := make([]byte, min(k.objlen, recMax))
	if _, err := cf.ReadAt(rec, k.seek+k.keylen); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorruptDirectory, err)
	}
	r := objReader{byteReader: byteReader{b: rec}}
	version := r.i16()
	r.skip(8) // fDatimeC, fDatimeM
	nbytesKeys := int64(r.i32())
	r.skip(4) // fNbytesName
	var seekKeys int64
	if version > 1000 {
		r.skip(16) // fSeekDir, fSeekParent
		seekKeys = r.i64()
	} else {
		r.skip(8)
		seekKeys = int64(r.i32())
	}
	if r.err != nil {
		return nil, corruptf(errCorruptDirectory, "record of %d bytes truncated", k.objlen)
	}
	if seekKeys <= 0 {
		return nil, nil // an empty directory, as groot reads it
	}
	if seen[seekKeys] {
		return nil, corruptf(errCorruptDirectory, "keys list at %d already listed (a directory cycle)", seekKeys)
	}
	seen[seekKeys] = true
	return readKeysList(cf, seekKeys, nbytesKeys)
}

// trees lists the paths of the trees in every directory read, top first.
func (w *dirWalk) trees() []string {
	var names []string
	for _, d := range w.dirs {
		for _, k := range highestCycles(d.keys) {
			if isTreeClass(k.class) {
				names = append(names, joinPath(d.path, k.name))
			}
		}
	}
	return names
}

func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// splitTreePath splits "a/b/tree" into its directory "a/b" and its name.
func splitTreePath(path string) (dir, name string) {
	path = strings.TrimPrefix(path, "/")
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i], path[i+1:]
	}
	return "", path
}

// dir returns the directory at path, or why it cannot be read.
func (w *dirWalk) dir(path string) (dirLayout, error) {
	for _, d := range w.dirs {
		if d.path == path {
			return d, nil
		}
	}
	// A directory below one that could not be read names that one.
	var worst []string
	for p := range w.bad {
		if path == p || strings.HasPrefix(path, p+"/") {
			worst = append(worst, p)
		}
	}
	if len(worst) > 0 {
		sort.Strings(worst)
		return dirLayout{}, w.bad[worst[0]]
	}
	return dirLayout{}, fmt.Errorf("no directory %q", safeText(path))
}
