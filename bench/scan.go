// Package bench holds hepsql's scan benchmark: the same three queries run by
// hepsql's read_root, by DuckDB's read_parquet over the same columns
// converted to Parquet, and by a per-entry event loop with groot, with the
// results checked to agree. The command ./bench/cmd/scanbench drives it over
// a replicated CMS sample; scan_test.go has Go benchmarks on one file.
package bench

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"go-hep.org/x/hep/groot/rtree"
)

// Tree is the TTree every query reads.
const Tree = "Events"

// Query names. Q1 and Q2 are queries/adl/q1.sql and q2.sql as the project
// ships them (the adl_hist aggregate); Q1Builtin and Q2Builtin the same
// histograms in DuckDB's built-in SQL only, as the core issue first wrote
// them (floor, GROUP BY).
const (
	Q1        = "q1"         // histogram of MET_pt, 0-2000 GeV, 100 bins
	Q2        = "q2"         // histogram of Jet_pt of every jet, 15-60 GeV, 100 bins
	Q1Builtin = "q1-builtin" // Q1 without hepsql's functions
	Q2Builtin = "q2-builtin" // Q2 without hepsql's functions
	Scan      = "scan"       // sums over the 20 branches of Branches
)

// Queries lists the queries in the order they are reported.
var Queries = []string{Q1, Q2, Q1Builtin, Q2Builtin, Scan}

// histQuery is the histogram a query computes: its axis and the branch
// filled; ok is false for Scan.
func histQuery(query string) (axis binning, branch string, ok bool) {
	switch query {
	case Q1, Q1Builtin:
		return q1Axis, "MET_pt", true
	case Q2, Q2Builtin:
		return q2Axis, "Jet_pt", true
	}
	return binning{}, "", false
}

// Branch is one of the branches the scan query reads.
type Branch struct {
	Name   string
	Jagged bool // a list per event (NanoAOD X_y[nX])
}

// Branches are the 20 branches of the scan query, and the columns of the
// Parquet peer: scalars, counters and jagged collections of the NanoAOD-like
// CMS sample, those the ADL queries use.
var Branches = []Branch{
	{"MET_pt", false}, {"MET_phi", false}, {"MET_sumet", false},
	{"nJet", false}, {"Jet_pt", true}, {"Jet_eta", true}, {"Jet_phi", true}, {"Jet_mass", true}, {"Jet_btag", true},
	{"nMuon", false}, {"Muon_pt", true}, {"Muon_eta", true}, {"Muon_phi", true}, {"Muon_mass", true}, {"Muon_charge", true},
	{"nElectron", false}, {"Electron_pt", true}, {"Electron_eta", true}, {"Electron_phi", true}, {"Electron_mass", true},
}

// BranchNames returns the names of Branches.
func BranchNames() []string {
	names := make([]string, len(Branches))
	for i, b := range Branches {
		names[i] = b.Name
	}
	return names
}

// binning is a fixed-width histogram axis.
type binning struct {
	lo, hi float64
	nbins  int64
}

func (b binning) width() float64 { return (b.hi - b.lo) / float64(b.nbins) }

// bin is the bin index of v: -1 underflow, nbins overflow (NaN included),
// exactly as the SQL of histSQL computes it.
func (b binning) bin(v float64) int64 {
	switch {
	case v < b.lo:
		return -1
	case v >= b.hi || math.IsNaN(v):
		return b.nbins
	}
	return min(int64(math.Floor((v-b.lo)/b.width())), b.nbins-1)
}

var (
	q1Axis = binning{0, 2000, 100}
	q2Axis = binning{15, 60, 100}
)

// Result is what a query returns, in a form every peer can produce.
type Result struct {
	// Hist maps a bin index (-1 underflow, nbins overflow) to its count,
	// for Q1 and Q2.
	Hist map[int64]int64 `json:"hist,omitempty"`
	// Sums is, for Scan, the number of events then one sum per branch of
	// Branches (over every element of a jagged branch).
	Sums []float64 `json:"sums,omitempty"`
}

// Events is the number of events the result covers, for Scan.
func (r Result) Events() int64 {
	if len(r.Sums) > 0 {
		return int64(r.Sums[0])
	}
	return 0
}

// SumsTolerance is the relative difference allowed between two peers' sums:
// they add the same float32 values in double precision but in different
// orders.
const SumsTolerance = 1e-9

// Compare returns an error describing how got differs from want.
func Compare(query string, want, got Result) error {
	if query != Scan {
		var keys []int64
		for k := range want.Hist {
			keys = append(keys, k)
		}
		for k := range got.Hist {
			if _, ok := want.Hist[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		var diffs []string
		for _, k := range keys {
			if want.Hist[k] != got.Hist[k] {
				diffs = append(diffs, fmt.Sprintf("bin %d: %d vs %d", k, want.Hist[k], got.Hist[k]))
			}
		}
		if len(diffs) > 0 {
			if len(diffs) > 5 {
				diffs = append(diffs[:5], fmt.Sprintf("... %d bins differ", len(diffs)))
			}
			return fmt.Errorf("%s histograms differ: %s", query, strings.Join(diffs, "; "))
		}
		if len(want.Hist) == 0 {
			return fmt.Errorf("%s histogram is empty", query)
		}
		return nil
	}
	if len(want.Sums) != len(got.Sums) {
		return fmt.Errorf("scan: %d sums vs %d", len(want.Sums), len(got.Sums))
	}
	var diffs []string
	for i := range want.Sums {
		w, g := want.Sums[i], got.Sums[i]
		if math.Abs(w-g) > SumsTolerance*math.Max(math.Abs(w), math.Abs(g)) || math.IsNaN(w) != math.IsNaN(g) {
			name := "count(*)"
			if i > 0 {
				name = Branches[i-1].Name
			}
			diffs = append(diffs, fmt.Sprintf("%s: %.17g vs %.17g", name, w, g))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("scan sums differ beyond %g: %s", SumsTolerance, strings.Join(diffs, "; "))
	}
	return nil
}

// QuoteString quotes s as an SQL string literal.
func QuoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// SQL returns the text of query reading from the table expression from,
// e.g. read_root('a.root') or read_parquet('a/*.parquet').
func SQL(query, from string) (string, error) {
	switch query {
	case Q1, Q2:
		// As queries/adl ships them (TestShippedQueries).
		axis, branch, _ := histQuery(query)
		return fmt.Sprintf("SELECT unnest(adl_hist(%s, %g, %g, %d), recursive := true)\nFROM %s;",
			branch, axis.lo, axis.hi, axis.nbins, from), nil
	case Q1Builtin:
		return histSQL(q1Axis, "MET_pt::DOUBLE", from), nil
	case Q2Builtin:
		return histSQL(q2Axis, "unnest(Jet_pt)::DOUBLE", from), nil
	case Scan:
		// Every branch is aggregated so that none is pruned, and every
		// element of a list is touched.
		cols := []string{"count(*)::DOUBLE"}
		for _, b := range Branches {
			if b.Jagged {
				cols = append(cols, fmt.Sprintf("sum(list_sum(%s))::DOUBLE", b.Name))
			} else {
				cols = append(cols, fmt.Sprintf("sum(%s)::DOUBLE", b.Name))
			}
		}
		return fmt.Sprintf("SELECT %s\nFROM %s", strings.Join(cols, ",\n       "), from), nil
	}
	return "", fmt.Errorf("unknown query %q", query)
}

// histSQL bins expr as the ADL queries of queries/adl do (floor of
// (v - lo) / w, capped at the last bin, under- and overflow apart) and
// returns bin index and count.
func histSQL(b binning, expr, from string) string {
	return fmt.Sprintf(`WITH
binning AS (
    SELECT %g::DOUBLE AS lo, %g::DOUBLE AS hi, %d AS nbins, (hi - lo) / nbins AS w
),
vals AS (
    SELECT %s AS v
    FROM %s
),
binned AS (
    SELECT CASE WHEN v < lo THEN -1
                WHEN v >= hi THEN nbins
                ELSE least(floor((v - lo) / w)::BIGINT, nbins - 1) END AS k
    FROM vals, binning
)
SELECT k, count(*) AS n
FROM binned
GROUP BY k
ORDER BY k`, b.lo, b.hi, b.nbins, expr, from)
}

// RunSQL runs query on db reading from the table expression from.
func RunSQL(ctx context.Context, db *sql.DB, query, from string) (Result, error) {
	text, err := SQL(query, from)
	if err != nil {
		return Result{}, err
	}
	rows, err := db.QueryContext(ctx, text)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", query, err)
	}
	defer rows.Close()
	var res Result
	for rows.Next() {
		if query == Scan {
			res.Sums = make([]float64, len(Branches)+1)
			ptrs := make([]any, len(res.Sums))
			for i := range res.Sums {
				ptrs[i] = &res.Sums[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return Result{}, fmt.Errorf("%s: %w", query, err)
			}
			continue
		}
		var k, n int64
		if query == Q1 || query == Q2 {
			// adl_hist's rows are (bin centre, count); under- and overflow
			// sit half a bin outside the axis.
			var x float64
			if err := rows.Scan(&x, &n); err != nil {
				return Result{}, fmt.Errorf("%s: %w", query, err)
			}
			axis, _, _ := histQuery(query)
			k = int64(math.Round((x-axis.lo)/axis.width() - 0.5))
		} else if err := rows.Scan(&k, &n); err != nil {
			return Result{}, fmt.Errorf("%s: %w", query, err)
		}
		if res.Hist == nil {
			res.Hist = map[int64]int64{}
		}
		res.Hist[k] = n
	}
	if err := rows.Err(); err != nil {
		return Result{}, fmt.Errorf("%s: %w", query, err)
	}
	return res, nil
}

// RunGroot computes query with groot's per-entry event loop (rtree.Reader
// and ReadVars) over files, chained; with workers > 1 the files are split
// into that many contiguous parts, each read by its own goroutine.
func RunGroot(query string, files []string, workers int) (Result, error) {
	workers = max(1, min(workers, len(files)))
	parts := make([]Result, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(files)/workers, (w+1)*len(files)/workers
		wg.Go(func() { parts[w], errs[w] = grootLoop(query, files[lo:hi]) })
	}
	wg.Wait()
	var res Result
	for w := range workers {
		if errs[w] != nil {
			return Result{}, errs[w]
		}
		res = merge(res, parts[w])
	}
	return res, nil
}

func merge(a, b Result) Result {
	if b.Hist != nil {
		if a.Hist == nil {
			a.Hist = map[int64]int64{}
		}
		for k, n := range b.Hist {
			a.Hist[k] += n
		}
	}
	if b.Sums != nil {
		if a.Sums == nil {
			a.Sums = make([]float64, len(b.Sums))
		}
		for i, s := range b.Sums {
			a.Sums[i] += s
		}
	}
	return a
}

// grootLoop is the plain-Go event loop over a chain of files.
func grootLoop(query string, files []string) (Result, error) {
	tree, closeFiles, err := rtree.ChainOf(Tree, files...)
	if err != nil {
		return Result{}, fmt.Errorf("groot: %w", err)
	}
	defer closeFiles()

	var (
		res  Result
		vars []rtree.ReadVar
		body func()
		hist []int64 // Q1, Q2: underflow, bins, overflow
	)
	switch query {
	case Q1, Q1Builtin:
		var met float32
		vars = []rtree.ReadVar{{Name: "MET_pt", Value: &met}}
		hist = make([]int64, q1Axis.nbins+2)
		body = func() { hist[q1Axis.bin(float64(met))+1]++ }
	case Q2, Q2Builtin:
		var pts []float32
		vars = []rtree.ReadVar{{Name: "Jet_pt", Value: &pts}}
		hist = make([]int64, q2Axis.nbins+2)
		body = func() {
			for _, pt := range pts {
				hist[q2Axis.bin(float64(pt))+1]++
			}
		}
	case Scan:
		res.Sums = make([]float64, len(Branches)+1)
		var adders []func()
		for i, b := range Branches {
			sum := &res.Sums[i+1]
			switch {
			case b.Name == "Muon_charge":
				var v []int32
				vars = append(vars, rtree.ReadVar{Name: b.Name, Value: &v})
				adders = append(adders, func() { *sum += sumSlice(v) })
			case b.Jagged:
				var v []float32
				vars = append(vars, rtree.ReadVar{Name: b.Name, Value: &v})
				adders = append(adders, func() { *sum += sumSlice(v) })
			case strings.HasPrefix(b.Name, "n"): // counters are unsigned ints
				var v uint32
				vars = append(vars, rtree.ReadVar{Name: b.Name, Value: &v})
				adders = append(adders, func() { *sum += float64(v) })
			default:
				var v float32
				vars = append(vars, rtree.ReadVar{Name: b.Name, Value: &v})
				adders = append(adders, func() { *sum += float64(v) })
			}
		}
		body = func() {
			res.Sums[0]++
			for _, add := range adders {
				add()
			}
		}
	default:
		return Result{}, fmt.Errorf("unknown query %q", query)
	}

	r, err := rtree.NewReader(tree, vars)
	if err != nil {
		return Result{}, fmt.Errorf("groot: %w", err)
	}
	defer r.Close()
	if err := r.Read(func(rtree.RCtx) error { body(); return nil }); err != nil {
		return Result{}, fmt.Errorf("groot: %w", err)
	}
	if hist != nil {
		res.Hist = histMap(hist)
	}
	return res, nil
}

func sumSlice[T float32 | int32](v []T) float64 {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	return s
}

// histMap turns a dense histogram (underflow first) into a Result map of
// its non-empty bins.
func histMap(h []int64) map[int64]int64 {
	m := map[int64]int64{}
	for i, n := range h {
		if n != 0 {
			m[int64(i)-1] = n
		}
	}
	return m
}

// ToParquet converts the Branches of the sample ROOT file src with hepsql
// into the zstd-compressed Parquet file dst.
func ToParquet(ctx context.Context, db *sql.DB, src, dst string) error {
	_, err := db.ExecContext(ctx, fmt.Sprintf(
		"COPY (SELECT %s FROM read_root(%s, tree := '%s')) TO %s (FORMAT parquet, COMPRESSION zstd)",
		strings.Join(BranchNames(), ", "), QuoteString(src), Tree, QuoteString(dst)))
	if err != nil {
		return fmt.Errorf("converting %s to Parquet: %w", src, err)
	}
	return nil
}
