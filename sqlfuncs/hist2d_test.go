package sqlfuncs_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestHist2D checks hist2d against two refHist axes filled in Go (cells
// in ROOT's global bin order), with NULL x, y and weights, NaN, values on
// edges, per group, merged with hist_merge, and over 600k rows on 4
// threads; sums compared exactly (weights are multiples of 1/8).
func TestHist2D(t *testing.T) {
	db := openDB(t)
	rng := rand.New(rand.NewPCG(2, 20))
	type row struct{ x, y, w *float64 }
	val := func(lo, hi float64) *float64 {
		var v float64
		switch rng.IntN(15) {
		case 0:
			return nil
		case 1:
			v = math.NaN()
		case 2:
			v = lo + float64(rng.IntN(11))*(hi-lo)/10
		default:
			v = lo - 1 + (hi-lo+2)*rng.Float64()
		}
		return &v
	}
	num := func(v *float64) string {
		switch {
		case v == nil:
			return "NULL"
		case math.IsNaN(*v):
			return "'nan'::DOUBLE"
		}
		return fmt.Sprint(*v)
	}
	rows := make([]row, 4000)
	var vals []string
	for i := range rows {
		r := row{x: val(0, 1), y: val(-2, 3)}
		if rng.IntN(20) > 0 {
			w := float64(rng.IntN(20)-3) / 8
			r.w = &w
		}
		rows[i] = r
		vals = append(vals, fmt.Sprintf("(%d, %s::DOUBLE, %s::DOUBLE, %s::DOUBLE)", i, num(r.x), num(r.y), num(r.w)))
	}
	if _, err := db.Exec("CREATE TABLE h2 AS SELECT * FROM (VALUES " + strings.Join(vals, ", ") + ") t(id, x, y, w)"); err != nil {
		t.Fatal(err)
	}
	type cells struct {
		sumw, sumw2 []float64
		entries     int64
	}
	fill := func(keep func(int) bool, weighted bool) cells {
		ax, ay := newRefFixed(10, 0, 1), newRefFixed(7, -2, 3)
		c := cells{sumw: make([]float64, 12*9), sumw2: make([]float64, 12*9)}
		for i, r := range rows {
			if !keep(i) || r.x == nil || r.y == nil || (weighted && r.w == nil) {
				continue
			}
			w := 1.0
			if weighted {
				w = *r.w
			}
			k := ax.findBin(*r.x) + 12*ay.findBin(*r.y)
			c.sumw[k] += w
			c.sumw2[k] += w * w
			c.entries++
		}
		return c
	}
	check := func(what string, got any, want cells) {
		t.Helper()
		m := got.(map[string]any)
		f := func(k string) []float64 {
			var out []float64
			for _, v := range m[k].([]any) {
				out = append(out, v.(float64))
			}
			return out
		}
		if !slices.Equal(f("xedges"), newRefFixed(10, 0, 1).edges) || !slices.Equal(f("yedges"), newRefFixed(7, -2, 3).edges) {
			t.Fatalf("%s: edges %v %v", what, m["xedges"], m["yedges"])
		}
		if !slices.Equal(f("sumw"), want.sumw) || !slices.Equal(f("sumw2"), want.sumw2) || m["entries"] != want.entries {
			t.Fatalf("%s:\nsumw %v\nwant %v\nsumw2 %v\nwant %v\nentries %v, want %d", what, f("sumw"), want.sumw, f("sumw2"), want.sumw2, m["entries"], want.entries)
		}
	}
	for _, weighted := range []bool{false, true} {
		call := "hist2d(x, y, 10, 0, 1, 7, -2, 3)"
		if weighted {
			call = "hist2d(x, y, 10, 0, 1, 7, -2, 3, w)"
		}
		var got any
		if err := db.QueryRow("SELECT " + call + " FROM h2").Scan(&got); err != nil {
			t.Fatal(err)
		}
		check(call, got, fill(func(int) bool { return true }, weighted))
		if err := db.QueryRow("SELECT hist_merge(h) FROM (SELECT " + call + " AS h FROM h2 GROUP BY id % 6)").Scan(&got); err != nil {
			t.Fatal(err)
		}
		check("merged "+call, got, fill(func(int) bool { return true }, weighted))
		res, err := db.Query("SELECT id % 4, " + call + " FROM h2 WHERE id % 3 <> 0 GROUP BY ALL")
		if err != nil {
			t.Fatal(err)
		}
		for res.Next() {
			var g int
			if err := res.Scan(&g, &got); err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("group %d %s", g, call), got, fill(func(i int) bool { return i%4 == g && i%3 != 0 }, weighted))
		}
		res.Close()
	}
	// Many rows on 4 threads: partial states combined.
	if _, err := db.Exec("SET threads TO 4"); err != nil {
		t.Fatal(err)
	}
	var got any
	if err := db.QueryRow("SELECT hist2d((i * 7919 % 10007) / 10007.0::DOUBLE, (i % 101) / 20.0::DOUBLE - 2, 10, 0, 1, 7, -2, 3) FROM range(600000) t(i)").Scan(&got); err != nil {
		t.Fatal(err)
	}
	ax, ay := newRefFixed(10, 0, 1), newRefFixed(7, -2, 3)
	want := cells{sumw: make([]float64, 12*9), sumw2: make([]float64, 12*9), entries: 600000}
	for i := range int64(600000) {
		k := ax.findBin(float64(i*7919%10007)/10007.0) + 12*ay.findBin(float64(i%101)/20.0-2)
		want.sumw[k]++
		want.sumw2[k]++
	}
	check("600k rows", got, want)
	_, err := db.Exec("SELECT hist_merge(h) FROM (SELECT hist2d(x, y, 10, 0, 1, 7, -2, 3) AS h FROM h2 UNION ALL SELECT hist2d(x, y, 10, 0, 1, 8, -2, 3) FROM h2)")
	// UNION ALL's branches reach hist_merge in either order.
	seven, eight := "10 bins over [0, 1) × 7 bins over [-2, 3)", "10 bins over [0, 1) × 8 bins over [-2, 3)"
	if err == nil || (!strings.Contains(err.Error(), "different binnings: "+seven+" and "+eight) &&
		!strings.Contains(err.Error(), "different binnings: "+eight+" and "+seven)) {
		t.Fatalf("different binnings: %v", err)
	}
}
