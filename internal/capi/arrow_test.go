package capi

import (
	"context"
	"database/sql"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// TestQueryArrow checks that QueryArrow streams a parameterised query's
// rows as Arrow batches whose values are those of the SQL (computed here
// independently), lists included, and that ArrowSchemaOf agrees with the
// schema of the running result.
func TestQueryArrow(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = "SELECT range AS i, range * $1 AS x, [range, range + 1] AS l, 'v' || range AS s FROM range($2)"
	err = conn.Raw(func(dc any) error {
		h, err := ConnHandle(dc)
		if err != nil {
			return err
		}
		schema, nparams, err := ArrowSchemaOf(h, q)
		if err != nil {
			return err
		}
		if nparams != 2 {
			t.Errorf("ArrowSchemaOf: %d parameters, want 2", nparams)
		}
		if schema != nil {
			t.Errorf("ArrowSchemaOf: schema %v of a result whose types depend on the parameters", schema)
		}
		// Preparing on the connection ends its streaming result: ask first.
		schema, _, err = ArrowSchemaOf(h, "SELECT range AS i, range * 0.5::DOUBLE AS x, [range, range + 1] AS l, 'v' || range AS s FROM range(3)")
		if err != nil {
			return err
		}
		rows, err := QueryArrow(ctx, h, q, []any{0.5, int64(5000)})
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Schema().Equal(schema) {
			t.Errorf("schema %v, prepared %v", rows.Schema(), schema)
		}
		n := int64(0)
		for {
			rec, err := rows.Next()
			if err != nil {
				return err
			}
			if rec == nil {
				break
			}
			is := rec.Column(0).(*array.Int64)
			xs := rec.Column(1).(*array.Float64)
			ls := rec.Column(2).(*array.List)
			lv := ls.ListValues().(*array.Int64)
			ss := rec.Column(3).(*array.String)
			for r := range int(rec.NumRows()) {
				start, end := ls.ValueOffsets(r)
				if is.Value(r) != n || xs.Value(r) != float64(n)*0.5 || end-start != 2 || lv.Value(int(start)) != n || lv.Value(int(start)+1) != n+1 || ss.Value(r) != "v"+itoa(n) {
					t.Fatalf("row %d wrong", n)
				}
				n++
			}
			rec.Release()
		}
		if n != 5000 {
			t.Errorf("%d rows, want 5000", n)
		}
		if _, err := QueryArrow(ctx, h, q, []any{1.0}); err == nil {
			t.Error("QueryArrow with a missing parameter: no error")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
