package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Model is a network: its architecture and its weights, all in one flat
// float32 vector so that optimisers and the gradient all-reduce are plain
// loops over one slice.
type Model struct {
	Spec   Spec
	Params []float32
	lay    layout
}

// New builds a network with freshly initialised weights: Glorot-uniform
// kernels (as Keras does) and zero biases, drawn from seed.
func New(spec Spec, seed uint64) (*Model, error) {
	s, err := spec.Normalize()
	if err != nil {
		return nil, err
	}
	m := &Model{Spec: s, lay: s.layout()}
	m.Params = make([]float32, m.lay.total)
	rng := rand.New(rand.NewPCG(seed, 0x6e6e2d696e6974)) // "nn-init"
	glorot := func(t tensor) {
		lim := math.Sqrt(6 / float64(t.rows+t.cols))
		w := m.Params[t.off : t.off+t.size()]
		for i := range w {
			w[i] = float32((2*rng.Float64() - 1) * lim)
		}
	}
	if s.hasGRU() {
		// The three gates are initialised as three separate kernels, each
		// of fan-out H, as the frameworks do.
		for _, t := range []tensor{m.lay.gruWx, m.lay.gruUh} {
			lim := math.Sqrt(6 / float64(t.rows+s.GRUUnits))
			w := m.Params[t.off : t.off+t.size()]
			for i := range w {
				w[i] = float32((2*rng.Float64() - 1) * lim)
			}
		}
	}
	for _, t := range m.lay.denseW {
		glorot(t)
	}
	return m, nil
}

// fromParams wraps existing weights; used by decoding.
func fromParams(spec Spec, params []float32) (*Model, error) {
	s, err := spec.Normalize()
	if err != nil {
		return nil, err
	}
	m := &Model{Spec: s, lay: s.layout()}
	if len(params) != m.lay.total {
		return nil, fmt.Errorf("nn: %s model needs %d weights, got %d", s.Arch, m.lay.total, len(params))
	}
	m.Params = params
	return m, nil
}

// Clone returns a deep copy.
func (m *Model) Clone() *Model {
	c := *m
	c.Spec.Hidden = append([]int{}, m.Spec.Hidden...)
	c.Params = append([]float32{}, m.Params...)
	return &c
}

// ParamNames lists the weight tensors with their offsets and shapes, for
// diagnostics and tests.
func (m *Model) ParamNames() []string {
	var out []string
	add := func(t tensor) {
		out = append(out, fmt.Sprintf("%s[%d×%d]@%d", t.name, t.rows, t.cols, t.off))
	}
	if m.Spec.hasGRU() {
		add(m.lay.gruWx)
		add(m.lay.gruUh)
		add(m.lay.gruBx)
		add(m.lay.gruBh)
	}
	for i := range m.lay.denseW {
		add(m.lay.denseW[i])
		add(m.lay.denseB[i])
	}
	return out
}

// DenseWeights gives layer i's kernel (in×out, row-major) and bias as views
// into Params; the gorgonia cross-check uses them.
func (m *Model) DenseWeights(i int) (w []float32, in, out int, b []float32) {
	t, tb := m.lay.denseW[i], m.lay.denseB[i]
	return m.Params[t.off : t.off+t.size()], t.rows, t.cols, m.Params[tb.off : tb.off+tb.size()]
}

// NumDense is the number of dense layers, the output layer included.
func (m *Model) NumDense() int { return len(m.lay.denseW) }

// GRUWeights gives the GRU's weights as views into Params: wx [F × 3H]
// and uh [H × 3H] row-major, gates side by side as [z | r | n], and the
// input and recurrent biases bx, bh [3H]; ok is false for a network
// without a GRU. The ONNX export reads them.
func (m *Model) GRUWeights() (wx, uh, bx, bh []float32, ok bool) {
	if !m.Spec.hasGRU() {
		return nil, nil, nil, nil, false
	}
	l, p := m.lay, m.Params
	view := func(t tensor) []float32 { return p[t.off : t.off+t.size()] }
	return view(l.gruWx), view(l.gruUh), view(l.gruBx), view(l.gruBh), true
}
