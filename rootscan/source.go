package rootscan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
	"go-hep.org/x/hep/groot/riofs"
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
	return &openFile{path: path, r: r, fileMeta: m, dec: &tbranch.File{Path: path, Tree: m.Name, R: r, Cols: m.Cols}}
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
// returns the layout rfile.CheckLayout found (rootio/tbranch's OpenGroot).
func openROOTWith(name string, o rfile.SourceOptions) (*rfile.CountingFile, *riofs.File, *rfile.Layout, error) {
	cf, err := openRaw(name, o)
	if err != nil {
		return nil, nil, nil, err
	}
	rf, layout, err := tbranch.OpenGroot(name, cf)
	if err != nil {
		cf.File.Close()
		return nil, nil, nil, err
	}
	return cf, rf, layout, nil
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
		if t, err := tbranch.GuardLean(func() (*tbranch.Tree, error) { return tbranch.LeanMember(cf, tree, member.LeanWant) }); err == nil {
			m := metaOf(t)
			leanParses.Add(1)
			if cacheable {
				metas.put(leanKey, m)
			}
			return newOpenFile(name, cf, m), nil
		}
	}
	var m *fileMeta
	if member == nil {
		if t, err := tbranch.GuardLean(func() (*tbranch.Tree, error) { return tbranch.LeanSchema(cf, tree) }); err == nil {
			m = metaOf(t)
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

// parseTree is rootio/tbranch's ParseTree (groot's parse of a file's
// tree), counted for tests, as the cache keeps it.
func parseTree(name string, cf *rfile.CountingFile, tree string) (*fileMeta, error) {
	parses.Add(1)
	t, err := tbranch.ParseTree(name, cf, tree)
	if err != nil {
		return nil, err
	}
	return metaOf(t), nil
}
