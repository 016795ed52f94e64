// Package rowudf is a benchmark baseline: the HEP functions the ADL queries
// use, registered through duckdb-go's row-at-a-time scalar UDFs
// (duckdb.RegisterScalarUDF with a RowExecutor) under the library's names
// with a "_row" suffix. The bodies compute with sqlfuncs' exported physics
// (PtEtaPhiM, DeltaR, TransverseMass, BinCentre), so the arithmetic is
// identical to the vectorised library's and only the bridge differs: here
// duckdb-go reads every argument of every row into a driver.Value (lists as
// []any), calls the function once per row and writes the result back value
// by value.
package rowudf

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/hepsql/hepsql/sqlfuncs"
)

// Suffix is appended to a library function's name for its row version.
const Suffix = "_row"

// The library functions that have row versions; adl_hist, a Go aggregate
// in the library, is a macro here (duckdb-go registers no aggregates).
var (
	functions = []string{"adl_bin", "argsort_desc", "best_pair", "best_triplet", "count_above", "count_between", "min_delta_r", "mt", "pair_mass"}
	macros    = []string{"adl_hist"}
)

// Names lists the library functions (and macros) this package mirrors.
func Names() []string { return append(append([]string(nil), functions...), macros...) }

// Register registers the row versions on conn's database, and the row
// version of the adl_hist macro on conn itself (temporary macros live in
// one connection: run the queries on conn).
func Register(ctx context.Context, conn *sql.Conn) error {
	for _, f := range udfs() {
		set := make([]duckdb.ScalarFunc, len(f.overloads))
		for i := range f.overloads {
			set[i] = &f.overloads[i]
		}
		if err := duckdb.RegisterScalarUDFSet(conn, f.name+Suffix, set...); err != nil {
			return fmt.Errorf("rowudf: registering %s%s: %w", f.name, Suffix, err)
		}
	}
	for _, stmt := range MacroSQL() {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("rowudf: %s: %w", stmt, err)
		}
	}
	return nil
}

// The row version of the adl_hist aggregate. duckdb-go registers no
// aggregate functions, so it is what a duckdb-go user would write: DuckDB's
// histogram() over adl_bin_row, rendered as the library's list of
// STRUCT(x, y) by ascending x (the library's own macro before adl_hist
// became a Go aggregate). A list argument (Q2, Q3 pass Jet_pt) takes the
// second overload: every row's elements binned by the list adl_bin_row,
// concatenated and counted.
const histMacro = `CREATE OR REPLACE TEMP MACRO adl_hist_row(value DOUBLE, lo, hi, nbins) AS
    list_sort(list_transform(map_entries(histogram(adl_bin_row(value, lo, hi, nbins))),
                             e -> {'x': e.key, 'y': e.value::BIGINT})),
  (value DOUBLE[], lo, hi, nbins) AS
    list_sort(list_transform(map_entries(list_aggregate(flatten(list(adl_bin_row(value, lo, hi, nbins))), 'histogram')),
                             e -> {'x': e.key, 'y': e.value::BIGINT}))`

// MacroSQL returns the statements defining the row macros on a connection.
func MacroSQL() []string { return []string{histMacro} }

// call matches an identifier followed by an opening parenthesis.
var call = regexp.MustCompile(`(?i)\b([a-z_][a-z0-9_]*)(\s*\()`)

// Rewrite renames every call of a mirrored library function in query to its
// row version. A call of a library function without a row version is an
// error: the rewritten query would silently use the vectorised bridge.
func Rewrite(query string) (string, error) {
	mirrored := map[string]bool{}
	for _, n := range Names() {
		mirrored[n] = true
	}
	var missing []string
	out := call.ReplaceAllStringFunc(query, func(m string) string {
		parts := call.FindStringSubmatch(m)
		name := strings.ToLower(parts[1])
		if mirrored[name] {
			return parts[1] + Suffix + parts[2]
		}
		// Functions registered elsewhere and only documented here (the ROOT
		// and ML table functions) have no row version to need.
		if f := sqlfuncs.Lookup(name); f != nil && len(f.Forms) == 0 && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
		return m
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("rowudf: no row version of %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// udf is one function name and its overloads.
type udf struct {
	name      string
	overloads []overload
}

// overload implements duckdb.ScalarFunc.
type overload struct {
	in  []duckdb.TypeInfo
	out duckdb.TypeInfo
	fn  duckdb.RowExecutorFn
}

func (o *overload) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: o.in, ResultTypeInfo: o.out}
}

func (o *overload) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: o.fn}
}

// Type infos. Construction only fails for invalid type IDs, which these are not.
func typeOf(t duckdb.Type) duckdb.TypeInfo {
	info, err := duckdb.NewTypeInfo(t)
	if err != nil {
		panic(err)
	}
	return info
}

func listOf(t duckdb.TypeInfo) duckdb.TypeInfo {
	info, err := duckdb.NewListInfo(t)
	if err != nil {
		panic(err)
	}
	return info
}

var (
	tDouble  = typeOf(duckdb.TYPE_DOUBLE)
	tBigInt  = typeOf(duckdb.TYPE_BIGINT)
	tInts    = listOf(typeOf(duckdb.TYPE_INTEGER))
	tDoubles = listOf(tDouble)
	// The element types of the physics lists: FLOAT as ROOT stores them,
	// DOUBLE for derived columns; one overload each, as in the library.
	elemLists = []duckdb.TypeInfo{listOf(typeOf(duckdb.TYPE_FLOAT)), tDoubles}
)

// candidate is sqlfuncs' STRUCT(idx INTEGER[], pt, eta, phi, mass, e DOUBLE).
var candidate = func() duckdb.TypeInfo {
	var entries []duckdb.StructEntry
	for _, f := range []struct {
		name string
		t    duckdb.TypeInfo
	}{{"idx", tInts}, {"pt", tDouble}, {"eta", tDouble}, {"phi", tDouble}, {"mass", tDouble}, {"e", tDouble}} {
		e, err := duckdb.NewStructEntry(f.t, f.name)
		if err != nil {
			panic(err)
		}
		entries = append(entries, e)
	}
	info, err := duckdb.NewStructInfo(entries[0], entries[1:]...)
	if err != nil {
		panic(err)
	}
	return info
}()

// perElem builds the FLOAT-list and DOUBLE-list overloads of a function
// whose list arguments are at positions lists.
func perElem(args []duckdb.TypeInfo, lists []int, out duckdb.TypeInfo, fn duckdb.RowExecutorFn) []overload {
	var res []overload
	for _, l := range elemLists {
		in := slices.Clone(args)
		for _, i := range lists {
			in[i] = l
		}
		res = append(res, overload{in: in, out: out, fn: fn})
	}
	return res
}

func udfs() []udf {
	var L duckdb.TypeInfo // placeholder for a physics list, set by perElem
	return []udf{
		{"adl_bin", append([]overload{{in: []duckdb.TypeInfo{tDouble, tDouble, tDouble, tBigInt}, out: tDouble, fn: adlBin}},
			perElem([]duckdb.TypeInfo{L, tDouble, tDouble, tBigInt}, []int{0}, tDoubles, adlBinList)...)},
		{"mt", []overload{{in: []duckdb.TypeInfo{tDouble, tDouble, tDouble, tDouble}, out: tDouble, fn: mt}}},
		{"argsort_desc", perElem([]duckdb.TypeInfo{L}, []int{0}, tInts, argsortDesc)},
		{"count_above", perElem([]duckdb.TypeInfo{L, tDouble}, []int{0}, tBigInt, countAbove)},
		{"count_between", perElem([]duckdb.TypeInfo{L, tDouble, tDouble}, []int{0}, tBigInt, countBetween)},
		{"pair_mass", perElem([]duckdb.TypeInfo{L, L, L, L, tInts}, []int{0, 1, 2, 3}, tDoubles, pairMass)},
		{"best_triplet", perElem([]duckdb.TypeInfo{L, L, L, L, tDouble}, []int{0, 1, 2, 3}, candidate, bestTriplet)},
		{"best_pair", perElem([]duckdb.TypeInfo{L, L, L, L, tInts, tInts, tDouble}, []int{0, 1, 2, 3}, candidate, bestPair)},
		{"min_delta_r", perElem([]duckdb.TypeInfo{L, L, L, L, L, tDouble}, []int{0, 1, 2, 3, 4}, tDoubles, minDeltaR)},
	}
}

// floats converts a list argument; false when an element is NULL, which
// makes the row NULL as in the library.
func floats(v driver.Value) ([]float64, bool, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, false, fmt.Errorf("want a list, got %T", v)
	}
	out := make([]float64, len(l))
	for i, x := range l {
		switch x := x.(type) {
		case float32:
			out[i] = float64(x)
		case float64:
			out[i] = x
		case nil:
			return nil, false, nil
		default:
			return nil, false, fmt.Errorf("want FLOAT or DOUBLE elements, got %T", x)
		}
	}
	return out, true, nil
}

func ints(v driver.Value) ([]int32, bool, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, false, fmt.Errorf("want a list, got %T", v)
	}
	out := make([]int32, len(l))
	for i, x := range l {
		switch x := x.(type) {
		case int32:
			out[i] = x
		case nil:
			return nil, false, nil
		default:
			return nil, false, fmt.Errorf("want INTEGER elements, got %T", x)
		}
	}
	return out, true, nil
}

// lists converts the list arguments vs[:n] and checks they have equal
// lengths; ok is false when an element is NULL.
func lists(vs []driver.Value, n int) (out [][]float64, ok bool, err error) {
	out = make([][]float64, n)
	for i := range n {
		if out[i], ok, err = floats(vs[i]); !ok || err != nil {
			return nil, false, err
		}
		if len(out[i]) != len(out[0]) {
			return nil, false, fmt.Errorf("list arguments have different lengths (%d and %d)", len(out[0]), len(out[i]))
		}
	}
	return out, true, nil
}

func adlBin(v []driver.Value) (any, error) {
	x, lo, hi, nb := v[0].(float64), v[1].(float64), v[2].(float64), v[3].(int64)
	if nb <= 0 || !(lo < hi) {
		return nil, fmt.Errorf("invalid binning: %d bins over [%g, %g)", nb, lo, hi)
	}
	return sqlfuncs.BinCentre(x, lo, hi, int(nb)), nil
}

// adlBinList bins every element of a list.
func adlBinList(v []driver.Value) (any, error) {
	x, ok, err := floats(v[0])
	if !ok || err != nil {
		return nil, err
	}
	lo, hi, nb := v[1].(float64), v[2].(float64), v[3].(int64)
	if nb <= 0 || !(lo < hi) {
		return nil, fmt.Errorf("invalid binning: %d bins over [%g, %g)", nb, lo, hi)
	}
	for i := range x {
		x[i] = sqlfuncs.BinCentre(x[i], lo, hi, int(nb))
	}
	return x, nil
}

func mt(v []driver.Value) (any, error) {
	return sqlfuncs.TransverseMass(v[0].(float64), v[1].(float64), v[2].(float64), v[3].(float64)), nil
}

// countAbove: how many elements exceed the cut.
func countAbove(v []driver.Value) (any, error) {
	return countIn(v[0], v[1].(float64), 0, false)
}

// countBetween: how many elements lie strictly between lo and hi.
func countBetween(v []driver.Value) (any, error) {
	return countIn(v[0], v[1].(float64), v[2].(float64), true)
}

// countIn counts the elements above lo and, when bounded, below hi (an
// element at +Inf counts for count_above, as in the library).
func countIn(list driver.Value, lo, hi float64, bounded bool) (any, error) {
	x, ok, err := floats(list)
	if !ok || err != nil {
		return nil, err
	}
	n := int64(0)
	for _, e := range x {
		if e > lo && (!bounded || e < hi) {
			n++
		}
	}
	return n, nil
}

// argsortDesc: 1-based indices by decreasing key, equal keys in storage order.
func argsortDesc(v []driver.Value) (any, error) {
	k, ok, err := floats(v[0])
	if !ok || err != nil {
		return nil, err
	}
	order := make([]int32, len(k))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		switch {
		case k[a] > k[b]:
			return -1
		case k[a] < k[b]:
			return 1
		}
		return 0
	})
	for i := range order {
		order[i]++
	}
	return order, nil
}

// p4s builds the four-vectors of the collection in vs[:4].
func p4s(vs []driver.Value) ([]sqlfuncs.P4, bool, error) {
	l, ok, err := lists(vs, 4)
	if !ok || err != nil {
		return nil, false, err
	}
	out := make([]sqlfuncs.P4, len(l[0]))
	for i := range out {
		out[i] = sqlfuncs.PtEtaPhiM(l[0][i], l[1][i], l[2][i], l[3][i])
	}
	return out, true, nil
}

// conditions reads the charge (and flavour) lists of pair rules.
func conditions(vs []driver.Value, n int, flavour bool) (charge, flav []int32, ok bool, err error) {
	if charge, ok, err = ints(vs[4]); !ok || err != nil {
		return nil, nil, false, err
	}
	if len(charge) != n {
		return nil, nil, false, fmt.Errorf("%d charges for %d objects", len(charge), n)
	}
	if flavour {
		if flav, ok, err = ints(vs[5]); !ok || err != nil {
			return nil, nil, false, err
		}
		if len(flav) != n {
			return nil, nil, false, fmt.Errorf("%d flavours for %d objects", len(flav), n)
		}
	}
	return charge, flav, true, nil
}

// pairMass: masses of the opposite-charge pairs i < j in index order.
func pairMass(v []driver.Value) (any, error) {
	p, ok, err := p4s(v)
	if !ok || err != nil {
		return nil, err
	}
	charge, _, ok, err := conditions(v, len(p), false)
	if !ok || err != nil {
		return nil, err
	}
	out := []float64{}
	for i := range p {
		for j := i + 1; j < len(p); j++ {
			if charge[i]*charge[j] < 0 {
				out = append(out, p[i].Add(p[j]).Mass())
			}
		}
	}
	return out, nil
}

// result renders a combination as the library's candidate struct.
func result(idx []int, sum sqlfuncs.P4) map[string]any {
	ids := make([]int32, len(idx))
	for i, k := range idx {
		ids[i] = int32(k + 1)
	}
	return map[string]any{"idx": ids, "pt": sum.Pt(), "eta": sum.Eta(), "phi": sum.Phi(), "mass": sum.Mass(), "e": sum.E}
}

// bestTriplet: the triplet whose mass is closest to the target, the first
// in index order on a tie; NULL with fewer than three objects.
func bestTriplet(v []driver.Value) (any, error) {
	p, ok, err := p4s(v)
	if !ok || err != nil {
		return nil, err
	}
	target := v[4].(float64)
	best, bestDist := []int(nil), math.Inf(1)
	var bestSum sqlfuncs.P4
	for i := range p {
		for j := i + 1; j < len(p); j++ {
			pair := p[i].Add(p[j])
			for k := j + 1; k < len(p); k++ {
				sum := pair.Add(p[k])
				if d := math.Abs(sum.Mass() - target); d < bestDist {
					best, bestDist, bestSum = []int{i, j, k}, d, sum
				}
			}
		}
	}
	if best == nil {
		return nil, nil
	}
	return result(best, bestSum), nil
}

// bestPair: the same-flavour opposite-charge pair whose mass is closest to
// the target; NULL when there is none.
func bestPair(v []driver.Value) (any, error) {
	p, ok, err := p4s(v)
	if !ok || err != nil {
		return nil, err
	}
	charge, flavour, ok, err := conditions(v, len(p), true)
	if !ok || err != nil {
		return nil, err
	}
	target := v[6].(float64)
	best, bestDist := []int(nil), math.Inf(1)
	var bestSum sqlfuncs.P4
	for i := range p {
		for j := i + 1; j < len(p); j++ {
			if flavour[i] != flavour[j] || charge[i]*charge[j] >= 0 {
				continue
			}
			sum := p[i].Add(p[j])
			if d := math.Abs(sum.Mass() - target); d < bestDist {
				best, bestDist, bestSum = []int{i, j}, d, sum
			}
		}
	}
	if best == nil {
		return nil, nil
	}
	return result(best, bestSum), nil
}

// minDeltaR: for each object of A, the smallest ΔR to an object of B with
// pt above the cut; +Inf when there is none.
func minDeltaR(v []driver.Value) (any, error) {
	a, ok, err := lists(v, 2)
	if !ok || err != nil {
		return nil, err
	}
	b, ok, err := lists(v[2:], 3)
	if !ok || err != nil {
		return nil, err
	}
	cut := v[5].(float64)
	out := make([]float64, len(a[0]))
	for i := range out {
		best := math.Inf(1)
		for k := range b[0] {
			if b[0][k] > cut {
				if d := sqlfuncs.DeltaR(a[0][i], a[1][i], b[1][k], b[2][k]); d < best {
					best = d
				}
			}
		}
		out[i] = best
	}
	return out, nil
}
