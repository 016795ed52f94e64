package nn

import (
	"math"

	"github.com/hepsql/hepsql/mlfuncs/nn/internal/adamk"
)

// Adam is the Adam optimiser (Kingma & Ba) with bias correction, on a flat
// parameter vector. The zero value is not usable; use NewAdam.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	m, v                  []float32
	t                     int
	c                     adamk.Consts // of the current step, set by Begin
}

// NewAdam returns Adam with Keras' defaults (β1 0.9, β2 0.999, ε 1e-7) for
// n parameters.
func NewAdam(lr float64, n int) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-7, m: make([]float32, n), v: make([]float32, n)}
}

// Step applies one update of params from grad.
func (a *Adam) Step(params, grad []float32) {
	a.Begin()
	a.UpdateSum(params, grad, nil)
}

// Begin starts a step, which UpdateSum then applies: the trainer's workers
// each apply it to their own copy of the weights.
func (a *Adam) Begin() {
	a.t++
	c1 := 1 - math.Pow(a.Beta1, float64(a.t))
	c2 := 1 - math.Pow(a.Beta2, float64(a.t))
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	a.c = adamk.Consts{
		B1: b1, C1: 1 - b1, B2: b2, C2: 1 - b2,
		// lr·m̂/(√v̂+ε) folded into one step size, as the paper's efficient form.
		Step: float32(a.LR * math.Sqrt(c2) / c1),
		Eps:  float32(a.Eps * math.Sqrt(c2)),
	}
}

// UpdateSum applies the step begun by Begin to all of params, with the
// gradient ga, or ga + gb summed element by element as it goes when gb is
// not nil.
func (a *Adam) UpdateSum(params, ga, gb []float32) {
	adamk.Update(params, a.m, a.v, ga, gb, &a.c)
}
