package ucluster

import (
	"math"
	"math/rand/v2"
)

// Starved centroids. Deep k-means can leave a centroid that no jet is
// nearest to: the clustering loss pulls each jet towards its soft-nearest
// centroid and each centroid towards its jets, so when two centroids start
// in one blob (W and Z jets overlap in the embedding) one of them can lose
// all its jets, and the run ends with fewer clusters than asked (seen in
// both hepsql and the PyTorch peer of bench/cmd/ucbench, from their own
// initial draws). The trainer moves such a centroid, at the end of an
// end-to-end epoch, to the embedding of a jet of the epoch drawn as
// k-means++ draws its seeds: with probability ∝ its squared distance to its
// nearest centroid (a second starved centroid gets another jet). Starved
// means nearest to fewer than a tenth of an equal share of the epoch's
// jets. (Moving it to the farthest jet, as Lloyd's rule in kmeans.go does,
// was tried: the farthest jet is an outlier, and the moved centroid stayed
// with one jet.) The draw streams: each worker keeps a weighted reservoir
// of Clusters jets (Efraimidis–Spirakis: key ln(u)/w, the largest keys
// kept), merged in worker order, so no extra pass and no copy of the
// epoch's embeddings are needed; the embeddings are those of the epoch's
// steps, before each step's update. The PyTorch peer
// (bench/cmd/ucbench/peer.py) does the same with its own random draws.

// starveShare: a centroid nearest to fewer than rows/(starveShare·K) of an
// epoch's jets is re-seeded.
const starveShare = 10

// farJet is a jet's embedding and its reservoir key.
type farJet struct {
	d float64
	z []float32
}

// reseeder collects, per worker, how many jets each centroid was nearest
// to and the K jets farthest from their nearest centroid.
type reseeder struct {
	k, e  int
	count [][]int
	far   [][]farJet // per worker, at most k, largest key first
	rng   []*rand.Rand
	seed  uint64
}

func newReseeder(k, e, workers int, seed uint64) *reseeder {
	r := &reseeder{k: k, e: e, count: make([][]int, workers), far: make([][]farJet, workers), rng: make([]*rand.Rand, workers), seed: seed}
	for w := range workers {
		r.count[w] = make([]int, k)
	}
	return r
}

// reset starts epoch e; worker w's draws come from (seed, e, w).
func (r *reseeder) reset(e int) {
	for w := range r.count {
		clear(r.count[w])
		r.far[w] = r.far[w][:0]
		r.rng[w] = rand.New(rand.NewPCG(r.seed, uint64(e)<<16|uint64(w)))
	}
}

// observe takes worker w's rows after Forward (ws.z, ws.dist).
func (r *reseeder) observe(w int, ws *Workspace, rows int) {
	for i := 0; i < rows; i++ {
		d := ws.dist[i*r.k : i*r.k+r.k]
		j := Nearest(d)
		r.count[w][j]++
		if d[j] > 0 {
			// 1 − Float64() is in (0, 1]: the key is finite.
			key := math.Log(1-r.rng[w].Float64()) / float64(d[j])
			r.far[w] = insertFar(r.far[w], key, ws.z[i*r.e:i*r.e+r.e], r.k)
		}
	}
}

// insertFar keeps in list the n largest keys, largest first; an equal key
// goes after those already in (the earlier jet wins).
func insertFar(list []farJet, d float64, z []float32, n int) []farJet {
	if len(list) == n && d <= list[n-1].d {
		return list
	}
	if len(list) < n {
		list = append(list, farJet{z: make([]float32, len(z))})
	}
	t := len(list) - 1
	spare := list[t].z
	for t > 0 && list[t-1].d < d {
		list[t] = list[t-1]
		t--
	}
	copy(spare, z)
	list[t] = farJet{d: d, z: spare}
	return list
}

// apply moves the starved centroids of mu (K × E) and returns how many it
// moved. Workers are merged in order, so a thread count gives one result.
func (r *reseeder) apply(mu []float32) int {
	count := make([]int, r.k)
	var far []farJet
	rows := 0
	for w := range r.count {
		for j, c := range r.count[w] {
			count[j] += c
			rows += c
		}
		for _, f := range r.far[w] {
			far = insertFar(far, f.d, f.z, r.k)
		}
	}
	moved := 0
	for j, c := range count {
		if c*starveShare*r.k >= rows || moved >= len(far) {
			continue
		}
		copy(mu[j*r.e:(j+1)*r.e], far[moved].z)
		moved++
	}
	return moved
}
