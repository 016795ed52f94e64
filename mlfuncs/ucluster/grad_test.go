package ucluster

import (
	"math"
	"math/rand/v2"
	"testing"
)

// smallSpec is a network small enough for finite differences over every
// weight.
func smallSpec() Spec {
	return Spec{Classes: 3, Clusters: 3, Neighbors: 3, SeqLen: 6, SeqDim: 4, Edge1: 4, Edge2: 5, Embed: 6, Head: 5}
}

// randomJets makes rows jets of spec's shape with 1..SeqLen particles each
// (one jet with a single particle, fewer than k), zero padding after.
func randomJets(s Spec, rows int, rng *rand.Rand) ([]float32, []int32) {
	P, F := s.SeqLen, s.SeqDim
	seq := make([]float32, rows*P*F)
	labels := make([]int32, rows)
	for r := 0; r < rows; r++ {
		n := 1 + rng.IntN(P)
		if r == 1 {
			n = 1
		}
		for i := 0; i < n; i++ {
			for f := 0; f < F; f++ {
				seq[(r*P+i)*F+f] = float32(rng.NormFloat64())
			}
		}
		labels[r] = int32(rng.IntN(s.Classes))
	}
	return seq, labels
}

// TestGradientMatchesFiniteDifferences checks the analytic gradient of the
// whole network, both edge convolutions, the max-pool, the focal loss and
// the clustering loss included, against central differences of the loss
// in every weight.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	for _, loss := range []Loss{{}, {Beta: 10, Alpha: 1.5}} {
		rng := rand.New(rand.NewPCG(7, 1))
		m, err := New(smallSpec(), 3)
		if err != nil {
			t.Fatal(err)
		}
		for i := range m.Params { // non-zero biases and centroids too
			m.Params[i] += float32(0.3 * rng.NormFloat64())
		}
		rows := 5
		seq, labels := randomJets(m.Spec, rows, rng)
		ws := m.NewWorkspace()
		// Centroids near jets' embeddings, as k-means leaves them: far
		// ones make the loss large and its float32 differences noisy.
		z := m.Embed(ws, seq, rows)
		E := m.Spec.Embed
		for j := 0; j < m.Spec.Clusters; j++ {
			for e := 0; e < E; e++ {
				m.Centroids()[j*E+e] = z[j*E+e] + float32(0.1*rng.NormFloat64())
			}
		}
		scale := 1 / float32(rows)
		lossAt := func() float64 {
			m.Forward(ws, seq, rows)
			s := m.Backward(ws, labels, loss, scale, make([]float32, len(m.Params)))
			return (s.Focal + loss.Beta*s.Cluster) / float64(rows)
		}
		grad := make([]float32, len(m.Params))
		m.Forward(ws, seq, rows)
		m.Backward(ws, labels, loss, scale, grad)
		const h = 1e-3
		bad := 0
		for i := range m.Params {
			orig := m.Params[i]
			m.Params[i] = orig + h
			up := lossAt()
			m.Params[i] = orig - h
			down := lossAt()
			m.Params[i] = orig
			num := (up - down) / (2 * h)
			if math.Abs(num-float64(grad[i])) > 2e-3+2e-2*math.Abs(num) {
				bad++
				if bad < 10 {
					t.Errorf("beta %g: weight %d (%s): analytic %g, numeric %g", loss.Beta, i, m.nameOf(i), grad[i], num)
				}
			}
		}
		if bad > 0 {
			t.Errorf("beta %g: %d of %d weights disagree", loss.Beta, bad, len(m.Params))
		}
	}
}

// nameOf names the tensor holding weight i, for messages.
func (m *Model) nameOf(i int) string {
	for _, t := range m.Spec.Tensors() {
		if i >= t.Offset && i < t.Offset+t.Rows*t.Cols {
			return t.Name
		}
	}
	return "?"
}

// TestNeighboursAreTheNearest compares the kNN graph with a brute-force
// sort of each particle's distances.
func TestNeighboursAreTheNearest(t *testing.T) {
	s := smallSpec()
	s.SeqLen, s.Neighbors = 20, 4
	m, _ := New(s, 1)
	rng := rand.New(rand.NewPCG(2, 2))
	seq, _ := randomJets(m.Spec, 6, rng)
	ws := m.NewWorkspace()
	m.build(ws, seq, 6)
	gr, F := &ws.gr, s.SeqDim
	for b := 0; b < 6; b++ {
		lo, hi := gr.start[b], gr.start[b+1]
		if want := min(4, hi-lo); gr.kap[b] != want {
			t.Fatalf("jet %d: %d neighbours, want %d", b, gr.kap[b], want)
		}
		for i := lo; i < hi; i++ {
			d := func(j int) float32 {
				de, dp := ws.x0[j*F]-ws.x0[i*F], ws.x0[j*F+1]-ws.x0[i*F+1]
				return de*de + dp*dp
			}
			// Every neighbour is at most as far as every non-neighbour,
			// and the list is sorted.
			in := map[int]bool{}
			prev := float32(-1)
			for _, j := range gr.nbr[i*s.Neighbors : i*s.Neighbors+gr.kap[b]] {
				if int(j) < lo || int(j) >= hi || in[int(j)] || d(int(j)) < prev {
					t.Fatalf("jet %d particle %d: bad neighbour list %v", b, i, gr.nbr[i*s.Neighbors:i*s.Neighbors+gr.kap[b]])
				}
				in[int(j)], prev = true, d(int(j))
			}
			for j := lo; j < hi; j++ {
				if !in[j] && d(j) < prev {
					t.Fatalf("jet %d particle %d: %d (d=%g) is nearer than a neighbour (d=%g)", b, i, j, d(j), prev)
				}
			}
		}
	}
}
