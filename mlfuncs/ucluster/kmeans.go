package ucluster

import (
	"math"
	"math/rand/v2"
)

// KMeans clusters n points of dim values (row-major) into k groups:
// k-means++ seeding and Lloyd's iterations to a fixed point (at most 300),
// restarts times from different seeds, keeping the lowest inertia (sum of
// squared distances to the nearest centroid). Sums are in float64, so the
// result does not depend on float32 rounding of the order of points.
func KMeans(x []float32, n, dim, k, restarts int, seed uint64) (centroids []float32, inertia float64) {
	rng := rand.New(rand.NewPCG(seed, 0x6b6d65616e73)) // "kmeans"
	inertia = math.Inf(1)
	for range max(restarts, 1) {
		c, in := kmeansOnce(x, n, dim, k, rng)
		if in < inertia {
			centroids, inertia = c, in
		}
	}
	return centroids, inertia
}

func sqDist(a []float32, b []float64) float64 {
	var s float64
	for i, v := range a {
		t := float64(v) - b[i]
		s += t * t
	}
	return s
}

func kmeansOnce(x []float32, n, dim, k int, rng *rand.Rand) ([]float32, float64) {
	c := make([]float64, k*dim)
	pt := func(i int) []float32 { return x[i*dim : i*dim+dim] }
	setC := func(j, i int) {
		for e, v := range pt(i) {
			c[j*dim+e] = float64(v)
		}
	}
	// k-means++: each next seed drawn with probability ∝ D(x)².
	setC(0, rng.IntN(n))
	d2 := make([]float64, n)
	for i := range d2 {
		d2[i] = sqDist(pt(i), c[:dim])
	}
	for j := 1; j < k; j++ {
		var sum float64
		for _, v := range d2 {
			sum += v
		}
		pick := rng.IntN(n)
		if sum > 0 {
			r := rng.Float64() * sum
			for i, v := range d2 {
				if r -= v; r <= 0 {
					pick = i
					break
				}
			}
		}
		setC(j, pick)
		for i := range d2 {
			d2[i] = min(d2[i], sqDist(pt(i), c[j*dim:j*dim+dim]))
		}
	}
	assign := make([]int, n)
	for i := range assign {
		assign[i] = -1
	}
	counts := make([]int, k)
	var inertia float64
	for iter := 0; iter < 300; iter++ {
		changed := false
		inertia = 0
		for i := 0; i < n; i++ {
			best, bd := 0, math.Inf(1)
			for j := 0; j < k; j++ {
				if d := sqDist(pt(i), c[j*dim:j*dim+dim]); d < bd {
					best, bd = j, d
				}
			}
			d2[i] = bd
			inertia += bd
			if assign[i] != best {
				assign[i], changed = best, true
			}
		}
		if !changed {
			break
		}
		clear(c)
		clear(counts)
		for i, j := range assign {
			counts[j]++
			for e, v := range pt(i) {
				c[j*dim+e] += float64(v)
			}
		}
		for j := 0; j < k; j++ {
			if counts[j] == 0 {
				// An empty cluster takes the point farthest from its
				// centroid.
				far := 0
				for i := range d2 {
					if d2[i] > d2[far] {
						far = i
					}
				}
				setC(j, far)
				d2[far] = 0
				continue
			}
			for e := 0; e < dim; e++ {
				c[j*dim+e] /= float64(counts[j])
			}
		}
	}
	out := make([]float32, k*dim)
	for i, v := range c {
		out[i] = float32(v)
	}
	return out, inertia
}
