package nn

// Inference keeps the dense head's activations feature-major, [width ×
// rows], unlike Forward's row-major [rows × width]. A dense layer is then
// outᵀ = Wᵀ·xᵀ, which gonum's GEMM runs as in·out AXPYs, each as long as
// the chunk (up to a 192-column tile), instead of rows·in AXPYs as long as
// the layer is wide (3 to 50 floats here), where the call and loop set-up
// of each AXPY cost more than its arithmetic. On the topology mlp (14 →
// 50 → 20 → 10 → 3) that is about 5,800 AXPYs of up to 192 floats per
// 512-row chunk instead of about 48,000 of 3 to 50; inference went from
// 0.85 to 2.4 M rows/s on one core. Training still uses the row-major
// form: its shards are 64 rows at 2 threads, and the feature-major
// backward pass has not been written and measured yet.

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
	if s.hasHLF() {
		transposeInto(x[col*rows:], inputs[0], rows, s.HLFDim)
	}
	last := len(l.denseW) - 1
	for i, tw := range l.denseW {
		b := p[l.denseB[i].off : l.denseB[i].off+tw.cols]
		out := grow(ws.acts[i+1], tw.cols*rows)
		ws.acts[i+1] = out
		for j, bj := range b {
			row := out[j*rows : (j+1)*rows]
			for r := range row {
				row[r] = bj
			}
		}
		gemmTN(tw.cols, rows, tw.rows, p[tw.off:tw.off+tw.size()], tw.cols, x, rows, 1, out, rows)
		if i < last {
			for j, v := range out {
				out[j] = max(v, 0)
			}
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

// transposeInto writes src, [rows × w] row-major, into dst as [w × rows].
func transposeInto(dst, src []float32, rows, w int) {
	for r := 0; r < rows; r++ {
		for j, v := range src[r*w : r*w+w] {
			dst[j*rows+r] = v
		}
	}
}
