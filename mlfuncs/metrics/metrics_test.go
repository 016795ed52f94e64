package metrics

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestAUCByHand(t *testing.T) {
	// Positives 0.8, 0.4, 0.4; negatives 0.4, 0.2. Pairs (pos, neg):
	// (0.8,0.4)=1 (0.8,0.2)=1 (0.4,0.4)=½ (0.4,0.2)=1 (0.4,0.4)=½ (0.4,0.2)=1
	// → 5/6.
	s := []float32{0.8, 0.4, 0.4, 0.4, 0.2}
	pos := []bool{true, true, true, false, false}
	if got := AUC(s, pos); !near(got, 5.0/6) {
		t.Errorf("AUC %v, want 5/6", got)
	}
	if got := AUC([]float32{1, 2, 3}, []bool{false, true, true}); !near(got, 1) {
		t.Errorf("separable AUC %v, want 1", got)
	}
	if got := AUC([]float32{0.5, 0.5, 0.5, 0.5}, []bool{true, false, true, false}); !near(got, 0.5) {
		t.Errorf("all-tied AUC %v, want 0.5", got)
	}
	if got := AUC([]float32{1, 2}, []bool{true, true}); !math.IsNaN(got) {
		t.Errorf("one-class AUC %v, want NaN", got)
	}
	// The trapezoids under ROC's points give the same area.
	pts := ROC(s, pos)
	var area float64
	for i := 1; i < len(pts); i++ {
		area += (pts[i].FPR - pts[i-1].FPR) * (pts[i].TPR + pts[i-1].TPR) / 2
	}
	if !near(area, 5.0/6) {
		t.Errorf("ROC trapezoid area %v, want 5/6", area)
	}
	want := []Point{{float32(math.Inf(1)), 0, 0}, {0.8, 0, 1.0 / 3}, {0.4, 0.5, 1}, {0.2, 1, 1}}
	if len(pts) != len(want) {
		t.Fatalf("ROC %v, want %v", pts, want)
	}
	for i := range want {
		if pts[i].Threshold != want[i].Threshold || !near(pts[i].FPR, want[i].FPR) || !near(pts[i].TPR, want[i].TPR) {
			t.Errorf("ROC point %d: %+v, want %+v", i, pts[i], want[i])
		}
	}
}

func TestClassMetricsByHand(t *testing.T) {
	probs := []float32{
		0.7, 0.2, 0.1, // label 0, predicted 0
		0.1, 0.6, 0.3, // label 1, predicted 1
		0.5, 0.3, 0.2, // label 1, predicted 0
		0.2, 0.2, 0.6, // label 2, predicted 2
	}
	labels := []int32{0, 1, 1, 2}
	if got := Accuracy(probs, labels, 3); !near(got, 0.75) {
		t.Errorf("accuracy %v, want 0.75", got)
	}
	wantLL := -(math.Log(float64(float32(0.7))) + math.Log(float64(float32(0.6))) + math.Log(float64(float32(0.3))) + math.Log(float64(float32(0.6)))) / 4
	if got := LogLoss(probs, labels, 3); !near(got, wantLL) {
		t.Errorf("log-loss %v, want %v", got, wantLL)
	}
	cm, err := Confusion(probs, labels, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{1, 0, 0}, {1, 1, 0}, {0, 0, 1}}
	for i := range want {
		for j := range want[i] {
			if cm[i][j] != want[i][j] {
				t.Fatalf("confusion %v, want %v", cm, want)
			}
		}
	}
	// Class 0 vs rest: scores 0.7 (pos), 0.1, 0.5, 0.2 → AUC 1; class 1:
	// positives 0.6, 0.3; negatives 0.2, 0.2 → 1; class 2: positive 0.6
	// over 0.1, 0.3, 0.2 → 1.
	per, macro := OneVsRestAUC(probs, labels, 3)
	for c, a := range per {
		if !near(a, 1) {
			t.Errorf("class %d AUC %v, want 1", c, a)
		}
	}
	if !near(macro, 1) {
		t.Errorf("macro AUC %v", macro)
	}
	if _, err := Confusion(probs, []int32{0, 1, 5, 2}, 3); err == nil {
		t.Error("label out of range not reported")
	}
}
