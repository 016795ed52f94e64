package exp

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func TestX(t *testing.T) {
	db, _ := sql.Open("duckdb", "")
	long := "SELECT " + strings.Repeat("1 + ", 40) + "nosuch + " + strings.Repeat("2 + ", 40) + "3"
	for _, q := range []string{long, "SELECT\tnosuch", "SELECT 1;\nSELECT nosuch", "SELECT " + strings.Repeat("1 + ", 40) + "nosuch"} {
		_, err := db.Query(q)
		fmt.Printf("%q\n-----\n", err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	st := time.Now()
	rows, err := db.QueryContext(ctx, "SELECT count(*) FROM range(10000000000)")
	fmt.Println("query returned", time.Since(st), err)
	if err == nil {
		for rows.Next() {
		}
		fmt.Println("iter", time.Since(st), rows.Err())
	}
}
