package train

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/synth"
)

// One epoch at 1 and 2 threads, on mlbench's shapes, so that the
// data-parallel speed-up can be profiled without the peers.

func BenchmarkEpochMLP(b *testing.B) {
	set := synth.Generate(synth.Options{Rows: 50000, Seed: 1})
	benchEpoch(b, nn.Spec{Arch: nn.MLP}, set, false)
}

func BenchmarkEpochInclusive(b *testing.B) {
	set := synth.Generate(synth.Options{Rows: 1024, Seed: 4, SeqLen: 801, MeanLen: 100})
	benchEpoch(b, nn.Spec{Arch: nn.Inclusive}, set, true)
}

func benchEpoch(b *testing.B, spec nn.Spec, set *synth.Set, seq bool) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
			var sec float64
			for b.Loop() {
				res, err := Train(context.Background(), spec, set.Source(true, seq, 2048), Options{Epochs: 1, Seed: 1, Threads: threads})
				if err != nil {
					b.Fatal(err)
				}
				sec += res.Epochs[0].Seconds
			}
			// The epoch's own time, as mlbench reports it: the input check
			// and set-up before it are serial and not part of the bar.
			b.ReportMetric(sec/float64(b.N), "s/epoch")
		})
	}
}
