package ucluster

import (
	"context"
	"testing"

	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/internal/team"
	"github.com/hepsql/hepsql/mlfuncs/synth"
)

// TestEmbedAllInBlocks checks that the k-means' pass, which embeds each
// source batch in blocks of embedBlockRows a member, gives every jet the
// embedding one Predict call over all the jets gives.
func TestEmbedAllInBlocks(t *testing.T) {
	const jets = 700 // source batches of 300: blocks of 128 and a rest
	s := synth.Jets(synth.JetOptions{Jets: jets, Seed: 4, MaxParticles: 20})
	src, err := data.NewMemory([][]float32{s.Particles}, s.Aux, []int{20 * synth.JetFeatures}, 300)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Spec{Classes: 3, Clusters: 3, SeqLen: 20, SeqDim: synth.JetFeatures, Edge1: 4, Edge2: 4, Embed: 5, Head: 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	tm := team.New(2)
	defer tm.Close()
	got, err := EmbedAll(context.Background(), m, src, tm, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, jets*5)
	p := NewPredictor(m, 1)
	defer p.Close()
	p.Predict(s.Particles, jets, want, nil)
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("jet %d: embedding value %d is %g, one pass gives %g", i/5, i%5, got[i], want[i])
		}
	}
}

// TestKMeansCap checks the k-means' sample bound: kmeansRows under the
// default budget, what a small budget holds, and the floor.
func TestKMeansCap(t *testing.T) {
	s := Spec{Embed: 128} // 528 B a jet
	for _, c := range []struct {
		budget int64
		want   int
	}{
		{256 << 20, kmeansRows},
		{16 << 20, 16 << 20 / 528},
		{100 << 10, kmeansMinRows},
	} {
		if got := kmeansCap(s, c.budget); got != c.want {
			t.Errorf("budget %d: cap %d, want %d", c.budget, got, c.want)
		}
	}
}
