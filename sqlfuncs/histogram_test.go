package sqlfuncs_test

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/adlref"
)

// TestHistogramAggregate checks adl_hist against internal/adlref's
// histogram, filled in Go from the same rows: scalar and list overloads
// (FLOAT[] and DOUBLE[]); NULL, empty and NULL-free lists; values on bin
// edges, NaN and infinities; many groups (partial states combined), rows
// removed by a filter (a selection over the vectors), a constant list, one
// row and several chunks.
func TestHistogramAggregate(t *testing.T) {
	db := openDB(t)
	rng := rand.New(rand.NewPCG(11, 12))
	type row struct {
		id    int
		v     *float64
		l     []*float64 // nil: a NULL list
		plain []float64  // l without NULLs
	}
	axes := []struct {
		lo, hi float64
		nbins  int
	}{{15, 60, 100}, {-0.3, 0.7, 7}}
	value := func() float64 {
		a := axes[rng.IntN(len(axes))]
		w := (a.hi - a.lo) / float64(a.nbins)
		switch rng.IntN(20) {
		case 0:
			return a.lo + float64(rng.IntN(a.nbins+1))*w // an edge
		case 1:
			return []float64{math.NaN(), math.Inf(1), math.Inf(-1), a.hi, a.lo}[rng.IntN(5)]
		}
		return a.lo - 2*w + rng.Float64()*(a.hi-a.lo+4*w)
	}
	var rows []row
	var sqlRows []string
	num := func(x *float64) string {
		switch {
		case x == nil:
			return "NULL"
		case math.IsNaN(*x), math.IsInf(*x, 0):
			return fmt.Sprintf("'%v'::DOUBLE", *x)
		}
		// float32 values, printed exactly, so FLOAT and DOUBLE agree.
		return fmt.Sprintf("%v", *x)
	}
	for id := range 5000 {
		r := row{id: id}
		if rng.IntN(10) > 0 {
			x := float64(float32(value()))
			r.v = &x
		}
		if rng.IntN(20) > 0 {
			r.l = []*float64{}
			for range rng.IntN(7) {
				if rng.IntN(30) == 0 {
					r.l = append(r.l, nil)
					continue
				}
				x := float64(float32(value()))
				r.l = append(r.l, &x)
				r.plain = append(r.plain, x)
			}
		}
		list, plain := "NULL", make([]string, len(r.plain))
		if r.l != nil {
			elems := make([]string, len(r.l))
			for i, x := range r.l {
				elems[i] = num(x)
			}
			list = "[" + strings.Join(elems, ", ") + "]"
		}
		for i := range r.plain {
			plain[i] = num(&r.plain[i])
		}
		sqlRows = append(sqlRows, fmt.Sprintf("(%d, %s, %s, [%s])", id, num(r.v), list, strings.Join(plain, ", ")))
		rows = append(rows, r)
	}
	if _, err := db.Exec("CREATE TABLE h (id INTEGER, v DOUBLE, l DOUBLE[], p DOUBLE[])"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(sqlRows); i += 500 {
		if _, err := db.Exec("INSERT INTO h VALUES " + strings.Join(sqlRows[i:min(i+500, len(sqlRows))], ", ")); err != nil {
			t.Fatal(err)
		}
	}

	const groups = 7
	for _, a := range axes {
		for _, c := range []struct {
			name, expr, where string
			keep              func(r row) bool
			values            func(r row) []float64
		}{
			{"scalar", "v", "", nil, func(r row) []float64 {
				if r.v == nil {
					return nil
				}
				return []float64{*r.v}
			}},
			{"FLOAT scalar", "v::FLOAT", "WHERE id % 4 <> 3", func(r row) bool { return r.id%4 != 3 }, func(r row) []float64 {
				if r.v == nil {
					return nil
				}
				return []float64{*r.v}
			}},
			{"FLOAT[] with NULLs", "l::FLOAT[]", "", nil, func(r row) []float64 { return r.plain }},
			{"DOUBLE[] with NULLs", "l", "", nil, func(r row) []float64 { return r.plain }},
			{"FLOAT[] NULL-free", "p::FLOAT[]", "", nil, func(r row) []float64 { return r.plain }},
			{"DOUBLE[] NULL-free, filtered", "p", "WHERE id % 3 <> 0", func(r row) bool { return r.id%3 != 0 }, func(r row) []float64 { return r.plain }},
			{"FLOAT[] with NULLs, filtered", "l::FLOAT[]", "WHERE id % 5 = 1", func(r row) bool { return r.id%5 == 1 }, func(r row) []float64 { return r.plain }},
			{"one row", "p::FLOAT[]", "WHERE id = 17", func(r row) bool { return r.id == 17 }, func(r row) []float64 { return r.plain }},
			// Lists that do not lie end to end in the child vector.
			{"CASE of lists", "CASE WHEN id % 2 = 0 THEN p ELSE list_reverse(p) END", "", nil, func(r row) []float64 { return r.plain }},
			{"list_slice", "list_slice(p::FLOAT[], 2, 4)", "", nil, func(r row) []float64 { return r.plain[min(1, len(r.plain)):min(4, len(r.plain))] }},
		} {
			t.Run(fmt.Sprintf("%s [%g,%g)x%d", c.name, a.lo, a.hi, a.nbins), func(t *testing.T) {
				want := make([]*adlref.Hist, groups)
				for g := range want {
					want[g] = adlref.NewHist(a.lo, a.hi, a.nbins)
				}
				all := adlref.NewHist(a.lo, a.hi, a.nbins)
				for _, r := range rows {
					if c.keep == nil || c.keep(r) {
						for _, x := range c.values(r) {
							want[r.id%groups].Fill(x)
							all.Fill(x)
						}
					}
				}
				q := fmt.Sprintf("SELECT id %% %d AS g, adl_hist(%s, %g, %g, %d) FROM h %s GROUP BY g", groups, c.expr, a.lo, a.hi, a.nbins, c.where)
				got := queryHists(t, db, q)
				for g := range groups {
					checkBins(t, fmt.Sprintf("group %d", g), got[int64(g)], want[g].Bins())
				}
				// Without GROUP BY the aggregate sees the scan's vectors
				// themselves, not the hash table's copies.
				q = fmt.Sprintf("SELECT 0, adl_hist(%s, %g, %g, %d) FROM h %s", c.expr, a.lo, a.hi, a.nbins, c.where)
				checkBins(t, "no groups", queryHists(t, db, q)[0], all.Bins())
			})
		}
	}
	t.Run("integers bin as DOUBLE, not FLOAT", func(t *testing.T) {
		// 16777217 is the first integer a FLOAT cannot hold.
		got := queryHists(t, db, "SELECT 0, adl_hist(x, 16777216, 16777218, 2) FROM (VALUES (16777217::BIGINT)) t(x)")
		checkBins(t, "BIGINT", got[0], []adlref.Bin{{X: 16777217.5, Y: 1}})
	})
	t.Run("constant list", func(t *testing.T) {
		want := adlref.NewHist(0, 10, 5)
		for range 3000 {
			for _, x := range []float64{1.5, 20, -1, 10, 4} {
				want.Fill(float64(float32(x)))
			}
		}
		got := queryHists(t, db, "SELECT 0, adl_hist([1.5, 20, NULL, -1, 10, 4]::FLOAT[], 0, 10, 5) FROM range(3000)")
		checkBins(t, "constant", got[0], want.Bins())
	})
}

// queryHists runs q, whose rows are (group, adl_hist(...)).
func queryHists(t *testing.T, db *sql.DB, q string) map[int64][]adlref.Bin {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	out := map[int64][]adlref.Bin{}
	for rows.Next() {
		var g int64
		var h any
		if err := rows.Scan(&g, &h); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		list, _ := h.([]any)
		for _, e := range list {
			m := e.(map[string]any)
			out[g] = append(out[g], adlref.Bin{X: m["x"].(float64), Y: m["y"].(int64)})
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func checkBins(t *testing.T, what string, got, want []adlref.Bin) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d bins, want %d:\ngot  %v\nwant %v", what, len(got), len(want), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: bin %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}
