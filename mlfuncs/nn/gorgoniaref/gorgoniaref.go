// Package gorgoniaref builds hepsql's dense classifier as a gorgonia graph.
// It is the independent cross-check of package nn's hand-written gradients
// and the gorgonia entry of the training benchmark: the project's design
// names gorgonia as the trainer, and bench/README.md records why nn's own
// kernels replaced it on the hot path.
package gorgoniaref

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hepsql/hepsql/mlfuncs/nn"
)

// MLP is an nn "mlp" model as a gorgonia graph over a fixed batch size.
type MLP struct {
	batch, in, classes int
	g                  *G.ExprGraph
	x, y               *G.Node
	params             G.Nodes // w0, b0, w1, b1, ... as nn stores them
	loss               *G.Node // summed categorical cross-entropy
	vm                 G.VM
	solver             *G.AdamSolver
	xt, yt             *tensor.Dense
}

// NewMLP copies m's weights into a new graph for batches of batch rows.
func NewMLP(m *nn.Model, batch int) (*MLP, error) {
	if m.Spec.Arch != nn.MLP {
		return nil, fmt.Errorf("gorgoniaref: only %q models, got %q", nn.MLP, m.Spec.Arch)
	}
	r := &MLP{batch: batch, in: m.Spec.HLFDim, classes: m.Spec.Classes, g: G.NewGraph()}
	r.x = G.NewMatrix(r.g, tensor.Float32, G.WithShape(batch, r.in), G.WithName("x"))
	r.y = G.NewMatrix(r.g, tensor.Float32, G.WithShape(batch, r.classes), G.WithName("y"))
	h := r.x
	n := m.NumDense()
	for i := 0; i < n; i++ {
		w, in, out, b := m.DenseWeights(i)
		wn := G.NewMatrix(r.g, tensor.Float32, G.WithShape(in, out), G.WithName(fmt.Sprint("w", i)),
			G.WithValue(tensor.New(tensor.WithShape(in, out), tensor.WithBacking(append([]float32{}, w...)))))
		bn := G.NewMatrix(r.g, tensor.Float32, G.WithShape(1, out), G.WithName(fmt.Sprint("b", i)),
			G.WithValue(tensor.New(tensor.WithShape(1, out), tensor.WithBacking(append([]float32{}, b...)))))
		r.params = append(r.params, wn, bn)
		var err error
		if h, err = G.Mul(h, wn); err != nil {
			return nil, fmt.Errorf("gorgoniaref: layer %d: %w", i, err)
		}
		if h, err = G.BroadcastAdd(h, bn, nil, []byte{0}); err != nil {
			return nil, fmt.Errorf("gorgoniaref: layer %d bias: %w", i, err)
		}
		if i < n-1 {
			if h, err = G.Rectify(h); err != nil {
				return nil, fmt.Errorf("gorgoniaref: layer %d relu: %w", i, err)
			}
		}
	}
	p, err := G.SoftMax(h)
	if err != nil {
		return nil, fmt.Errorf("gorgoniaref: softmax: %w", err)
	}
	lp, err := G.Log(p)
	if err == nil {
		lp, err = G.HadamardProd(lp, r.y)
	}
	if err == nil {
		lp, err = G.Sum(lp)
	}
	if err == nil {
		r.loss, err = G.Neg(lp)
	}
	if err != nil {
		return nil, fmt.Errorf("gorgoniaref: loss: %w", err)
	}
	if _, err := G.Grad(r.loss, r.params...); err != nil {
		return nil, fmt.Errorf("gorgoniaref: gradient: %w", err)
	}
	r.vm = G.NewTapeMachine(r.g, G.BindDualValues(r.params...))
	r.xt = tensor.New(tensor.WithShape(batch, r.in), tensor.Of(tensor.Float32))
	r.yt = tensor.New(tensor.WithShape(batch, r.classes), tensor.Of(tensor.Float32))
	return r, nil
}

// Close releases the tape machine.
func (r *MLP) Close() { r.vm.Close() }

// run evaluates loss and gradients for one batch: x is [batch×in], labels
// the class per row.
func (r *MLP) run(x []float32, labels []int32) (float64, error) {
	if len(x) != r.batch*r.in || len(labels) != r.batch {
		return 0, fmt.Errorf("gorgoniaref: batch of %d values and %d labels, want %d×%d", len(x), len(labels), r.batch, r.in)
	}
	copy(r.xt.Data().([]float32), x)
	y := r.yt.Data().([]float32)
	clear(y)
	for i, c := range labels {
		y[i*r.classes+int(c)] = 1
	}
	if err := G.Let(r.x, r.xt); err != nil {
		return 0, err
	}
	if err := G.Let(r.y, r.yt); err != nil {
		return 0, err
	}
	r.vm.Reset()
	if err := r.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("gorgoniaref: run: %w", err)
	}
	return float64(r.loss.Value().Data().(float32)), nil
}

// LossGrad returns the summed cross-entropy of one batch and its gradient
// in nn's flat parameter layout.
func (r *MLP) LossGrad(x []float32, labels []int32) (float64, []float32, error) {
	loss, err := r.run(x, labels)
	if err != nil {
		return 0, nil, err
	}
	var grad []float32
	for _, p := range r.params {
		g, err := p.Grad()
		if err != nil {
			return 0, nil, fmt.Errorf("gorgoniaref: gradient of %s: %w", p.Name(), err)
		}
		grad = append(grad, g.Data().([]float32)...)
	}
	return loss, grad, nil
}

// TrainBatch takes one Adam step (learning rate lr, gradient of the batch
// mean) on a batch.
func (r *MLP) TrainBatch(x []float32, labels []int32, lr float64) (float64, error) {
	if r.solver == nil {
		r.solver = G.NewAdamSolver(G.WithLearnRate(lr), G.WithBatchSize(float64(r.batch)), G.WithEps(1e-7))
	}
	loss, err := r.run(x, labels)
	if err != nil {
		return 0, err
	}
	if err := r.solver.Step(G.NodesToValueGrads(r.params)); err != nil {
		return 0, fmt.Errorf("gorgoniaref: adam: %w", err)
	}
	return loss, nil
}
