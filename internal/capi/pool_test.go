package capi

import (
	"strings"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// TestConnPool checks that a pool hands out its connections, refuses one
// more with an error instead of waiting, and takes them back on Close.
func TestConnPool(t *testing.T) {
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	db, err := DatabaseOf(c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewConnPool(db, 2)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Get()
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Get()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Get(); err == nil || !strings.Contains(err.Error(), "all 2 connections") {
		t.Fatalf("third Get: %v, want the pool-exhausted error", err)
	}
	// A pooled connection works, and Close gives it back.
	if err := a.Exec("CREATE TABLE t AS SELECT 1 AS x"); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a2, err := p.Get()
	if err != nil {
		t.Fatalf("Get after Close: %v", err)
	}
	for _, conn := range []*Conn{a2, b} {
		conn.Close()
	}
}
