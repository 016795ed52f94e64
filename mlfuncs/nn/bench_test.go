package nn

import (
	"math/rand/v2"
	"testing"
)

// Kernel benchmarks; the comparison with PyTorch lives in bench/cmd/mlbench.

func BenchmarkPredictMLP(b *testing.B) {
	m, _ := New(Spec{Arch: MLP}, 1)
	const rows = 65536
	rng := rand.New(rand.NewPCG(1, 1))
	in, _ := randomInputs(m.Spec, rows, rng)
	p := m.NewPredictor(1)
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
