package main

import (
	"context"
	"database/sql"
	"fmt"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver
)

// openDB opens the database: dsn is a file, or "" for an in-memory one;
// threads > 0 limits DuckDB's worker threads.
func openDB(dsn string, threads int) (*sql.DB, error) {
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", dsn, err)
	}
	// threads is a database-wide setting, so one connection setting it
	// covers the whole pool.
	if threads > 0 {
		if _, err := db.ExecContext(context.Background(), fmt.Sprintf("SET threads = %d", threads)); err != nil {
			db.Close()
			return nil, fmt.Errorf("set threads: %w", err)
		}
	}
	return db, nil
}
