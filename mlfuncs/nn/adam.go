package nn

import "math"

// Adam is the Adam optimiser (Kingma & Ba) with bias correction, on a flat
// parameter vector. The zero value is not usable; use NewAdam.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	m, v                  []float32
	t                     int
}

// NewAdam returns Adam with Keras' defaults (β1 0.9, β2 0.999, ε 1e-7) for
// n parameters.
func NewAdam(lr float64, n int) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-7, m: make([]float32, n), v: make([]float32, n)}
}

// Step applies one update of params from grad.
func (a *Adam) Step(params, grad []float32) {
	a.t++
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	c1 := 1 - math.Pow(a.Beta1, float64(a.t))
	c2 := 1 - math.Pow(a.Beta2, float64(a.t))
	// lr·m̂/(√v̂+ε) folded into one step size, as the paper's efficient form.
	step := float32(a.LR * math.Sqrt(c2) / c1)
	eps := float32(a.Eps * math.Sqrt(c2))
	m, v := a.m[:len(params)], a.v[:len(params)]
	grad = grad[:len(params)]
	for i, g := range grad {
		mi := b1*m[i] + (1-b1)*g
		vi := b2*v[i] + (1-b2)*g*g
		m[i], v[i] = mi, vi
		params[i] -= step * mi / (float32(math.Sqrt(float64(vi))) + eps)
	}
}
