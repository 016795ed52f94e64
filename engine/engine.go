// Package engine opens hepsql's embedded DuckDB and registers everything on
// it: the ROOT reader (rootscan) now, the HEP function library (sqlfuncs)
// and the ML functions (mlfuncs) as they land. It is the only package that
// knows how the parts fit together; it also runs pipeline files.
package engine

import (
	"cmp"
	"context"
	"database/sql/driver"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/mlfuncs/sqlml"
	"github.com/hepsql/hepsql/plotwrite"
	_ "github.com/hepsql/hepsql/rootio/xrootd" // root:// sources
	"github.com/hepsql/hepsql/rootscan"
	"github.com/hepsql/hepsql/rootwrite"
	"github.com/hepsql/hepsql/sqlfuncs"
)

// Connector is a database/sql driver.Connector for one hepsql database: a
// DuckDB database (in memory or in a file) with hepsql's functions
// registered once on the database, hence visible on every pooled connection.
type Connector struct {
	duck   *duckdb.Connector
	driver driver.Driver
	notes  *rootscan.Notes // what read_root left out, per connection
}

// NewConnector opens the database named by dsn: "" or ":memory:" for an
// in-memory database, otherwise a database file path; DuckDB settings may
// follow as URL query parameters, e.g. "data.db?threads=2", and hepsql's
// own shard setting (ShardSetting), e.g. "?shard=1/4".
func NewConnector(dsn string, drv driver.Driver) (*Connector, error) {
	if err := checkDSN(dsn); err != nil {
		return nil, err
	}
	dsn, shard, err := takeShard(dsn)
	if err != nil {
		return nil, err
	}
	duck, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("hepsql: open %q: %w", dsn, err)
	}
	capi.ReserveCallbackProcs(duckThreads(dsn))
	notes := rootscan.NewNotes()
	if err := registerAll(duck, notes, shard); err != nil {
		duck.Close()
		return nil, err
	}
	return &Connector{duck: duck, driver: drv, notes: notes}, nil
}

// checkDSN rejects query parameters DuckDB would ignore or misread, so that
// a typo in a setting is an error rather than a silent default.
func checkDSN(dsn string) error {
	i := strings.IndexByte(dsn, '?')
	if i < 0 {
		return nil
	}
	q, err := url.ParseQuery(dsn[i+1:])
	if err != nil {
		return fmt.Errorf("hepsql: bad settings in %q: %w", dsn, err)
	}
	for k, v := range q {
		if len(v) != 1 || v[0] == "" {
			return fmt.Errorf("hepsql: setting %q in %q needs exactly one value", k, dsn)
		}
	}
	return nil
}

// duckThreads is the number of threads DuckDB runs for dsn: its threads
// setting, else DuckDB's default of one per hardware thread. (A later SET
// threads is not seen; up to the core count it needs nothing more.)
func duckThreads(dsn string) int {
	n := runtime.NumCPU()
	if i := strings.IndexByte(dsn, '?'); i >= 0 {
		if q, err := url.ParseQuery(dsn[i+1:]); err == nil {
			if t, err := strconv.Atoi(cmp.Or(q.Get("threads"), q.Get("worker_threads"))); err == nil && t > 0 {
				n = t
			}
		}
	}
	return n
}

func registerAll(duck *duckdb.Connector, notes *rootscan.Notes, shard rootscan.Shard) error {
	db, err := capi.DatabaseOf(duck)
	if err != nil {
		return err
	}
	conn, err := capi.Connect(db)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Table functions learn of their query's cancellation from its context
	// (capi.QueryContextsOf says why); remote reads wait on it.
	queries, err := capi.QueryContextsOf(duck)
	if err != nil {
		return err
	}
	conn.SetQueryContexts(queries)
	if err := rootscan.Register(conn, db, notes, shard); err != nil {
		return fmt.Errorf("hepsql: registering the ROOT reader: %w", err)
	}
	if err := sqlfuncs.Register(conn); err != nil {
		return fmt.Errorf("hepsql: registering the function library: %w", err)
	}
	if err := rootwrite.Register(conn); err != nil {
		return fmt.Errorf("hepsql: registering the ROOT writer: %w", err)
	}
	if err := plotwrite.Register(conn); err != nil {
		return fmt.Errorf("hepsql: registering the plot writers: %w", err)
	}
	if err := sqlml.Register(conn, db); err != nil {
		return fmt.Errorf("hepsql: registering the ML functions: %w", err)
	}
	return nil
}

// Connect implements driver.Connector. The connection is DuckDB's own, so
// that duckdb-go's APIs that need it (appenders, Arrow, ConnId) work on it;
// the database's notes are found from it through connNotes.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.duck.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if d, ok := dc.(*duckdb.Conn); ok {
		rememberNotes(d, c.notes)
	}
	return dc, nil
}

// Driver implements driver.Connector.
func (c *Connector) Driver() driver.Driver { return c.driver }

// Close closes the database once database/sql has closed every connection.
func (c *Connector) Close() error { return c.duck.Close() }
