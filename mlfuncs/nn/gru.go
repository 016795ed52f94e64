package nn

import (
	"slices"
)

// gruWork holds one worker's GRU buffers. The batch is packed before the
// recurrence: each row keeps only its active steps (a step whose F values
// are all zero is padding and is skipped, as Keras' Masking layer does, so
// the state carries over it), rows are sorted by their number of active
// steps, longest first, and steps are laid out time-major. At step t the
// rows still running are then a prefix of that order, their previous
// states a contiguous block, and every step is one small GEMM over that
// block; the input projection of all steps is one large GEMM.
type gruWork struct {
	lens   []int     // active steps per batch row
	order  []int     // batch rows by decreasing length (ties by row)
	nAt    []int     // rows still running at step t
	off    []int     // packed position of step t's first row
	steps  []int     // active step indices, row after row
	starts []int     // each row's first entry in steps
	x      []float32 // [S×F] packed inputs
	gx     []float32 // [S×3H] input projections + input bias
	gates  []float32 // [S×4H] z, r, n and the recurrent candidate term
	h      []float32 // [S×H] state after each packed step
	hprev  []float32 // [S×H] state before each packed step
	tmp    []float32 // [B×3H] recurrent projections of one step
	act    []float32 // [H] activation scratch
	out    []float32 // [B×H] final state per batch row (zero for empty rows)
	dgx    []float32 // [S×3H]
	dgh    []float32 // [S×3H]
	dh     []float32 // [B×H] gradient w.r.t. the running state, sorted order
}

// active reports whether a sequence step holds a particle: padding steps
// are all zero.
func active(step []float32) bool {
	for _, v := range step {
		if v != 0 {
			return true
		}
	}
	return false
}

// ActiveSteps writes each row's number of non-padding sequence steps into
// dst[:rows] and reports whether the model has a sequence input (if not,
// dst is left alone). The GRU's work on a row, forward and backward, is
// about proportional to it, so the trainer uses it to give its workers
// shards of equal work rather than of equal rows.
func (s Spec) ActiveSteps(inputs [][]float32, rows int, dst []int) bool {
	if !s.hasGRU() {
		return false
	}
	T, F := s.SeqLen, s.SeqDim
	seq := inputs[len(inputs)-1]
	for r := range rows {
		row := seq[r*T*F : (r+1)*T*F]
		n := 0
		for t := range T {
			if active(row[t*F : t*F+F]) {
				n++
			}
		}
		dst[r] = n
	}
	return true
}

// forward runs the GRU over rows of seq (T·F floats each) and leaves the
// final states in w.out.
func (w *gruWork) forward(s Spec, l layout, params []float32, seq []float32, rows int) {
	T, F, H := s.SeqLen, s.SeqDim, s.GRUUnits
	H3 := 3 * H
	w.lens = growInt(w.lens, rows)
	w.order = growInt(w.order, rows)
	w.steps = w.steps[:0]
	maxLen := 0
	for r := 0; r < rows; r++ {
		row := seq[r*T*F : (r+1)*T*F]
		n := 0
		for t := 0; t < T; t++ {
			if active(row[t*F : t*F+F]) {
				w.steps = append(w.steps, t)
				n++
			}
		}
		w.lens[r] = n
		w.order[r] = r
		maxLen = max(maxLen, n)
	}
	lens := w.lens
	slices.SortStableFunc(w.order, func(a, b int) int { return lens[b] - lens[a] })
	w.nAt = growInt(w.nAt, maxLen)
	w.off = growInt(w.off, maxLen+1)
	k := rows
	S := 0
	for t := 0; t < maxLen; t++ {
		for k > 0 && lens[w.order[k-1]] <= t {
			k--
		}
		w.nAt[t] = k
		w.off[t] = S
		S += k
	}
	w.off[maxLen] = S

	// Pack the active steps time-major.
	w.x = grow(w.x, S*F)
	w.starts = growInt(w.starts, rows)
	starts := w.starts
	for r, at := 0, 0; r < rows; r++ {
		starts[r] = at
		at += lens[r]
	}
	for k, r := range w.order[:rows] {
		st := w.steps[starts[r] : starts[r]+lens[r]]
		src := seq[r*T*F:]
		for j, t := range st {
			copy(w.x[(w.off[j]+k)*F:(w.off[j]+k+1)*F], src[t*F:t*F+F])
		}
	}

	wx := params[l.gruWx.off : l.gruWx.off+l.gruWx.size()]
	uh := params[l.gruUh.off : l.gruUh.off+l.gruUh.size()]
	bx := params[l.gruBx.off : l.gruBx.off+H3]
	bh := params[l.gruBh.off : l.gruBh.off+H3]

	w.gx = grow(w.gx, S*H3)
	for p := 0; p < S; p++ {
		copy(w.gx[p*H3:p*H3+H3], bx)
	}
	gemmNN(S, H3, F, w.x, F, wx, H3, 1, w.gx, H3)

	w.gates = grow(w.gates, S*4*H)
	w.h = grow(w.h, S*H)
	w.hprev = grow(w.hprev, S*H)
	w.tmp = grow(w.tmp, rows*H3)
	w.act = grow(w.act, H)
	for t := 0; t < maxLen; t++ {
		n, base := w.nAt[t], w.off[t]
		gh := w.tmp[:n*H3]
		for k := 0; k < n; k++ {
			copy(gh[k*H3:k*H3+H3], bh)
		}
		hp := w.hprev[base*H : (base+n)*H]
		if t == 0 {
			clear(hp)
		} else {
			prev := w.h[w.off[t-1]*H : (w.off[t-1]+n)*H]
			copy(hp, prev)
			gemmNN(n, H3, H, prev, H, uh, H3, 1, gh, H3)
		}
		for k := 0; k < n; k++ {
			p := base + k
			gxr := w.gx[p*H3 : p*H3+H3]
			ghr := gh[k*H3 : k*H3+H3]
			gt := w.gates[p*4*H : p*4*H+4*H]
			hpr := hp[k*H : k*H+H]
			hr := w.h[p*H : p*H+H]
			// gt holds z, r, c and the recurrent candidate term; the
			// activations run over whole slices (see activation.go).
			zr, c, ghn := gt[:2*H], gt[2*H:3*H], gt[3*H:4*H]
			for j := range zr {
				zr[j] = gxr[j] + ghr[j]
			}
			sigmoidInPlace(zr)
			z, r := zr[:H], zr[H:]
			copy(ghn, ghr[2*H:])
			for j := range c {
				c[j] = gxr[2*H+j] + r[j]*ghn[j]
			}
			tanhInPlace(c, w.act)
			for j := range hr {
				hr[j] = (1-z[j])*c[j] + z[j]*hpr[j]
			}
		}
	}

	w.out = grow(w.out, rows*H)
	for k, r := range w.order[:rows] {
		o := w.out[r*H : r*H+H]
		if L := lens[r]; L > 0 {
			copy(o, w.h[(w.off[L-1]+k)*H:(w.off[L-1]+k+1)*H])
		} else {
			clear(o)
		}
	}
}

// backward takes dOut (gradient w.r.t. w.out, [rows×H], original row
// order) and adds the weight gradients into grad. It walks the steps
// backwards; a row's gradient enters at its last active step, and rows
// that have finished are simply outside the running prefix.
func (w *gruWork) backward(s Spec, l layout, params, grad []float32, dOut []float32, rows int) {
	H := s.GRUUnits
	H3 := 3 * H
	maxLen := len(w.nAt)
	S := w.off[maxLen]
	uh := params[l.gruUh.off : l.gruUh.off+l.gruUh.size()]
	w.dh = grow(w.dh, rows*H)
	for k, r := range w.order[:rows] {
		copy(w.dh[k*H:k*H+H], dOut[r*H:r*H+H])
	}
	w.dgx = grow(w.dgx, S*H3)
	w.dgh = grow(w.dgh, S*H3)
	for t := maxLen - 1; t >= 0; t-- {
		n, base := w.nAt[t], w.off[t]
		for k := 0; k < n; k++ {
			p := base + k
			dh := w.dh[k*H : k*H+H]
			gt := w.gates[p*4*H : p*4*H+4*H]
			hpr := w.hprev[p*H : p*H+H]
			dgx := w.dgx[p*H3 : p*H3+H3]
			dgh := w.dgh[p*H3 : p*H3+H3]
			for j := 0; j < H; j++ {
				z, r, c, ghn := gt[j], gt[H+j], gt[2*H+j], gt[3*H+j]
				d := dh[j]
				dc := d * (1 - z) * (1 - c*c)
				dz := d * (hpr[j] - c) * z * (1 - z)
				dr := dc * ghn * r * (1 - r)
				dgx[j], dgx[H+j], dgx[2*H+j] = dz, dr, dc
				dgh[j], dgh[H+j], dgh[2*H+j] = dz, dr, dc*r
				dh[j] = d * z
			}
		}
		if t > 0 {
			gemmNT(n, H, H3, w.dgh[base*H3:(base+n)*H3], H3, uh, H3, 1, w.dh[:n*H], H)
		}
	}
	gwx := grad[l.gruWx.off : l.gruWx.off+l.gruWx.size()]
	guh := grad[l.gruUh.off : l.gruUh.off+l.gruUh.size()]
	gemmTN(s.SeqDim, H3, S, w.x, s.SeqDim, w.dgx, H3, 1, gwx, H3)
	gemmTN(H, H3, S, w.hprev, H, w.dgh, H3, 1, guh, H3)
	colSumAdd(S, H3, w.dgx, grad[l.gruBx.off:l.gruBx.off+H3])
	colSumAdd(S, H3, w.dgh, grad[l.gruBh.off:l.gruBh.off+H3])
}
