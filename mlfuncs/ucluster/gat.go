package ucluster

import "github.com/hepsql/hepsql/mlfuncs/nn"

// The edge convolution with graph attention, for particle i with
// neighbours j ∈ N(i) (i itself among them) and input rows x:
//
//	S_i  = x_i·Ws + bs            (self features, D wide)
//	Y_i  = x_i·We                 (edge transform; e_ij = Y_j − Y_i)
//	a_ij = LeakyReLU_0.2(S_i·u + e_ij·v)
//	α_ij = softmax over j ∈ N(i) of a_ij
//	h_i  = ReLU(S_i + Σ_j α_ij e_ij) = ReLU(S_i − Y_i + Σ_j α_ij Y_j)
//
// e_ij = Y_j − Y_i is (x_j − x_i)·We computed once per particle rather than
// once per edge, and S_i·u, e_ij·v are differences of per-particle scalars,
// so the per-edge work is the attention-weighted sum of Y_j (D per edge)
// forward, and its transpose backward.

const leak = 0.2

// graph is a batch of jets' particles, compacted (padding dropped), and
// their kNN graphs: jet b's particles are rows start[b]..start[b+1] of the
// particle matrices, and particle i's neighbours are nbr[i·k : i·k+kap[b]]
// (rows of the batch, not of the jet).
type graph struct {
	rows  int
	start []int
	kap   []int
	nbr   []int32
}

// gatCache is one edge convolution's activations for a batch, kept for the
// backward pass, and its backward scratch.
type gatCache struct {
	s, y, h  []float32 // T×D: S, Y, h (h holds the pre-activation until ReLU; ReLU's mask is h > 0)
	si, yv   []float32 // T: S·u, Y·v
	z, alpha []float32 // T×k: attention logits before LeakyReLU, weights
	ds, dy   []float32 // T×D
	dsi, dyv []float32 // T
	g        []float32 // k: one particle's g_j
}

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

func axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// gatForward runs the convolution with weights g of p on x (T×fin) and
// leaves h (T×D) in c.h.
func gatForward(p []float32, g gatTensors, x []float32, fin int, gr *graph, k int, c *gatCache) {
	T, D := gr.start[gr.rows], g.ws.cols
	c.s, c.y, c.h = grow(c.s, T*D), grow(c.y, T*D), grow(c.h, T*D)
	c.si, c.yv = grow(c.si, T), grow(c.yv, T)
	c.z, c.alpha = grow(c.z, T*k), grow(c.alpha, T*k)
	if T == 0 {
		return
	}
	bs := g.bs.of(p)
	for i := 0; i < T; i++ {
		copy(c.s[i*D:i*D+D], bs)
	}
	nn.Gemm(false, false, T, D, fin, x, fin, g.ws.of(p), D, 1, c.s, D)
	nn.Gemm(false, false, T, D, fin, x, fin, g.we.of(p), D, 0, c.y, D)
	u, v := g.u.of(p), g.v.of(p)
	for i := 0; i < T; i++ {
		c.si[i] = dot(c.s[i*D:i*D+D], u)
		c.yv[i] = dot(c.y[i*D:i*D+D], v)
	}
	for b := 0; b < gr.rows; b++ {
		kap := gr.kap[b]
		for i := gr.start[b]; i < gr.start[b+1]; i++ {
			nb := gr.nbr[i*k : i*k+kap]
			z, al := c.z[i*k:i*k+kap], c.alpha[i*k:i*k+kap]
			mx := float32(-3.4e38)
			for t, j := range nb {
				zt := c.si[i] + c.yv[j] - c.yv[i]
				z[t] = zt
				a := zt
				if a < 0 {
					a *= leak
				}
				al[t] = a
				mx = max(mx, a)
			}
			for t := range al {
				al[t] -= mx
			}
			nn.ExpInPlace(al)
			var sum float32
			for _, a := range al {
				sum += a
			}
			inv := 1 / sum
			h := c.h[i*D : i*D+D]
			si, yi := c.s[i*D:i*D+D], c.y[i*D:i*D+D]
			for d := range h {
				h[d] = si[d] - yi[d]
			}
			for t, j := range nb {
				al[t] *= inv
				axpy(al[t], c.y[int(j)*D:int(j)*D+D], h)
			}
		}
	}
	for i, v := range c.h {
		c.h[i] = max(v, 0)
	}
}

// gatBackward takes dh (T×D, overwritten) for the last gatForward on c,
// adds the weights' gradient into grad and, when dx is not nil, writes the
// input's gradient (T×fin) into dx.
func gatBackward(p, grad []float32, g gatTensors, x []float32, fin int, gr *graph, k int, c *gatCache, dh, dx []float32) {
	T, D := gr.start[gr.rows], g.ws.cols
	if T == 0 {
		return
	}
	for i, v := range c.h {
		if v <= 0 {
			dh[i] = 0
		}
	}
	c.ds, c.dy = grow(c.ds, T*D), grow(c.dy, T*D)
	c.dsi, c.dyv = grow(c.dsi, T), grow(c.dyv, T)
	c.g = grow(c.g, k)
	copy(c.ds, dh)
	for i, v := range dh {
		c.dy[i] = -v
	}
	clear(c.dsi)
	clear(c.dyv)
	for b := 0; b < gr.rows; b++ {
		kap := gr.kap[b]
		for i := gr.start[b]; i < gr.start[b+1]; i++ {
			nb := gr.nbr[i*k : i*k+kap]
			z, al := c.z[i*k:i*k+kap], c.alpha[i*k:i*k+kap]
			dpi := dh[i*D : i*D+D]
			gs := c.g[:kap]
			var gbar float32
			for t, j := range nb {
				yj := c.y[int(j)*D : int(j)*D+D]
				gs[t] = dot(dpi, yj)
				gbar += al[t] * gs[t]
				axpy(al[t], dpi, c.dy[int(j)*D:int(j)*D+D])
			}
			for t, j := range nb {
				dz := al[t] * (gs[t] - gbar)
				if z[t] < 0 {
					dz *= leak
				}
				c.dsi[i] += dz
				c.dyv[j] += dz
				c.dyv[i] -= dz
			}
		}
	}
	u, v := g.u.of(p), g.v.of(p)
	du, dv := g.u.of(grad), g.v.of(grad)
	for i := 0; i < T; i++ {
		axpy(c.dsi[i], u, c.ds[i*D:i*D+D])
		axpy(c.dsi[i], c.s[i*D:i*D+D], du)
		axpy(c.dyv[i], v, c.dy[i*D:i*D+D])
		axpy(c.dyv[i], c.y[i*D:i*D+D], dv)
	}
	nn.Gemm(true, false, fin, D, T, x, fin, c.ds, D, 1, g.ws.of(grad), D)
	nn.Gemm(true, false, fin, D, T, x, fin, c.dy, D, 1, g.we.of(grad), D)
	dbs := g.bs.of(grad)
	for i := 0; i < T; i++ {
		axpy(1, c.ds[i*D:i*D+D], dbs)
	}
	if dx != nil {
		nn.Gemm(false, true, T, fin, D, c.ds, D, g.ws.of(p), D, 0, dx, fin)
		nn.Gemm(false, true, T, fin, D, c.dy, D, g.we.of(p), D, 1, dx, fin)
	}
}
