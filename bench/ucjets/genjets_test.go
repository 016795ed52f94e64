package ucjets

import (
	"context"
	"testing"

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
	tr, te, err := Generate(t.TempDir(), 7, 1500, 600)
	if err != nil {
		t.Fatal(err)
	}
	spec := ucluster.Spec{Classes: MassClasses, Clusters: 3, SeqLen: 100, SeqDim: synth.JetFeatures}
	for _, seed := range seeds {
		src, err := Source(tr, tr.Aux)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ucluster.Train(context.Background(), spec, src, ucluster.Options{Seed: seed, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		K := res.Model.Spec.Clusters
		sc, err := Score(res.Model, te, 2)
		if err != nil {
			t.Fatal(err)
		}
		sizes := sc.Sizes
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
