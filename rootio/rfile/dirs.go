package rfile

import (
	"fmt"
	"sort"
	"strings"
)

// Trees may sit in subdirectories (TDirectoryFile keys): root_trees lists
// them by path ("dir/sub/tree") and read_root(..., tree := 'dir/sub/tree')
// reads one. groot reads a subdirectory's record and keys list as trusting
// as the top one's (layout.go), and a hostile file can make directories
// point at themselves or nest without end, so WalkDirs reads them first,
// each checked as CheckLayout checks the top, and bounds the walk: at most
// maxDirDepth levels, maxDirs directories, and no directory whose keys
// list was already walked (a cycle).
//
// The default tree (no tree :=) is chosen among the top directory's trees
// only: choosing it must not cost a walk of every directory of every file
// of a chain (a file of histograms may hold thousands), and a tree written
// into a subdirectory must not change which tree a query reads.

const (
	MaxDirDepth = 16
	maxDirs     = 4096
)

// Directory is one directory: its path ("" for the top) and its keys.
type Directory struct {
	Path string
	Keys []Key
}

// DirWalk is what WalkDirs found: the directories it could read, top
// first, and why each one it could not read was left out, by path.
type DirWalk struct {
	Dirs []Directory
	Bad  map[string]error
}

func isDirClass(class string) bool { return class == "TDirectory" || class == "TDirectoryFile" }

func IsTreeClass(class string) bool {
	return class == "TTree" || class == "TNtuple" || class == "TNtupleD"
}

// WalkDirs reads the file's subdirectories below l's top directory.
func (l *Layout) WalkDirs(cf *CountingFile) *DirWalk {
	w := &DirWalk{Dirs: []Directory{{Path: "", Keys: l.Keys}}, Bad: map[string]error{}}
	seen := map[int64]bool{l.SeekKeys: true}
	var walk func(parent Directory, depth int)
	walk = func(parent Directory, depth int) {
		for _, k := range highestCycles(parent.Keys) {
			if !isDirClass(k.Class) {
				continue
			}
			path := k.Name
			if parent.Path != "" {
				path = parent.Path + "/" + k.Name
			}
			if depth >= MaxDirDepth {
				w.Bad[path] = Corruptf(ErrCorruptDirectory, "directories nested more than %d deep", MaxDirDepth)
				continue
			}
			if len(w.Dirs) >= maxDirs {
				w.Bad[path] = Corruptf(ErrCorruptDirectory, "more than %d directories", maxDirs)
				continue
			}
			keys, err := readSubdir(cf, k, l.Big, seen)
			if err != nil {
				w.Bad[path] = fmt.Errorf("directory %q: %w", SafeText(path), err)
				continue
			}
			d := Directory{Path: path, Keys: keys}
			w.Dirs = append(w.Dirs, d)
			walk(d, depth+1)
		}
	}
	walk(w.Dirs[0], 0)
	return w
}

// highestCycles returns keys with only the highest cycle of each name,
// in their order.
func highestCycles(keys []Key) []Key {
	best := map[string]int{}
	for i, k := range keys {
		if j, ok := best[k.Name]; !ok || k.Cycle > keys[j].Cycle {
			best[k.Name] = i
		}
	}
	var out []Key
	for i, k := range keys {
		if best[k.Name] == i {
			out = append(out, k)
		}
	}
	return out
}

// readSubdir reads a subdirectory's record (a TDirectoryFile key's
// object) and its keys list, checked; seen holds the keys lists already
// read, so that a directory listing an ancestor is a cycle.
func readSubdir(cf *CountingFile, k Key, big bool, seen map[int64]bool) ([]Key, error) {
	if err := checkKeySizes(cf, k, 0); err != nil {
		return nil, Corruptf(ErrCorruptDirectory, "key: %v", err)
	}
	if k.Objlen != k.Nbytes-k.Keylen {
		return nil, Corruptf(ErrCorruptDirectory, "record stored compressed")
	}
	const recMax = 2 + 4 + 4 + 4 + 4 + 3*8
	rec := make([]byte, min(k.Objlen, recMax))
	if _, err := cf.ReadAt(rec, k.Seek+k.Keylen); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptDirectory, err)
	}
	r := RecordReader{Buf: rec}
	_, nbytesKeys, seekKeys := r.DirRecord()
	if r.Err != nil {
		return nil, Corruptf(ErrCorruptDirectory, "record of %d bytes truncated", k.Objlen)
	}
	if seekKeys <= 0 {
		return nil, nil // an empty directory, as groot reads it
	}
	if seen[seekKeys] {
		return nil, Corruptf(ErrCorruptDirectory, "keys list at %d already listed (a directory cycle)", seekKeys)
	}
	seen[seekKeys] = true
	return readKeysList(cf, seekKeys, nbytesKeys)
}

// Trees lists the paths of the trees in every directory read, top first.
func (w *DirWalk) Trees() []string {
	var names []string
	for _, d := range w.Dirs {
		for _, k := range highestCycles(d.Keys) {
			if IsTreeClass(k.Class) {
				names = append(names, JoinPath(d.Path, k.Name))
			}
		}
	}
	return names
}

func JoinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// SplitTreePath splits "a/b/tree" into its directory "a/b" and its name.
func SplitTreePath(path string) (dir, name string) {
	path = strings.TrimPrefix(path, "/")
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i], path[i+1:]
	}
	return "", path
}

// Dir returns the directory at path, or why it cannot be read.
func (w *DirWalk) Dir(path string) (Directory, error) {
	for _, d := range w.Dirs {
		if d.Path == path {
			return d, nil
		}
	}
	// A directory below one that could not be read names that one.
	var worst []string
	for p := range w.Bad {
		if path == p || strings.HasPrefix(path, p+"/") {
			worst = append(worst, p)
		}
	}
	if len(worst) > 0 {
		sort.Strings(worst)
		return Directory{}, w.Bad[worst[0]]
	}
	return Directory{}, fmt.Errorf("no directory %q", SafeText(path))
}

// DirRecord reads the start of a TDirectory record: its version and where
// its keys list is (fNbytesKeys, fSeekKeys; 64-bit seeks from version
// 1000 on). r.Err is set when the record is truncated.
func (r *RecordReader) DirRecord() (version int16, nbytesKeys, seekKeys int64) {
	version = r.I16()
	r.Skip(8) // fDatimeC, fDatimeM
	nbytesKeys = int64(r.I32())
	r.Skip(4) // fNbytesName
	if version > 1000 {
		r.Skip(16) // fSeekDir, fSeekParent
		seekKeys = r.I64()
	} else {
		r.Skip(8)
		seekKeys = int64(r.I32())
	}
	return version, nbytesKeys, seekKeys
}
