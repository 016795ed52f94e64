package capi

import (
	"context"
	"database/sql"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// TestConnHandleLayout pins the duckdb-go field ConnHandle reads, and
// checks that Query streams on the session of the database/sql connection
// (a temporary table made through database/sql is visible) and converts
// what duckdb-go cannot (an unnamed STRUCT).
func TestConnHandleLayout(t *testing.T) {
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
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE t AS SELECT range AS i FROM range(5000)"); err != nil {
		t.Fatal(err)
	}
	err = conn.Raw(func(dc any) error {
		h, err := ConnHandle(dc)
		if err != nil {
			return err
		}
		rows, err := Query(ctx, h, "SELECT i, row(i, 'x') AS r, 1.5::DECIMAL(4,2) AS d FROM t ORDER BY i")
		if err != nil {
			return err
		}
		defer rows.Close()
		if got := rows.Types(); got[0] != "BIGINT" || got[1] != "STRUCT(BIGINT, VARCHAR)" || got[2] != "DECIMAL(4,2)" {
			t.Errorf("types %q", got)
		}
		row := make([]any, 3)
		n := int64(0)
		for {
			ok, err := rows.Next(row)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			tuple, _ := row[1].([]any)
			if row[0] != n || len(tuple) != 2 || tuple[0] != n || tuple[1] != "x" || row[2].(duckdb.Decimal).String() != "1.5" {
				t.Fatalf("row %d = %v", n, row)
			}
			n++
		}
		if n != 5000 {
			t.Errorf("%d rows, want 5000", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
