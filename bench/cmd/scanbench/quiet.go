package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Other processes on the machine disturb the timings: before every run the
// parent waits, up to quietWait, until they use less than quietCores cores
// (measured from /proc/stat while the parent itself idles).
const (
	quietCores = 0.25
	quietWait  = 60 * time.Second
)

// cpuTicks returns the busy and total jiffies of all CPUs.
func cpuTicks() (busy, total int64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, f := range fields[1:] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		if i >= 8 { // guest time is already counted in user time
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, true
}

// otherLoad returns how many cores other processes kept busy over d.
func otherLoad(d time.Duration) (float64, bool) {
	b0, t0, ok0 := cpuTicks()
	time.Sleep(d)
	b1, t1, ok1 := cpuTicks()
	if !ok0 || !ok1 || t1 <= t0 {
		return 0, false
	}
	return float64(b1-b0) / float64(t1-t0) * float64(runtime.NumCPU()), true
}

// waitQuiet waits until the machine is quiet and says whether it is.
func waitQuiet() bool {
	deadline := time.Now().Add(quietWait)
	warned := false
	for {
		load, ok := otherLoad(250 * time.Millisecond)
		if !ok || load < quietCores {
			return true
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "scanbench: other processes still use %.1f cores; running anyway\n", load)
			return false
		}
		if !warned {
			fmt.Fprintf(os.Stderr, "scanbench: other processes use %.1f cores; waiting up to %s\n", load, quietWait)
			warned = true
		}
	}
}

// loadAverage returns the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
