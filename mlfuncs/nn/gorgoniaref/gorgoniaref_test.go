package gorgoniaref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hepsql/hepsql/mlfuncs/nn"
)

// TestGradientsMatchGorgonia checks nn's hand-written dense kernels against
// gorgonia's automatic differentiation of the same network and batch.
func TestGradientsMatchGorgonia(t *testing.T) {
	m, err := nn.New(nn.Spec{Arch: nn.MLP}, 42)
	if err != nil {
		t.Fatal(err)
	}
	const rows = 64
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, rows*14)
	for i := range x {
		x[i] = rng.Float32()
	}
	labels := make([]int32, rows)
	for i := range labels {
		labels[i] = int32(rng.IntN(3))
	}
	ref, err := NewMLP(m, rows)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	wantLoss, want, err := ref.LossGrad(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	ws := m.NewWorkspace()
	got := make([]float32, len(m.Params))
	m.Forward(ws, [][]float32{x}, rows, true, nil)
	loss := m.Backward(ws, labels, 1, got)
	if math.Abs(loss-wantLoss) > 1e-4*math.Abs(wantLoss) {
		t.Errorf("loss %g, gorgonia %g", loss, wantLoss)
	}
	if len(got) != len(want) {
		t.Fatalf("%d gradients, gorgonia %d", len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-4+1e-3*math.Abs(float64(want[i])) {
			t.Errorf("weight %d: nn %g, gorgonia %g", i, got[i], want[i])
		}
	}
}
