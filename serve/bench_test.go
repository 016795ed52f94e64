package serve

import (
	"bytes"
	"math"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hepsql/hepsql"

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

// BenchmarkInferBinary is servebench's batched binary case without the
// network stack: POST /v2/models/tfaas/infer of 1,000 rows × 42 FP32 in
// the binary tensor extension, answered in binary, through the Server's
// handler (decoding, the batcher, the network, the answer).
func BenchmarkInferBinary(b *testing.B) {
	db, err := hepsql.Open(filepath.Join(b.TempDir(), "models.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE d AS SELECT (i % 2)::INTEGER AS label,
		[sin(i * 0.013 * (j + 1) + j) FOR j IN range(42)]::DOUBLE[] AS f FROM range(2000) t(i)`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`SELECT count(*) FROM train('tfaas', 'SELECT label, f FROM d', hidden := [128, 128, 128, 64, 64], epochs := 1)`); err != nil {
		b.Fatal(err)
	}
	srv := New(db, Options{})
	defer srv.Close()
	const rows = 1000
	xs := make([][]float64, rows)
	for i := range xs {
		xs[i] = make([]float64, 42)
		for j := range xs[i] {
			xs[i][j] = math.Sin(float64(i*42+j) * 0.01)
		}
	}
	body, n := binaryBody("FP32", xs, true)
	hl := strconv.Itoa(n)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest("POST", "/v2/models/tfaas/infer", bytes.NewReader(body))
		req.Header.Set(binaryHeader, hl)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body.Bytes())
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
