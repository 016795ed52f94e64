package ucluster

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hepsql/hepsql/mlfuncs/data"
)

// TestInputStandardisation checks InputStats against a plain mean and σ
// of the real particles, that a model with the statistics embeds as the
// same weights do on inputs standardised by hand (Δη and Δφ given one
// scale, so that the kNN graph is the same either way), and that the
// statistics survive the encoding.
func TestInputStandardisation(t *testing.T) {
	s := smallSpec()
	rng := rand.New(rand.NewPCG(7, 7))
	const rows = 9
	seq, labels := randomJets(s, rows, rng)
	P, F := s.SeqLen, s.SeqDim
	// Features off a scale of one, as log E and the pid code are.
	for i := 0; i < rows*P; i++ {
		row := seq[i*F : (i+1)*F]
		if particleValid(row) {
			row[2] = 5 + 3*row[2]
			row[3] = -40 + 0.01*row[3]
		}
	}
	src, err := data.NewMemory([][]float32{seq}, labels, []int{P * F}, 4)
	if err != nil {
		t.Fatal(err)
	}
	mean, scale, err := InputStats(context.Background(), src, P, F)
	if err != nil {
		t.Fatal(err)
	}
	for f := 0; f < F; f++ {
		var vals []float64
		for i := 0; i < rows*P; i++ {
			if row := seq[i*F : (i+1)*F]; particleValid(row) {
				vals = append(vals, float64(row[f]))
			}
		}
		mu := 0.0
		for _, v := range vals {
			mu += v
		}
		mu /= float64(len(vals))
		ss := 0.0
		for _, v := range vals {
			ss += (v - mu) * (v - mu)
		}
		sigma := math.Sqrt(ss / float64(len(vals)))
		if math.Abs(float64(mean[f])-mu) > 1e-5*math.Max(1, math.Abs(mu)) || math.Abs(float64(scale[f])*sigma-1) > 1e-4 {
			t.Errorf("feature %d: mean %v, 1/σ %v; want %v, %v", f, mean[f], scale[f], mu, 1/sigma)
		}
	}

	// One scale for Δη and Δφ: the graph is then the same on raw and
	// standardised coordinates.
	scale[1] = scale[0]
	withStats := s
	withStats.InputMean, withStats.InputScale = mean, scale
	m, err := New(withStats, 3)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := FromParams(s, append([]float32(nil), m.Params...))
	if err != nil {
		t.Fatal(err)
	}
	byHand := append([]float32(nil), seq...)
	for i := 0; i < rows*P; i++ {
		if row := byHand[i*F : (i+1)*F]; particleValid(row) {
			for f := range row {
				row[f] = (row[f] - mean[f]) * scale[f]
			}
		}
	}
	got := append([]float32(nil), m.Embed(m.NewWorkspace(), seq, rows)...)
	want := plain.Embed(plain.NewWorkspace(), byHand, rows)
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("embedding value %d: %v with the statistics, %v standardised by hand", i, got[i], want[i])
		}
	}

	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	for f := 0; f < F; f++ {
		if back.Spec.InputMean[f] != mean[f] || back.Spec.InputScale[f] != scale[f] {
			t.Fatalf("decoded statistics %v %v, want %v %v", back.Spec.InputMean, back.Spec.InputScale, mean, scale)
		}
	}
	if _, err := New(Spec{SeqDim: 4, InputMean: mean[:3], InputScale: scale}, 1); err == nil {
		t.Error("3 means for 4 features: no error")
	}
}
