package ucluster

import (
	"context"
	"io"
	"math"

	"github.com/hepsql/hepsql/mlfuncs/data"

	"github.com/hepsql/hepsql/mlfuncs/nn"
)

// Workspace is one goroutine's activations and scratch for a batch; it
// grows to the largest batch seen and is then reused. Not shared between
// goroutines.
type Workspace struct {
	x0     []float32 // T×SeqDim: the batch's particles, padding dropped
	gr     graph
	c1, c2 gatCache
	pa     []float32 // T×Embed: the particle dense layer after ReLU
	z      []float32 // rows×Embed: the embeddings
	arg    []int32   // rows×Embed: the particle each maximum came from (-1: jet without particles)
	hh     []float32 // rows×Head after ReLU
	logits []float32 // rows×Classes
	probs  []float32
	dist   []float32 // rows×Clusters: squared distances to the centroids
	// backward scratch
	dlog, dhh, dz, dpa, dh1, dh2, dx2 []float32
	q                                 []float32
	cand                              []candidate
}

type candidate struct {
	d float32
	j int32
}

// NewWorkspace makes a workspace for m's architecture.
func (m *Model) NewWorkspace() *Workspace { return &Workspace{} }

// particleValid reports whether a particle row holds a particle: padding
// rows are all zero (a real particle has log pT, log E ≠ 0 in practice).
func particleValid(row []float32) bool {
	for _, v := range row {
		if v != 0 {
			return true
		}
	}
	return false
}

// ActiveParticles counts each row's particles (non-zero rows of its
// SeqLen×SeqDim block) into n; the trainer balances shards by it.
func (s Spec) ActiveParticles(seq []float32, rows int, n []int) {
	P, F := s.SeqLen, s.SeqDim
	for r := 0; r < rows; r++ {
		c := 0
		for i := 0; i < P; i++ {
			if particleValid(seq[(r*P+i)*F : (r*P+i+1)*F]) {
				c++
			}
		}
		n[r] = c
	}
}

// build compacts the batch's particles and finds their kNN graphs.
func (m *Model) build(ws *Workspace, seq []float32, rows int) {
	s := m.Spec
	P, F, k := s.SeqLen, s.SeqDim, s.Neighbors
	gr := &ws.gr
	gr.rows = rows
	if cap(gr.start) < rows+1 {
		gr.start, gr.kap = make([]int, rows+1), make([]int, rows)
	}
	gr.start, gr.kap = gr.start[:rows+1], gr.kap[:rows]
	ws.x0 = ws.x0[:0]
	T := 0
	for r := 0; r < rows; r++ {
		gr.start[r] = T
		for i := 0; i < P; i++ {
			row := seq[(r*P+i)*F : (r*P+i+1)*F]
			if particleValid(row) {
				ws.x0 = append(ws.x0, row...)
				T++
			}
		}
	}
	gr.start[rows] = T
	if cap(gr.nbr) < T*k {
		gr.nbr = make([]int32, T*k)
	}
	gr.nbr = gr.nbr[:T*k]
	if cap(ws.cand) < P {
		ws.cand = make([]candidate, P)
	}
	for r := 0; r < rows; r++ {
		lo, hi := gr.start[r], gr.start[r+1]
		n := hi - lo
		kap := min(k, n)
		gr.kap[r] = kap
		for i := lo; i < hi; i++ {
			ei, pi := ws.x0[i*F], ws.x0[i*F+1]
			// Insertion into a sorted list of the kap nearest: n ≤ 100
			// and k small, so this beats a heap or a full sort.
			best := ws.cand[:0]
			for j := lo; j < hi; j++ {
				de, dp := ws.x0[j*F]-ei, ws.x0[j*F+1]-pi
				d := de*de + dp*dp
				if len(best) == kap && d >= best[kap-1].d {
					continue
				}
				if len(best) < kap {
					best = append(best, candidate{})
				}
				t := len(best) - 1
				for t > 0 && best[t-1].d > d {
					best[t] = best[t-1]
					t--
				}
				best[t] = candidate{d, int32(j)}
			}
			for t, c := range best {
				gr.nbr[i*k+t] = c.j
			}
		}
	}
	// Standardise after the graph: its distances stay those of (Δη, Δφ).
	if mean, scale := s.InputMean, s.InputScale; len(mean) == F {
		for i := 0; i < T; i++ {
			x := ws.x0[i*F : (i+1)*F]
			for f := range x {
				x[f] = (x[f] - mean[f]) * scale[f]
			}
		}
	}
}

// InputStats are the per-feature mean and 1/σ of the real particles (the
// non-zero rows) of a pass over src, whose one input is rows of P × F
// values: Spec.InputMean and Spec.InputScale. A constant feature keeps
// scale 1.
func InputStats(ctx context.Context, src data.Source, P, F int) (mean, scale []float32, err error) {
	sums, err := inputSums(ctx, src, P, F)
	if err != nil {
		return nil, nil, err
	}
	mean, scale = statsOf(sums, F)
	return mean, scale, nil
}

// inputSums is InputStats' pass: the features' sums, then their sums of
// squares, then the count of real particles (F + F + 1 values), which
// the ranks of a data-parallel training add up before statsOf.
func inputSums(ctx context.Context, src data.Source, P, F int) ([]float64, error) {
	if err := src.Rewind(); err != nil {
		return nil, err
	}
	sums := make([]float64, 2*F+1)
	sum, sq := sums[:F], sums[F:2*F]
	n := 0
	for {
		b, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		seq := b.Inputs[0]
		for i := 0; i < b.Rows*P; i++ {
			row := seq[i*F : (i+1)*F]
			if !particleValid(row) {
				continue
			}
			n++
			for f, v := range row {
				sum[f] += float64(v)
				sq[f] += float64(v) * float64(v)
			}
		}
	}
	sums[2*F] = float64(n)
	return sums, nil
}

// statsOf turns inputSums' figures into the mean and 1/σ.
func statsOf(sums []float64, F int) (mean, scale []float32) {
	sum, sq, n := sums[:F], sums[F:2*F], sums[2*F]
	mean, scale = make([]float32, F), make([]float32, F)
	for f := range F {
		scale[f] = 1
		if n == 0 {
			continue
		}
		mu := sum[f] / n
		mean[f] = float32(mu)
		if v := sq[f]/n - mu*mu; v > 1e-12 {
			scale[f] = float32(1 / math.Sqrt(v))
		}
	}
	return mean, scale
}

// Embed runs the encoder on rows jets (seq: rows × SeqLen × SeqDim) and
// returns their embeddings, rows × Embed, valid until ws's next use.
func (m *Model) Embed(ws *Workspace, seq []float32, rows int) []float32 {
	s, l, p := m.Spec, m.lay, m.Params
	m.build(ws, seq, rows)
	gr := &ws.gr
	T, E, k := gr.start[rows], s.Embed, s.Neighbors
	gatForward(p, l.g1, ws.x0, s.SeqDim, gr, k, &ws.c1)
	gatForward(p, l.g2, ws.c1.h, s.Edge1, gr, k, &ws.c2)
	ws.pa = grow(ws.pa, T*E)
	bp := l.bp.of(p)
	for i := 0; i < T; i++ {
		copy(ws.pa[i*E:i*E+E], bp)
	}
	if T > 0 {
		nn.Gemm(false, false, T, E, s.Edge1, ws.c1.h, s.Edge1, l.wp1.of(p), E, 1, ws.pa, E)
		nn.Gemm(false, false, T, E, s.Edge2, ws.c2.h, s.Edge2, l.wp2.of(p), E, 1, ws.pa, E)
	}
	for i, v := range ws.pa {
		ws.pa[i] = max(v, 0)
	}
	ws.z = grow(ws.z, rows*E)
	if cap(ws.arg) < rows*E {
		ws.arg = make([]int32, rows*E)
	}
	ws.arg = ws.arg[:rows*E]
	for r := 0; r < rows; r++ {
		z, arg := ws.z[r*E:r*E+E], ws.arg[r*E:r*E+E]
		lo, hi := gr.start[r], gr.start[r+1]
		if lo == hi {
			clear(z)
			for e := range arg {
				arg[e] = -1
			}
			continue
		}
		copy(z, ws.pa[lo*E:lo*E+E])
		for e := range arg {
			arg[e] = int32(lo)
		}
		for i := lo + 1; i < hi; i++ {
			row := ws.pa[i*E : i*E+E]
			for e, v := range row {
				if v > z[e] {
					z[e], arg[e] = v, int32(i)
				}
			}
		}
	}
	return ws.z
}

// Forward runs the whole network: the embeddings (Embed), the head's class
// probabilities (rows × Classes, returned) and the squared distances to
// the centroids (ws.dist).
func (m *Model) Forward(ws *Workspace, seq []float32, rows int) []float32 {
	s, l, p := m.Spec, m.lay, m.Params
	z := m.Embed(ws, seq, rows)
	E, H, C := s.Embed, s.Head, s.Classes
	ws.hh = grow(ws.hh, rows*H)
	bh := l.bh.of(p)
	for r := 0; r < rows; r++ {
		copy(ws.hh[r*H:r*H+H], bh)
	}
	nn.Gemm(false, false, rows, H, E, z, E, l.wh.of(p), H, 1, ws.hh, H)
	for i, v := range ws.hh {
		ws.hh[i] = max(v, 0)
	}
	ws.logits = grow(ws.logits, rows*C)
	bo := l.bo.of(p)
	for r := 0; r < rows; r++ {
		copy(ws.logits[r*C:r*C+C], bo)
	}
	nn.Gemm(false, false, rows, C, H, ws.hh, H, l.wo.of(p), C, 1, ws.logits, C)
	ws.probs = grow(ws.probs, rows*C)
	for r := 0; r < rows; r++ {
		softmax(ws.logits[r*C:r*C+C], ws.probs[r*C:r*C+C])
	}
	m.distances(ws, rows)
	return ws.probs
}

// distances fills ws.dist from ws.z.
func (m *Model) distances(ws *Workspace, rows int) {
	K, E := m.Spec.Clusters, m.Spec.Embed
	mu := m.lay.mu.of(m.Params)
	ws.dist = grow(ws.dist, rows*K)
	for r := 0; r < rows; r++ {
		z := ws.z[r*E : r*E+E]
		for j := 0; j < K; j++ {
			c := mu[j*E : j*E+E]
			var d float32
			for e, v := range z {
				t := v - c[e]
				d += t * t
			}
			ws.dist[r*K+j] = d
		}
	}
}

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

// Loss says what Backward optimises: the focal loss of the head and, with
// Beta > 0, Beta times the clustering loss at inverse temperature Alpha.
type Loss struct {
	Beta, Alpha float64
}

// Sums are a shard's summed losses.
type Sums struct {
	Focal, Cluster float64
	Correct        int // rows whose head's argmax is their label
}

// Backward follows Forward on ws: it returns the summed losses of the rows
// against labels and adds scale times their gradient into grad. The
// trainer passes scale = 1/global batch size.
func (m *Model) Backward(ws *Workspace, labels []int32, loss Loss, scale float32, grad []float32) Sums {
	s, l, p := m.Spec, m.lay, m.Params
	gr := &ws.gr
	rows := gr.rows
	T, E, H, C, K := gr.start[rows], s.Embed, s.Head, s.Classes, s.Clusters
	var sums Sums
	// Focal loss −(1−p_c)^γ log p_c: dL/dz_j = w·(δ_cj − p_j) with
	// w = γ(1−p_c)^(γ−1) p_c log p_c − (1−p_c)^γ.
	gam := float64(s.FocalGamma)
	ws.dlog = grow(ws.dlog, rows*C)
	for r := 0; r < rows; r++ {
		c := int(labels[r])
		pr := ws.probs[r*C : r*C+C]
		lp := logProb(ws.logits[r*C:r*C+C], c)
		pc := math.Exp(lp)
		om := 1 - pc
		sums.Focal -= math.Pow(om, gam) * lp
		w := -math.Pow(om, gam)
		if gam > 0 {
			w += gam * math.Pow(om, gam-1) * pc * lp
		}
		d := ws.dlog[r*C : r*C+C]
		for j := range d {
			d[j] = float32(-w*float64(pr[j])) * scale
		}
		d[c] += float32(w) * scale
		best := 0
		for j := range pr {
			if pr[j] > pr[best] {
				best = j
			}
		}
		if best == c {
			sums.Correct++
		}
	}
	// Head backward.
	nn.Gemm(true, false, H, C, rows, ws.hh, H, ws.dlog, C, 1, l.wo.of(grad), C)
	colSumAdd(rows, C, ws.dlog, l.bo.of(grad))
	ws.dhh = grow(ws.dhh, rows*H)
	nn.Gemm(false, true, rows, H, C, ws.dlog, C, l.wo.of(p), C, 0, ws.dhh, H)
	for i, v := range ws.hh {
		if v <= 0 {
			ws.dhh[i] = 0
		}
	}
	nn.Gemm(true, false, E, H, rows, ws.z, E, ws.dhh, H, 1, l.wh.of(grad), H)
	colSumAdd(rows, H, ws.dhh, l.bh.of(grad))
	ws.dz = grow(ws.dz, rows*E)
	nn.Gemm(false, true, rows, E, H, ws.dhh, H, l.wh.of(p), H, 0, ws.dz, E)
	// Clustering loss Σ_j q_j d_j, q = softmax(−α d): dL/dd_j =
	// q_j (1 − α (d_j − Σ_l q_l d_l)); dd_j/dz = 2(z − μ_j) = −dd_j/dμ_j.
	if loss.Beta > 0 {
		mu, dmu := l.mu.of(p), l.mu.of(grad)
		ws.q = grow(ws.q, K)
		bs := float32(loss.Beta) * scale
		for r := 0; r < rows; r++ {
			d := ws.dist[r*K : r*K+K]
			mn := d[0]
			for _, v := range d[1:] {
				mn = min(mn, v)
			}
			var sum, dbar float64
			for j, v := range d {
				e := math.Exp(-loss.Alpha * float64(v-mn))
				ws.q[j] = float32(e)
				sum += e
			}
			for j := range ws.q {
				ws.q[j] = float32(float64(ws.q[j]) / sum)
				dbar += float64(ws.q[j]) * float64(d[j])
			}
			sums.Cluster += dbar
			z, dz := ws.z[r*E:r*E+E], ws.dz[r*E:r*E+E]
			for j, v := range d {
				g := float32(float64(ws.q[j])*(1-loss.Alpha*(float64(v)-dbar))) * bs
				c, dc := mu[j*E:j*E+E], dmu[j*E:j*E+E]
				for e := range z {
					t := 2 * g * (z[e] - c[e])
					dz[e] += t
					dc[e] -= t
				}
			}
		}
	}
	// Max-pool and the particle dense layer.
	ws.dpa = grow(ws.dpa, T*E)
	clear(ws.dpa)
	for r := 0; r < rows; r++ {
		arg, dz := ws.arg[r*E:r*E+E], ws.dz[r*E:r*E+E]
		for e, i := range arg {
			if i >= 0 {
				ws.dpa[int(i)*E+e] += dz[e]
			}
		}
	}
	for i, v := range ws.pa {
		if v <= 0 {
			ws.dpa[i] = 0
		}
	}
	if T == 0 {
		return sums
	}
	D1, D2 := s.Edge1, s.Edge2
	nn.Gemm(true, false, D1, E, T, ws.c1.h, D1, ws.dpa, E, 1, l.wp1.of(grad), E)
	nn.Gemm(true, false, D2, E, T, ws.c2.h, D2, ws.dpa, E, 1, l.wp2.of(grad), E)
	colSumAdd(T, E, ws.dpa, l.bp.of(grad))
	ws.dh1, ws.dh2 = grow(ws.dh1, T*D1), grow(ws.dh2, T*D2)
	nn.Gemm(false, true, T, D2, E, ws.dpa, E, l.wp2.of(p), E, 0, ws.dh2, D2)
	nn.Gemm(false, true, T, D1, E, ws.dpa, E, l.wp1.of(p), E, 0, ws.dh1, D1)
	// The second convolution's input gradient adds into dh1, through a
	// buffer of its own: gatBackward overwrites its dx.
	ws.dx2 = grow(ws.dx2, T*D1)
	dh1b := ws.dx2
	gatBackward(p, grad, l.g2, ws.c1.h, D1, gr, s.Neighbors, &ws.c2, ws.dh2, dh1b)
	for i, v := range dh1b {
		ws.dh1[i] += v
	}
	gatBackward(p, grad, l.g1, ws.x0, s.SeqDim, gr, s.Neighbors, &ws.c1, ws.dh1, nil)
	return sums
}

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

func colSumAdd(m, n int, a, dst []float32) {
	dst = dst[:n]
	for i := 0; i < m; i++ {
		row := a[i*n : i*n+n]
		for j, v := range row {
			dst[j] += v
		}
	}
}
