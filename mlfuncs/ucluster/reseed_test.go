package ucluster

import (
	"slices"
	"testing"
)

// TestReseedStarved feeds two workers' jets, by hand, to the reseeder:
// centroid 2 is nearest to none and centroid 1 to one of 40 (under a tenth
// of an equal share, 40/30), so both move: 1 to the farthest jet from its
// nearest centroid, 2 to the next; centroid 0 stays.
func TestReseedStarved(t *testing.T) {
	const K, E = 3, 2
	r := newReseeder(K, E, 2)
	r.reset()
	mu := []float32{0, 0, 10, 10, 50, 50}
	jets := func(zs ...[2]float32) *Workspace {
		ws := &Workspace{}
		for _, z := range zs {
			ws.z = append(ws.z, z[0], z[1])
			for j := 0; j < K; j++ {
				dx, dy := z[0]-mu[j*E], z[1]-mu[j*E+1]
				ws.dist = append(ws.dist, dx*dx+dy*dy)
			}
		}
		return ws
	}
	var a, b [][2]float32
	for i := 0; i < 20; i++ {
		a = append(a, [2]float32{float32(i % 3), 0}) // near 0, at most 2 away
	}
	for i := 0; i < 19; i++ {
		b = append(b, [2]float32{0, float32(i % 2)})
	}
	a[5] = [2]float32{-4, 0}  // 16 from centroid 0: the farthest
	b[7] = [2]float32{0, -3}  // 9: the next
	b[18] = [2]float32{9, 10} // nearest to centroid 1, 1 away
	r.observe(0, jets(a...), len(a))
	r.observe(1, jets(b...), len(b))
	if got := r.apply(mu); got != 2 {
		t.Fatalf("moved %d centroids, want 2", got)
	}
	if want := []float32{0, 0, -4, 0, 0, -3}; !slices.Equal(mu, want) {
		t.Errorf("centroids %v, want %v", mu, want)
	}
	// A fed but balanced epoch moves nothing.
	r.reset()
	var c [][2]float32
	for j := 0; j < K; j++ {
		for i := 0; i < 10; i++ {
			c = append(c, [2]float32{mu[j*E], mu[j*E+1]})
		}
	}
	r.observe(0, jets(c...), len(c))
	if got := r.apply(mu); got != 0 {
		t.Errorf("balanced epoch: moved %d centroids", got)
	}
}
