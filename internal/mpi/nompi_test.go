//go:build !mpi

package mpi

import (
	"strings"
	"testing"
)

// Without a launcher the build without MPI is a world of one; started as
// one of several ranks it refuses, rather than have every rank train
// alone on its shard.
func TestWithoutMPI(t *testing.T) {
	for _, k := range []string{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "SLURM_NTASKS", "PMI_RANK", "PMI_SIZE"} {
		t.Setenv(k, "")
	}
	w, err := Init()
	if err != nil || w.Rank() != 0 || w.Size() != 1 {
		t.Fatalf("no launcher: rank %d of %d, %v; want 0 of 1", w.Rank(), w.Size(), err)
	}
	buf := []float64{1, 2}
	if err := w.AllReduceSum(buf); err != nil || buf[0] != 1 || buf[1] != 2 {
		t.Errorf("world of one: all-reduce gave %v, %v", buf, err)
	}
	t.Setenv("OMPI_COMM_WORLD_RANK", "1")
	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	if r, s, ok := LauncherRank(); !ok || r != 1 || s != 2 {
		t.Errorf("LauncherRank = %d, %d, %v; want 1, 2, true", r, s, ok)
	}
	if _, err := Init(); err == nil || !strings.Contains(err.Error(), "-tags mpi") {
		t.Errorf("as rank 1 of 2 without MPI: %v; want a refusal naming -tags mpi", err)
	}
}
