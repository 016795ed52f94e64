package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Workspace holds one goroutine's activations and scratch buffers. It
// grows to the largest batch it has seen and is then reused without
// allocating. A Workspace must not be shared between goroutines.
type Workspace struct {
	spec  Spec
	lay   layout
	acts  [][]float32 // acts[0]: head input; acts[i+1]: output of dense i
	dacts [][]float32
	mask  []float32 // dropout multipliers on the head input (0 or 1/(1−p))
	probs []float32 // [B×classes]
	z     []float32 // one row's logits, gathered by infer
	gru   gruWork
	rows  int
	drop  bool
}

// NewWorkspace makes a workspace for m's architecture.
func (m *Model) NewWorkspace() *Workspace {
	n := len(m.lay.denseW)
	return &Workspace{spec: m.Spec, lay: m.lay, acts: make([][]float32, n+1), dacts: make([][]float32, n+1)}
}

// CheckInputs verifies that inputs match the architecture for rows rows.
func (s Spec) CheckInputs(inputs [][]float32, rows int) error {
	dims := s.InputDims()
	if len(inputs) != len(dims) {
		return fmt.Errorf("nn: %s model takes %d input(s) (%v), got %d", s.Arch, len(dims), s.InputNames(), len(inputs))
	}
	for i, d := range dims {
		if len(inputs[i]) != rows*d {
			return fmt.Errorf("nn: %s input %q: %d values for %d rows, want %d per row (%d)",
				s.Arch, s.InputNames()[i], len(inputs[i]), rows, d, rows*d)
		}
	}
	return nil
}

// Forward runs the network on rows rows and returns the class
// probabilities, [rows×classes] row-major, valid until the workspace's
// next use. With train set, dropout is applied with masks drawn from rng.
// The inputs must have passed CheckInputs.
func (m *Model) Forward(ws *Workspace, inputs [][]float32, rows int, train bool, rng *rand.Rand) []float32 {
	s, l, p := m.Spec, m.lay, m.Params
	ws.rows = rows
	in := s.headIn()
	a0 := grow(ws.acts[0], rows*in)
	ws.acts[0] = a0
	col := 0
	if s.hasGRU() {
		seq := inputs[len(inputs)-1]
		ws.gru.forward(s, l, p, seq, rows)
		H := s.GRUUnits
		for r := 0; r < rows; r++ {
			copy(a0[r*in:r*in+H], ws.gru.out[r*H:r*H+H])
		}
		col = H
	}
	if s.hasHLF() {
		d := s.HLFDim
		x := inputs[0]
		if col == 0 {
			copy(a0, x[:rows*d])
		} else {
			for r := 0; r < rows; r++ {
				copy(a0[r*in+col:r*in+col+d], x[r*d:r*d+d])
			}
		}
	}
	ws.drop = train && s.Dropout > 0 && s.hasGRU()
	if ws.drop {
		// Inverted dropout on both branches of the head input.
		ws.mask = grow(ws.mask, rows*in)
		keep := 1 / (1 - s.Dropout)
		for i := range ws.mask {
			if rng.Float32() < s.Dropout {
				ws.mask[i] = 0
			} else {
				ws.mask[i] = keep
			}
			a0[i] *= ws.mask[i]
		}
	}
	x := a0
	last := len(l.denseW) - 1
	for i, tw := range l.denseW {
		tb := l.denseB[i]
		out := grow(ws.acts[i+1], rows*tw.cols)
		ws.acts[i+1] = out
		b := p[tb.off : tb.off+tb.cols]
		for r := 0; r < rows; r++ {
			copy(out[r*tw.cols:(r+1)*tw.cols], b)
		}
		gemmNN(rows, tw.cols, tw.rows, x, tw.rows, p[tw.off:tw.off+tw.size()], tw.cols, 1, out, tw.cols)
		if i < last {
			reluInPlace(out)
		}
		x = out
	}
	C := s.Classes
	ws.probs = grow(ws.probs, rows*C)
	for r := 0; r < rows; r++ {
		softmax(x[r*C:r*C+C], ws.probs[r*C:r*C+C])
	}
	return ws.probs
}

// softmax writes the probabilities of logits z into p, shifting by the
// maximum so that exp cannot overflow.
func softmax(z, p []float32) {
	mx := z[0]
	for _, v := range z[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for j, v := range z {
		e := math.Exp(float64(v - mx))
		p[j] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for j := range p {
		p[j] *= inv
	}
}

// logProb is log softmax(z)[c], computed from the logits for accuracy.
func logProb(z []float32, c int) float64 {
	mx := z[0]
	for _, v := range z[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range z {
		sum += math.Exp(float64(v - mx))
	}
	return float64(z[c]-mx) - math.Log(sum)
}

// Backward follows a Forward on the same workspace: it returns the summed
// categorical cross-entropy of the rows against labels and adds scale
// times its gradient into grad (len(m.Params)). The trainer passes
// scale = 1/global batch size, so that the workers' sums add up to the
// gradient of the batch mean.
func (m *Model) Backward(ws *Workspace, labels []int32, scale float32, grad []float32) float64 {
	s, l, p := m.Spec, m.lay, m.Params
	rows, C := ws.rows, s.Classes
	n := len(l.denseW)
	logits := ws.acts[n]
	d := grow(ws.dacts[n], rows*C)
	ws.dacts[n] = d
	var loss float64
	for r := 0; r < rows; r++ {
		c := int(labels[r])
		loss -= logProb(logits[r*C:r*C+C], c)
		pr := ws.probs[r*C : r*C+C]
		dr := d[r*C : r*C+C]
		for j := range dr {
			dr[j] = pr[j] * scale
		}
		dr[c] -= scale
	}
	for i := n - 1; i >= 0; i-- {
		tw, tb := l.denseW[i], l.denseB[i]
		dy := ws.dacts[i+1]
		x := ws.acts[i]
		gemmTN(tw.rows, tw.cols, rows, x, tw.rows, dy, tw.cols, 1, grad[tw.off:tw.off+tw.size()], tw.cols)
		colSumAdd(rows, tw.cols, dy, grad[tb.off:tb.off+tb.cols])
		if i == 0 && !s.hasGRU() {
			break // the input needs no gradient
		}
		dx := grow(ws.dacts[i], rows*tw.rows)
		ws.dacts[i] = dx
		gemmNT(rows, tw.rows, tw.cols, dy, tw.cols, p[tw.off:tw.off+tw.size()], tw.cols, 0, dx, tw.rows)
		if i > 0 {
			for j, v := range x {
				keep := float32(0)
				if v > 0 {
					keep = 1
				}
				dx[j] *= keep
			}
		}
	}
	if s.hasGRU() {
		in, H := s.headIn(), s.GRUUnits
		dIn := ws.dacts[0]
		if ws.drop {
			for j := range dIn {
				dIn[j] *= ws.mask[j]
			}
		}
		// The GRU's part of the head input is its first H columns; compact
		// it in place (row r's H values move to r·H ≤ r·in).
		for r := 0; r < rows; r++ {
			copy(dIn[r*H:r*H+H], dIn[r*in:r*in+H])
		}
		ws.gru.backward(s, l, p, grad, dIn[:rows*H], rows)
	}
	return loss
}

// Loss is the summed cross-entropy of the last Forward against labels,
// without gradients (validation).
func (m *Model) Loss(ws *Workspace, labels []int32) float64 {
	C := m.Spec.Classes
	logits := ws.acts[len(m.lay.denseW)]
	var loss float64
	for r := 0; r < ws.rows; r++ {
		loss -= logProb(logits[r*C:r*C+C], int(labels[r]))
	}
	return loss
}
