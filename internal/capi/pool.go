package capi

import (
	"fmt"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

// ConnPool is a fixed set of connections opened up front, for code that
// must open connections at a time when it no longer holds the database:
// inside a loadable extension the duckdb_database handed to the entry point
// is freed when the entry point returns, so the ML functions take their
// connections from a pool opened during init. Each open connection costs
// DuckDB a client context (tens of kilobytes) and keeps the database
// instance alive until the process ends.
type ConnPool struct {
	free chan ddb.Connection
}

// NewConnPool opens n connections on db.
func NewConnPool(db ddb.Database, n int) (*ConnPool, error) {
	p := &ConnPool{free: make(chan ddb.Connection, n)}
	for range n {
		c, err := Connect(db)
		if err != nil {
			return nil, err
		}
		p.free <- c.c
	}
	return p, nil
}

// Get takes a connection from the pool; its Close puts it back. It never
// waits: a call that nests more connections than the pool holds (each
// running train, predict or model load holds one) fails with an error
// rather than deadlocking.
func (p *ConnPool) Get() (*Conn, error) {
	select {
	case c := <-p.free:
		return &Conn{c: c, release: func(c ddb.Connection) { p.free <- c }}, nil
	default:
		return nil, fmt.Errorf("capi: all %d connections of the extension's pool are in use (too many ML functions running at once)", cap(p.free))
	}
}
