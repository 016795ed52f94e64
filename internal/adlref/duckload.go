package adlref

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"go-hep.org/x/hep/groot/rtree"
)

// LoadROOT copies every branch of the tree treeName in files (read in order,
// as one chain) into a new DuckDB table, one row per entry, and returns the
// number of rows. Scalars map to the matching SQL type (Int_t → INTEGER,
// UInt_t → UINTEGER, ULong64_t → UBIGINT, Float_t → FLOAT, Bool_t →
// BOOLEAN, …) and jagged branches such as Jet_pt[nJet]/F to lists (FLOAT[]),
// the layout read_root produces.
//
// It is a stand-in for read_root in tests written before the engine's
// reader existed, and goes through groot's slow per-entry reader and
// duckdb-go's per-value Appender: fine for the 10,000-event sample, not
// for benchmarks. Delete it once read_root serves the tests.
func LoadROOT(ctx context.Context, db *sql.DB, table, treeName string, files []string) (n int64, err error) {
	tree, closeChain, err := rtree.ChainOf(treeName, files...)
	if err != nil {
		return 0, fmt.Errorf("adlref: load: open tree %q in %v: %w", treeName, files, err)
	}
	defer func() {
		if cerr := closeChain(); cerr != nil && err == nil {
			err = fmt.Errorf("adlref: load: close %v: %w", files, cerr)
		}
	}()

	rvars := rtree.NewReadVars(tree)
	cols := make([]string, len(rvars))
	for i, rv := range rvars {
		typ, err := sqlType(reflect.TypeOf(rv.Value).Elem())
		if err != nil {
			return 0, fmt.Errorf("adlref: load: branch %q: %w", rv.Name, err)
		}
		name := rv.Name
		if rv.Leaf != rv.Name {
			name += "." + rv.Leaf
		}
		cols[i] = quoteIdent(name) + " " + typ
	}

	// The Appender needs the driver connection, and the table must be
	// created on that same connection's database.
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("adlref: load: connect: %w", err)
	}
	defer conn.Close()
	ddl := fmt.Sprintf("CREATE OR REPLACE TABLE %s (%s)", quoteIdent(table), strings.Join(cols, ", "))
	if _, err := conn.ExecContext(ctx, ddl); err != nil {
		return 0, fmt.Errorf("adlref: load: create table %q: %w", table, err)
	}

	r, err := rtree.NewReader(tree, rvars)
	if err != nil {
		return 0, fmt.Errorf("adlref: load: read tree %q: %w", treeName, err)
	}
	defer r.Close()

	err = conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not a driver.Conn", dc)
		}
		app, err := duckdb.NewAppenderFromConn(dconn, "", table)
		if err != nil {
			return fmt.Errorf("appender for %q: %w", table, err)
		}
		row := make([]driver.Value, len(rvars))
		err = r.Read(func(ctx rtree.RCtx) error {
			for i, rv := range rvars {
				v := reflect.ValueOf(rv.Value).Elem()
				// groot leaves an empty collection as a nil slice, which
				// the Appender would store as NULL instead of [].
				if v.Kind() == reflect.Slice && v.IsNil() {
					v = reflect.MakeSlice(v.Type(), 0, 0)
				}
				row[i] = v.Interface()
			}
			if err := app.AppendRow(row...); err != nil {
				return fmt.Errorf("entry %d: %w", ctx.Entry, err)
			}
			n++
			return nil
		})
		if cerr := app.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("flush into %q: %w", table, cerr)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("adlref: load %v into %q: %w", files, table, err)
	}
	return n, nil
}

// StandInReadRoot defines read_root(source) as a table macro returning the
// rows of table whatever the source, so that pipeline files written against
// the engine's read_root run on a table filled by LoadROOT.
func StandInReadRoot(ctx context.Context, db *sql.DB, table string) error {
	q := "CREATE OR REPLACE MACRO read_root(source) AS TABLE SELECT * FROM " + quoteIdent(table)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("adlref: define read_root stand-in over %q: %w", table, err)
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// sqlType maps the Go type groot reads a leaf into onto a DuckDB type.
func sqlType(t reflect.Type) (string, error) {
	switch t.Kind() {
	case reflect.Bool:
		return "BOOLEAN", nil
	case reflect.Int8:
		return "TINYINT", nil
	case reflect.Int16:
		return "SMALLINT", nil
	case reflect.Int32:
		return "INTEGER", nil
	case reflect.Int64:
		return "BIGINT", nil
	case reflect.Uint8:
		return "UTINYINT", nil
	case reflect.Uint16:
		return "USMALLINT", nil
	case reflect.Uint32:
		return "UINTEGER", nil
	case reflect.Uint64:
		return "UBIGINT", nil
	case reflect.Float32:
		return "FLOAT", nil
	case reflect.Float64:
		return "DOUBLE", nil
	case reflect.String:
		return "VARCHAR", nil
	case reflect.Slice:
		elem, err := sqlType(t.Elem())
		if err != nil {
			return "", err
		}
		return elem + "[]", nil
	case reflect.Array:
		elem, err := sqlType(t.Elem())
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s[%d]", elem, t.Len()), nil
	}
	return "", fmt.Errorf("no SQL type for Go type %v", t)
}
