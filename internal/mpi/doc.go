// Package mpi is hepsql's binding to MPI (OpenMPI 4.1 from Debian, through
// cgo and pkg-config's mpi-c), for data-parallel training across the ranks
// of an `mpirun -np R hepsql run ...` or `srun --mpi=pmix` job: it starts
// MPI, names the process's rank and the world's size, adds up buffers
// across the ranks (MPI_Allreduce, MPI_SUM, in place) and ends the job.
// No Go MPI module is served here, and the few calls needed do not
// justify one.
//
// The binding is behind the build tag mpi: the default build has no cgo
// here and no MPI, and Init returns a world of one (Available is false).
// With the tag, a process started without a launcher is also a world of
// one (OpenMPI's singleton mode).
//
// # Memory ownership
//
//   - Buffers passed to AllReduceSum and AllReduceSum32 are Go memory
//     lent to MPI for the duration of the call only: MPI_Allreduce is
//     blocking and keeps no pointer, and the slices hold no Go pointers,
//     as cgo's rules require. Nothing is allocated in C.
//   - OpenMPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE)
//     are macros over global symbols, so the C side is a few static
//     helpers that use them; no handle crosses to Go.
//
// # Threads and faults
//
// MPI is started with MPI_THREAD_SERIALIZED (Go moves goroutines between
// threads, so FUNNELED, main thread only, cannot be kept) and every call
// holds World's mutex, so no two calls overlap.
//
// MPI_COMM_WORLD's error handler is MPI_ERRORS_RETURN: a failed call
// returns an error naming the call and MPI's message, instead of MPI
// ending the process behind Go's back. A rank that dies takes the job
// down: mpirun and srun end the other ranks when one exits without
// MPI_Finalize; a rank whose statement fails calls Abort, which ends
// every rank with the message on the failed rank's output and mpirun's
// report on the launcher's. A collective that has not returned after
// World.Timeout (a peer that hangs without dying) aborts the job too, and
// an MPI_Init_thread that has not returned after as long (ranks that
// cannot reach each other) ends the process, so nothing waits for ever. No callback from C into Go exists, so no panic
// can reach C.
package mpi
