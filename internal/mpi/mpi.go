//go:build mpi

package mpi

/*
#cgo pkg-config: mpi-c
#include <stdlib.h>
#include <mpi.h>

static int hepsqlMPIInit(int *provided) {
	int done = 0;
	MPI_Initialized(&done);
	if (done) {
		MPI_Query_thread(provided);
		return MPI_SUCCESS;
	}
	int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static int hepsqlMPIRankSize(int *rank, int *size) {
	int rc = MPI_Comm_rank(MPI_COMM_WORLD, rank);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_size(MPI_COMM_WORLD, size);
}
static int hepsqlMPISum64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static int hepsqlMPISum32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int hepsqlMPIBarrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static void hepsqlMPIAbort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static int hepsqlMPIFinalize(void) {
	int done = 0;
	MPI_Finalized(&done);
	return done ? MPI_SUCCESS : MPI_Finalize();
}
static void hepsqlMPIError(int rc, char *out, int cap) {
	int n = 0;
	if (cap < MPI_MAX_ERROR_STRING || MPI_Error_string(rc, out, &n) != MPI_SUCCESS) n = 0;
	out[n] = 0;
}
static int hepsqlMPIMaxError(void) { return MPI_MAX_ERROR_STRING + 1; }
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"
)

// Available reports whether this build has the MPI binding.
const Available = true

// Init starts MPI (once: a second call returns the same world) and
// returns the world. Under no launcher it is a world of one.
func Init() (*World, error) {
	once.Do(func() {
		// MPI_Init_thread is made from a locked thread, which OpenMPI
		// records as the main one; later calls may come from any thread
		// (SERIALIZED, under the World's mutex).
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		// A wire-up that cannot reach the other ranks may never return:
		// bound it, ending the process (the launcher then ends the job).
		timeout := defaultTimeout()
		if timeout > 0 {
			t := time.AfterFunc(timeout, func() {
				fmt.Fprintf(os.Stderr, "hepsql: MPI_Init_thread has not returned after %v (can the ranks reach each other?); exiting\n", timeout)
				os.Exit(3)
			})
			defer t.Stop()
		}
		var provided C.int
		if rc := C.hepsqlMPIInit(&provided); rc != C.MPI_SUCCESS {
			initErr = mpiError("MPI_Init_thread", rc)
			return
		}
		if provided < C.MPI_THREAD_SERIALIZED {
			initErr = fmt.Errorf("mpi: the MPI library gives thread level %d, below MPI_THREAD_SERIALIZED", int(provided))
			return
		}
		var rank, size C.int
		if rc := C.hepsqlMPIRankSize(&rank, &size); rc != C.MPI_SUCCESS {
			initErr = mpiError("MPI_Comm_rank/size", rc)
			return
		}
		world = &World{rank: int(rank), size: int(size), Timeout: defaultTimeout()}
	})
	return world, initErr
}

func mpiError(call string, rc C.int) error {
	buf := make([]byte, int(C.hepsqlMPIMaxError()))
	C.hepsqlMPIError(rc, (*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf)))
	msg := C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
	return fmt.Errorf("mpi: %s failed (code %d): %s", call, int(rc), msg)
}

// AllReduceSum replaces buf, on every rank, by the sum of all ranks' bufs.
func (w *World) AllReduceSum(buf []float64) error {
	if w == nil || w.size <= 1 || len(buf) == 0 {
		return nil
	}
	return w.call("MPI_Allreduce", func() C.int {
		return C.hepsqlMPISum64((*C.double)(unsafe.Pointer(&buf[0])), C.int(len(buf)))
	})
}

// AllReduceSum32 is AllReduceSum for float32 buffers.
func (w *World) AllReduceSum32(buf []float32) error {
	if w == nil || w.size <= 1 || len(buf) == 0 {
		return nil
	}
	return w.call("MPI_Allreduce", func() C.int {
		return C.hepsqlMPISum32((*C.float)(unsafe.Pointer(&buf[0])), C.int(len(buf)))
	})
}

// Barrier waits for every rank.
func (w *World) Barrier() error {
	if w == nil || w.size <= 1 {
		return nil
	}
	return w.call("MPI_Barrier", func() C.int { return C.hepsqlMPIBarrier() })
}

// call runs one collective under the mutex, with the watchdog that
// aborts the job if it has not returned after w.Timeout.
func (w *World) call(name string, f func() C.int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return fmt.Errorf("mpi: %s after Finalize", name)
	}
	if w.Timeout > 0 {
		t := time.AfterFunc(w.Timeout, func() {
			fmt.Fprintf(os.Stderr, "hepsql: rank %d of %d: %s has waited %v for the other ranks; aborting the MPI job\n", w.rank, w.size, name, w.Timeout)
			C.hepsqlMPIAbort(3)
		})
		defer t.Stop()
	}
	if rc := f(); rc != C.MPI_SUCCESS {
		return fmt.Errorf("rank %d of %d: %w", w.rank, w.size, mpiError(name, rc))
	}
	return nil
}

// Abort ends every rank of the job with code, after writing msg (if not
// empty) to this rank's standard error. It does not return.
func (w *World) Abort(code int, msg string) {
	if msg != "" {
		fmt.Fprintf(os.Stderr, "hepsql: rank %d of %d: %s; aborting the MPI job\n", w.Rank(), w.Size(), msg)
	}
	C.hepsqlMPIAbort(C.int(code))
	os.Exit(code)
}

// Finalize ends MPI on this rank; every rank must call it before exiting
// normally. Later collectives return an error.
func (w *World) Finalize() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	if rc := C.hepsqlMPIFinalize(); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Finalize", rc)
	}
	return nil
}
