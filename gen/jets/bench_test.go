package jets

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/rtree"
)

// cpuNow is the process's user + system time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU time per jet to a benchmark of n jets per op: on
// a shared machine it moves less than the wall time.
func reportCPU(b *testing.B, cpu0 time.Duration, n int) {
	b.ReportMetric(float64(cpuNow()-cpu0)/float64(b.N*n), "cpu-ns/jet")
}

func BenchmarkGenerateOneFile(b *testing.B) {
	const n = 20000
	dir := b.TempDir()
	cpu0 := cpuNow()
	for b.Loop() {
		if _, err := Generate(Options{Jets: n, Seed: 1, OutDir: dir}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0, n)
}

// BenchmarkWriteOnly is groot's share: jets drawn beforehand, written.
func BenchmarkWriteOnly(b *testing.B) {
	js := sample(20000, 1, false)
	dir := b.TempDir()
	wopt, err := Compression("").WriteOption("bench")
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuNow()
	for b.Loop() {
		f, err := groot.Create(filepath.Join(dir, "w.root"))
		if err != nil {
			b.Fatal(err)
		}
		var j Jet
		w, err := rtree.NewWriter(f, TreeName, j.writeVars(), wopt, rtree.WithTitle(TreeName), rtree.WithBasketSize(256<<10))
		if err != nil {
			b.Fatal(err)
		}
		for k := range js {
			j = js[k]
			if _, err := w.Write(); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0, len(js))
}
