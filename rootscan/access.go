package rootscan

import (
	"fmt"
	"sync/atomic"
)

// A server that runs other people's SQL (hepsql serve) must keep read_root
// inside the folders its operator allows. DuckDB's own settings
// (enable_external_access, allowed_directories) govern DuckDB's file
// system, which read_root does not use: it opens files itself, local ones
// with os.Open and remote ones through its backends. So every name that
// rootscan lists (a glob pattern) or opens is first shown to the access
// check set here, if any.

var accessCheck atomic.Pointer[func(name string) error]

// SetAccessCheck makes every rootscan function (read_root, root_ls, ...)
// ask check before listing or opening a name (a path, glob pattern or
// URL, as the query gave it or as a glob expanded it); a non-nil error
// refuses it and becomes the query's error. The check is process-wide,
// like the backends. nil removes it. It returns the check it replaces.
func SetAccessCheck(check func(name string) error) (previous func(name string) error) {
	var p *func(string) error
	if check != nil {
		p = &check
	}
	if old := accessCheck.Swap(p); old != nil {
		return *old
	}
	return nil
}

// checkAccess asks the access check about name.
func checkAccess(name string) error {
	p := accessCheck.Load()
	if p == nil {
		return nil
	}
	if err := (*p)(name); err != nil {
		return fmt.Errorf("read_root: %w", err)
	}
	return nil
}
