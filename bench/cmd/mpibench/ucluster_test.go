package main

import (
	"slices"
	"testing"

	"github.com/hepsql/hepsql/mlfuncs/synth"
)

// The ranks' shards of a set are disjoint and together hold every jet
// once, each whole (its particles, count, labels and mass), jet j on
// rank j % size.
func TestShardJets(t *testing.T) {
	s := synth.Jets(synth.JetOptions{Jets: 11, Seed: 3, MaxParticles: 5})
	d := s.MaxParticles * synth.JetFeatures
	const size = 3
	seen := 0
	for r := range size {
		sh := shardJets(s, r, size)
		if sh.MaxParticles != s.MaxParticles || len(sh.Particles) != sh.Jets*d || len(sh.Aux) != sh.Jets {
			t.Fatalf("rank %d: shard of %d jets, %d particle values, %d labels", r, sh.Jets, len(sh.Particles), len(sh.Aux))
		}
		for i := range sh.Jets {
			j := r + i*size
			if !slices.Equal(sh.Particles[i*d:(i+1)*d], s.Particles[j*d:(j+1)*d]) || sh.Counts[i] != s.Counts[j] ||
				sh.Aux[i] != s.Aux[j] || sh.Truth[i] != s.Truth[j] || sh.Mass[i] != s.Mass[j] {
				t.Errorf("rank %d, jet %d: not jet %d of the set", r, i, j)
			}
			seen++
		}
	}
	if seen != s.Jets {
		t.Errorf("the shards hold %d jets, the set %d", seen, s.Jets)
	}
}

// The verdict fails a parallel run whose accuracy or loss is outside the
// tolerances, either way.
func TestUCAgree(t *testing.T) {
	one := ucResult{Accuracy: 0.6, Loss: 0.4}
	for _, c := range []struct {
		acc, loss float64
		ok        bool
	}{
		{0.6, 0.4, true},
		{0.6 + ucAccTol/2, 0.4 * (1 - ucLossTol/2), true},
		{0.6 - 2*ucAccTol, 0.4, false},
		{0.6 + 2*ucAccTol, 0.4, false},
		{0.6, 0.4 * (1 + 2*ucLossTol), false},
		{0.6, 0.4 * (1 - 2*ucLossTol), false},
	} {
		if ok, _, _ := ucAgree(one, ucResult{Accuracy: c.acc, Loss: c.loss}); ok != c.ok {
			t.Errorf("accuracy %g, loss %g against %+v: agree %v, want %v", c.acc, c.loss, one, ok, c.ok)
		}
	}
}
