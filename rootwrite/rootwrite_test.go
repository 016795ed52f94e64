package rootwrite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/internal/jsroot"
	"github.com/hepsql/hepsql/internal/testfiles"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := hepsql.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// jsrootDump runs internal/jsroot's dump.mjs (jsroot, CERN's JavaScript
// ROOT reader, installed by scripts/test with npm) and decodes its JSON.
// With CI set a missing node or jsroot fails the test; elsewhere it skips.
func jsrootDump(t *testing.T, into any, args ...string) {
	t.Helper()
	if err := jsroot.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	b, err := jsroot.Dump(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("jsroot output: %v", err)
	}
}

// norm maps a value from database/sql or from JSON onto one form: numbers
// and booleans as float64, lists as []any, strings as themselves.
func norm(v any) any {
	switch x := v.(type) {
	case bool:
		if x {
			return 1.0
		}
		return 0.0
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e)
		}
		return out
	case string, nil:
		return x
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	}
	return fmt.Sprintf("%T %v", v, v)
}

func queryRows(t *testing.T, db *sql.DB, q string) [][]any {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i := range vals {
			vals[i] = norm(vals[i])
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The branches of the tree the test writes, and what each must hold, as
// an expression over the CMS sample.
var treeBranches = []struct{ branch, want string }{
	{"run", "run"}, {"luminosityBlock", "luminosityBlock"}, {"event", "event"},
	{"HLT_IsoMu24", "HLT_IsoMu24"}, {"PV_npvs", "PV_npvs"}, {"MET_pt", "MET_pt"}, {"MET_phi", "MET_phi"},
	{"nMuon", "nMuon"}, {"Muon_pt", "Muon_pt"}, {"Muon_charge", "Muon_charge"}, {"Muon_tightId", "Muon_tightId"},
	{"Jet_pt", "Jet_pt"}, {"PV_xyz", "[PV_x, PV_y, PV_z]::FLOAT[3]"}, {"label", "'run' || run"},
	{"Mu_pt", "Muon_pt"}, {"Mu_eta", "Muon_eta"}, {"Mu_charge", "Muon_charge"},
	// counters
	{"nMuon_pt", "len(Muon_pt)"}, {"nMuon_charge", "len(Muon_charge)"}, {"nMuon_tightId", "len(Muon_tightId)"},
	{"nJet_pt", "len(Jet_pt)"}, {"nMu", "nMuon"},
}

const copyTree = `COPY (SELECT run, luminosityBlock, event, HLT_IsoMu24, PV_npvs, MET_pt, MET_phi, nMuon,
	Muon_pt, Muon_charge, Muon_tightId, Jet_pt, [PV_x, PV_y, PV_z]::FLOAT[3] AS PV_xyz, 'run' || run AS label,
	list_transform(range(1, nMuon::BIGINT + 1), i -> {'pt': Muon_pt[i], 'eta': Muon_eta[i], 'charge': Muon_charge[i]}) AS Mu
	FROM read_root('%s')) TO '%s' (FORMAT root, TREE 'Events', COMPRESSION '%s')`

// TestJSROOTReadsTree writes the CMS sample's scalar, jagged, fixed-array,
// string and list-of-struct columns to a ROOT file and reads it back with
// jsroot and with hepsql's read_root: every value of every branch equals
// the source's, row by row, for each compression.
func TestJSROOTReadsTree(t *testing.T) {
	cms := testfiles.CMSSample(t)
	db := openDB(t)
	var exprs, names []string
	for _, b := range treeBranches {
		exprs = append(exprs, b.want)
		names = append(names, b.branch)
	}
	want := queryRows(t, db, fmt.Sprintf("SELECT %s FROM read_root('%s') ORDER BY _entry", strings.Join(exprs, ", "), cms))
	if len(want) != 10000 {
		t.Fatalf("%d source rows", len(want))
	}
	for _, comp := range []string{"zlib", "lz4", "zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.root")
			if _, err := db.Exec(fmt.Sprintf(copyTree, cms, out, comp)); err != nil {
				t.Fatal(err)
			}
			// hepsql's own reader.
			got := queryRows(t, db, fmt.Sprintf(`SELECT "%s" FROM read_root('%s') ORDER BY _entry`, strings.Join(names, `", "`), out))
			compareRows(t, "read_root", names, want, got)

			// jsroot: a jagged branch brings its counter along, and jsroot
			// refuses a counter asked for again, so counters come in a
			// second pass.
			data, counters := names[:17], names[17:]
			for _, pass := range [][]string{data, counters} {
				var res struct {
					Entries int
					Rows    []map[string]any
				}
				jsrootDump(t, &res, append([]string{out, "tree", "Events"}, pass...)...)
				if res.Entries != len(want) || len(res.Rows) != len(want) {
					t.Fatalf("jsroot: %d entries, %d rows read; want %d", res.Entries, len(res.Rows), len(want))
				}
				got := make([][]any, len(res.Rows))
				for r, row := range res.Rows {
					for _, name := range pass {
						got[r] = append(got[r], norm(row[name]))
					}
				}
				sub := make([][]any, len(want))
				off := 0
				if &pass[0] == &counters[0] {
					off = len(data)
				}
				for r := range want {
					sub[r] = want[r][off : off+len(pass)]
				}
				compareRows(t, "jsroot", pass, sub, got)
			}
		})
		if testing.Short() {
			break
		}
	}
}

func compareRows(t *testing.T, reader string, names []string, want, got [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", reader, len(got), len(want))
	}
	bad := 0
	for r := range want {
		for c, name := range names {
			if !reflect.DeepEqual(got[r][c], want[r][c]) {
				if bad++; bad <= 5 {
					t.Errorf("%s: row %d branch %s = %v, want %v", reader, r, name, got[r][c], want[r][c])
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d values differ", reader, bad)
	}
}

type jsHist struct {
	Class          string
	Nbins          int
	Edges          []float64
	Array, Sumw2   []float64
	Entries, Tsumw float64
}

// TestJSROOTReadsTH1D writes HIST values as TH1Ds and reads them with
// jsroot: bin contents with under- and overflow (fArray), squared weights
// (fSumw2), edges and entries equal hist()'s, for an unweighted and a
// weighted histogram, and for histograms named by a VARCHAR column.
func TestJSROOTReadsTH1D(t *testing.T) {
	cms := testfiles.CMSSample(t)
	db := openDB(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "h.root")
	hists := map[string]string{
		"met":   "hist(MET_pt, 50, 0, 200)",
		"met_w": "hist(MET_pt, 50, 0, 200, 0.5 + nJet)",
		"jet1":  "hist(Jet_pt[1], [0, 20, 30, 50, 100, 300])", // variable bins; NULL Jet_pt[1] skipped
	}
	var sel []string
	for name, expr := range hists {
		sel = append(sel, expr+" AS "+name)
	}
	q := fmt.Sprintf("SELECT %s FROM read_root('%s')", strings.Join(sel, ", "), cms)
	if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO '%s'", q, out)); err != nil {
		t.Fatal(err)
	}
	for name := range hists {
		checkTH1D(t, db, out, name, fmt.Sprintf("SELECT %s AS h FROM read_root('%s')", hists[name], cms))
	}

	// Several rows named by a VARCHAR column: met_single, met_multi.
	out2 := filepath.Join(dir, "h2.root")
	label := "CASE WHEN nMuon > 1 THEN 'multi' ELSE 'single' END"
	_, err := db.Exec(fmt.Sprintf("COPY (SELECT %s AS sel, hist(MET_pt, 50, 0, 200) AS met FROM read_root('%s') GROUP BY sel) TO '%s' (FORMAT root)", label, cms, out2))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"single", "multi"} {
		checkTH1D(t, db, out2, "met_"+l, fmt.Sprintf("SELECT hist(MET_pt, 50, 0, 200) AS h FROM read_root('%s') WHERE %s = '%s'", cms, label, l))
	}
}

func checkTH1D(t *testing.T, db *sql.DB, file, name, query string) {
	t.Helper()
	var res map[string]jsHist
	jsrootDump(t, &res, file, "hist", name)
	h := res[name]
	w := queryRows(t, db, "SELECT h.edges, h.sumw, h.sumw2, h.underflow, h.overflow, h.underflow_sumw2, h.overflow_sumw2, h.entries FROM ("+query+")")[0]
	floats := func(v any) []float64 {
		var out []float64
		for _, x := range v.([]any) {
			out = append(out, x.(float64))
		}
		return out
	}
	edges, sumw, sumw2 := floats(w[0]), floats(w[1]), floats(w[2])
	array := append(append([]float64{w[3].(float64)}, sumw...), w[4].(float64))
	errs := append(append([]float64{w[5].(float64)}, sumw2...), w[6].(float64))
	if h.Class != "TH1D" || h.Nbins != len(sumw) {
		t.Fatalf("%s: jsroot read %s with %d bins, want TH1D with %d", name, h.Class, h.Nbins, len(sumw))
	}
	if !reflect.DeepEqual(h.Edges, edges) || !reflect.DeepEqual(h.Array, array) || !reflect.DeepEqual(h.Sumw2, errs) || h.Entries != w[7].(float64) {
		t.Errorf("%s: jsroot read\n edges %v\n array %v\n sumw2 %v\n entries %v\nwant\n edges %v\n array %v\n sumw2 %v\n entries %v",
			name, h.Edges, h.Array, h.Sumw2, h.Entries, edges, array, errs, w[7])
	}
	var insum float64
	for _, x := range sumw {
		insum += x
	}
	if math.Abs(h.Tsumw-insum) > 1e-9*math.Abs(insum) {
		t.Errorf("%s: fTsumw %v, want %v (in-range sum)", name, h.Tsumw, insum)
	}
}

// TestCopyRootRefusals: what COPY to ROOT refuses is refused with an error
// naming the column (or option) before any file exists, a failure while
// writing leaves no partial file, and a .root name without FORMAT writes
// ROOT, never CSV.
func TestCopyRootRefusals(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "x.root")
	cases := []struct{ query, opts, want string }{
		{"SELECT DATE '2020-01-01' AS day", "", `column "day" has type DATE`},
		{"SELECT 1.5::DECIMAL(4,2) AS d", "", `column "d" has type DECIMAL`},
		{"SELECT [[1, 2]] AS nested", "", `column "nested" has type INTEGER[][]`},
		{"SELECT ['a'] AS names", "", `column "names" has type VARCHAR[]`},
		{"SELECT [{'s': 'a'}] AS c", "", `member "s" is VARCHAR`},
		{"SELECT MAP {'a': 1} AS m", "", `column "m" has type MAP`},
		{"SELECT 1 + 1", "", `column name "(1 + 1)" is not a ROOT branch name`},
		{"SELECT [1] AS x, 2 AS nx", "", `branch "nx" (from column "nx") clashes`},
		{"SELECT hist(range, 2, 0, 2) AS h, 1 AS x FROM range(3)", "", `one COPY writes either a tree or histograms`},
		{"SELECT 1 AS x", ", HEADER true", "unknown option HEADER"},
		{"SELECT 1 AS x", ", COMPRESSION 'gzip'", `COMPRESSION "gzip"`},
		{"SELECT 1 AS x", ", LEVEL 12", "LEVEL takes an integer from 0 to 9"},
		// errors while writing: the partial file is removed.
		{"SELECT CASE WHEN range = 5000 THEN NULL ELSE range END AS x FROM range(10000)", "", `column "x" has a NULL value`},
		{"SELECT [1, NULL] AS x", "", `column "x" has a NULL list element`},
	}
	for _, c := range cases {
		for _, format := range []string{"(FORMAT root", "("} {
			opts := format + c.opts + ")"
			if format == "(" {
				opts = "(" + strings.TrimPrefix(c.opts, ", ") + ")"
			}
			if opts == "()" {
				opts = ""
			}
			_, err := db.Exec(fmt.Sprintf("COPY (%s) TO '%s' %s", c.query, out, opts))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("COPY (%s) %s: error %v, want one containing %q", c.query, opts, err, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("COPY (%s) %s failed but left %s", c.query, opts, out)
				os.Remove(out)
			}
		}
	}
	// A .root name in any case picks FORMAT root: the file is ROOT.
	for _, name := range []string{"y.root", "Y.ROOT"} {
		p := filepath.Join(dir, name)
		if _, err := db.Exec(fmt.Sprintf("COPY (SELECT 1 AS x) TO '%s'", p)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || !strings.HasPrefix(string(b), "root") {
			t.Errorf("%s: not a ROOT file (%v): %q", name, err, b[:min(len(b), 8)])
		}
		var n int
		if err := db.QueryRow(fmt.Sprintf("SELECT sum(x) FROM read_root('%s')", p)).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s read back: %d, %v", name, n, err)
		}
	}
}
