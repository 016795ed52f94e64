package rntuple

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// The ROOT file around an RNTuple (header, directories, keys lists) is the
// same as around a TTree: rfile reads and checks it for both readers, so
// that a hostile file meets one set of checks whichever object it holds.

// Key is one entry of a ROOT directory: an object's class, name, cycle
// and where its bytes are.
type Key struct {
	Class, Name string
	Cycle       int
	Path        string // name with its directory path ("dir/name"); top level: name
	key         rfile.Key
}

// readerFile lets rfile read the ROOT structure of an io.ReaderAt.
type readerFile struct {
	io.ReaderAt
	size int64
}

func (f readerFile) Close() error         { return nil }
func (f readerFile) Size() (int64, error) { return f.size, nil }

// readKeys lists the keys of the file's directories (top first), and the
// directories that could not be read, each with why.
func readKeys(r io.ReaderAt, size int64) ([]Key, map[string]error, error) {
	cf := &rfile.CountingFile{File: readerFile{r, size}, FileSize: size}
	l, err := rfile.CheckLayout(cf)
	if err != nil {
		return nil, nil, err
	}
	w := l.WalkDirs(cf)
	var keys []Key
	for _, d := range w.Dirs {
		for _, k := range d.Keys {
			keys = append(keys, Key{Class: k.Class, Name: k.Name, Cycle: k.Cycle, Path: rfile.JoinPath(d.Path, k.Name), key: k})
		}
	}
	return keys, w.Bad, nil
}

// badDirFor is the error of the unreadable directory that would hold the
// key path name, or nil.
func badDirFor(bad map[string]error, name string) error {
	dirs := make([]string, 0, len(bad))
	for d := range bad {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if name == "" || strings.HasPrefix(name, d+"/") {
			return bad[d]
		}
	}
	return nil
}

// payload reads a key's object, inflated.
func (k Key) payload(r io.ReaderAt, size int64) ([]byte, error) {
	if k.key.Seek <= 0 || k.key.Seek+k.key.Nbytes > size || k.key.Keylen > k.key.Nbytes {
		return nil, fmt.Errorf("key %q: %d bytes at %d outside the %d-byte file", k.Path, k.key.Nbytes, k.key.Seek, size)
	}
	raw := make([]byte, k.key.Nbytes)
	if _, err := r.ReadAt(raw, k.key.Seek); err != nil {
		return nil, fmt.Errorf("key %q: %w", k.Path, err)
	}
	stored := raw[k.key.Keylen:]
	if k.key.Objlen == int64(len(stored)) {
		return stored, nil
	}
	if k.key.Objlen < 0 || k.key.Objlen > MaxAlloc {
		return nil, fmt.Errorf("key %q: object of %d bytes", k.Path, k.key.Objlen)
	}
	out := make([]byte, k.key.Objlen)
	if err := rfile.Decompress(out, stored); err != nil {
		return nil, fmt.Errorf("key %q: %w", k.Path, err)
	}
	return out, nil
}

// isAnchorClass reports whether a key's class is an RNTuple anchor: ROOT
// 6.34 and later write ROOT::RNTuple; earlier 1.0 writers the
// ROOT::Experimental name.
func isAnchorClass(c string) bool {
	return c == "ROOT::RNTuple" || c == "ROOT::Experimental::RNTuple"
}

// keyLess orders keys for listing (name, then highest cycle first).
func keyLess(a, b Key) int {
	if c := strings.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return b.Cycle - a.Cycle
}
