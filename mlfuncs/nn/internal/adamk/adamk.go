// Package adamk is the Adam update over a run of parameters, with the
// gradient optionally the sum of two buffers (the trainer's two workers),
// in AVX where the CPU has it.
//
// Why a kernel: the trainer's step for the topology mlp (2,013 weights)
// is ~50 µs per worker at two threads, and the scalar update, bound by one
// square root and one division per weight, took 7.5 µs of it. Eight lanes
// take it to ~1 µs, cheap enough for every worker to apply the whole
// update to its own copy of the weights instead of waiting at a second
// rendezvous for its share of it.
//
// The kernel does exactly the scalar code's operations, in its order and
// without fused multiply-adds (IEEE square root, division, products and
// sums are correctly rounded lane by lane), so both give the same bits;
// the tests hold them to that.
package adamk

import "math"

// Consts are one step's factors: m ← B1·m + C1·g, v ← B2·v + C2·g·g,
// p ← p − Step·m / (√v + Eps), with C1 = 1−B1 and C2 = 1−B2 rounded to
// float32 once, as the scalar code does.
type Consts struct {
	B1, C1, B2, C2, Step, Eps float32
}

// Update applies the step to p[i], m[i], v[i] for every i < len(p), with
// g = ga, or ga + gb when gb is not nil. All slices must be at least
// len(p) long.
func Update(p, m, v, ga, gb []float32, c *Consts) {
	n := len(p)
	m, v, ga = m[:n], v[:n], ga[:n]
	if gb != nil {
		gb = gb[:n]
	}
	done := 0
	if useAsm && n >= 8 {
		done = n &^ 7
		var pb *float32
		if gb != nil {
			pb = &gb[0]
		}
		update8(done, &p[0], &m[0], &v[0], &ga[0], pb, c)
	}
	updateGo(p[done:], m[done:], v[done:], ga[done:], tail(gb, done), c)
}

func tail(g []float32, from int) []float32 {
	if g == nil {
		return nil
	}
	return g[from:]
}

// updateGo is the reference, and the kernel's tail.
func updateGo(p, m, v, ga, gb []float32, c *Consts) {
	for i := range p {
		g := ga[i]
		if gb != nil {
			g += gb[i]
		}
		mi := c.B1*m[i] + c.C1*g
		vi := c.B2*v[i] + c.C2*g*g
		m[i], v[i] = mi, vi
		p[i] -= c.Step * mi / (float32(math.Sqrt(float64(vi))) + c.Eps)
	}
}
