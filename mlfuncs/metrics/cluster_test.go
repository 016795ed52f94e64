package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bestByPermutations is the brute-force reference: the most rows on the
// diagonal over every injection of clusters into classes (padded square).
func bestByPermutations(t [][]int) int {
	rows, cols := len(t), len(t[0])
	n := max(rows, cols)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	best := -1
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			s := 0
			for j := 0; j < cols; j++ {
				if perm[j] < rows {
					s += t[perm[j]][j]
				}
			}
			best = max(best, s)
			return
		}
		for i := k; i < n; i++ {
			perm[k], perm[i] = perm[i], perm[k]
			rec(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	rec(0)
	return best
}

func TestMatchClustersMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 500; trial++ {
		rows, cols := 1+rng.IntN(6), 1+rng.IntN(6)
		if trial%2 == 0 {
			cols = rows
		}
		tab := make([][]int, rows)
		for i := range tab {
			tab[i] = make([]int, cols)
			for j := range tab[i] {
				tab[i][j] = rng.IntN([]int{3, 20, 1000}[trial%3]) // small ranges make ties
			}
		}
		match, got := MatchClusters(tab)
		if want := bestByPermutations(tab); got != want {
			t.Fatalf("%v: matched %d, brute force %d", tab, got, want)
		}
		// The matching is one-to-one and sums to what it claims.
		seen, sum := map[int]bool{}, 0
		for j, i := range match {
			if i < 0 {
				continue
			}
			if seen[i] {
				t.Fatalf("%v: class %d matched twice in %v", tab, i, match)
			}
			seen[i] = true
			sum += tab[i][j]
		}
		if sum != got || len(seen) != min(rows, cols) {
			t.Fatalf("%v: match %v sums to %d (%d matched), reported %d", tab, match, sum, len(seen), got)
		}
	}
}

func TestScoreClusters(t *testing.T) {
	// Clusters are classes relabelled 0→2, 1→0, 2→1, with one row wrong.
	truth := []int32{0, 0, 0, 1, 1, 1, 2, 2, 2, 2}
	clus := []int32{2, 2, 2, 0, 0, 1, 1, 1, 1, 1}
	s, err := ScoreClusters(truth, clus, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.Accuracy-0.9) > 1e-12 {
		t.Errorf("accuracy %g, want 0.9", s.Accuracy)
	}
	if want := []int{1, 2, 0}; s.Match[0] != want[0] || s.Match[1] != want[1] || s.Match[2] != want[2] {
		t.Errorf("match %v, want %v", s.Match, want)
	}
	if math.Abs(s.Purity[1]-0.8) > 1e-12 || s.Purity[0] != 1 || s.Purity[2] != 1 {
		t.Errorf("purity %v, want [1 0.8 1]", s.Purity)
	}
	if _, err := ScoreClusters([]int32{0}, []int32{3}, 3, 3); err == nil {
		t.Error("cluster out of range accepted")
	}
}
