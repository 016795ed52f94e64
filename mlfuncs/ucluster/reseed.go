package ucluster

// Starved centroids. Deep k-means can leave a centroid that no jet is
// nearest to: the clustering loss pulls each jet towards its soft-nearest
// centroid and each centroid towards its jets, so when two centroids start
// in one blob (W and Z jets overlap in the embedding) one of them can lose
// all its jets, and the run ends with fewer clusters than asked (seen in
// both hepsql and the PyTorch peer of bench/cmd/ucbench, from their own
// initial draws). As Lloyd's k-means does with an empty cluster (kmeans.go),
// the trainer moves such a centroid, at the end of an end-to-end epoch, to
// the embedding of the epoch's jet farthest from its nearest centroid (the
// next farthest for a second one). Starved means nearest to fewer than a
// tenth of an equal share of the epoch's jets. The embeddings are those of
// the epoch's steps (before each step's update), so no extra pass is needed.
// The PyTorch peer (bench/cmd/ucbench/peer.py) does the same.

// starveShare: a centroid nearest to fewer than rows/(starveShare·K) of an
// epoch's jets is re-seeded.
const starveShare = 10

// farJet is a jet's embedding and its squared distance to its nearest
// centroid.
type farJet struct {
	d float32
	z []float32
}

// reseeder collects, per worker, how many jets each centroid was nearest
// to and the K jets farthest from their nearest centroid.
type reseeder struct {
	k, e  int
	count [][]int
	far   [][]farJet // per worker, at most k, farthest first
}

func newReseeder(k, e, workers int) *reseeder {
	r := &reseeder{k: k, e: e, count: make([][]int, workers), far: make([][]farJet, workers)}
	for w := range workers {
		r.count[w] = make([]int, k)
	}
	return r
}

// reset starts an epoch.
func (r *reseeder) reset() {
	for w := range r.count {
		clear(r.count[w])
		r.far[w] = r.far[w][:0]
	}
}

// observe takes worker w's rows after Forward (ws.z, ws.dist).
func (r *reseeder) observe(w int, ws *Workspace, rows int) {
	for i := 0; i < rows; i++ {
		d := ws.dist[i*r.k : i*r.k+r.k]
		j := Nearest(d)
		r.count[w][j]++
		r.far[w] = insertFar(r.far[w], d[j], ws.z[i*r.e:i*r.e+r.e], r.k)
	}
}

// insertFar keeps list the n farthest, farthest first; an equal distance
// goes after those already in (the earlier jet wins).
func insertFar(list []farJet, d float32, z []float32, n int) []farJet {
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
