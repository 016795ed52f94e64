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
	return Shared(t, "Run2012B_SingleMu_10000.root")
}

// Shared returns the absolute path of a file under ../shared/data (rel is
// relative to it, e.g. "uproot/uproot-Zmumu-lz4.root"), failing in CI and
// skipping elsewhere when it is missing, as CMSSample does.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "data", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing in CI: %v", rel, err)
		}
		t.Skipf("%s not available: %v", rel, err)
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
