// Package testfiles locates the real ROOT files tests read: the CMS sample
// in ../shared/data and go-hep's groot/testdata in the module cache.
package testfiles

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// CMSSample returns the absolute path of the CMS open-data sample. In CI
// (CI set) a missing sample fails the test; elsewhere the test skips, saying
// why.
func CMSSample(t testing.TB) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "data", "Run2012B_SingleMu_10000.root")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CMS sample missing in CI: %v", err)
		}
		t.Skipf("CMS sample not available: %v", err)
	}
	return p
}

// GrootTestdata returns go-hep's groot/testdata folder.
func GrootTestdata(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go-hep.org/x/hep").Output()
	if err != nil {
		t.Fatalf("locating go-hep in the module cache: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "groot", "testdata")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("go-hep testdata missing: %v", err)
	}
	return dir
}
