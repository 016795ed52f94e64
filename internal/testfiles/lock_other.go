//go:build !unix

package testfiles

import "testing"

// LockOut does nothing where flock is missing; see lock_unix.go.
func LockOut(t testing.TB, root string) {}
