package xrootd

import (
	"testing"

	"github.com/hepsql/hepsql/internal/testfiles"
)

// TestGoHepClientVersion pins the guard (guard.go) to the go-hep client it
// was written around. The behaviours it works around cannot be tested
// safely without it (a panic in go-hep's reader goroutine ends the test
// process), so an upgrade must re-check them in go-hep's source.
func TestGoHepClientVersion(t *testing.T) {
	if v := testfiles.ModuleVersion(t, "go-hep.org/x/hep"); v != goHepClientVersion {
		t.Fatalf("go-hep is %s in this build; rootscan/xrootd's guard was written for %s's client.\n"+
			"Upgrading go-hep? Re-check in xrootd/session.go and mux: whether handleReadError still panics on a failed connection of a live session,\n"+
			"whether a cancelled or failed request still keeps its stream registered (so Close blocks), whether a second response to a stream still panics,\n"+
			"and how kXR_bind data connections are dialled; then run this package's tests (TestFaults, TestStalledServer, TestServerGoneWhileIdle,\n"+
			"TestCancelMidChainReleasesEverything) and set goHepClientVersion.", v, goHepClientVersion)
	}
}
