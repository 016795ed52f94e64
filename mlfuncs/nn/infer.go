package nn

import "github.com/hepsql/hepsql/mlfuncs/nn/internal/sgemm"

// Inference keeps the dense head's activations feature-major, [width ×
// rows], unlike Forward's row-major [rows × width]. A dense layer is then
// outᵀ = Wᵀ·xᵀ: a product whose long side is the chunk's rows (up to 512)
// rather than the layer's width (3 to 50 here). With gonum's AXPY-based
// GEMM that took inference from 0.85 to 2.4 M rows/s on one core; with
// package sgemm's register-blocked kernel, which streams the long side
// through 16-column strips, it runs at ~4.8 M rows/s (BenchmarkPredictMLP).
// Training still uses the row-major form: its shards are 64 rows at 2
// threads, and the feature-major backward pass has not been written and
// measured yet.

// infer runs the network on rows rows without dropout and returns the
// class probabilities, [rows×classes] row-major, valid until the
// workspace's next use. It uses ws.acts for the feature-major activations,
// so it must not fall between a Forward and its Backward.
func (m *Model) infer(ws *Workspace, inputs [][]float32, rows int) []float32 {
	s, l, p := m.Spec, m.lay, m.Params
	in := s.headIn()
	x := grow(ws.acts[0], in*rows)
	ws.acts[0] = x
	col := 0
	if s.hasGRU() {
		ws.gru.forward(s, l, p, inputs[len(inputs)-1], rows)
		col = s.GRUUnits
		transposeInto(x, ws.gru.out, rows, col)
	}
	// Without a GRU the first layer reads the row-major input as op(b) =
	// inputᵀ, which sgemm transposes in 8×8 AVX blocks; the scalar
	// transpose into x cost a third of infer's time beyond the products.
	direct := !s.hasGRU() && s.hasHLF() && sgemm.TransposesWithAsm()
	if s.hasHLF() && !direct {
		transposeInto(x[col*rows:], inputs[0], rows, s.HLFDim)
	}
	last := len(l.denseW) - 1
	for i, tw := range l.denseW {
		b := p[l.denseB[i].off : l.denseB[i].off+tw.cols]
		out := grow(ws.acts[i+1], tw.cols*rows)
		ws.acts[i+1] = out
		for j, bj := range b {
			fill(out[j*rows:(j+1)*rows], bj)
		}
		if i == 0 && direct {
			gemm(true, true, tw.cols, rows, tw.rows, p[tw.off:tw.off+tw.size()], tw.cols, inputs[0], s.HLFDim, 1, out, rows)
		} else {
			gemmTN(tw.cols, rows, tw.rows, p[tw.off:tw.off+tw.size()], tw.cols, x, rows, 1, out, rows)
		}
		if i < last {
			sgemm.Relu(out) // 8 floats an instruction; reluInPlace is one
		}
		x = out
	}
	C := s.Classes
	ws.probs = grow(ws.probs, rows*C)
	ws.z = grow(ws.z, C)
	z := ws.z
	for r := 0; r < rows; r++ {
		for c := range z {
			z[c] = x[c*rows+r]
		}
		softmax(z, ws.probs[r*C:r*C+C])
	}
	return ws.probs
}

// fill sets every element of row to v by doubling copies, which run as
// vector moves where a loop stores one float at a time.
func fill(row []float32, v float32) {
	if len(row) == 0 {
		return
	}
	row[0] = v
	for n := 1; n < len(row); n *= 2 {
		copy(row[n:], row[:n])
	}
}

// transposeInto writes src, [rows × w] row-major, into dst as [w × rows].
func transposeInto(dst, src []float32, rows, w int) {
	for r := 0; r < rows; r++ {
		for j, v := range src[r*w : r*w+w] {
			dst[j*rows+r] = v
		}
	}
}
