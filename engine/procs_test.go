package engine

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/hepsql/hepsql/internal/capi"
)

// TestCallbackProcs: a database with N DuckDB threads leaves GOMAXPROCS at
// N+2 at least, so that its threads' callbacks into Go find a free P, and
// Cores (the default parallelism of Go work) is unchanged by it.
func TestCallbackProcs(t *testing.T) {
	cores := capi.Cores()
	threads := runtime.GOMAXPROCS(0) + 3
	c, err := NewConnector(fmt.Sprintf("?threads=%d", threads), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := runtime.GOMAXPROCS(0); got < threads+2 {
		t.Errorf("GOMAXPROCS %d with %d DuckDB threads, want at least %d", got, threads, threads+2)
	}
	if capi.Cores() != cores {
		t.Errorf("Cores changed from %d to %d", cores, capi.Cores())
	}
	if got := duckThreads("x.db?worker_threads=7"); got != 7 {
		t.Errorf("worker_threads=7: %d threads", got)
	}
	if got := duckThreads("x.db"); got != runtime.NumCPU() {
		t.Errorf("no setting: %d threads, want NumCPU %d", got, runtime.NumCPU())
	}
}
