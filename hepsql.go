// Package hepsql is a SQL engine for High-Energy-Physics event data on an
// embedded DuckDB: ROOT TTrees are tables, HEP logic runs as vectorised SQL
// functions.
//
// Use it through database/sql:
//
//	db, err := hepsql.Open("")            // in-memory
//	db, err := sql.Open("hepsql", "my.db?threads=2")
//	rows, err := db.QueryContext(ctx, `SELECT MET_pt FROM read_root('events.root')`)
//
// The DSN is "" or ":memory:" for an in-memory database, or a database file
// path, optionally followed by DuckDB settings as URL query parameters
// (threads, memory_limit, ...). Every pooled connection sees every function.
// Cancelling a query's context interrupts it.
//
// LIST and STRUCT columns scan into Go slices and structs through List,
// Struct and Into (a plain LIST scans only into []any):
//
//	var pt hepsql.List[float32]
//	err := rows.Scan(&pt)
package hepsql

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/hepsql/hepsql/engine"
)

// DriverName is the name under which hepsql registers with database/sql.
const DriverName = "hepsql"

func init() { sql.Register(DriverName, Driver{}) }

// Driver is hepsql's database/sql driver.
type Driver struct{}

// Open implements driver.Driver. database/sql prefers OpenConnector, which
// keeps one database per sql.DB; Open exists for the interface and opens a
// separate database each time.
func (d Driver) Open(dsn string) (driver.Conn, error) {
	c, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector implements driver.DriverContext.
func (d Driver) OpenConnector(dsn string) (driver.Connector, error) {
	return engine.NewConnector(dsn, d)
}

// Open opens a hepsql database (see the package doc for the DSN).
func Open(dsn string) (*sql.DB, error) { return sql.Open(DriverName, dsn) }

// Notices returns what hepsql has to tell about the statements run on conn
// since the last call, one line each, and forgets them: today, the
// unsupported ROOT branches read_root left out of its tables (SELECT *
// returns the others). Pass the error of the last statement as err: a query
// that names an unsupported branch, which DuckDB reports as a column not
// found, comes back as an error naming the branch, its ROOT type and why
// it cannot be read. The shell and `hepsql run` show both on stderr.
func Notices(conn *sql.Conn, err error) ([]string, error) { return engine.Notices(conn, err) }
