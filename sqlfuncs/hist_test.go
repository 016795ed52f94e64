package sqlfuncs_test

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// refHist is an independent plain-Go histogram: slots 0 (underflow),
// 1..n, n+1 (overflow), as ROOT's TH1 numbers bins.
type refHist struct {
	edges       []float64
	fixed       bool
	sumw, sumw2 []float64
	entries     int64
	nbins       int
	xmin, xmax  float64
}

func newRefFixed(n int, lo, hi float64) *refHist {
	e := make([]float64, n+1)
	for i := range n {
		e[i] = lo + float64(i)*((hi-lo)/float64(n))
	}
	e[n] = hi
	return &refHist{edges: e, fixed: true, nbins: n, xmin: lo, xmax: hi, sumw: make([]float64, n+2), sumw2: make([]float64, n+2)}
}

func newRefVar(e []float64) *refHist {
	n := len(e) - 1
	return &refHist{edges: e, nbins: n, xmin: e[0], xmax: e[n], sumw: make([]float64, n+2), sumw2: make([]float64, n+2)}
}

// findBin transcribes ROOT's TAxis::FindBin: the fixed-bin formula, a
// linear search over the edges for variable bins.
func (h *refHist) findBin(x float64) int {
	if x < h.xmin {
		return 0
	}
	if !(x < h.xmax) {
		return h.nbins + 1
	}
	if h.fixed {
		b := 1 + int(float64(h.nbins)*(x-h.xmin)/(h.xmax-h.xmin))
		return min(b, h.nbins)
	}
	for i := 1; i <= h.nbins; i++ {
		if x < h.edges[i] {
			return i
		}
	}
	panic("unreachable")
}

func (h *refHist) fill(x, w float64) {
	b := h.findBin(x)
	h.sumw[b] += w
	h.sumw2[b] += w * w
	h.entries++
}

// hist turns a scanned HIST (map[string]any) into a refHist.
func scanHist(t *testing.T, v any) *refHist {
	t.Helper()
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("HIST scanned as %T", v)
	}
	fl := func(k string) []float64 {
		var out []float64
		for _, x := range m[k].([]any) {
			out = append(out, x.(float64))
		}
		return out
	}
	e, w, w2 := fl("edges"), fl("sumw"), fl("sumw2")
	h := newRefVar(e)
	h.sumw = append(append([]float64{m["underflow"].(float64)}, w...), m["overflow"].(float64))
	h.sumw2 = append(append([]float64{m["underflow_sumw2"].(float64)}, w2...), m["overflow_sumw2"].(float64))
	h.entries = m["entries"].(int64)
	return h
}

// sameHist requires exact equality: the test's weights are multiples of
// 1/8 and small, so every sum is exact whatever the order of additions.
func sameHist(got, want *refHist) string {
	if got == nil || want == nil {
		if got == want {
			return ""
		}
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	if !slices.Equal(got.edges, want.edges) {
		return fmt.Sprintf("edges %v, want %v", got.edges, want.edges)
	}
	if !slices.Equal(got.sumw, want.sumw) || !slices.Equal(got.sumw2, want.sumw2) || got.entries != want.entries {
		return fmt.Sprintf("sumw %v sumw2 %v entries %d,\nwant sumw %v sumw2 %v entries %d", got.sumw, got.sumw2, got.entries, want.sumw, want.sumw2, want.entries)
	}
	return ""
}

type histRow struct {
	id int
	x  *float64   // FLOAT-exact value or NULL
	l  []*float64 // nil: NULL list
	w  *float64   // a multiple of 1/8, or NULL
}

// histTable writes rows into table name (id, g, x DOUBLE, l DOUBLE[], w DOUBLE).
func histTable(t *testing.T, db *sql.DB, name string, rows []histRow) {
	t.Helper()
	num := func(x *float64) string {
		switch {
		case x == nil:
			return "NULL"
		case math.IsNaN(*x) || math.IsInf(*x, 0):
			return fmt.Sprintf("'%v'::DOUBLE", *x)
		}
		return fmt.Sprintf("%v::DOUBLE", *x)
	}
	if _, err := db.Exec(fmt.Sprintf("CREATE OR REPLACE TABLE %s (id INTEGER, x DOUBLE, l DOUBLE[], w DOUBLE)", name)); err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, r := range rows {
		list := "NULL"
		if r.l != nil {
			parts := make([]string, len(r.l))
			for i, x := range r.l {
				parts[i] = num(x)
			}
			list = "[" + strings.Join(parts, ", ") + "]::DOUBLE[]"
		}
		vals = append(vals, fmt.Sprintf("(%d, %s, %s, %s)", r.id, num(r.x), list, num(r.w)))
	}
	for i := 0; i < len(vals); i += 500 {
		if _, err := db.Exec(fmt.Sprintf("INSERT INTO %s VALUES %s", name, strings.Join(vals[i:min(i+500, len(vals))], ", "))); err != nil {
			t.Fatal(err)
		}
	}
}

func genHistRows(rng *rand.Rand, n int) []histRow {
	edgesOf := []float64{-0.3, 0, 0.1, 0.2, 0.3, 0.7, 15, 60}
	value := func() *float64 {
		var x float64
		switch rng.IntN(12) {
		case 0:
			// On an edge: where ROOT's formula and (x−lo)/width disagree
			// (0.3 on [0, 1) in 10 bins is bin 4 in ROOT).
			x = edgesOf[rng.IntN(len(edgesOf))]
		case 1:
			x = []float64{math.NaN(), math.Inf(1), math.Inf(-1)}[rng.IntN(3)]
		default:
			x = -5 + 75*rng.Float64()
		}
		return &x
	}
	rows := make([]histRow, n)
	for i := range rows {
		r := histRow{id: i}
		if rng.IntN(10) > 0 {
			r.x = value()
		}
		if rng.IntN(15) > 0 {
			r.l = []*float64{}
			for range rng.IntN(6) {
				if rng.IntN(25) == 0 {
					r.l = append(r.l, nil)
				} else {
					r.l = append(r.l, value())
				}
			}
		}
		if rng.IntN(12) > 0 {
			w := float64(rng.IntN(33)-8) / 8
			r.w = &w
		}
		rows[i] = r
	}
	return rows
}

// TestHist checks hist against refHist over tables of 1, 17, 2048 and
// 5000 rows: FLOAT and DOUBLE values and lists (every element entered),
// fixed and variable bins, with and without weights; NULL values, elements
// and weights are not entered; NaN and ±Inf go to overflow/underflow as in
// ROOT; with GROUP BY (one histogram per group), without, and over a
// filtered scan (dictionary vectors). Sums are compared exactly.
func TestHist(t *testing.T) {
	db := openDB(t)
	rng := rand.New(rand.NewPCG(18, 2))
	binnings := []struct {
		sql string
		ref func() *refHist
	}{
		{"100, 15, 60", func() *refHist { return newRefFixed(100, 15, 60) }},
		{"10, 0, 1", func() *refHist { return newRefFixed(10, 0, 1) }},
		{"7, -0.3, 0.7", func() *refHist { return newRefFixed(7, -0.3, 0.7) }},
		{"[-0.3, 0, 0.1, 0.3, 15, 60]", func() *refHist { return newRefVar([]float64{-0.3, 0, 0.1, 0.3, 15, 60}) }},
		{"[0, 100]", func() *refHist { return newRefVar([]float64{0, 100}) }},
	}
	for _, size := range []int{1, 17, 2048, 5000} {
		rows := genHistRows(rng, size)
		table := fmt.Sprintf("hr%d", size)
		histTable(t, db, table, rows)
		const groups = 5
		for _, b := range binnings {
			for _, c := range []struct {
				name, expr string
				weighted   bool
				list       bool
				float32    bool
			}{
				{"DOUBLE", "x", false, false, false}, {"FLOAT", "x::FLOAT", false, false, true},
				{"DOUBLE weighted", "x", true, false, false}, {"FLOAT weighted", "x::FLOAT", true, false, true},
				{"DOUBLE[]", "l", false, true, false}, {"FLOAT[]", "l::FLOAT[]", false, true, true},
				{"FLOAT[] weighted", "l::FLOAT[]", true, true, true}, {"DOUBLE[] weighted", "l", true, true, false},
				{"list_reverse", "list_reverse(l)", false, true, false},
			} {
				for _, filter := range []bool{false, true} {
					name := fmt.Sprintf("%d rows/%s/%s/filter=%v", size, b.sql, c.name, filter)
					keep := func(r histRow) bool { return !filter || r.id%3 != 1 }
					where := ""
					if filter {
						where = "WHERE id % 3 <> 1"
					}
					want := make([]*refHist, groups)
					all := b.ref()
					for g := range want {
						want[g] = b.ref()
					}
					for _, r := range rows {
						if !keep(r) || (c.weighted && r.w == nil) {
							continue
						}
						w := 1.0
						if c.weighted {
							w = *r.w
						}
						var xs []float64
						if c.list {
							for _, x := range r.l {
								if x != nil {
									xs = append(xs, *x)
								}
							}
						} else if r.x != nil {
							xs = []float64{*r.x}
						}
						for _, x := range xs {
							if c.float32 {
								x = float64(float32(x))
							}
							want[r.id%groups].fill(x, w)
							all.fill(x, w)
						}
					}
					call := fmt.Sprintf("hist(%s, %s)", c.expr, b.sql)
					if c.weighted {
						call = fmt.Sprintf("hist(%s, %s, w)", c.expr, b.sql)
					}
					q := fmt.Sprintf("SELECT id %% %d AS g, %s FROM %s %s GROUP BY g", groups, call, table, where)
					got := queryHistGroups(t, db, q)
					for g := range groups {
						if _, ok := got[int64(g)]; !ok {
							continue // no row of the group survived
						}
						if msg := sameHist(got[int64(g)], want[g]); msg != "" {
							t.Fatalf("%s: group %d: %s", name, g, msg)
						}
					}
					q = fmt.Sprintf("SELECT 0, %s FROM %s %s", call, table, where)
					if msg := sameHist(queryHistGroups(t, db, q)[0], all); msg != "" {
						t.Fatalf("%s: no groups: %s", name, msg)
					}
				}
			}
		}
	}
}

// TestHistParallel fills 600k rows on 4 threads, so that DuckDB combines
// partial states, grouped and not, and compares with the plain-Go
// histogram of the same values.
func TestHistParallel(t *testing.T) {
	db := openDB(t)
	if _, err := db.Exec("SET threads TO 4"); err != nil {
		t.Fatal(err)
	}
	const n = 600000
	// x = (i·7919 mod 10007)/100 − 10: exact in DOUBLE, same in Go.
	if _, err := db.Exec(fmt.Sprintf("CREATE TABLE big AS SELECT i, (i * 7919 %% 10007) / 100.0::DOUBLE - 10 AS x, (i %% 5) * 0.25 AS w FROM range(%d) t(i)", n)); err != nil {
		t.Fatal(err)
	}
	want := map[int64]*refHist{}
	wantW := newRefVar([]float64{-10, 0, 5, 20, 50, 100})
	all := newRefFixed(40, 0, 80)
	for i := range int64(n) {
		x := float64(i*7919%10007)/100.0 - 10
		g := i % 3
		if want[g] == nil {
			want[g] = newRefFixed(40, 0, 80)
		}
		want[g].fill(x, 1)
		all.fill(x, 1)
		wantW.fill(x, float64(i%5)*0.25)
	}
	got := queryHistGroups(t, db, "SELECT i % 3, hist(x, 40, 0, 80) FROM big GROUP BY ALL")
	for g, h := range want {
		if msg := sameHist(got[g], h); msg != "" {
			t.Fatalf("group %d: %s", g, msg)
		}
	}
	if msg := sameHist(queryHistGroups(t, db, "SELECT 0, hist(x, 40, 0, 80) FROM big")[0], all); msg != "" {
		t.Fatalf("ungrouped: %s", msg)
	}
	if msg := sameHist(queryHistGroups(t, db, "SELECT 0, hist(x, [-10, 0, 5, 20, 50, 100], w) FROM big")[0], wantW); msg != "" {
		t.Fatalf("weighted, variable bins: %s", msg)
	}
	// Sharded by i % 7 and merged: the same histogram.
	if msg := sameHist(queryHistGroups(t, db, "SELECT 0, hist_merge(h) FROM (SELECT hist(x, 40, 0, 80) AS h FROM big GROUP BY i % 7)")[0], all); msg != "" {
		t.Fatalf("merged shards: %s", msg)
	}
}

// TestHistMerge: hist_merge of per-group histograms equals the histogram
// of all rows, also read back from Parquet (a plain STRUCT) and from a
// table's column; hist_add adds two; NULLs are skipped; a
// different binning is an error naming both; an empty input gives NULL.
func TestHistMerge(t *testing.T) {
	db := openDB(t)
	rows := genHistRows(rand.New(rand.NewPCG(5, 6)), 3000)
	histTable(t, db, "hm", rows)
	all := newRefFixed(20, 0, 60)
	for _, r := range rows {
		if r.x != nil && r.w != nil {
			all.fill(*r.x, *r.w)
		}
	}
	dir := t.TempDir()
	for _, q := range []string{
		"CREATE TABLE parts AS SELECT id % 4 AS shard, hist(x, 20, 0, 60, w) AS h FROM hm GROUP BY shard",
		"INSERT INTO parts VALUES (9, NULL)",
		fmt.Sprintf("COPY parts TO '%s/parts.parquet'", dir),
		"CREATE TABLE typed AS SELECT h FROM parts WHERE false",
		"INSERT INTO typed SELECT h FROM parts",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, q := range []string{
		"SELECT 0, hist_merge(h) FROM parts",
		fmt.Sprintf("SELECT 0, hist_merge(h) FROM '%s/parts.parquet'", dir),
		"SELECT 0, hist_merge(h) FROM typed",
		"SELECT 0, hist_add(a.h, b.h) FROM (SELECT hist_merge(h) AS h FROM parts WHERE shard < 2) a, " +
			fmt.Sprintf("(SELECT hist_merge(h) AS h FROM '%s/parts.parquet' WHERE shard >= 2) b", dir),
	} {
		if msg := sameHist(queryHistGroups(t, db, q)[0], all); msg != "" {
			t.Fatalf("%s: %s", q, msg)
		}
	}
	var v any
	if err := db.QueryRow("SELECT hist_merge(h) FROM parts WHERE false").Scan(&v); err != nil || v != nil {
		t.Fatalf("empty hist_merge: %v, %v", v, err)
	}
	if err := db.QueryRow("SELECT hist_add(h, NULL) FROM parts LIMIT 1").Scan(&v); err != nil || v != nil {
		t.Fatalf("hist_add with NULL: %v, %v", v, err)
	}
	_, err := db.Exec("SELECT hist_merge(h) FROM (SELECT hist(x, 20, 0, 60) AS h FROM hm UNION ALL SELECT hist(x, [0, 1, 2]) FROM hm)")
	if err == nil || !strings.Contains(err.Error(), "20 bins over [0, 60)") || !strings.Contains(err.Error(), "edges [0, 1, 2]") {
		t.Fatalf("different binnings: %v", err)
	}
	_, err = db.Exec("SELECT hist_add(hist(x, 2, 0, 60), hist(x, 3, 0, 60)) FROM hm")
	if err == nil || !strings.Contains(err.Error(), "different binnings") {
		t.Fatalf("hist_add of different binnings: %v", err)
	}
}

// TestHistReadBack checks hist_bins, hist_integral, hist_mean and hist_std
// against the same quantities computed in Go from the bins.
func TestHistReadBack(t *testing.T) {
	db := openDB(t)
	rows := genHistRows(rand.New(rand.NewPCG(7, 8)), 2500)
	histTable(t, db, "rb", rows)
	want := newRefVar([]float64{-1, 0, 0.5, 3, 10, 40, 70})
	for _, r := range rows {
		if r.x != nil && r.w != nil {
			want.fill(*r.x, *r.w)
		}
	}
	res, err := db.Query("SELECT b.bin, b.lo, b.hi, b.sumw, b.sumw2 FROM (SELECT unnest(hist_bins(hist(x, [-1, 0, 0.5, 3, 10, 40, 70], w))) AS b FROM rb)")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for res.Next() {
		var bin int
		var lo, hi, w, w2 float64
		if err := res.Scan(&bin, &lo, &hi, &w, &w2); err != nil {
			t.Fatal(err)
		}
		n++
		if bin != n || lo != want.edges[n-1] || hi != want.edges[n] || w != want.sumw[n] || w2 != want.sumw2[n] {
			t.Fatalf("bin row %d: (%d, %g, %g, %g, %g), want (%d, %g, %g, %g, %g)", n, bin, lo, hi, w, w2, n, want.edges[n-1], want.edges[n], want.sumw[n], want.sumw2[n])
		}
	}
	res.Close()
	if n != want.nbins {
		t.Fatalf("%d bin rows, want %d", n, want.nbins)
	}
	var sw, swx, swx2 float64
	for i := 1; i <= want.nbins; i++ {
		c := (want.edges[i-1] + want.edges[i]) / 2
		sw += want.sumw[i]
		swx += want.sumw[i] * c
		swx2 += want.sumw[i] * c * c
	}
	mean := swx / sw
	std := math.Sqrt(swx2/sw - mean*mean)
	var gi, gm, gs float64
	if err := db.QueryRow("WITH h AS (SELECT hist(x, [-1, 0, 0.5, 3, 10, 40, 70], w) AS h FROM rb) SELECT hist_integral(h), hist_mean(h), hist_std(h) FROM h").Scan(&gi, &gm, &gs); err != nil {
		t.Fatal(err)
	}
	if !close(gi, sw) || !close(gm, mean) || !close(gs, std) {
		t.Fatalf("integral, mean, std = %g, %g, %g; want %g, %g, %g", gi, gm, gs, sw, mean, std)
	}
	// Fields read by name: h.entries, h.sumw.
	var entries, nb int64
	var over float64
	if err := db.QueryRow("SELECT h.entries, len(h.sumw), h['overflow'] FROM (SELECT hist(x, [-1, 0, 0.5, 3, 10, 40, 70], w) AS h FROM rb)").Scan(&entries, &nb, &over); err != nil {
		t.Fatal(err)
	}
	if entries != want.entries || nb != int64(want.nbins) || over != want.sumw[want.nbins+1] {
		t.Fatalf("fields: entries %d, bins %d, overflow %g; want %d, %d, %g", entries, nb, over, want.entries, want.nbins, want.sumw[want.nbins+1])
	}
	var null any
	if err := db.QueryRow("SELECT hist_mean(hist(x, 2, 100, 200)) FROM rb WHERE x < 50").Scan(&null); err != nil || null != nil {
		t.Fatalf("mean of empty bins: %v, %v", null, err)
	}
}

// TestHistErrors: bad binnings name themselves and the connection lives on.
func TestHistErrors(t *testing.T) {
	db := openDB(t)
	for q, want := range map[string]string{
		"SELECT hist(x::DOUBLE, 0, 0, 1) FROM range(3) t(x)":                                  "hist: invalid binning nbins = 0, lo = 0, hi = 1: nbins must be at least 1",
		"SELECT hist(x::DOUBLE, 5, 2, 1) FROM range(3) t(x)":                                  "hist: invalid binning nbins = 5, lo = 2, hi = 1: lo must be below hi",
		"SELECT hist(x::DOUBLE, 100000000, 0, 1) FROM range(3) t(x)":                          "hist: invalid binning nbins = 100000000, lo = 0, hi = 1: nbins must be at most 67108864",
		"SELECT hist(x::DOUBLE, 10, 0, 'inf'::DOUBLE) FROM range(3) t(x)":                     "hist: invalid binning nbins = 10, lo = 0, hi = +Inf: lo and hi must be finite",
		"SELECT hist(x::DOUBLE, [0, 2, 1]) FROM range(3) t(x)":                                "bin edges must increase: 2 then 1",
		"SELECT hist(x::DOUBLE, [0]) FROM range(3) t(x)":                                      "at least 2 edges",
		"SELECT hist(x::DOUBLE, [0, 'inf'::DOUBLE]) FROM range(3) t(x)":                       "not finite",
		"SELECT hist(x::DOUBLE, CASE WHEN x < 2 THEN 4 ELSE 5 END, 0, 10) FROM range(3) t(x)": "binning changed within a histogram: edges [0, 2.5, 5, 7.5, 10], then edges [0, 2, 4, 6, 8, 10]",
		"SELECT hist_bins({'edges': [0.0, 1.0], 'sumw': [1.0, 2.0], 'sumw2': [1.0], 'underflow': 0.0, " +
			"'overflow': 0.0, 'underflow_sumw2': 0.0, 'overflow_sumw2': 0.0, 'entries': 1})": "not a histogram: 2 edges, 2 sumw, 1 sumw2",
	} {
		_, err := db.Exec(q)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", q, err, want)
		}
		var one int
		if err := db.QueryRow("SELECT 1").Scan(&one); err != nil {
			t.Fatalf("connection unusable after %s: %v", q, err)
		}
	}
	// A NULL binning row is skipped, not an error; no binning at all is NULL.
	var v any
	if err := db.QueryRow("SELECT hist(x::DOUBLE, NULL::BIGINT, 0, 1) FROM range(3) t(x)").Scan(&v); err != nil || v != nil {
		t.Fatalf("NULL binning: %v, %v", v, err)
	}
}

// queryHistGroups runs q, whose rows are (group, HIST).
func queryHistGroups(t *testing.T, db *sql.DB, q string) map[int64]*refHist {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	out := map[int64]*refHist{}
	for rows.Next() {
		var g int64
		var h any
		if err := rows.Scan(&g, &h); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out[g] = scanHist(t, h)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// TestHistScalarVectors runs the scalar functions of HIST values over a
// column of 300 histograms holding NULLs (flat vectors), over a filtered
// scan of it (dictionary vectors) and on one literal histogram (constant
// vectors), comparing each row with Go's computation from the scanned
// value: hist_integral, hist_mean, hist_std, hist_bins and hist_add.
func TestHistScalarVectors(t *testing.T) {
	db := openDB(t)
	histTable(t, db, "sv", genHistRows(rand.New(rand.NewPCG(9, 9)), 6000))
	if _, err := db.Exec("CREATE TABLE hs AS SELECT id % 300 AS g, CASE WHEN id % 300 % 17 = 3 THEN NULL ELSE hist(x, [0, 1, 5, 20, 60], w) END AS h FROM sv GROUP BY g"); err != nil {
		t.Fatal(err)
	}
	calls := "h, hist_integral(h), hist_mean(h), hist_std(h), hist_bins(h), hist_add(h, h)"
	for variant, q := range map[string]string{
		"flat":       "SELECT g, " + calls + " FROM hs",
		"dictionary": "SELECT g, " + calls + " FROM (SELECT * FROM hs WHERE g % 3 <> 1) s",
		"constant":   "SELECT g + (i * 0)::INT AS g, " + calls + " FROM (SELECT * FROM hs WHERE g = 10), range(3) t(i)",
	} {
		res, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", variant, err)
		}
		n := 0
		for res.Next() {
			var g int
			var h, integral, mean, std, bins, sum any
			if err := res.Scan(&g, &h, &integral, &mean, &std, &bins, &sum); err != nil {
				t.Fatal(err)
			}
			n++
			if h == nil {
				if integral != nil || mean != nil || std != nil || bins != nil || sum != nil {
					t.Fatalf("%s: group %d: NULL histogram gives %v %v %v %v %v", variant, g, integral, mean, std, bins, sum)
				}
				continue
			}
			r := scanHist(t, h)
			var sw, swx, swx2 float64
			for i := 1; i <= r.nbins; i++ {
				c := (r.edges[i-1] + r.edges[i]) / 2
				sw += r.sumw[i]
				swx += r.sumw[i] * c
				swx2 += r.sumw[i] * c * c
			}
			if integral.(float64) != sw || (sw != 0 && (!close(mean.(float64), swx/sw) || !close(std.(float64), math.Sqrt(math.Abs(swx2/sw-swx/sw*swx/sw))))) {
				t.Fatalf("%s: group %d: integral %v mean %v std %v, want %g from %v", variant, g, integral, mean, std, sw, r.sumw)
			}
			bl := bins.([]any)
			if len(bl) != r.nbins {
				t.Fatalf("%s: group %d: %d bins", variant, g, len(bl))
			}
			for i, b := range bl {
				m := b.(map[string]any)
				if m["bin"] != int32(i+1) || m["lo"] != r.edges[i] || m["hi"] != r.edges[i+1] || m["sumw"] != r.sumw[i+1] || m["sumw2"] != r.sumw2[i+1] {
					t.Fatalf("%s: group %d: bin %d is %v", variant, g, i+1, m)
				}
			}
			double := newRefVar(r.edges)
			for i := range r.sumw {
				double.sumw[i], double.sumw2[i] = 2*r.sumw[i], 2*r.sumw2[i]
			}
			double.entries = 2 * r.entries
			if msg := sameHist(scanHist(t, sum), double); msg != "" {
				t.Fatalf("%s: group %d: hist_add(h, h): %s", variant, g, msg)
			}
		}
		res.Close()
		if n == 0 {
			t.Fatalf("%s: no rows", variant)
		}
	}
}
