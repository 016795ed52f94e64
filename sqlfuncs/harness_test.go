package sqlfuncs_test

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/hepsql/hepsql"
)

// The perturbation harness (STYLE.md item 9): every case runs its function
// over a 2100-row table (a full 2048-row vector and a partial one) holding
// empty lists, NULL lists, NULL elements and NULL scalars; again over a
// filtered scan (DuckDB hands the function dictionary vectors, whose list
// entries point anywhere in a shared child); over one row; and with literal
// arguments (constant vectors). Every result is compared with a plain-Go
// reference written independently of the vectorised bodies.

// argKind says how to generate one argument.
type argKind struct {
	sqlType string // FLOAT[], DOUBLE[], INTEGER[], DOUBLE, BIGINT
	group   int    // lists of one group share their length in a row
	gen     func(r *rand.Rand) float64
	fixed   any // a value used in every row instead of gen (not NULL-perturbed)
}

type harnessCase struct {
	name string
	fn   string
	args []argKind
	// ref computes the expected value from the row's arguments (float64,
	// []float64 or int64); it returns nil for NULL.
	ref func(a []any) any
	// maxLen bounds list lengths (combinatorics is cubic).
	maxLen int
}

var (
	genPt     = func(r *rand.Rand) float64 { return float64(float32(5 + 100*r.Float64())) }
	genEta    = func(r *rand.Rand) float64 { return float64(float32(-2.5 + 5*r.Float64())) }
	genPhi    = func(r *rand.Rand) float64 { return float64(float32(-math.Pi + 2*math.Pi*r.Float64())) }
	genMass   = func(r *rand.Rand) float64 { return float64(float32(5 * r.Float64())) }
	genCharge = func(r *rand.Rand) float64 { return float64(2*r.IntN(2) - 1) }
	genFlav   = func(r *rand.Rand) float64 { return float64(11 + 2*r.IntN(2)) }
	genDouble = func(r *rand.Rand) float64 { return -10 + 20*r.Float64() }
)

func list(t string, group int, gen func(*rand.Rand) float64) argKind {
	return argKind{sqlType: t, group: group, gen: gen}
}
func scalar(gen func(*rand.Rand) float64) argKind { return argKind{sqlType: "DOUBLE", gen: gen} }
func fixed(t string, v any) argKind               { return argKind{sqlType: t, fixed: v} }

// collectionArgs is (pt, eta, phi, mass) lists of group g.
func collectionArgs(t string, g int) []argKind {
	return []argKind{list(t, g, genPt), list(t, g, genEta), list(t, g, genPhi), list(t, g, genMass)}
}

func floats(a any) []float64 { return a.([]float64) }

func runHarness(t *testing.T, db *sql.DB, c harnessCase) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, uint64(len(c.name))))
	const nRows = 2100
	maxLen := c.maxLen
	if maxLen == 0 {
		maxLen = 8
	}
	rows := make([][]any, nRows)
	for r := range rows {
		lens := map[int]int{}
		row := make([]any, len(c.args))
		for i, k := range c.args {
			switch {
			case k.fixed != nil:
				row[i] = k.fixed
			case strings.HasSuffix(k.sqlType, "[]"):
				n, ok := lens[k.group]
				if !ok {
					n = rng.IntN(maxLen + 1) // includes empty lists
					lens[k.group] = n
				}
				v := make([]float64, n)
				for j := range v {
					v[j] = k.gen(rng)
				}
				row[i] = v
			default:
				row[i] = k.gen(rng)
			}
		}
		// Perturb: one row in 23 gets a NULL argument, one in 29 a NULL
		// element (a list argument only).
		if r%23 == 7 {
			if i := rng.IntN(len(c.args)); c.args[i].fixed == nil {
				row[i] = nil
			}
		}
		rows[r] = row
	}
	nullElem := map[[2]int]bool{}
	for r := range rows {
		if r%29 != 11 {
			continue
		}
		for i, v := range rows[r] {
			if l, ok := v.([]float64); ok && len(l) > 0 {
				nullElem[[2]int{r, i}] = true
				break
			}
		}
	}
	lit := func(r, i int) string {
		v := rows[r][i]
		k := c.args[i]
		if v == nil {
			return "NULL::" + k.sqlType
		}
		switch x := v.(type) {
		case []float64:
			parts := make([]string, len(x))
			for j, e := range x {
				parts[j] = strconv.FormatFloat(e, 'e', -1, 64) // exponent form: DOUBLE, not DECIMAL
			}
			if nullElem[[2]int{r, i}] {
				parts[0] = "NULL"
			}
			return "[" + strings.Join(parts, ", ") + "]::" + k.sqlType
		case float64:
			return strconv.FormatFloat(x, 'e', -1, 64) + "::" + k.sqlType
		default:
			return fmt.Sprint(x) + "::" + k.sqlType
		}
	}
	hasNull := func(r int) bool {
		for i, v := range rows[r] {
			if v == nil || nullElem[[2]int{r, i}] {
				return true
			}
		}
		return false
	}
	expect := func(r int) any {
		if hasNull(r) {
			return nil
		}
		return c.ref(rows[r])
	}

	table := "h_" + strings.NewReplacer(" ", "_", "(", "", ")", "", ",", "").Replace(c.name)
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE OR REPLACE TABLE %s AS SELECT * FROM (VALUES ", table)
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d", r)
		for i := range c.args {
			b.WriteString(", " + lit(r, i))
		}
		b.WriteString(")")
	}
	b.WriteString(") v(id")
	argNames := make([]string, len(c.args))
	for i := range c.args {
		argNames[i] = fmt.Sprintf("a%d", i)
		b.WriteString(", " + argNames[i])
	}
	b.WriteString(")")
	if _, err := db.Exec(b.String()); err != nil {
		t.Fatalf("%s: creating input table: %v", c.name, err)
	}
	call := fmt.Sprintf("%s(%s)", c.fn, strings.Join(argNames, ", "))

	check := func(variant, query string, ids func(int) bool) {
		t.Helper()
		res, err := db.Query(query)
		if err != nil {
			t.Fatalf("%s [%s]: %v", c.name, variant, err)
		}
		defer res.Close()
		got := map[int]any{}
		for res.Next() {
			var id int
			var v any
			if err := res.Scan(&id, &v); err != nil {
				t.Fatal(err)
			}
			got[id] = v
		}
		if err := res.Err(); err != nil {
			t.Fatalf("%s [%s]: %v", c.name, variant, err)
		}
		n := 0
		for r := range rows {
			if !ids(r) {
				continue
			}
			n++
			g, ok := got[r]
			if !ok {
				t.Fatalf("%s [%s]: row %d missing", c.name, variant, r)
			}
			if msg := compare(g, expect(r)); msg != "" {
				t.Fatalf("%s [%s]: row %d (args %v): %s", c.name, variant, r, rows[r], msg)
			}
		}
		if n != len(got) {
			t.Fatalf("%s [%s]: %d rows, want %d", c.name, variant, len(got), n)
		}
	}
	check("flat", fmt.Sprintf("SELECT id, %s FROM %s", call, table), func(int) bool { return true })
	check("dictionary", fmt.Sprintf("SELECT id, %s FROM (SELECT * FROM %s WHERE id %% 3 <> 1 ) s", call, table),
		func(r int) bool { return r%3 != 1 })
	check("one row", fmt.Sprintf("SELECT id, %s FROM %s WHERE id = 1234", call, table), func(r int) bool { return r == 1234 })
	// The rows without any NULL, stored as a table of their own: its vectors
	// carry no validity mask, which the functions' NULL-free fast paths
	// take.
	var noNull []string
	for i, k := range c.args {
		if strings.HasSuffix(k.sqlType, "[]") {
			noNull = append(noNull, fmt.Sprintf("%s IS NOT NULL AND list_count(%s) = len(%s)", argNames[i], argNames[i], argNames[i]))
		} else {
			noNull = append(noNull, argNames[i]+" IS NOT NULL")
		}
	}
	if _, err := db.Exec(fmt.Sprintf("CREATE OR REPLACE TABLE %s_plain AS SELECT * FROM %s WHERE %s ORDER BY id", table, table, strings.Join(noNull, " AND "))); err != nil {
		t.Fatalf("%s: creating the NULL-free table: %v", c.name, err)
	}
	check("no NULL", fmt.Sprintf("SELECT id, %s FROM %s_plain", call, table), func(r int) bool { return !hasNull(r) })
	for _, r := range []int{0, 7, 11, 40, 2047} {
		lits := make([]string, len(c.args))
		for i := range c.args {
			lits[i] = lit(r, i)
		}
		check(fmt.Sprintf("constant row %d", r),
			fmt.Sprintf("SELECT %d + (i * 0)::INT, %s(%s) FROM range(3) t(i) LIMIT 1", r, c.fn, strings.Join(lits, ", ")),
			func(x int) bool { return x == r })
	}
}

// compare returns "" when got (as database/sql scans it) equals want within
// 1e-9 relative, NULLs equal.
func compare(got, want any) string {
	if want == nil || got == nil {
		if want == nil && got == nil {
			return ""
		}
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		if !ok || !close(g, w) {
			return fmt.Sprintf("got %v, want %v", got, w)
		}
	case int64:
		if fmt.Sprint(got) != fmt.Sprint(w) {
			return fmt.Sprintf("got %v, want %v", got, w)
		}
	case approx32:
		g, ok := got.(float32)
		if !ok || math.Abs(float64(g)-float64(w)) > 2e-6*math.Max(1, math.Abs(float64(w))) {
			return fmt.Sprintf("got %v (%T), want %v (FLOAT within 2e-6)", got, got, float64(w))
		}
	case float32, uint64, int8: // FLOAT, UBIGINT and TINYINT results: exact
		if got != w {
			return fmt.Sprintf("got %v (%T), want %v (%T)", got, got, w, w)
		}
	case bool:
		if got != w {
			return fmt.Sprintf("got %v, want %v", got, w)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("got %v, want %v", got, w)
		}
		for i := range w {
			if m := compare(g[i], w[i]); m != "" {
				return fmt.Sprintf("element %d: %s", i, m)
			}
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("got %v, want %v", got, w)
		}
		for k := range w {
			if m := compare(g[k], w[k]); m != "" {
				return fmt.Sprintf("field %s: %s", k, m)
			}
		}
	default:
		return fmt.Sprintf("unexpected want type %T", want)
	}
	return ""
}

// approx32 is a FLOAT result that a reference computes in float64 by
// another formula: equal within float32 rounding.
type approx32 float64

func close(a, b float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) || math.IsNaN(a) || math.IsNaN(b) {
		return a == b || (math.IsNaN(a) && math.IsNaN(b))
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func anyFloats(v []float64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := hepsql.Open("")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}
