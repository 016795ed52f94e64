package main

import (
	"context"
	"testing"

	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/metrics"
	"github.com/hepsql/hepsql/mlfuncs/synth"
	"github.com/hepsql/hepsql/mlfuncs/ucluster"
)

// TestGenJetsClusterSeeds trains UCluster, at the model's defaults, on
// jets of `hepsql gen jets` read through hepsql's SQL features, from three
// seeds (one under the race detector, which slows training ~10×): no run
// may collapse (every cluster must hold at least a tenth of an equal share
// of the held-out jets) and each must beat chance (1/3) clearly. Deep
// k-means from an unlucky initial draw can pull the jets onto one or two
// centroids; this is the guard against that coming back.
func TestGenJetsClusterSeeds(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if raceEnabled {
		seeds = seeds[:1]
	}
	tr, te, err := genJets(t.TempDir(), 7, 1500, 600)
	if err != nil {
		t.Fatal(err)
	}
	spec := ucluster.Spec{Classes: massClasses, Clusters: 3, SeqLen: 100, SeqDim: synth.JetFeatures}
	for _, seed := range seeds {
		src, err := data.NewMemory([][]float32{tr.Particles}, tr.Aux, []int{100 * synth.JetFeatures}, 0)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ucluster.Train(context.Background(), spec, src, ucluster.Options{Seed: seed, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		m := res.Model
		p := ucluster.NewPredictor(m, 2)
		K := m.Spec.Clusters
		dist := make([]float32, te.Jets*K)
		p.Predict(te.Particles, te.Jets, nil, dist)
		p.Close()
		cl := make([]int32, te.Jets)
		sizes := make([]int, K)
		for i := range cl {
			cl[i] = int32(ucluster.Nearest(dist[i*K : i*K+K]))
			sizes[cl[i]]++
		}
		sc, err := metrics.ScoreClusters(te.Truth, cl, 3, K)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: accuracy %.3f, test jets per cluster %v, contingency %v", seed, sc.Accuracy, sizes, sc.Contingency)
		for j, n := range sizes {
			if n*10*K < te.Jets {
				t.Errorf("seed %d: cluster %d holds %d of %d test jets (sizes %v): collapsed", seed, j, n, te.Jets, sizes)
			}
		}
		if sc.Accuracy < 0.5 {
			t.Errorf("seed %d: clustering accuracy %.3f; want ≥ 0.5 (chance 1/3)", seed, sc.Accuracy)
		}
	}
}
