package sqlfuncs_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCutflow checks cutflow against a plain-Go cut chain: three
// conditions with NULLs (which fail), weights that are multiples of 1/8
// (exact sums) or NULL (the event is left out), NULL condition lists (left
// out), names long and short (DuckDB stores names over 12 bytes apart),
// with and without names and weights, per group and over 1, 100 and 5000
// rows, and over 600k rows on 4 threads (partial states combined).
func TestCutflow(t *testing.T) {
	db := openDB(t)
	rng := rand.New(rand.NewPCG(20, 5))
	type row struct {
		conds [3]*bool // the list is NULL when null is set
		null  bool
		w     *float64
	}
	gen := func(n int) []row {
		rows := make([]row, n)
		for i := range rows {
			r := row{null: rng.IntN(40) == 0}
			for j := range r.conds {
				if rng.IntN(25) > 0 {
					b := rng.IntN(10) < 7-j
					r.conds[j] = &b
				}
			}
			if rng.IntN(20) > 0 {
				w := float64(rng.IntN(25)-4) / 8
				r.w = &w
			}
			rows[i] = r
		}
		return rows
	}
	lit := func(b *bool) string {
		if b == nil {
			return "NULL"
		}
		return fmt.Sprint(*b)
	}
	type flow struct {
		pass []int64
		sumw []float64
		none bool // no row had a conditions list: NULL
	}
	ref := func(rows []row, keep func(i int) bool, weighted bool) flow {
		f := flow{pass: make([]int64, 4), sumw: make([]float64, 4), none: true}
		for i, r := range rows {
			if keep(i) && !r.null {
				f.none = false
			}
			if !keep(i) || r.null || (weighted && r.w == nil) {
				continue
			}
			w := 1.0
			if weighted {
				w = *r.w
			}
			f.pass[0]++
			f.sumw[0] += w
			for j, c := range r.conds {
				if c == nil || !*c {
					break
				}
				f.pass[j+1]++
				f.sumw[j+1] += w
			}
		}
		return f
	}
	names := []string{"all", "two muons", "MET above 40 GeV", "c"}
	check := func(what string, got any, want flow, named bool) {
		t.Helper()
		if want.none && got == nil {
			return
		}
		list, ok := got.([]any)
		if !ok || len(list) != 4 {
			t.Fatalf("%s: got %v", what, got)
		}
		for i, e := range list {
			m := e.(map[string]any)
			name := names[i]
			if !named && i > 0 {
				name = fmt.Sprintf("cut %d", i)
			}
			if m["cut"] != int32(i) || m["name"] != name || m["pass"] != want.pass[i] || m["sumw"] != want.sumw[i] {
				t.Fatalf("%s: row %d is %v, want pass %d sumw %g name %q", what, i, m, want.pass[i], want.sumw[i], name)
			}
			prev := want.sumw[max(i-1, 0)]
			if wantEff := want.sumw[i] / prev; prev == 0 && m["eff"] != nil || prev != 0 && !close(m["eff"].(float64), wantEff) {
				t.Fatalf("%s: row %d eff %v, want %g", what, i, m["eff"], wantEff)
			}
			if wantCum := want.sumw[i] / want.sumw[0]; want.sumw[0] != 0 && !close(m["cumulative_eff"].(float64), wantCum) {
				t.Fatalf("%s: row %d cumulative_eff %v, want %g", what, i, m["cumulative_eff"], wantCum)
			}
		}
	}
	for _, n := range []int{1, 100, 5000} {
		rows := gen(n)
		var vals []string
		for i, r := range rows {
			list := fmt.Sprintf("[%s, %s, %s]", lit(r.conds[0]), lit(r.conds[1]), lit(r.conds[2]))
			if r.null {
				list = "NULL"
			}
			w := "NULL"
			if r.w != nil {
				w = fmt.Sprint(*r.w)
			}
			vals = append(vals, fmt.Sprintf("(%d, %s::BOOLEAN[], %s::DOUBLE)", i, list, w))
		}
		table := fmt.Sprintf("cf%d", n)
		if _, err := db.Exec(fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM (VALUES %s) t(id, c, w)", table, strings.Join(vals, ", "))); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			args            string
			named, weighted bool
		}{
			{"c", false, false}, {"c, w", false, true},
			{"c, ['two muons', 'MET above 40 GeV', 'c']", true, false},
			{"c, ['two muons', 'MET above 40 GeV', 'c'], w", true, true},
		} {
			var got any
			if err := db.QueryRow(fmt.Sprintf("SELECT cutflow(%s) FROM %s", c.args, table)).Scan(&got); err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("%d rows, cutflow(%s)", n, c.args), got, ref(rows, func(int) bool { return true }, c.weighted), c.named)
			res, err := db.Query(fmt.Sprintf("SELECT id %% 3, cutflow(%s) FROM %s WHERE id %% 5 <> 2 GROUP BY ALL", c.args, table))
			if err != nil {
				t.Fatal(err)
			}
			for res.Next() {
				var g int
				if err := res.Scan(&g, &got); err != nil {
					t.Fatal(err)
				}
				check(fmt.Sprintf("%d rows, group %d, cutflow(%s)", n, g, c.args), got,
					ref(rows, func(i int) bool { return i%3 == g && i%5 != 2 }, c.weighted), c.named)
			}
			res.Close()
		}
	}
	// 600k rows, 4 threads: the same numbers as a plain loop.
	if _, err := db.Exec("SET threads TO 4"); err != nil {
		t.Fatal(err)
	}
	var got any
	if err := db.QueryRow("SELECT cutflow([i % 2 = 0, i % 3 = 0, i % 5 = 0], ['two muons', 'MET above 40 GeV', 'c'], (i % 4) * 0.5) FROM range(600000) t(i)").Scan(&got); err != nil {
		t.Fatal(err)
	}
	want := flow{pass: make([]int64, 4), sumw: make([]float64, 4)}
	for i := range int64(600000) {
		w := float64(i%4) * 0.5
		want.pass[0]++
		want.sumw[0] += w
		for j, m := range []int64{2, 3, 5} {
			if i%m != 0 {
				break
			}
			want.pass[j+1]++
			want.sumw[j+1] += w
		}
	}
	check("600k rows", got, want, true)

	for q, msg := range map[string]string{
		"SELECT cutflow(CASE WHEN i < 3 THEN [true] ELSE [true, false] END) FROM range(5) t(i)": "2 conditions, 1 in earlier rows",
		"SELECT cutflow([i > 1, i > 2], ['one']) FROM range(5) t(i)":                            "2 conditions but 1 names",
	} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", q, err, msg)
		}
	}
	if err := db.QueryRow("SELECT cutflow([i > 1]) FROM range(5) t(i) WHERE false").Scan(&got); err != nil || got != nil {
		t.Fatalf("no rows: %v, %v", got, err)
	}
}
