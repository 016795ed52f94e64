package nn

import "math"

// Adam is the Adam optimiser (Kingma & Ba) with bias correction, on a flat
// parameter vector. The zero value is not usable; use NewAdam.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	m, v                  []float32
	t                     int
	step, eps             float32 // of the current step, set by Begin
}

// NewAdam returns Adam with Keras' defaults (β1 0.9, β2 0.999, ε 1e-7) for
// n parameters.
func NewAdam(lr float64, n int) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-7, m: make([]float32, n), v: make([]float32, n)}
}

// Step applies one update of params from grad.
func (a *Adam) Step(params, grad []float32) {
	a.Begin()
	a.Update(params, grad, 0, len(params))
}

// Begin starts a step; Update then applies it to ranges of the parameters,
// so that workers can update disjoint ranges in parallel. Every parameter
// is updated on its own, so the result does not depend on the ranges.
func (a *Adam) Begin() {
	a.t++
	c1 := 1 - math.Pow(a.Beta1, float64(a.t))
	c2 := 1 - math.Pow(a.Beta2, float64(a.t))
	// lr·m̂/(√v̂+ε) folded into one step size, as the paper's efficient form.
	a.step = float32(a.LR * math.Sqrt(c2) / c1)
	a.eps = float32(a.Eps * math.Sqrt(c2))
}

// Update applies the step begun by Begin to params[lo:hi].
func (a *Adam) Update(params, grad []float32, lo, hi int) {
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	step, eps := a.step, a.eps
	p, g := params[lo:hi], grad[lo:hi]
	m, v := a.m[lo:hi], a.v[lo:hi]
	m, v, g = m[:len(p)], v[:len(p)], g[:len(p)]
	for i, gi := range g {
		mi := b1*m[i] + (1-b1)*gi
		vi := b2*v[i] + (1-b2)*gi*gi
		m[i], v[i] = mi, vi
		p[i] -= step * mi / (float32(math.Sqrt(float64(vi))) + eps)
	}
}
