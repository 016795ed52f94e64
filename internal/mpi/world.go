package mpi

import (
	"os"
	"strconv"
	"sync"
	"time"
)

// World is the job's ranks (MPI_COMM_WORLD). A nil *World is a world of
// one. It satisfies mlfuncs/train's Reducer.
type World struct {
	rank, size int
	mu         sync.Mutex // one MPI call at a time (MPI_THREAD_SERIALIZED)
	done       bool       // finalized
	// Timeout bounds the wait of one collective (a peer that hangs):
	// past it the job is aborted. From HEPSQL_MPI_TIMEOUT (a Go
	// duration), 10 minutes by default; 0 waits for ever.
	Timeout time.Duration
}

var (
	once    sync.Once
	world   *World
	initErr error
)

// Rank is this process's rank, from 0.
func (w *World) Rank() int {
	if w == nil {
		return 0
	}
	return w.rank
}

// Size is the number of ranks.
func (w *World) Size() int {
	if w == nil {
		return 1
	}
	return w.size
}

func defaultTimeout() time.Duration {
	if s := os.Getenv("HEPSQL_MPI_TIMEOUT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil {
			return d
		}
	}
	return 10 * time.Minute
}

// LauncherRank reads the rank and size a launcher gives in the
// environment (OpenMPI's OMPI_COMM_WORLD_RANK/SIZE, PMIx's PMIX_RANK
// with Slurm's SLURM_NTASKS), without starting MPI; ok is false outside
// a launcher. It lets a build without MPI refuse to run as one of
// several ranks instead of silently training alone.
func LauncherRank() (rank, size int, ok bool) {
	for _, k := range [][2]string{{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"}, {"PMIX_RANK", "SLURM_NTASKS"}, {"PMI_RANK", "PMI_SIZE"}} {
		r, err1 := strconv.Atoi(os.Getenv(k[0]))
		s, err2 := strconv.Atoi(os.Getenv(k[1]))
		if err1 == nil && err2 == nil && s > 0 {
			return r, s, true
		}
	}
	return 0, 1, false
}
