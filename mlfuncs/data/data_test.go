package data

import (
	"context"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
)

// rowsOf builds a Memory source whose row r has HLF value r and a 3-wide
// second input r, r+0.5, r+0.25: each emitted row can be traced back.
func rowsOf(t *testing.T, n, chunk int) *Memory {
	a := make([]float32, n)
	b := make([]float32, 3*n)
	l := make([]int32, n)
	for r := 0; r < n; r++ {
		a[r] = float32(r)
		b[3*r], b[3*r+1], b[3*r+2] = float32(r), float32(r)+0.5, float32(r)+0.25
		l[r] = int32(r % 3)
	}
	m, err := NewMemory([][]float32{a, b}, l, []int{1, 3}, chunk)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func drain(t *testing.T, s *Shuffler, e int) []int {
	if err := s.Start(e); err != nil {
		t.Fatal(err)
	}
	var got []int
	for {
		b, err := s.Next(context.Background())
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r < b.Rows; r++ {
			id := b.Inputs[0][r]
			if b.Inputs[1][3*r] != id || b.Inputs[1][3*r+1] != id+0.5 || b.Inputs[1][3*r+2] != id+0.25 || b.Labels[r] != int32(int(id)%3) {
				t.Fatalf("row %v came apart: %v, label %d", id, b.Inputs[1][3*r:3*r+3], b.Labels[r])
			}
			got = append(got, int(id))
		}
	}
}

func TestShufflerEmitsEveryRowOnce(t *testing.T) {
	const n = 1000
	src := rowsOf(t, n, 33)
	budget := 100 * RowBytes(src.Dims()) // a tenth of the data
	s, err := NewShuffler(src, budget, 16, 7)
	if err != nil {
		t.Fatal(err)
	}
	if s.Bytes() > budget {
		t.Fatalf("buffer %d bytes over budget %d", s.Bytes(), budget)
	}
	e1 := drain(t, s, 1)
	e2 := drain(t, s, 2)
	e1again := drain(t, s, 1)
	for _, got := range [][]int{e1, e2} {
		sorted := slices.Sorted(slices.Values(got))
		for i, v := range sorted {
			if v != i {
				t.Fatalf("epoch emitted %d rows; row %d missing or repeated", len(got), i)
			}
		}
	}
	if slices.Equal(e1, e2) {
		t.Error("two epochs in the same order")
	}
	if !slices.Equal(e1, e1again) {
		t.Error("the same epoch and seed gave another order")
	}
	if _, err := NewShuffler(src, 10*RowBytes(src.Dims()), 16, 1); err == nil {
		t.Error("budget below three batches accepted")
	}
}

// TestShufflerBatchOutlivesNextDraw checks that a batch stays intact while
// the following one is drawn, as the trainer draws it during a step.
func TestShufflerBatchOutlivesNextDraw(t *testing.T) {
	src := rowsOf(t, 500, 40)
	s, err := NewShuffler(src, 200*RowBytes(src.Dims()), 16, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(1); err != nil {
		t.Fatal(err)
	}
	prev, err := s.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; ; step++ {
		want := [][]float32{slices.Clone(prev.Inputs[0]), slices.Clone(prev.Inputs[1])}
		labels := slices.Clone(prev.Labels)
		next, err := s.Next(context.Background())
		if !slices.Equal(prev.Inputs[0], want[0]) || !slices.Equal(prev.Inputs[1], want[1]) || !slices.Equal(prev.Labels, labels) {
			t.Fatalf("step %d: drawing the next batch changed the previous one", step)
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		prev = next
	}
}

func TestSplitIsStableAndDisjoint(t *testing.T) {
	src := rowsOf(t, 5000, 128)
	tr, va, err := Split(src, 0.2, 3)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(s Source) []int {
		var out []int
		_ = s.Rewind()
		for {
			b, err := s.Next(context.Background())
			if err == io.EOF {
				return out
			}
			for r := 0; r < b.Rows; r++ {
				out = append(out, int(b.Inputs[0][r]))
			}
		}
	}
	a, v := ids(tr), ids(va)
	if len(a)+len(v) != 5000 || len(v) < 900 || len(v) > 1100 {
		t.Fatalf("split %d / %d", len(a), len(v))
	}
	all := slices.Sorted(slices.Values(append(append([]int{}, a...), v...)))
	for i, x := range all {
		if x != i {
			t.Fatalf("row %d lost or duplicated", i)
		}
	}
	if !slices.Equal(v, ids(va)) {
		t.Error("validation rows differ between passes")
	}
}

// TestScanErrorsCountFromOne: Scan's errors number rows and values from 1,
// as the SQL layer's do, across chunks.
func TestScanErrorsCountFromOne(t *testing.T) {
	m := rowsOf(t, 10, 4)
	m.inputs[1][3*5+1] = float32(math.NaN()) // row 6, value 2
	_, err := Scan(context.Background(), m, []string{"a", "b"}, []int{1, 3}, 3)
	if err == nil || !strings.Contains(err.Error(), `input "b" row 6 value 2 is NaN`) {
		t.Errorf("NaN: %v", err)
	}
	m = rowsOf(t, 10, 4)
	m.labels[8] = 7 // row 9
	_, err = Scan(context.Background(), m, []string{"a", "b"}, []int{1, 3}, 3)
	if err == nil || !strings.Contains(err.Error(), "row 9 has label 7") {
		t.Errorf("label: %v", err)
	}
}
