// Package ucjets prepares the jets that the UCluster benchmarks
// (bench/cmd/ucbench, bench/cmd/mpibench -model ucluster) train on: jets
// of `hepsql gen jets` read through hepsql's SQL features, the network
// spec with the training jets' input standardisation, and the clustering
// accuracy of a trained model on held-out jets. One preparation, so that
// both benchmarks measure the same task.
package ucjets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/gen/jets"
	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/metrics"
	"github.com/hepsql/hepsql/mlfuncs/synth"
	"github.com/hepsql/hepsql/mlfuncs/ucluster"
)

// The auxiliary label of queries/ucluster/1-features.sql at its defaults:
// the jet-mass class in MassClasses bins of MassBin GeV, the last open.
const (
	MassBin     = 20
	MassClasses = 15
)

// Generate makes train+test jets with `hepsql gen jets`' generator (seed
// seed, one ROOT file under dir, which it empties first) and reads them
// back through hepsql's SQL features, as the pipeline of queries/ucluster
// does: jet_particles (the eight inputs of the spec, pid as the
// particle-flow code), zero-padded to 100 × 8 by jet_particles_padded,
// the auxiliary label by jet_mass_class. The first train jets (in entry
// order) train, the next test are held out; the generator's jets are
// independent draws, so the split is fair.
func Generate(dir string, seed int64, train, test int) (tr, te *synth.JetSet, err error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, nil, err
	}
	if _, err := jets.Generate(jets.Options{Jets: train + test, Seed: seed, OutDir: dir}); err != nil {
		return nil, nil, fmt.Errorf("ucjets: gen jets into %s: %w", dir, err)
	}
	db, err := hepsql.Open("")
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	edges := make([]string, MassClasses-1)
	for i := range edges {
		edges[i] = fmt.Sprintf("%d.0", (i+1)*MassBin)
	}
	q := fmt.Sprintf(`SELECT jet_particles_padded(jet_particles(Part_pt, Part_eta, Part_phi, Part_e, Part_pid, Jet_pt, Jet_eta, Jet_phi, Jet_e)),
       least(nPart, 100), jet_mass_class(Jet_mass, [%s]), truth, Jet_mass
FROM read_root('%s', tree := 'Jets') ORDER BY _entry`, strings.Join(edges, ", "), filepath.Join(dir, "*.root"))
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		return nil, nil, fmt.Errorf("ucjets: features of %s: %w", dir, err)
	}
	defer rows.Close()
	const P, F = 100, synth.JetFeatures
	tr = &synth.JetSet{Jets: train, MaxParticles: P}
	te = &synth.JetSet{Jets: test, MaxParticles: P}
	n := 0
	for rows.Next() {
		var parts []any
		var count, aux, truth int64
		var mass float64
		if err := rows.Scan(&parts, &count, &aux, &truth, &mass); err != nil {
			return nil, nil, fmt.Errorf("ucjets: features of %s, jet %d: %w", dir, n, err)
		}
		if len(parts) != P*F {
			return nil, nil, fmt.Errorf("ucjets: features of %s, jet %d: %d padded values, want %d", dir, n, len(parts), P*F)
		}
		s := tr
		if n >= train {
			s = te
		}
		for _, v := range parts {
			f, ok := v.(float32)
			if !ok {
				return nil, nil, fmt.Errorf("ucjets: features of %s, jet %d: value of type %T", dir, n, v)
			}
			s.Particles = append(s.Particles, f)
		}
		s.Counts = append(s.Counts, int(count))
		s.Aux = append(s.Aux, int32(aux))
		s.Truth = append(s.Truth, int32(truth))
		s.Mass = append(s.Mass, float32(mass))
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if n != train+test {
		return nil, nil, fmt.Errorf("ucjets: features of %s: %d jets, want %d", dir, n, train+test)
	}
	return tr, te, nil
}

// Spec is the benchmarks' network: w's widths (zero for the package's
// defaults), classes auxiliary classes, 3 clusters, and the input
// standardisation of the training jets tr (mean and 1/σ per feature, as
// ucluster.Train computes them), fixed here so that every side of a
// comparison applies the same numbers.
func Spec(w ucluster.Spec, classes int, tr *synth.JetSet) (ucluster.Spec, error) {
	s := ucluster.Spec{Classes: classes, Clusters: 3, SeqLen: tr.MaxParticles, SeqDim: synth.JetFeatures,
		Neighbors: w.Neighbors, Edge1: w.Edge1, Edge2: w.Edge2, Embed: w.Embed, Head: w.Head}
	src, err := Source(tr, tr.Aux)
	if err != nil {
		return s, err
	}
	s.InputMean, s.InputScale, err = ucluster.InputStats(context.Background(), src, s.SeqLen, s.SeqDim)
	if err != nil {
		return s, fmt.Errorf("ucjets: input standardisation: %w", err)
	}
	return s.Normalize()
}

// Source is an in-memory training source of s's particles with labels
// (s.Aux for clustering, s.Truth for a supervised classifier).
func Source(s *synth.JetSet, labels []int32) (data.Source, error) {
	return data.NewMemory([][]float32{s.Particles}, labels, []int{s.MaxParticles * synth.JetFeatures}, 0)
}

// Score assigns te's jets to m's nearest centroids (threads workers) and
// scores the clusters against te.Truth (3 classes): the accuracy after
// Hungarian matching, the contingency table, the jets per cluster.
func Score(m *ucluster.Model, te *synth.JetSet, threads int) (*metrics.ClusterScores, error) {
	p := ucluster.NewPredictor(m, threads)
	defer p.Close()
	K := m.Spec.Clusters
	dist := make([]float32, te.Jets*K)
	p.Predict(te.Particles, te.Jets, nil, dist)
	cl := make([]int32, te.Jets)
	for i := range cl {
		cl[i] = int32(ucluster.Nearest(dist[i*K : i*K+K]))
	}
	sc, err := metrics.ScoreClusters(te.Truth, cl, 3, K)
	if err != nil {
		return nil, fmt.Errorf("ucjets: scoring %d held-out jets: %w", te.Jets, err)
	}
	return sc, nil
}
