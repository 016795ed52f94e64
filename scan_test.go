package hepsql_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/engine"
)

// grootJetPt reads the CMS sample's first n entries of Jet_pt with groot's
// reader, the independent reference.
func grootJetPt(t *testing.T, path string, n int64) [][]float32 {
	t.Helper()
	f, err := riofs.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o, err := riofs.Dir(f).Get("Events")
	if err != nil {
		t.Fatal(err)
	}
	var pt []float32
	r, err := rtree.NewReader(o.(rtree.Tree), []rtree.ReadVar{{Name: "Jet_pt", Value: &pt}}, rtree.WithRange(0, n))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out [][]float32
	if err := r.Read(func(rtree.RCtx) error {
		out = append(out, slices.Clone(pt))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScanListsRealData: the CMS sample's jagged columns scan into typed
// Go slices equal to groot's values and to the []any scan converted by
// hand; LIST(STRUCT) and STRUCT columns fill Go structs by field name.
func TestScanListsRealData(t *testing.T) {
	path := cmsSample(t)
	db := open(t, "")
	const n = 300
	want := grootJetPt(t, path, n)
	type muon struct {
		Pt     float32
		Charge int64 // INTEGER widened
		Tight  bool  `hepsql:"tight_id"`
	}
	type met struct {
		Pt, Phi float64 // FLOAT widened
	}
	rows, err := db.Query(fmt.Sprintf(`SELECT Jet_pt, Jet_pt, Muon_charge, Muon_tightId, [Jet_pt, Jet_eta],
			[{'pt': Muon_pt[i], 'charge': Muon_charge[i], 'tight_id': Muon_tightId[i]} for i in range(1, len(Muon_pt) + 1)],
			{'pt': MET_pt, 'phi': MET_phi}, Jet_pt::DOUBLE[], nJet
		FROM read_root('%s') WHERE _entry < %d ORDER BY _entry`, path, n))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	e, jets := 0, 0
	for rows.Next() {
		var (
			pt      hepsql.List[float32]
			raw     []any
			charge  hepsql.List[int32]
			tight   hepsql.List[bool]
			ptEta   [][]float32
			muons   hepsql.List[muon]
			m       hepsql.Struct[met]
			ptD     []float64
			nJet    int
			charge8 []int8
		)
		if err := rows.Scan(&pt, &raw, &charge, &tight, hepsql.Into(&ptEta), &muons, &m, hepsql.Into(&ptD), &nJet); err != nil {
			t.Fatalf("entry %d: %v", e, err)
		}
		if !slices.Equal(pt, want[e]) || len(pt) != nJet {
			t.Fatalf("entry %d: Jet_pt %v, groot %v (nJet %d)", e, pt, want[e], nJet)
		}
		byHand := make([]float32, len(raw))
		for i, x := range raw {
			byHand[i] = x.(float32)
		}
		if !slices.Equal(pt, byHand) {
			t.Fatalf("entry %d: List[float32] %v, []any by hand %v", e, pt, byHand)
		}
		if len(ptEta) != 2 || !slices.Equal(ptEta[0], want[e]) || len(ptEta[1]) != len(pt) {
			t.Fatalf("entry %d: [][]float32 %v", e, ptEta)
		}
		for i := range ptD {
			if ptD[i] != float64(pt[i]) {
				t.Fatalf("entry %d: DOUBLE[] into []float64 %v, FLOAT %v", e, ptD, pt)
			}
		}
		if len(muons) != len(charge) || len(tight) != len(charge) {
			t.Fatalf("entry %d: %d muons, %d charges, %d tight ids", e, len(muons), len(charge), len(tight))
		}
		for i, mu := range muons {
			if mu.Charge != int64(charge[i]) || mu.Tight != tight[i] || (mu.Charge != 1 && mu.Charge != -1) || mu.Pt <= 0 {
				t.Fatalf("entry %d: muon %d is %+v, charge %d, tight %v", e, i, mu, charge[i], tight[i])
			}
		}
		if !m.Valid || m.Value.Pt <= 0 {
			t.Fatalf("entry %d: MET %+v", e, m)
		}
		if err := hepsql.Into(&charge8).Scan(raw[:0]); err != nil || len(charge8) != 0 {
			t.Fatalf("empty list: %v %v", charge8, err)
		}
		jets += len(pt)
		e++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if e != n || jets == 0 {
		t.Fatalf("%d entries, %d jets", e, jets)
	}
}

// TestScanNullsAndErrors: NULLs go where they can be held, and a value that
// does not fit names its Go type, the target and where it is.
func TestScanNullsAndErrors(t *testing.T) {
	db := open(t, "")
	row := func(q string, dst ...any) error { return db.QueryRow(q).Scan(dst...) }

	var ptrs hepsql.List[*float32]
	var nulls hepsql.List[sql.Null[float32]]
	var whole hepsql.List[float32]
	var s hepsql.Struct[struct{ A int }]
	if err := row(`SELECT [1.5, NULL]::FLOAT[], [1.5, NULL]::FLOAT[], NULL::FLOAT[], NULL::STRUCT(a INTEGER)`, &ptrs, &nulls, &whole, &s); err != nil {
		t.Fatal(err)
	}
	if len(ptrs) != 2 || *ptrs[0] != 1.5 || ptrs[1] != nil || !nulls[0].Valid || nulls[0].V != 1.5 || nulls[1].Valid || whole != nil || s.Valid {
		t.Errorf("NULLs: %v %v %v %+v", ptrs, nulls, whole, s)
	}
	// ARRAYs fill Go arrays.
	var arr [3]float64
	if err := row(`SELECT [1, 2, 3]::DOUBLE[3]`, hepsql.Into(&arr)); err != nil || arr != [3]float64{1, 2, 3} {
		t.Errorf("array %v, err %v", arr, err)
	}
	// duckdb-go cannot describe a STRUCT with unnamed fields (list_zip); the
	// engine's streaming reader gives them as []any, which fill a struct by
	// position: the helpers scan the values of either reader.
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var tuple hepsql.List[struct {
		X int
		Y string
	}]
	var jets hepsql.List[float32]
	_, err = engine.StreamStatement(context.Background(), conn, engine.Statement{SQL: `SELECT list_zip([1, 2], ['a', 'b']), [1.5, 2.5]::FLOAT[]`}, func(r *engine.Rows) error {
		v, err := r.Next()
		if err != nil {
			return err
		}
		if err := tuple.Scan(v[0]); err != nil {
			return err
		}
		return jets.Scan(v[1])
	})
	if err != nil || len(tuple) != 2 || tuple[1].X != 2 || tuple[1].Y != "b" || !slices.Equal(jets, []float32{1.5, 2.5}) {
		t.Errorf("streaming reader: tuple %+v, list %v, err %v", tuple, jets, err)
	}

	type pt struct{ Pt float32 }
	for _, c := range []struct {
		q    string
		dst  any
		want string
	}{
		{`SELECT [1.0, NULL]::FLOAT[]`, new(hepsql.List[float32]), "hepsql: scanning into hepsql.List[float32] at [2]: cannot convert NULL to float32: NULL needs a pointer"},
		{`SELECT [1.0, 2.5]::FLOAT[]`, new(hepsql.List[int64]), "hepsql: scanning into hepsql.List[int64] at [2]: cannot convert float32 2.5 to int64: not a whole number"},
		{`SELECT [1, 300]`, new(hepsql.List[int8]), "at [2]: cannot convert int32 300 to int8: out of range"},
		{`SELECT [1.0]::FLOAT[]`, new(hepsql.List[string]), "at [1]: cannot convert float32 1 to string"},
		{`SELECT 1.5::FLOAT`, new(hepsql.List[float32]), "hepsql: scanning into hepsql.List[float32]: cannot convert float32 1.5 to []float32: not a LIST"},
		{`SELECT [{'p': 1.0}]`, new(hepsql.List[pt]), `at [1]: cannot convert map[string]interface {} to hepsql_test.pt: field Pt finds no STRUCT field named Pt (without regard to case or underscores) (the STRUCT has p)`},
		{`SELECT [[1.0], [2.0, NULL]]::FLOAT[][]`, new(hepsql.List[hepsql.List[float32]]), "hepsql: scanning into hepsql.List[float32] at [2][2]: cannot convert NULL to float32"},
		{`SELECT [['1.0'], ['2.0', 'x']]`, hepsql.Into(new([][]float64)), `hepsql: scanning into [][]float64 at [1][1]: cannot convert string 1.0 to float64`},
	} {
		err := row(c.q, c.dst)
		var se *hepsql.ScanError
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &se) {
			t.Errorf("%s into %T: error %v, want one containing %q", c.q, c.dst, err, c.want)
		}
	}
}
