package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/gen/jets"
	"github.com/hepsql/hepsql/mlfuncs/synth"
)

// The auxiliary label of queries/ucluster/1-features.sql at its defaults:
// the jet-mass class in massClasses bins of massBin GeV, the last open.
const (
	massBin     = 20
	massClasses = 15
)

// genJets makes train+test jets with `hepsql gen jets`' generator (seed
// seed, one ROOT file under dir) and reads them back through hepsql's SQL
// features, as the pipeline of queries/ucluster does: jet_particles (the
// eight inputs of the spec, pid as the particle-flow code), zero-padded to
// 100 × 8 by jet_particles_padded, the auxiliary label by jet_mass_class.
// The first train jets (in entry order) train, the next test are held
// out; the generator's jets are independent draws, so the split is fair.
func genJets(dir string, seed int64, train, test int) (tr, te *synth.JetSet, err error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, nil, err
	}
	if _, err := jets.Generate(jets.Options{Jets: train + test, Seed: seed, OutDir: dir}); err != nil {
		return nil, nil, fmt.Errorf("gen jets into %s: %w", dir, err)
	}
	db, err := hepsql.Open("")
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	edges := make([]string, massClasses-1)
	for i := range edges {
		edges[i] = fmt.Sprintf("%d.0", (i+1)*massBin)
	}
	q := fmt.Sprintf(`SELECT jet_particles_padded(jet_particles(Part_pt, Part_eta, Part_phi, Part_e, Part_pid, Jet_pt, Jet_eta, Jet_phi, Jet_e)),
       least(nPart, 100), jet_mass_class(Jet_mass, [%s]), truth, Jet_mass
FROM read_root('%s', tree := 'Jets') ORDER BY _entry`, strings.Join(edges, ", "), filepath.Join(dir, "*.root"))
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		return nil, nil, fmt.Errorf("features of %s: %w", dir, err)
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
			return nil, nil, fmt.Errorf("features of %s, jet %d: %w", dir, n, err)
		}
		if len(parts) != P*F {
			return nil, nil, fmt.Errorf("features of %s, jet %d: %d padded values, want %d", dir, n, len(parts), P*F)
		}
		s := tr
		if n >= train {
			s = te
		}
		for _, v := range parts {
			f, ok := v.(float32)
			if !ok {
				return nil, nil, fmt.Errorf("features of %s, jet %d: value of type %T", dir, n, v)
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
		return nil, nil, fmt.Errorf("features of %s: %d jets, want %d", dir, n, train+test)
	}
	return tr, te, nil
}
