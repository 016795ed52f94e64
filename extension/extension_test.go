package extension

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/gen/adl"
	"github.com/hepsql/hepsql/internal/adlref"
)

// mlStatements train a small network on the synthetic ADL sample and read
// its predictions back row by row; the last two return rows.
func mlStatements(input string) (train, predict []string) {
	setup := fmt.Sprintf(`CREATE TABLE mlset AS
SELECT row_number() OVER (ORDER BY _file, _entry) AS id, (nMuon >= 2)::INT AS label,
       [MET_pt, nJet::FLOAT, nElectron::FLOAT] AS x
FROM read_root(%s) QUALIFY id <= 2000`, bench.QuoteString(input))
	train = []string{setup, `SELECT epoch, train_loss, val_loss FROM train('m', 'SELECT label, x FROM mlset', hidden := [4], epochs := 3) ORDER BY epoch`}
	predict = []string{`SELECT id, p[1] AS p1, p[2] AS p2 FROM (SELECT id, predict_proba('m', x) AS p FROM mlset) ORDER BY id`}
	return train, predict
}

// TestStockDuckDBs builds hepsql.duckdb_extension with the documented
// command, loads it into the stock DuckDBs of Node's @duckdb/node-api (1.5.6
// and 1.5.5, see Hosts) and into DuckDB 2.0 (CHost), and checks, value by
// value, that the nine ADL queries on a synthetic chain of files, the
// replacement scan, root_trees, root_branches, a HEP function, a train and
// a predict_proba give there what the embedded engine gives; the ADL
// histograms are also checked against the plain-Go computation over
// groot's reader (adlref).
func TestStockDuckDBs(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, pkg := range append(Hosts, Refusing) {
		if _, err := (Node{Root: root, Package: pkg}).Run(ctx, "/nonexistent", nil); errors.Is(err, ErrNoNode) {
			if os.Getenv("CI") != "" {
				t.Fatal(err)
			}
			t.Skip(err)
		}
	}

	ext := filepath.Join(t.TempDir(), "hepsql.duckdb_extension")
	if err := Build(ctx, root, ext); err != nil {
		t.Fatal(err)
	}
	gen := t.TempDir()
	files, err := adl.Generate(adl.Options{Events: 20000, Seed: 7, OutDir: gen, EventsPerFile: 10000})
	if err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(gen, "*.root")

	db, err := hepsql.Open("?threads=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	var queries []Query
	embedded := map[string][]adlref.Bin{}
	for _, q := range adlref.Queries() {
		stmts, err := bench.LoadADL(filepath.Join(root, "queries", "adl"), q, input, nil)
		if err != nil {
			t.Fatal(err)
		}
		bins, err := bench.RunADL(ctx, conn, q+".sql", stmts)
		if err != nil {
			t.Fatalf("%s in the embedded engine: %v", q, err)
		}
		ref, err := adlref.Compute(q, files)
		if err != nil {
			t.Fatal(err)
		}
		if err := bench.CompareBins(ref, bins); err != nil {
			t.Fatalf("%s: embedded engine vs adlref: %v", q, err)
		}
		embedded[q] = bins
		var sqls []string
		for _, s := range stmts {
			sqls = append(sqls, s.SQL)
		}
		queries = append(queries, Query{Name: q, Statements: sqls})
	}
	// The rest of what the extension registers, and the ML functions (sums
	// rounded: threads add their parts in any order).
	trainSQL, predictSQL := mlStatements(input)
	first := bench.QuoteString(files[0])
	others := []Query{
		{Name: "replacement scan", Statements: []string{fmt.Sprintf("SELECT count(*), sum(nMuon)::BIGINT, round(sum(list_sum(Muon_pt)), 2) FROM %s", bench.QuoteString(input))}},
		{Name: "root_trees", Statements: []string{fmt.Sprintf("SELECT tree, entries, branches FROM root_trees(%s)", first)}},
		{Name: "root_branches", Statements: []string{fmt.Sprintf("SELECT name, sql_type, uncompressed_bytes FROM root_branches(%s) ORDER BY name", first)}},
		{Name: "hep functions", Statements: []string{fmt.Sprintf("SELECT round(sum(list_sum(delta_r(Jet_eta, Jet_phi, Muon_eta[1], Muon_phi[1]))), 4) FROM read_root(%s) WHERE nMuon > 0", first)}},
		{Name: "train", Statements: trainSQL},
		{Name: "predict_proba", Statements: predictSQL},
	}
	wantRows := map[string][][]any{}
	for _, q := range others {
		wantRows[q.Name] = queryRows(t, conn, q.Statements)
	}
	queries = append(queries, others...)
	queries = append(queries,
		Query{Name: "missing", Statements: []string{"SELECT count(*) FROM read_root('no/such/file.root')"}},
	)

	// A DuckDB whose function table differs must refuse the extension
	// with an error naming its version, before any call that could crash.
	t.Run("refuses DuckDB 1.4.4", func(t *testing.T) {
		_, err := (Node{Root: root, Package: Refusing}).Run(ctx, ext, queries[:1])
		var le *LoadError
		if !errors.As(err, &le) || !strings.Contains(le.Msg, "hepsql: DuckDB v1.4.4 is not supported") {
			t.Fatalf("LOAD into DuckDB 1.4.4: got %v, want the error that refuses it", err)
		}
	})
	for _, pkg := range Hosts {
		resp, err := (Node{Root: root, Package: pkg, Threads: 2}).Run(ctx, ext, queries)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(resp.DuckDB, func(t *testing.T) { compareHost(t, resp, embedded, wantRows) })
	}
	// DuckDB 2.0, which npm does not ship: a minimal C host linked with the
	// static DuckDB of duckdb-go-bindings v0.20000.0.
	t.Run("DuckDB 2.0", func(t *testing.T) {
		bindings, lib := moduleDir(t, "github.com/duckdb/duckdb-go-bindings@"+duckdb20Bindings), moduleDir(t, "go.duckdb.org/libduckdb/"+runtime.GOOS+"-"+runtime.GOARCH+"@"+duckdb20Bindings)
		host, err := BuildCHost(ctx, root, bindings, lib, filepath.Join(t.TempDir(), "host"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := host.Run(ctx, ext, 2, queries)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(resp.DuckDB, "v2.0.") {
			t.Fatalf("the host runs DuckDB %s, want v2.0.x", resp.DuckDB)
		}
		compareHost(t, resp, embedded, wantRows)
	})
}

// duckdb20Bindings is the duckdb-go-bindings version of DuckDB 2.0.0 (and
// of its lib modules, go.duckdb.org/libduckdb/GOOS-GOARCH).
const duckdb20Bindings = "v0.20000.0"

// moduleDir downloads a module (go mod download) and returns its folder;
// without network access the test fails in CI and skips elsewhere.
func moduleDir(t *testing.T, modVersion string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	cmd.Dir = t.TempDir() // outside this module: its go.mod and go.sum stay as they are
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if err == nil {
		err = json.Unmarshal(out, &info)
	}
	if err == nil && info.Error != "" {
		err = errors.New(info.Error)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("go mod download %s: %v", modVersion, err)
		}
		t.Skipf("go mod download %s: %v", modVersion, err)
	}
	return info.Dir
}

// compareHost compares the results of one stock DuckDB with the embedded
// engine's.
func compareHost(t *testing.T, resp *Response, embedded map[string][]adlref.Bin, wantRows map[string][][]any) {
	for _, r := range resp.Results {
		t.Run(r.Name, func(t *testing.T) {
			if r.Name == "missing" {
				if !strings.Contains(r.Error, "no/such/file.root") {
					t.Fatalf("error %q does not name the missing file", r.Error)
				}
				return
			}
			if r.Error != "" {
				t.Fatal(r.Error)
			}
			want, ok := wantRows[r.Name]
			if !ok {
				for _, b := range embedded[r.Name] {
					want = append(want, []any{b.X, b.Y})
				}
			}
			if len(r.Rows) != len(want) {
				t.Fatalf("%d rows in Node's DuckDB, %d embedded", len(r.Rows), len(want))
			}
			for i, row := range r.Rows {
				if len(row) != len(want[i]) {
					t.Fatalf("row %d: %d columns in Node's DuckDB, %d embedded", i+1, len(row), len(want[i]))
				}
				for j, raw := range row {
					if err := sameValue(want[i][j], raw); err != nil {
						t.Fatalf("row %d column %s: %v", i+1, r.Columns[j], err)
					}
				}
			}
		})
	}
}

// queryRows runs stmts on conn and returns the rows of the last one.
func queryRows(t *testing.T, conn *sql.Conn, stmts []string) [][]any {
	t.Helper()
	ctx := context.Background()
	for _, s := range stmts[:len(stmts)-1] {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	rows, err := conn.QueryContext(ctx, stmts[len(stmts)-1])
	if err != nil {
		t.Fatal(err)
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
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameValue compares an embedded engine's value with a host's JSON of it:
// from Node, BIGINT as a decimal string, DOUBLE and FLOAT as a number (the
// shortest text that reads back as the same value); from CHost, every
// value as a string of DuckDB's text. Floating-point values must be equal
// to the bit: the same Go code computed them on the same rows.
func sameValue(want any, raw json.RawMessage) error {
	switch w := want.(type) {
	case int64:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("want BIGINT %d, got %s", w, raw)
		}
		got, err := strconv.ParseInt(s, 10, 64)
		if err != nil || got != w {
			return fmt.Errorf("got %s, want %d", raw, w)
		}
	case float64:
		got, err := number(raw, 64)
		if err != nil || got != w {
			return fmt.Errorf("got %s, want %v", raw, w)
		}
	case float32:
		got, err := number(raw, 32)
		if err != nil || float32(got) != w {
			return fmt.Errorf("got %s, want %v", raw, w)
		}
	case string:
		var got string
		if err := json.Unmarshal(raw, &got); err != nil || got != w {
			return fmt.Errorf("got %s, want %q", raw, w)
		}
	case []any:
		var got []json.RawMessage
		if err := json.Unmarshal(raw, &got); err != nil || len(got) != len(w) {
			return fmt.Errorf("got %s, want %v", raw, w)
		}
		for i := range w {
			if err := sameValue(w[i], got[i]); err != nil {
				return fmt.Errorf("element %d: %w", i+1, err)
			}
		}
	default:
		return fmt.Errorf("unexpected embedded type %T", want)
	}
	return nil
}

// number reads a JSON number (Node) or a string of DuckDB's text for one
// (CHost) at the given precision.
func number(raw json.RawMessage, bits int) (float64, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strconv.ParseFloat(s, bits)
	}
	var f float64
	err := json.Unmarshal(raw, &f)
	return f, err
}
