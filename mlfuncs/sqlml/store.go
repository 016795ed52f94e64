package sqlml

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hepsql/hepsql/internal/capi"
)

// The model store is a table of the database itself, so that a file-backed
// database carries its models and SQL can query them like any table. JSON
// columns are VARCHAR holding JSON text (the json extension is optional).
const storeTable = "hepsql_models"

const createStore = `CREATE TABLE IF NOT EXISTS hepsql_models (
	name          VARCHAR NOT NULL,
	version       BIGINT NOT NULL,
	created       TIMESTAMP NOT NULL DEFAULT current_timestamp,
	architecture  VARCHAR NOT NULL,
	options       VARCHAR NOT NULL, -- JSON: training options and network spec
	features      VARCHAR NOT NULL, -- JSON: input columns, shapes, label
	classes       BIGINT NOT NULL,
	metrics       VARCHAR NOT NULL, -- JSON: last epoch's figures
	train_seconds DOUBLE NOT NULL,
	rows          BIGINT NOT NULL,
	query         VARCHAR NOT NULL,
	weights       BLOB NOT NULL,    -- nn.Model.MarshalBinary
	PRIMARY KEY (name, version))`

// record is one stored model version.
type record struct {
	Name         string
	Version      int64
	Created      string
	Arch         string
	Options      string
	Layout       *layout
	Metrics      string
	TrainSeconds float64
	Rows         int64
	Query        string
	Weights      []byte
}

// ErrNoModel is wrapped by lookups of a name that has no stored model.
var ErrNoModel = errors.New("no such model")

// save stores rec as the next version of its name and returns the version.
func save(conn *capi.Conn, rec *record) (int64, error) {
	if err := conn.Exec(createStore); err != nil {
		return 0, fmt.Errorf("creating %s: %w", storeTable, err)
	}
	features, err := json.Marshal(rec.Layout)
	if err != nil {
		return 0, err
	}
	// One statement picks the version and inserts, so two trainings of a
	// name cannot take the same number (the key would refuse the second).
	st, err := conn.Prepare(`INSERT INTO hepsql_models
		(name, version, architecture, options, features, classes, metrics, train_seconds, rows, query, weights)
		SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10
		FROM hepsql_models WHERE name = $1
		RETURNING version`)
	if err != nil {
		return 0, fmt.Errorf("storing model %q: %w", rec.Name, err)
	}
	defer st.Close()
	for i, v := range []any{rec.Name, rec.Arch, rec.Options, string(features), int64(rec.Layout.Classes),
		rec.Metrics, rec.TrainSeconds, rec.Rows, rec.Query, rec.Weights} {
		if err := st.Bind(i+1, v); err != nil {
			return 0, err
		}
	}
	var version int64
	err = each(st, func(ch capi.Chunk, n int) error {
		version = capi.Slice[int64](ch.Vector(0), n)[0]
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storing model %q: %w", rec.Name, err)
	}
	return version, nil
}

// each streams st's result through fn, chunk by chunk.
func each(st *capi.Stmt, fn func(ch capi.Chunk, n int) error) error {
	res, err := st.Stream()
	if err != nil {
		return err
	}
	defer res.Close()
	for {
		ch, n, err := res.Next()
		if err != nil || n == 0 {
			return err
		}
		if err := fn(ch, n); err != nil {
			return err
		}
	}
}

func storeExists(conn *capi.Conn) (bool, error) {
	st, err := conn.Prepare(`SELECT count(*)::BIGINT FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = current_schema() AND table_name = 'hepsql_models'`)
	if err != nil {
		return false, err
	}
	defer st.Close()
	var found bool
	err = each(st, func(ch capi.Chunk, n int) error {
		found = capi.Slice[int64](ch.Vector(0), n)[0] > 0
		return nil
	})
	return found, err
}

const listColumns = `name, version, created::VARCHAR, architecture, options, features, metrics, train_seconds, rows, query`

// list returns every stored version (without weights), by name and version.
func list(conn *capi.Conn) ([]*record, error) {
	ok, err := storeExists(conn)
	if err != nil || !ok {
		return nil, err
	}
	return selectRecords(conn, `SELECT `+listColumns+`, NULL::BLOB FROM hepsql_models ORDER BY name, version`, nil)
}

// load returns the latest version of name, weights included.
func load(conn *capi.Conn, name string) (*record, error) {
	ok, err := storeExists(conn)
	if err != nil {
		return nil, err
	}
	if ok {
		recs, err := selectRecords(conn, `SELECT `+listColumns+`, weights FROM hepsql_models
			WHERE name = $1 ORDER BY version DESC LIMIT 1`, []any{name})
		if err != nil {
			return nil, err
		}
		if len(recs) == 1 {
			return recs[0], nil
		}
	}
	return nil, fmt.Errorf("%w %q (SELECT * FROM models() lists them; train(%q, query) makes one)", ErrNoModel, name, name)
}

// latestVersion is the newest version of name, 0 when there is none.
func latestVersion(conn *capi.Conn, name string) (int64, error) {
	ok, err := storeExists(conn)
	if err != nil || !ok {
		return 0, err
	}
	st, err := conn.Prepare(`SELECT coalesce(max(version), 0)::BIGINT FROM hepsql_models WHERE name = $1`)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.Bind(1, name); err != nil {
		return 0, err
	}
	var v int64
	err = each(st, func(ch capi.Chunk, n int) error {
		v = capi.Slice[int64](ch.Vector(0), n)[0]
		return nil
	})
	return v, err
}

func selectRecords(conn *capi.Conn, query string, args []any) ([]*record, error) {
	st, err := conn.Prepare(query)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", storeTable, err)
	}
	defer st.Close()
	for i, a := range args {
		if err := st.Bind(i+1, a); err != nil {
			return nil, err
		}
	}
	var out []*record
	err = each(st, func(ch capi.Chunk, n int) error {
		str := func(col, r int) string { return string(ch.Vector(col).Bytes(r)) }
		versions := capi.Slice[int64](ch.Vector(1), n)
		secs := capi.Slice[float64](ch.Vector(7), n)
		rows := capi.Slice[int64](ch.Vector(8), n)
		wv := ch.Vector(10)
		wvalid := wv.ReadValidity(n)
		for r := range n {
			rec := &record{Name: str(0, r), Version: versions[r], Created: str(2, r), Arch: str(3, r),
				Options: str(4, r), Metrics: str(6, r), TrainSeconds: secs[r], Rows: rows[r], Query: str(9, r)}
			rec.Layout = new(layout)
			if err := json.Unmarshal(ch.Vector(5).Bytes(r), rec.Layout); err != nil {
				return fmt.Errorf("model %q version %d: bad features: %w", rec.Name, rec.Version, err)
			}
			if capi.IsValid(wvalid, r) {
				rec.Weights = wv.Bytes(r)
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", storeTable, err)
	}
	return out, nil
}

// drop deletes every version of name and returns how many there were.
func drop(conn *capi.Conn, name string) (int64, error) {
	ok, err := storeExists(conn)
	if err != nil || !ok {
		return 0, err
	}
	st, err := conn.Prepare(`DELETE FROM hepsql_models WHERE name = $1 RETURNING version`)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.Bind(1, name); err != nil {
		return 0, err
	}
	var n int64
	err = each(st, func(_ capi.Chunk, rows int) error {
		n += int64(rows)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dropping model %q: %w", name, err)
	}
	return n, nil
}
