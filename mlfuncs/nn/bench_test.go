package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// Kernel benchmarks; the comparison with PyTorch lives in bench/cmd/mlbench.

func BenchmarkPredictMLP(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) { benchPredict(b, threads) })
	}
}

// benchPredict runs 2^20 rows, the size of mlbench's inference test, so that
// the per-call fan-out is amortised as it is there.
func benchPredict(b *testing.B, threads int) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	m, _ := New(Spec{Arch: MLP}, 1)
	const rows = 1 << 20
	rng := rand.New(rand.NewPCG(1, 1))
	in, _ := randomInputs(m.Spec, rows, rng)
	p := m.NewPredictor(threads)
	defer p.Close()
	out := make([]float32, rows*3)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.PredictInto(out, in, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
}

func benchStep(b *testing.B, spec Spec, rows int) {
	m, _ := New(spec, 1)
	rng := rand.New(rand.NewPCG(1, 1))
	in, labels := randomInputs(m.Spec, rows, rng)
	ws := m.NewWorkspace()
	grad := make([]float32, len(m.Params))
	b.ReportAllocs()
	for b.Loop() {
		m.Forward(ws, in, rows, true, rng)
		m.Backward(ws, labels, 1/float32(rows), grad)
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkStepMLP128(b *testing.B) { benchStep(b, Spec{Arch: MLP}, 128) }

func BenchmarkStepInclusive128(b *testing.B) {
	benchStep(b, Spec{Arch: Inclusive, SeqLen: 801}, 128)
}

// BenchmarkTFaaSChunk splits one thread's share of servebench's batched
// case (TFaaS's 42×128×128×128×64×64×2 network, a 512-row chunk) into the
// whole of infer and its matrix products alone, so that what infer costs
// beyond the sgemm kernel shows: the bias fill, ReLU, the input's
// transpose and the softmax.
func BenchmarkTFaaSChunk(b *testing.B) {
	m, err := New(Spec{Arch: MLP, Classes: 2, HLFDim: 42, Hidden: []int{128, 128, 128, 64, 64}}, 1)
	if err != nil {
		b.Fatal(err)
	}
	const rows = predictChunk
	rng := rand.New(rand.NewPCG(1, 1))
	in, _ := randomInputs(m.Spec, rows, rng)
	ws := m.NewWorkspace()
	b.Run("infer", func(b *testing.B) {
		for b.Loop() {
			m.infer(ws, in, rows)
		}
		b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("gemm-only", func(b *testing.B) {
		m.infer(ws, in, rows) // sizes the activations
		for b.Loop() {
			x := ws.acts[0]
			for i, tw := range m.lay.denseW {
				out := ws.acts[i+1]
				gemmTN(tw.cols, rows, tw.rows, m.Params[tw.off:tw.off+tw.size()], tw.cols, x, rows, 1, out, rows)
				x = out
			}
		}
		b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
