package exp

import (
	"database/sql"
	"fmt"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

func TestX(t *testing.T) {
	db, _ := sql.Open("duckdb", "")
	rows, err := db.Query(`SELECT x::VARCHAR FROM (VALUES (['a','b c', NULL]::VARCHAR), ({'a': 'x', 'b': [1,2]}::VARCHAR), (MAP{'k':'v'}::VARCHAR), (1e20::DOUBLE::VARCHAR), (1234567.0::DOUBLE::VARCHAR),(0.1::FLOAT::VARCHAR),(1e-5::DOUBLE::VARCHAR),(123456789012345678.0::DOUBLE::VARCHAR),('nan'::DOUBLE::VARCHAR),('-inf'::DOUBLE::VARCHAR), (2.0::DOUBLE::VARCHAR), ('\x01ab'::BLOB::VARCHAR), (INTERVAL '1 year 2 months 3 days 04:05:06.5'::VARCHAR), (TIMESTAMPTZ '2020-01-02 03:04:05'::VARCHAR), (TIME '01:02:03'::VARCHAR), ('a'::UNION(a VARCHAR, b INT)::VARCHAR), ([{'q': 'x'}]::VARCHAR), (1.5::FLOAT::VARCHAR), (3.14159::FLOAT::VARCHAR), (TIMESTAMP '2020-01-02 03:04:05'::VARCHAR), (TIMESTAMP_NS '2020-01-02 03:04:05.123456789'::VARCHAR)) t(x)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s sql.NullString
		rows.Scan(&s)
		fmt.Printf("%q\n", s.String)
	}
	fmt.Println(rows.Err())
}
