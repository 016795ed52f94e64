package nn

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// smallSpecs are the three architectures at sizes where finite differences
// over every weight are cheap.
func smallSpecs() []Spec {
	return []Spec{
		{Arch: MLP, HLFDim: 4, Hidden: []int{5, 3}, Classes: 3},
		{Arch: GRU, SeqLen: 7, SeqDim: 3, GRUUnits: 4, Classes: 3, Dropout: 0},
		{Arch: Inclusive, HLFDim: 3, SeqLen: 6, SeqDim: 2, GRUUnits: 3, Hidden: []int{4}, Classes: 3, Dropout: 0},
	}
}

// randomInputs draws rows of inputs; sequence rows get padding (all-zero
// steps) in the middle and at the end, and row 1 is all padding.
func randomInputs(s Spec, rows int, rng *rand.Rand) ([][]float32, []int32) {
	var in [][]float32
	if s.hasHLF() {
		x := make([]float32, rows*s.HLFDim)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		in = append(in, x)
	}
	if s.hasGRU() {
		T, F := s.SeqLen, s.SeqDim
		x := make([]float32, rows*T*F)
		for r := 0; r < rows; r++ {
			if r == 1 {
				continue
			}
			for t := 0; t < T; t++ {
				if rng.IntN(3) == 0 {
					continue // a padding step
				}
				for f := 0; f < F; f++ {
					x[(r*T+t)*F+f] = float32(rng.NormFloat64())
				}
			}
		}
		in = append(in, x)
	}
	labels := make([]int32, rows)
	for r := range labels {
		labels[r] = int32(rng.IntN(s.Classes))
	}
	return in, labels
}

func TestParamCounts(t *testing.T) {
	for _, c := range []struct {
		arch string
		want int
	}{{MLP, 2013}, {Inclusive, 12353}, {GRU, 3*(19*50+50*50+100) + 50*3 + 3}} {
		m, err := New(Spec{Arch: c.arch}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(m.Params); got != c.want {
			t.Errorf("%s: %d weights, want %d (%v)", c.arch, got, c.want, m.ParamNames())
		}
	}
}

func TestGradientsFiniteDifferences(t *testing.T) {
	for _, spec := range smallSpecs() {
		t.Run(spec.Arch, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			m, err := New(spec, 3)
			if err != nil {
				t.Fatal(err)
			}
			// Non-zero biases so that every bias gradient is exercised.
			for i := range m.Params {
				m.Params[i] += float32(0.1 * rng.NormFloat64())
			}
			const rows = 6
			in, labels := randomInputs(m.Spec, rows, rng)
			ws := m.NewWorkspace()
			grad := make([]float32, len(m.Params))
			m.Forward(ws, in, rows, true, nil)
			m.Backward(ws, labels, 1, grad)

			lossAt := func() float64 {
				m.Forward(ws, in, rows, false, nil)
				return m.Loss(ws, labels)
			}
			// Small enough that no ReLU pre-activation crosses zero, large
			// enough to stay above float32 rounding of the loss.
			const eps = 1e-3
			bad := 0
			for i := range m.Params {
				orig := m.Params[i]
				m.Params[i] = orig + eps
				lp := lossAt()
				m.Params[i] = orig - eps
				lm := lossAt()
				m.Params[i] = orig
				num := (lp - lm) / (2 * eps)
				if d := math.Abs(num - float64(grad[i])); d > 2e-3+2e-2*math.Abs(num) {
					bad++
					if bad < 10 {
						t.Errorf("weight %d: analytic %.6f, finite difference %.6f", i, grad[i], num)
					}
				}
			}
		})
	}
}

// gruReference runs one row's GRU in float64 straight from the equations,
// skipping all-zero steps.
func gruReference(m *Model, seq []float32) []float64 {
	s, l, p := m.Spec, m.lay, m.Params
	H, F := s.GRUUnits, s.SeqDim
	H3 := 3 * H
	at := func(t tensor, i, j int) float64 { return float64(p[t.off+i*t.cols+j]) }
	h := make([]float64, H)
	for t := 0; t < s.SeqLen; t++ {
		x := seq[t*F : t*F+F]
		pad := true
		for _, v := range x {
			pad = pad && v == 0
		}
		if pad {
			continue
		}
		gx := make([]float64, H3)
		gh := make([]float64, H3)
		for j := 0; j < H3; j++ {
			gx[j] = at(l.gruBx, 0, j)
			gh[j] = at(l.gruBh, 0, j)
			for f := 0; f < F; f++ {
				gx[j] += float64(x[f]) * at(l.gruWx, f, j)
			}
			for k := 0; k < H; k++ {
				gh[j] += h[k] * at(l.gruUh, k, j)
			}
		}
		next := make([]float64, H)
		for j := 0; j < H; j++ {
			z := 1 / (1 + math.Exp(-(gx[j] + gh[j])))
			r := 1 / (1 + math.Exp(-(gx[H+j] + gh[H+j])))
			n := math.Tanh(gx[2*H+j] + r*gh[2*H+j])
			next[j] = (1-z)*n + z*h[j]
		}
		h = next
	}
	return h
}

func TestGRUMaskingMatchesReference(t *testing.T) {
	spec := Spec{Arch: GRU, SeqLen: 9, SeqDim: 3, GRUUnits: 5, Classes: 3}
	m, err := New(spec, 11)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const rows = 12
	in, _ := randomInputs(m.Spec, rows, rng)
	ws := m.NewWorkspace()
	m.Forward(ws, in, rows, false, nil)
	T, F, H := spec.SeqLen, spec.SeqDim, spec.GRUUnits
	for r := 0; r < rows; r++ {
		want := gruReference(m, in[0][r*T*F:(r+1)*T*F])
		for j := 0; j < H; j++ {
			if d := math.Abs(float64(ws.gru.out[r*H+j]) - want[j]); d > 1e-5 {
				t.Fatalf("row %d unit %d: GRU %g, reference %g", r, j, ws.gru.out[r*H+j], want[j])
			}
		}
	}
	// Moving the padding (to the end, or spread out) changes nothing: the
	// probabilities of row 0 with its active steps compacted to the front.
	p0 := append([]float32{}, m.Forward(ws, [][]float32{in[0][:T*F]}, 1, false, nil)...)
	packed := make([]float32, T*F)
	k := 0
	for t := 0; t < T; t++ {
		x := in[0][t*F : t*F+F]
		if x[0] != 0 || x[1] != 0 || x[2] != 0 {
			copy(packed[k*F:], x)
			k++
		}
	}
	p1 := m.Forward(ws, [][]float32{packed}, 1, false, nil)
	for j := range p0 {
		if p0[j] != p1[j] {
			t.Fatalf("padding position changed the output: %v vs %v", p0, p1)
		}
	}
}

func TestForwardMatchesAcrossBatchSizes(t *testing.T) {
	// A row's probabilities must not depend on which rows share its batch
	// (the GRU sorts and packs rows per batch).
	for _, spec := range smallSpecs() {
		m, _ := New(spec, 5)
		rng := rand.New(rand.NewPCG(3, 4))
		const rows = 10
		in, _ := randomInputs(m.Spec, rows, rng)
		ws := m.NewWorkspace()
		all := append([]float32{}, m.Forward(ws, in, rows, false, nil)...)
		dims := m.Spec.InputDims()
		C := m.Spec.Classes
		for r := 0; r < rows; r++ {
			sub := make([][]float32, len(in))
			for i, d := range dims {
				sub[i] = in[i][r*d : r*d+d]
			}
			one := m.Forward(ws, sub, 1, false, nil)
			for j := 0; j < C; j++ {
				if d := math.Abs(float64(one[j] - all[r*C+j])); d > 1e-6 {
					t.Fatalf("%s row %d: alone %v, in batch %v", spec.Arch, r, one, all[r*C:r*C+C])
				}
			}
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, spec := range append(smallSpecs(), Spec{Arch: Inclusive}) {
		m, _ := New(spec, 9)
		data, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		in, _ := randomInputs(m.Spec, 20, rng)
		p0, _ := m.Predict(in, 20, 1)
		p1, _ := back.Predict(in, 20, 2)
		for r := range p0 {
			for j := range p0[r] {
				if math.Float32bits(p0[r][j]) != math.Float32bits(p1[r][j]) {
					t.Fatalf("%s: row %d differs after round trip: %v vs %v", spec.Arch, r, p0[r], p1[r])
				}
			}
		}
		again, _ := back.MarshalBinary()
		if !bytes.Equal(data, again) {
			t.Fatalf("%s: re-encoding differs", spec.Arch)
		}
		data[len(data)/2] ^= 1
		if _, err := Unmarshal(data); err == nil {
			t.Fatalf("%s: flipped bit not detected", spec.Arch)
		}
	}
}

func TestSpecErrors(t *testing.T) {
	for _, s := range []Spec{{Arch: "lstm"}, {}, {Arch: MLP, Classes: 1}, {Arch: MLP, Hidden: []int{0}}, {Arch: GRU, Dropout: 1}} {
		if _, err := New(s, 1); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
	m, _ := New(Spec{Arch: Inclusive}, 1)
	if err := m.Spec.CheckInputs([][]float32{make([]float32, 14)}, 1); err == nil {
		t.Error("missing sequence input not reported")
	}
}

// The predictor's feature-major inference gives Forward's probabilities,
// up to float32 rounding (the sums run in another order), for every
// architecture and for row counts that leave a partial chunk.
func TestInferMatchesForward(t *testing.T) {
	for _, spec := range append(smallSpecs(), Spec{Arch: MLP}, Spec{Arch: Inclusive, SeqLen: 40}) {
		m, _ := New(spec, 13)
		for i := range m.Params {
			m.Params[i] += 0.01 * float32(i%7-3) // non-zero biases
		}
		rng := rand.New(rand.NewPCG(8, 9))
		const rows = 2*predictChunk + 37
		in, _ := randomInputs(m.Spec, rows, rng)
		want := append([]float32{}, m.Forward(m.NewWorkspace(), in, rows, false, nil)...)
		got, err := m.Predict(in, rows, 1)
		if err != nil {
			t.Fatal(err)
		}
		C := m.Spec.Classes
		for r := range got {
			for j, v := range got[r] {
				if d := math.Abs(float64(v - want[r*C+j])); d > 2e-6 {
					t.Fatalf("%s row %d: infer %v, Forward %v", spec.Arch, r, got[r], want[r*C:r*C+C])
				}
			}
		}
	}
}

// A predictor's team, a single thread and concurrent callers (which run
// beside the team on their own goroutines) give the same bits.
func TestPredictorThreadsAgree(t *testing.T) {
	m, _ := New(Spec{Arch: MLP}, 3)
	rng := rand.New(rand.NewPCG(1, 7))
	const rows = 5*predictChunk + 11
	in, _ := randomInputs(m.Spec, rows, rng)
	want, _ := m.Predict(in, rows, 1)
	p := m.NewPredictor(3)
	defer p.Close()
	var wg sync.WaitGroup
	errs := make([]string, 4)
	for g := range errs {
		wg.Go(func() {
			for range 20 {
				got, err := p.Predict(in, rows)
				if err != nil {
					errs[g] = err.Error()
					return
				}
				for r := range got {
					for j, v := range got[r] {
						if math.Float32bits(v) != math.Float32bits(want[r][j]) {
							errs[g] = fmt.Sprintf("row %d: %v, want %v", r, got[r], want[r])
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	for g, e := range errs {
		if e != "" {
			t.Errorf("caller %d: %s", g, e)
		}
	}
	p.Close()
	if got, err := p.Predict(in, rows); err != nil || got[rows-1][0] != want[rows-1][0] {
		t.Errorf("after Close: %v, %v", err, got[rows-1])
	}
}
