package bench

import (
	"os/exec"
	"testing"
)

// TestRunWatchingPeak: a child's peak is its own, not this process's:
// with 300 MB held here, a small child (sleep) must report far less, which
// wait4's Maxrss does not (see rss.go).
func TestRunWatchingPeak(t *testing.T) {
	hold := make([]byte, 300<<20)
	for i := range hold {
		hold[i] = 1
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	peak, err := RunWatchingPeak(exec.Command(sleep, "0.2"))
	if err != nil {
		t.Fatal(err)
	}
	if peak <= 0 || peak > 50<<10 {
		t.Fatalf("sleep's peak: %d KiB (this process holds %d MiB)", peak, len(hold)>>20)
	}
	if self := SelfPeakKiB(); self < 300<<10 {
		t.Fatalf("this process's peak: %d KiB, holding 300 MiB", self)
	}
}
