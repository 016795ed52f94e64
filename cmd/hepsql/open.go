package main

import (
	"database/sql"
	"fmt"
	"net/url"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/rootscan"
)

// openDB opens a hepsql database: dsn is a file, or "" for an in-memory
// one; threads > 0 sets DuckDB's worker threads for the whole database.
func openDB(dsn string, threads int) (*sql.DB, error) {
	return openShardDB(dsn, threads, rootscan.Shard{})
}

// openShardDB is openDB for one shard of a sharded run (engine.ShardSetting).
func openShardDB(dsn string, threads int, shard rootscan.Shard) (*sql.DB, error) {
	if threads > 0 {
		dsn = withSetting(dsn, "threads", fmt.Sprint(threads))
	}
	if shard.Active() {
		dsn = withSetting(dsn, engine.ShardSetting, shard.String())
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

// withSetting appends a URL query setting to dsn.
func withSetting(dsn, name, value string) string {
	sep := "?"
	if u, err := url.Parse(dsn); err == nil && u.RawQuery != "" {
		sep = "&"
	}
	return dsn + sep + name + "=" + url.QueryEscape(value)
}
