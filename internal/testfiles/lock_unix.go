//go:build unix

package testfiles

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// LockOut holds an exclusive lock on the repository's out/ folder (whose
// path root/out is created) until the test ends, so that tests of
// different packages that write the README's files there (go test runs
// packages side by side) do not write one file at once.
func LockOut(t testing.TB, root string) {
	t.Helper()
	dir := filepath.Join(root, "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".test-lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}
