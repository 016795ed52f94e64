package ucluster

import (
	"math"
	"testing"
)

// reseedWorkspace is a worker's batch, by hand: embeddings zs and their
// squared distances to the centroids mu (K × 2).
func reseedWorkspace(mu []float32, zs ...[2]float32) *Workspace {
	K := len(mu) / 2
	ws := &Workspace{}
	for _, z := range zs {
		ws.z = append(ws.z, z[0], z[1])
		for j := 0; j < K; j++ {
			dx, dy := z[0]-mu[2*j], z[1]-mu[2*j+1]
			ws.dist = append(ws.dist, dx*dx+dy*dy)
		}
	}
	return ws
}

// TestReseedStarved: over two workers, 30 jets at squared distance 1 from
// centroid 0 and 10 at 9; centroids 1 and 2 are nearest to none, so both
// move, to two different jets, the first drawn with probability ∝ the
// squared distance (k-means++): a far jet 90/120 of the time, counted over
// 4,000 seeds. A balanced epoch moves nothing.
func TestReseedStarved(t *testing.T) {
	const K, E = 3, 2
	var a, b [][2]float32
	for i := 0; i < 30; i++ {
		a = append(a, [2]float32{1, 0})
	}
	for i := 0; i < 10; i++ {
		b = append(b, [2]float32{-3, 0})
	}
	const runs = 4000
	far := 0
	for seed := uint64(0); seed < runs; seed++ {
		mu := []float32{0, 0, 10, 10, 50, 50}
		r := newReseeder(K, E, 2, seed)
		r.reset(7)
		r.observe(0, reseedWorkspace(mu, a...), len(a))
		r.observe(1, reseedWorkspace(mu, b...), len(b))
		if got := r.apply(mu); got != 2 {
			t.Fatalf("seed %d: moved %d centroids, want 2", seed, got)
		}
		if mu[0] != 0 || mu[1] != 0 {
			t.Fatalf("seed %d: centroid 0 moved to %v", seed, mu[:2])
		}
		for j := 1; j < K; j++ {
			if x := mu[2*j]; (x != 1 && x != -3) || mu[2*j+1] != 0 {
				t.Fatalf("seed %d: centroid %d at %v, not on a jet", seed, j, mu[2*j:2*j+2])
			}
		}
		if mu[2] == -3 {
			far++
		}
	}
	if f := float64(far) / runs; math.Abs(f-0.75) > 0.03 {
		t.Errorf("first re-seeded centroid on a far jet in %.3f of the runs; want 0.75 (∝ squared distance)", f)
	}
	mu := []float32{0, 0, 10, 10, 50, 50}
	r := newReseeder(K, E, 1, 1)
	r.reset(1)
	var c [][2]float32
	for j := 0; j < K; j++ {
		for i := 0; i < 10; i++ {
			c = append(c, [2]float32{mu[j*E] + 1, mu[j*E+1]})
		}
	}
	r.observe(0, reseedWorkspace(mu, c...), len(c))
	if got := r.apply(mu); got != 0 {
		t.Errorf("balanced epoch: moved %d centroids", got)
	}
}
