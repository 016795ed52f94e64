// Package sandbox keeps the SQL of remote users (hepsql serve's Flight SQL
// door) inside the folders and servers an operator allows.
//
// Two locks, because hepsql reads files two ways: DuckDB's own file system
// (read_parquet, read_csv, COPY, ATTACH, extension loading) obeys DuckDB's
// settings, which Lock sets once, before any client connects, and then
// freezes with lock_configuration; read_root opens files itself, so Policy
// also serves as rootscan's access check (rootscan.SetAccessCheck).
//
// Errors name what the query named and nothing of the server: not the
// resolved path, not the allowed folders.
package sandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Policy is a list of allowed local folders and remote URL prefixes.
type Policy struct {
	dirs []string   // absolute, symlinks resolved, cleaned
	urls []*url.URL // scheme, host and path prefix
}

// ErrDenied is wrapped by every refusal.
var ErrDenied = errors.New("outside the folders this server allows (its --allow list)")

// New returns the policy allowing each entry of allow: a local folder
// (which must exist) or a URL prefix such as root://eospublic.cern.ch//eos/opendata/.
func New(allow []string) (*Policy, error) {
	p := &Policy{}
	for _, a := range allow {
		if i := strings.Index(a, "://"); i > 0 {
			u, err := url.Parse(a)
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("sandbox: --allow %q: want a folder or a URL scheme://host[:port]/path", a)
			}
			p.urls = append(p.urls, u)
			continue
		}
		abs, err := filepath.Abs(a)
		if err != nil {
			return nil, fmt.Errorf("sandbox: --allow %q: %w", a, err)
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, fmt.Errorf("sandbox: --allow %q: %w", a, err)
		}
		if st, err := os.Stat(real); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("sandbox: --allow %q: not a folder", a)
		}
		p.dirs = append(p.dirs, real)
	}
	return p, nil
}

// Dirs are the allowed local folders, absolute and resolved.
func (p *Policy) Dirs() []string { return append([]string(nil), p.dirs...) }

// Check allows or refuses name, a local path or glob pattern (relative
// ones are taken from the server's working folder) or a URL. A local name
// is allowed when it lies in an allowed folder after resolving symbolic
// links (of its longest existing prefix, for a pattern or a missing file),
// so that neither ".." nor a link leads out.
func (p *Policy) Check(name string) error {
	if i := strings.Index(name, "://"); i > 0 {
		u, err := url.Parse(name)
		if err == nil {
			for _, a := range p.urls {
				if strings.EqualFold(u.Scheme, a.Scheme) && strings.EqualFold(u.Host, a.Host) && underURLPath(u.Path, a.Path) {
					return nil
				}
			}
		}
		return fmt.Errorf("%q: %w", name, ErrDenied)
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return fmt.Errorf("%q: %w", name, ErrDenied)
	}
	real := resolve(abs)
	for _, d := range p.dirs {
		if under(real, d) {
			return nil
		}
	}
	return fmt.Errorf("%q: %w", name, ErrDenied)
}

// resolve resolves the symbolic links of the longest existing prefix of
// abs, a cleaned absolute path, and appends the rest.
func resolve(abs string) string {
	rest := ""
	for p := abs; ; {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return abs
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

func under(path, dir string) bool {
	if path == dir {
		return true
	}
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		dir += string(filepath.Separator)
	}
	return strings.HasPrefix(path, dir)
}

// underURLPath: XRootD paths may start with "//"; a prefix ending in "/"
// or followed by "/" matches, and ".." segments never do.
func underURLPath(path, prefix string) bool {
	if strings.Contains(path, "/../") || strings.HasSuffix(path, "/..") {
		return false
	}
	if prefix == "" || prefix == "/" {
		return true
	}
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return strings.HasSuffix(prefix, "/") || len(path) == len(prefix) || path[len(prefix)] == '/'
}

// Limits are DuckDB settings applied with the sandbox.
type Limits struct {
	// MemoryLimit is DuckDB's memory_limit ("4GB"); "" keeps DuckDB's
	// default (80 % of RAM).
	MemoryLimit string
	// TempLimit is max_temp_directory_size ("" keeps the default).
	TempLimit string
}

// Lock applies the policy and limits to DuckDB's settings on db, for every
// connection: allowed_directories, enable_external_access = false (no
// other file, URL, ATTACH or extension download), then lock_configuration,
// after which no statement can change any setting. Call it once, before
// any client's statement runs.
func (p *Policy) Lock(ctx context.Context, db *sql.DB, lim Limits) error {
	dirs := make([]string, len(p.dirs))
	for i, d := range p.dirs {
		dirs[i] = sqlString(d + string(filepath.Separator))
	}
	stmts := []string{"SET GLOBAL allowed_directories = [" + strings.Join(dirs, ", ") + "]"}
	if lim.MemoryLimit != "" {
		stmts = append(stmts, "SET GLOBAL memory_limit = "+sqlString(lim.MemoryLimit))
	}
	if lim.TempLimit != "" {
		stmts = append(stmts, "SET GLOBAL max_temp_directory_size = "+sqlString(lim.TempLimit))
	}
	stmts = append(stmts,
		"SET GLOBAL autoinstall_known_extensions = false",
		"SET GLOBAL autoload_known_extensions = false",
		"SET GLOBAL enable_external_access = false",
		"SET GLOBAL lock_configuration = true")
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("sandbox: %s: %w", s, err)
		}
	}
	return nil
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
