package npy

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f := []float32{1.5, -2, 3.25, 0, 7, 8}
	if err := Write(filepath.Join(dir, "f.npy"), []int{2, 3}, f); err != nil {
		t.Fatal(err)
	}
	got, shape, err := Read[float32](filepath.Join(dir, "f.npy"))
	if err != nil || !slices.Equal(got, f) || !slices.Equal(shape, []int{2, 3}) {
		t.Fatalf("float32: %v %v %v", got, shape, err)
	}
	i := []int32{4, -5, 6}
	if err := Write(filepath.Join(dir, "i.npy"), []int{3}, i); err != nil {
		t.Fatal(err)
	}
	gi, shape, err := Read[int32](filepath.Join(dir, "i.npy"))
	if err != nil || !slices.Equal(gi, i) || !slices.Equal(shape, []int{3}) {
		t.Fatalf("int32: %v %v %v", gi, shape, err)
	}
	if _, _, err := Read[int32](filepath.Join(dir, "f.npy")); err == nil {
		t.Error("reading float32 data as int32 must fail")
	}
	if err := Write(filepath.Join(dir, "bad.npy"), []int{4}, i); err == nil {
		t.Error("a shape that does not match the values must fail")
	}
}
