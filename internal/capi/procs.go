package capi

import (
	"runtime"
	"sync"
)

// DuckDB's threads run hepsql's Go code (table scans' Fill, scalar and
// aggregate functions) as cgo callbacks, and a callback needs one of Go's
// Ps while it runs. A thread that returns to C leaves its P parked on it,
// in the state of a thread in a system call, and another thread can take
// that P only once the runtime's monitor retakes it (after 20 µs to 10 ms).
// With Go's default of one P per core and DuckDB's default of one thread per
// core, a callback often finds no free P and its thread sleeps: on the
// 2-core CI machine, a 2-thread Jet_pt histogram over 100 files made ~7,000
// context switches and used ~800 ms of CPU for six runs with 2 Ps, and
// ~1,700 and ~630 ms with 4 (`perf stat` on bench/cmd/sqltime). So a
// database raises GOMAXPROCS to its DuckDB threads plus two: a P for each
// thread to park, one for the goroutine waiting on the query and one for
// the runtime's own work (the garbage collector). It is never lowered.

var (
	procsMu sync.Mutex
	// cores is GOMAXPROCS as the process started (the CPU quota, or the
	// GOMAXPROCS variable): the parallelism of Go's own work.
	cores = runtime.GOMAXPROCS(0)
)

// Cores is the number of CPUs Go work should be spread over (trainers,
// batched inference): GOMAXPROCS before any database raised it.
func Cores() int { return cores }

// ReserveCallbackProcs raises GOMAXPROCS so that duckThreads DuckDB threads
// calling into Go at once do not wait for a P.
func ReserveCallbackProcs(duckThreads int) {
	procsMu.Lock()
	defer procsMu.Unlock()
	if want := max(duckThreads, 1) + 2; runtime.GOMAXPROCS(0) < want {
		runtime.GOMAXPROCS(want)
	}
}
