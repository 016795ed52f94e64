package metrics

import (
	"fmt"
	"math"
)

// Clustering scores: a clustering is scored against true classes after
// the best one-to-one matching of clusters to classes.

// Contingency counts rows by true class (row) and cluster (column).
func Contingency(truth, clusters []int32, classes, k int) ([][]int, error) {
	if len(truth) != len(clusters) {
		return nil, fmt.Errorf("metrics: %d true classes for %d clusters", len(truth), len(clusters))
	}
	t := make([][]int, classes)
	for i := range t {
		t[i] = make([]int, k)
	}
	for i, c := range truth {
		j := clusters[i]
		if c < 0 || int(c) >= classes || j < 0 || int(j) >= k {
			return nil, fmt.Errorf("metrics: row %d: class %d, cluster %d out of [0, %d) × [0, %d)", i+1, c, j, classes, k)
		}
		t[c][j]++
	}
	return t, nil
}

// MatchClusters gives the one-to-one matching of clusters (columns of the
// contingency table) to classes (rows) that puts the most rows on the
// diagonal: match[j] is cluster j's class, -1 for a cluster left without
// one (more clusters than classes). The Hungarian algorithm, O(n³).
func MatchClusters(table [][]int) (match []int, matched int) {
	rows := len(table)
	cols := 0
	if rows > 0 {
		cols = len(table[0])
	}
	n := max(rows, cols)
	big := 0
	for _, r := range table {
		for _, v := range r {
			big = max(big, v)
		}
	}
	// Minimise cost[i][j] = big − count (0 for padding): the square
	// assignment problem, rows = classes, columns = clusters.
	cost := func(i, j int) float64 {
		if i < rows && j < cols {
			return float64(big - table[i][j])
		}
		return float64(big)
	}
	rowOf := Assign(n, cost)
	match = make([]int, cols)
	for j := range match {
		match[j] = -1
		if i := rowOf[j]; i < rows {
			match[j] = i
			matched += table[i][j]
		}
	}
	return match, matched
}

// Assign solves the n×n assignment problem, minimising Σ cost(rowOf[j], j)
// over permutations, by the Hungarian method with row and column
// potentials (shortest augmenting paths, one row added at a time).
func Assign(n int, cost func(i, j int) float64) (rowOf []int) {
	inf := math.Inf(1)
	// 1-based arrays, index 0 a virtual column for the row being added.
	u := make([]float64, n+1)
	v := make([]float64, n+1)
	p := make([]int, n+1) // p[j]: the row matched to column j (0: none)
	way := make([]int, n+1)
	minv := make([]float64, n+1)
	used := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j], used[j] = inf, false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], inf, 0
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				cur := cost(i0-1, j-1) - u[i0] - v[j]
				if cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 { // flip the augmenting path
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	rowOf = make([]int, n)
	for j := 1; j <= n; j++ {
		rowOf[j-1] = p[j] - 1
	}
	return rowOf
}

// ClusterScores are a clustering's figures against true classes.
type ClusterScores struct {
	Accuracy    float64   // rows on the matched diagonal / rows
	Contingency [][]int   // [class][cluster]
	Match       []int     // cluster → class (-1: unmatched)
	Purity      []float64 // per cluster: its largest class's share (NaN if empty)
	Sizes       []int     // rows per cluster
}

// ScoreClusters scores clusters against truth.
func ScoreClusters(truth, clusters []int32, classes, k int) (*ClusterScores, error) {
	t, err := Contingency(truth, clusters, classes, k)
	if err != nil {
		return nil, err
	}
	return ScoreTable(t, k), nil
}

// ScoreTable scores a clustering given by its contingency table t
// ([class][cluster], k clusters), for callers that count the table as the
// rows stream by instead of keeping every row.
func ScoreTable(t [][]int, k int) *ClusterScores {
	s := &ClusterScores{Contingency: t, Purity: make([]float64, k), Sizes: make([]int, k)}
	var matched int
	s.Match, matched = MatchClusters(t)
	rows := 0
	for _, r := range t {
		for _, n := range r {
			rows += n
		}
	}
	s.Accuracy = math.NaN()
	if rows > 0 {
		s.Accuracy = float64(matched) / float64(rows)
	}
	for j := 0; j < k; j++ {
		top := 0
		for i := range t {
			s.Sizes[j] += t[i][j]
			top = max(top, t[i][j])
		}
		s.Purity[j] = math.NaN()
		if s.Sizes[j] > 0 {
			s.Purity[j] = float64(top) / float64(s.Sizes[j])
		}
	}
	return s
}
