package testfiles

import (
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

// ModuleVersion returns the version of module path that the test binary
// was built with (a replaced module gives its replacement, "=> path
// version"), read from the binary's build information, or from `go list
// -m` when the package under test does not link the module. Adapters to a
// dependency's internals compare it with the version they were written
// for, so that an upgrade fails their tests before it misreads data.
func ModuleVersion(t testing.TB, path string) string {
	t.Helper()
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != path {
				continue
			}
			if r := d.Replace; r != nil {
				return "=> " + strings.TrimSpace(r.Path+" "+r.Version)
			}
			return d.Version
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{if .Replace}}=> {{.Replace.Path}} {{.Replace.Version}}{{else}}{{.Version}}{{end}}", path).Output()
	if err != nil {
		t.Fatalf("version of module %s: %v", path, err)
	}
	return strings.TrimSpace(string(out))
}
