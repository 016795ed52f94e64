package capi

import (
	"context"
	"database/sql"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/hepsql/hepsql/internal/testfiles"
)

// TestDuckDBGoVersion pins the three reads of duckdb-go's unexported
// fields (DatabaseOf, QueryContextsOf, ConnHandle) to the version they were
// written for; TestDatabaseOfLayout, TestQueryContextsLayout,
// TestQueryContextsSeeTheStatement and TestConnHandleLayout check what they
// return.
func TestDuckDBGoVersion(t *testing.T) {
	if v := testfiles.ModuleVersion(t, "github.com/duckdb/duckdb-go/v2"); v != duckdbGoVersion {
		t.Fatalf("duckdb-go is %s in this build; internal/capi was written for %s.\n"+
			"Upgrading duckdb-go? Re-check in its source: Connector.db (a duckdb-go-bindings Database), Connector.ctxStore (a pointer to a struct whose m,\n"+
			"a sync.Map, holds each running statement's context by connection id) and Conn.conn (a bindings Connection); run this package's layout tests\n"+
			"and rootscan's cancellation tests (TestCancelMidChainReleasesEverything in rootscan/xrootd), then set duckdbGoVersion.", v, duckdbGoVersion)
	}
}

// TestQueryContextsSeeTheStatement checks that QueryContextsOf finds the
// context of the statement that binds a table function, not a stand-in:
// cancelling the context the query was run with closes the channel the
// bind got.
func TestQueryContextsSeeTheStatement(t *testing.T) {
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q, err := QueryContextsOf(c)
	if err != nil {
		t.Fatal(err)
	}
	db, err := DatabaseOf(c)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := Connect(db)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetQueryContexts(q)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen, closed bool
	err = conn.RegisterTableFunction(&TableFunction{
		Name: "ctx_probe",
		Bind: func(a *BindArgs) (Table, error) {
			done := a.QueryDone()()
			seen = done != nil
			cancel()
			select {
			case <-done:
				closed = true
			case <-time.After(5 * time.Second):
			}
			return &countTable{n: 1}, nil
		},
	})
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	sdb := sql.OpenDB(c)
	defer sdb.Close()
	rows, err := sdb.QueryContext(ctx, "SELECT * FROM ctx_probe()")
	if err == nil {
		rows.Close()
	}
	if !seen || !closed {
		t.Fatalf("the bind saw the statement's context: %v; its cancel reached the bind: %v", seen, closed)
	}
}
