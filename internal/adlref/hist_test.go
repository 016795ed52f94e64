package adlref

import (
	"math"
	"reflect"
	"testing"
)

func TestHistConvention(t *testing.T) {
	h := NewHist(0, 2000, 100) // w = 20
	for _, v := range []float64{
		0, 19.999, // bin 0, centre 10
		20,                   // bin 1, centre 30
		1999.99,              // bin 99, centre 1990
		-0.001, math.Inf(-1), // underflow, at -10
		2000, math.Inf(1), 1e30, // overflow (upper edge exclusive), at 2010
		math.NaN(), // overflow too: NaN sorts above every number in DuckDB
	} {
		h.Fill(v)
	}
	want := []Bin{{-10, 2}, {10, 2}, {30, 1}, {1990, 1}, {2010, 4}}
	if got := h.Bins(); !reflect.DeepEqual(got, want) {
		t.Errorf("Bins() = %v, want %v", got, want)
	}
	if got := h.Entries(); got != 10 {
		t.Errorf("Entries() = %d, want 10", got)
	}
	if got := NewHist(0, 1, 10).Bins(); len(got) != 0 {
		t.Errorf("empty histogram has rows %v", got)
	}
}

func TestHistCentres(t *testing.T) {
	h := NewHist(15, 60, 100) // w = 0.45
	for _, c := range []struct {
		v    float64
		k    int
		want float64
	}{
		{15, 0, 15.225},
		{15.44, 0, 15.225},
		// 15.45 is the edge of bin 1 on paper, but in float64
		// (15.45 − 15)/0.45 = 0.9999999999999984, so it stays in bin 0:
		// edges are what the arithmetic gives, the same in Go and in SQL.
		{15.45, 0, 15.225},
		{15.46, 1, 15.675},
		{59.99, 99, 59.775},
		{14.99, -1, 14.775},
		{60, 100, 60.225},
	} {
		k := h.BinIndex(c.v)
		if k != c.k {
			t.Errorf("BinIndex(%v) = %d, want %d", c.v, k, c.k)
		}
		if x := h.Centre(k); math.Abs(x-c.want) > 1e-12 {
			t.Errorf("Centre(%d) = %v, want %v", k, x, c.want)
		}
	}
}

// The last value below hi must land in the last bin even where the
// quotient (v-lo)/w rounds up to nbins.
func TestHistLastBinCap(t *testing.T) {
	h := NewHist(0, 1, 3)
	v := math.Nextafter(1, 0)
	if q := (v - 0) / h.w; math.Floor(q) != 3 {
		t.Fatalf("test premise broken: (v-lo)/w = %v does not round up to nbins", q)
	}
	if k := h.BinIndex(v); k != 2 {
		t.Errorf("BinIndex(%v) = %d, want 2", v, k)
	}
}

func TestNewHistRejectsBadRange(t *testing.T) {
	for _, c := range [][3]float64{{0, 1, 0}, {1, 1, 10}, {2, 1, 10}, {math.NaN(), 1, 10}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHist(%v, %v, %v) did not panic", c[0], c[1], c[2])
				}
			}()
			NewHist(c[0], c[1], int(c[2]))
		}()
	}
}
