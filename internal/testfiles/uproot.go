package testfiles

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// UprootTestFile returns the absolute path of one of the scikit-hep-testdata
// files kept in ../shared/data/uproot (see its README). In CI (CI set) a
// missing file fails the test; elsewhere the test skips, saying why.
func UprootTestFile(t testing.TB, name string) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "data", "uproot", name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("uproot test file %s missing in CI: %v", name, err)
		}
		t.Skipf("uproot test file %s not available: %v", name, err)
	}
	return p
}
