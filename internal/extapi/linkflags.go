package extapi

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// LinkFlags returns the linker flags that link the static DuckDB of a
// duckdb-go-bindings lib module (its folder libDir; the libraries differ
// between DuckDB versions), read from the module's prebuilt.go with
// ${SRCDIR} resolved. The generator (./gen) links its probe with them, and
// package extension's tests a stock DuckDB host.
func LinkFlags(libDir string) ([]string, error) {
	src, err := os.ReadFile(filepath.Join(libDir, "prebuilt.go"))
	if err != nil {
		return nil, fmt.Errorf("extapi: %w", err)
	}
	m := regexp.MustCompile(`#cgo LDFLAGS: ([^\n]*)`).FindSubmatch(src)
	if m == nil {
		return nil, fmt.Errorf("extapi: %s: no #cgo LDFLAGS line", filepath.Join(libDir, "prebuilt.go"))
	}
	var out []string
	for _, f := range strings.Fields(strings.ReplaceAll(string(m[1]), "${SRCDIR}", libDir)) {
		if f != "-rdynamic" {
			out = append(out, f)
		}
	}
	return out, nil
}
