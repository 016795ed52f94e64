//go:build !mpi

package mpi

import (
	"fmt"
	"os"
)

// Available reports whether this build has the MPI binding (build tag mpi).
const Available = false

// Init returns a world of one (nil): this build has no MPI. Started by a
// launcher as one of several ranks, it fails rather than have every rank
// train alone on its shard.
func Init() (*World, error) {
	if _, size, ok := LauncherRank(); ok && size > 1 {
		return nil, fmt.Errorf("mpi: started as one of %d ranks, but this hepsql is built without MPI (build with -tags mpi)", size)
	}
	return nil, nil
}

// AllReduceSum is the identity in a world of one.
func (w *World) AllReduceSum(buf []float64) error { return nil }

// AllReduceSum32 is the identity in a world of one.
func (w *World) AllReduceSum32(buf []float32) error { return nil }

// Barrier returns at once in a world of one.
func (w *World) Barrier() error { return nil }

// Abort writes msg and exits with code.
func (w *World) Abort(code int, msg string) {
	if msg != "" {
		fmt.Fprintln(os.Stderr, "hepsql:", msg)
	}
	os.Exit(code)
}

// Finalize does nothing in a world of one.
func (w *World) Finalize() error { return nil }
