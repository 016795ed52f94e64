package main

import (
	"database/sql"
	"fmt"
	"net/url"

	"github.com/hepsql/hepsql"
)

// openDB opens a hepsql database: dsn is a file, or "" for an in-memory
// one; threads > 0 sets DuckDB's worker threads for the whole database.
func openDB(dsn string, threads int) (*sql.DB, error) {
	if threads > 0 {
		sep := "?"
		if u, err := url.Parse(dsn); err == nil && u.RawQuery != "" {
			sep = "&"
		}
		dsn = fmt.Sprintf("%s%sthreads=%d", dsn, sep, threads)
	}
	db, err := hepsql.Open(dsn)
	if err != nil {
		return nil, err
	}
	// Opening is lazy in database/sql: connect now so that a bad path or
	// setting is reported before any statement runs.
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
