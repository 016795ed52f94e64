package capi

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	ddb "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// QueryContexts returns the context of the statement running on a DuckDB
// connection, by the connection's id; context.Background() when none is.
type QueryContexts func(connID uint64) context.Context

// QueryContextsOf gives access to the contexts that duckdb-go keeps for
// the statements running on the connections of c: while QueryContext,
// ExecContext or PrepareContext runs on a connection (the whole of a
// query's execution, since duckdb-go materializes results), duckdb-go
// stores its context under the connection's id, for its own table and
// scalar UDFs, in the Connector's unexported field ctxStore (a struct
// holding a sync.Map). This is the one audited place that reads it, pinned
// to duckdb-go v2.10505.0 by TestQueryContextsLayout, like DatabaseOf.
//
// Why: DuckDB interrupts a cancelled query (duckdb_interrupt) only between
// the calls it makes to a table function; a callback blocked in a network
// read never learns of it, and the C API has no way for a running callback
// to ask. The query's own Go context does say so, as soon as it happens.
// Wrapping duckdb-go's driver.Conn to record the contexts ourselves would
// hide the *duckdb.Conn that duckdb.NewAppenderFromConn needs.
func QueryContextsOf(c *duckdb.Connector) (QueryContexts, error) {
	if c == nil {
		return nil, fmt.Errorf("capi: nil connector")
	}
	f := reflect.ValueOf(c).Elem().FieldByName("ctxStore")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.Type().Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("capi: duckdb-go's Connector layout changed (field ctxStore: %v); update capi.QueryContextsOf", f.Kind())
	}
	mf, ok := f.Type().Elem().FieldByName("m")
	if !ok || mf.Type != reflect.TypeFor[sync.Map]() {
		return nil, fmt.Errorf("capi: duckdb-go's contextStore layout changed; update capi.QueryContextsOf")
	}
	store := *(*unsafe.Pointer)(unsafe.Pointer(f.UnsafeAddr()))
	if store == nil {
		return nil, fmt.Errorf("capi: connector has no context store")
	}
	m := (*sync.Map)(unsafe.Add(store, mf.Offset))
	return func(id uint64) context.Context {
		if v, ok := running.Load(id); ok {
			return v.(context.Context)
		}
		if v, ok := m.Load(id); ok {
			if ctx, ok := v.(context.Context); ok {
				return ctx
			}
		}
		return context.Background()
	}, nil
}

// SetQueryContexts makes the table functions registered through c from now
// on see the contexts of their queries (BindArgs.QueryDone).
func (c *Conn) SetQueryContexts(q QueryContexts) { c.queries = q }

// QueryDone returns a function that returns the Done channel of the
// context of the statement running now on the connection that binds this
// call: nil (never ready) when the function was registered without
// SetQueryContexts or the statement has no context. It is looked up at
// each call, so that a statement prepared under one context and executed
// under another is cancelled by the second. It stays valid after Bind.
func (a *BindArgs) QueryDone() func() <-chan struct{} {
	q := a.fn.queries
	if q == nil {
		return func() <-chan struct{} { return nil }
	}
	var cc ddb.ClientContext
	ddb.TableFunctionGetClientContext(a.info, &cc)
	id := uint64(ddb.ClientContextGetConnectionId(cc))
	ddb.DestroyClientContext(&cc)
	return func() <-chan struct{} { return q(id).Done() }
}

// running holds the contexts of the statements that Query runs, by
// connection id: they bypass duckdb-go, whose store QueryContextsOf reads
// otherwise.
var running sync.Map // uint64 → context.Context

// runStatement records ctx as the context of the statement running on conn
// until the returned function is called.
func runStatement(conn Handle, ctx context.Context) (forget func()) {
	var cc ddb.ClientContext
	ddb.ConnectionGetClientContext(conn, &cc)
	id := uint64(ddb.ClientContextGetConnectionId(cc))
	ddb.DestroyClientContext(&cc)
	running.Store(id, ctx)
	var once sync.Once
	return func() { once.Do(func() { running.CompareAndDelete(id, ctx) }) }
}
