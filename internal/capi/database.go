package capi

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	ddb "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// duckdbGoVersion is the duckdb-go version whose unexported fields
// DatabaseOf (Connector.db), QueryContextsOf (Connector.ctxStore.m) and
// ConnHandle (Conn.conn) read; TestDuckDBGoVersion fails on any other.
const duckdbGoVersion = "v2.10505.0"

// DatabaseOf returns the native database handle behind a duckdb-go
// Connector. duckdb-go keeps it in the unexported field `db`; this is the
// one audited place that reads it, pinned to duckdb-go duckdbGoVersion by
// TestDuckDBGoVersion and checked by TestDatabaseOfLayout. The handle stays owned by the Connector: do not close
// it, and do not use it after the Connector is closed.
//
// Why this route: it works for in-memory and file databases alike (the
// instance-cache route only reaches file-backed ones), and everything
// registered on it lives in the database's catalog and configuration, so
// every pooled connection sees it.
func DatabaseOf(c *duckdb.Connector) (ddb.Database, error) {
	if c == nil {
		return ddb.Database{}, errors.New("capi: nil connector")
	}
	f := reflect.ValueOf(c).Elem().FieldByName("db")
	if !f.IsValid() || f.Type() != reflect.TypeFor[ddb.Database]() {
		return ddb.Database{}, fmt.Errorf("capi: duckdb-go's Connector layout changed (field db: %v); update capi.DatabaseOf", f.Kind())
	}
	db := *(*ddb.Database)(unsafe.Pointer(f.UnsafeAddr()))
	if db.Ptr == nil {
		return ddb.Database{}, errors.New("capi: connector has no open database")
	}
	return db, nil
}

// Conn is a raw C-API connection used to register functions. The caller
// owns it and must Close it.
type Conn struct {
	c       ddb.Connection
	queries QueryContexts
	release func(ddb.Connection) // set for a pooled connection: Close gives it back
}

// Connect opens a raw connection on db.
func Connect(db ddb.Database) (*Conn, error) {
	if n := ddb.VectorSize(); n != VectorSize {
		return nil, fmt.Errorf("capi: this DuckDB has vectors of %d rows; hepsql is built for %d", n, VectorSize)
	}
	var c ddb.Connection
	if ddb.Connect(db, &c) == ddb.StateError {
		return nil, errors.New("capi: could not connect to database")
	}
	return &Conn{c: c}, nil
}

// Close disconnects.
func (c *Conn) Close() error {
	if c.release != nil {
		c.release(c.c)
		c.release = nil
		return nil
	}
	ddb.Disconnect(&c.c)
	return nil
}

// RegisterTableFunction registers f through this connection.
func (c *Conn) RegisterTableFunction(f *TableFunction) error {
	f.queries = c.queries
	return RegisterTableFunction(c.c, f)
}
