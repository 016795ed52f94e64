// Package metrics scores classifiers: one-vs-rest ROC curves and their
// areas, accuracy, log-loss and the confusion matrix. Probabilities are
// row-major [rows×classes] float32, labels class indices, as package nn
// produces them.
package metrics

import (
	"fmt"
	"math"
	"slices"
)

// AUC is the area under the ROC curve of scores against positive, by the
// Mann–Whitney rank statistic: tied scores share their average rank, which
// is the trapezoid through the tied points. It is NaN when either class is
// absent.
func AUC(scores []float32, positive []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case scores[a] < scores[b]:
			return -1
		case scores[a] > scores[b]:
			return 1
		}
		return 0
	})
	var nPos, nNeg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1 … j
		for _, k := range idx[i:j] {
			if positive[k] {
				nPos++
				rankSum += avg
			} else {
				nNeg++
			}
		}
		i = j
	}
	if nPos == 0 || nNeg == 0 {
		return math.NaN()
	}
	return (rankSum - nPos*(nPos+1)/2) / (nPos * nNeg)
}

// Point is one point of a ROC curve: at scores ≥ Threshold, the fractions
// of negatives (FPR) and positives (TPR) selected.
type Point struct {
	Threshold float32
	FPR, TPR  float64
}

// ROC returns the curve from (0, 0) to (1, 1), one point per distinct
// score, highest threshold first; the first point has threshold +Inf.
func ROC(scores []float32, positive []bool) []Point {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	var nPos, nNeg float64
	for _, p := range positive {
		if p {
			nPos++
		} else {
			nNeg++
		}
	}
	frac := func(n, of float64) float64 {
		if of == 0 {
			return math.NaN()
		}
		return n / of
	}
	pts := []Point{{Threshold: float32(math.Inf(1))}}
	var tp, fp float64
	for i := 0; i < len(idx); {
		th := scores[idx[i]]
		for ; i < len(idx) && scores[idx[i]] == th; i++ {
			if positive[idx[i]] {
				tp++
			} else {
				fp++
			}
		}
		pts = append(pts, Point{Threshold: th, FPR: frac(fp, nNeg), TPR: frac(tp, nPos)})
	}
	return pts
}

// Column returns class c's probabilities and the one-vs-rest truth.
func Column(probs []float32, labels []int32, classes, c int) ([]float32, []bool) {
	s := make([]float32, len(labels))
	pos := make([]bool, len(labels))
	for r, l := range labels {
		s[r] = probs[r*classes+c]
		pos[r] = int(l) == c
	}
	return s, pos
}

// OneVsRestAUC gives each class's AUC against the others and their
// unweighted mean (NaN classes, absent from labels, are left out of it).
func OneVsRestAUC(probs []float32, labels []int32, classes int) (perClass []float64, macro float64) {
	perClass = make([]float64, classes)
	n := 0
	for c := 0; c < classes; c++ {
		s, pos := Column(probs, labels, classes, c)
		perClass[c] = AUC(s, pos)
		if !math.IsNaN(perClass[c]) {
			macro += perClass[c]
			n++
		}
	}
	if n == 0 {
		return perClass, math.NaN()
	}
	return perClass, macro / float64(n)
}

// Predicted is the arg-max class of each row (the first on ties).
func Predicted(probs []float32, classes int) []int32 {
	out := make([]int32, len(probs)/classes)
	for r := range out {
		row := probs[r*classes : r*classes+classes]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[r] = int32(best)
	}
	return out
}

// Accuracy is the fraction of rows whose arg-max class is the label.
func Accuracy(probs []float32, labels []int32, classes int) float64 {
	if len(labels) == 0 {
		return math.NaN()
	}
	hit := 0
	for r, p := range Predicted(probs, classes) {
		if p == labels[r] {
			hit++
		}
	}
	return float64(hit) / float64(len(labels))
}

// LogLoss is the mean of −ln p(label), probabilities clipped to
// [1e-15, 1 − 1e-15] as scikit-learn does so that one confident miss is
// large but finite.
func LogLoss(probs []float32, labels []int32, classes int) float64 {
	if len(labels) == 0 {
		return math.NaN()
	}
	const eps = 1e-15
	var sum float64
	for r, l := range labels {
		p := min(max(float64(probs[r*classes+int(l)]), eps), 1-eps)
		sum -= math.Log(p)
	}
	return sum / float64(len(labels))
}

// Confusion counts rows by true class (row index) and predicted class
// (column index).
func Confusion(probs []float32, labels []int32, classes int) ([][]int, error) {
	m := make([][]int, classes)
	for i := range m {
		m[i] = make([]int, classes)
	}
	for r, p := range Predicted(probs, classes) {
		l := labels[r]
		if l < 0 || int(l) >= classes {
			return nil, fmt.Errorf("metrics: row %d has label %d, want 0…%d", r+1, l, classes-1)
		}
		m[l][p]++
	}
	return m, nil
}
