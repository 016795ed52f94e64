package serve

import (
	"testing"

	"github.com/hepsql/hepsql/mlfuncs/nn"
)

// BenchmarkTFaaSNetwork is the kernel's side of servebench's batched
// figure: TFaaS's 42 × 128 × 128 × 128 × 64 × 64 network (two softmax
// outputs) on batches of 1,000 rows, without HTTP and JSON.
func BenchmarkTFaaSNetwork(b *testing.B) {
	m, err := nn.New(nn.Spec{Arch: "mlp", Classes: 2, HLFDim: 42, Hidden: []int{128, 128, 128, 64, 64}}, 1)
	if err != nil {
		b.Fatal(err)
	}
	p := m.NewPredictor(2)
	defer p.Close()
	const rows = 1000
	x := make([]float32, rows*42)
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	out := make([]float32, rows*2)
	b.ResetTimer()
	for range b.N {
		if err := p.PredictInto(out, [][]float32{x}, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkDecodeInfer is the server's JSON side of the same figure.
func BenchmarkDecodeInfer(b *testing.B) {
	body := []byte(`{"inputs":[{"name":"f","shape":[1000,42],"datatype":"FP32","data":[`)
	for i := range 42000 {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, "0.123456789"...)
	}
	body = append(body, "]}]}"...)
	b.SetBytes(int64(len(body)))
	for range b.N {
		if _, _, _, err := decodeInfer(body, -1, "f", 42); err != nil {
			b.Fatal(err)
		}
	}
}
