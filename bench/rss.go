package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"
)

// Peak memory of a benchmark's child process.
//
// wait4's Maxrss is not it: Go starts children with vfork semantics, so
// until its exec a child runs in the parent's memory, and Linux keeps that
// memory's high-water mark as the child's. A child's Maxrss is thus at least
// the parent's peak (a parent holding 400 MB gives /bin/true a Maxrss of
// 400 MB). The child's own peak is the VmHWM of /proc/PID/status after its
// exec: a child of ours reports SelfPeakKiB as it ends; any other program
// is watched with RunWatchingPeak.

// SelfPeakKiB is this process's peak resident set (VmHWM), in KiB, or 0
// where /proc does not say.
func SelfPeakKiB() int64 { return peakKiBOf("/proc/self/status") }

func peakKiBOf(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kib); err == nil {
				return kib
			}
		}
	}
	return 0
}

// PeakWatchInterval is how often RunWatchingPeak reads the child's VmHWM.
var PeakWatchInterval = 10 * time.Millisecond

// RunWatchingPeak runs cmd (started here) and returns its peak resident
// set in KiB as /proc/PID/status last showed it before the child exited:
// VmHWM only grows, so what is missed is growth within the child's last
// PeakWatchInterval (exits free memory, they do not take it).
func RunWatchingPeak(cmd *exec.Cmd) (int64, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak int64
	tick := time.NewTicker(PeakWatchInterval)
	defer tick.Stop()
	for {
		// The first read may come before the exec, when the child still
		// shares this process's memory; the exec resets VmHWM, and the
		// maximum kept here is taken only from reads after it.
		if kib := peakKiBOf(status); kib > 0 && execDone(cmd.Process.Pid, cmd.Path) {
			peak = max(peak, kib)
		}
		select {
		case err := <-done:
			return peak, err
		case <-tick.C:
		}
	}
}

// execDone reports whether process pid runs the program at path already
// (its exec is done), as /proc/PID/exe says.
func execDone(pid int, path string) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return false
	}
	want, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	if w, err := filepath.EvalSymlinks(want); err == nil {
		want = w
	}
	return strings.TrimSuffix(exe, " (deleted)") == want
}

// StartCPUProfile writes a CPU profile of this process to path until the
// returned stop is called; path "" profiles nothing. The benchmarks' child
// runs take it as -cpuprofile, to see where one case spends its time.
func StartCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
