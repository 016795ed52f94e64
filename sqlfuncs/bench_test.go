package sqlfuncs_test

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"testing"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench/rowudf"
)

// The cost of the bridge: the same function over the same 1M-row in-memory
// table, called through the library's C-API bridge (whole chunks) and
// through duckdb-go's row-at-a-time RegisterScalarUDF (package
// bench/rowudf, the same Go arithmetic). Run with:
//
//	go test -run '^$' -bench . -benchtime 3x ./sqlfuncs/
//
// ns/row and allocs/row are per table row; "scan" is the query with the
// function call left out, the floor both bridges stand on.

const benchRows = 1 << 20

// benchTable has muon-like collections of three objects, with varying
// kinematics and charges (+, −, alternating sign), and a MET pair.
var benchTable = fmt.Sprintf(`CREATE TABLE t AS SELECT
    [20 + i %% 50, 30 + i %% 17, 10 + i %% 7]::FLOAT[] AS pt,
    [(i %% 5) * 0.3 - 0.6, (i %% 7) * 0.2 - 0.5, (i %% 3) * 0.5 - 0.4]::FLOAT[] AS eta,
    [(i %% 11) * 0.5 - 2.5, (i %% 13) * 0.4 - 2.4, (i %% 9) * 0.6 - 2.2]::FLOAT[] AS phi,
    [0.105, 0.105, 0.105]::FLOAT[] AS mass,
    [1, -1, CASE WHEN i %% 2 = 0 THEN 1 ELSE -1 END]::INTEGER[] AS charge,
    (i %% 97)::DOUBLE AS met, ((i %% 31) * 0.2 - 3.0)::DOUBLE AS met_phi
FROM range(%d) r(i)`, benchRows)

var benchCalls = map[string]struct{ scan, call string }{
	"pair_mass": {
		"SELECT sum(list_sum(pt)) FROM t",
		"SELECT sum(list_sum(pair_mass(pt, eta, phi, mass, charge))) FROM t",
	},
	"mt": {
		"SELECT sum(met) FROM t",
		"SELECT sum(mt(met, met_phi, 40.0, 0.5)) FROM t",
	},
}

func benchConn(b *testing.B) *sql.Conn {
	b.Helper()
	db, err := hepsql.Open("?threads=1")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	if err := rowudf.Register(context.Background(), conn); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), benchTable); err != nil {
		b.Fatal(err)
	}
	return conn
}

func runBridge(b *testing.B, fn, bridge string) {
	conn := benchConn(b)
	c := benchCalls[fn]
	q := c.call
	switch bridge {
	case "scan":
		q = c.scan
	case "rowudf":
		var err error
		if q, err = rowudf.Rewrite(q); err != nil {
			b.Fatal(err)
		}
	}
	// Both bridges compute the same Go arithmetic: the sums must be equal.
	var want, got float64
	if err := conn.QueryRowContext(b.Context(), c.call).Scan(&want); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		if err := conn.QueryRowContext(b.Context(), q).Scan(&got); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if bridge != "scan" && got != want {
		b.Fatalf("%s: %s gives %v, the library %v", fn, bridge, got, want)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N)/benchRows, "allocs/row")
}

func BenchmarkPairMassScan(b *testing.B)   { runBridge(b, "pair_mass", "scan") }
func BenchmarkPairMassCAPI(b *testing.B)   { runBridge(b, "pair_mass", "capi") }
func BenchmarkPairMassRowUDF(b *testing.B) { runBridge(b, "pair_mass", "rowudf") }
func BenchmarkMtScan(b *testing.B)         { runBridge(b, "mt", "scan") }
func BenchmarkMtCAPI(b *testing.B)         { runBridge(b, "mt", "capi") }
func BenchmarkMtRowUDF(b *testing.B)       { runBridge(b, "mt", "rowudf") }
