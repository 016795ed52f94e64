package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/internal/mpi"
	"github.com/hepsql/hepsql/mlfuncs/sqlml"
)

// mpiWorld joins the MPI job hepsql runs in, when a launcher (mpirun,
// srun --mpi=pmix) started it: train() and tune() then run data-parallel
// across the ranks (sqlml.SetWorld) and every read_root reads the rank's
// shard. Without a launcher it is a world of one and MPI is not started;
// a build without the mpi tag refuses to run as one of several ranks.
func mpiWorld() (*mpi.World, error) {
	if _, _, ok := mpi.LauncherRank(); !ok {
		return nil, nil
	}
	w, err := mpi.Init()
	if err != nil {
		return nil, err
	}
	if w.Size() > 1 {
		sqlml.SetWorld(w)
	}
	return w, nil
}

// endMPI ends this rank's part of the job: MPI_Finalize after success;
// after a failure, the error on this rank's output (naming the rank) and
// MPI_Abort, which ends every rank at once, since the others may be
// waiting in a collective this rank will never join.
func endMPI(w *mpi.World, err error, stderr io.Writer) error {
	if w.Size() <= 1 {
		if ferr := w.Finalize(); err == nil {
			err = ferr
		}
		return err
	}
	if err == nil {
		return w.Finalize()
	}
	var located *engine.ScriptError
	if errors.As(err, &located) {
		fmt.Fprintf(stderr, "%v (rank %d of %d)\n", err, w.Rank(), w.Size())
	} else {
		fmt.Fprintf(stderr, "hepsql: rank %d of %d: %v\n", w.Rank(), w.Size(), err)
	}
	w.Abort(1, "")
	return errReported
}
