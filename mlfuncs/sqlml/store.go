package sqlml

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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
	current       BOOLEAN DEFAULT false,
	hepsql_version VARCHAR,         -- the hepsql that trained it (repository.go)
	PRIMARY KEY (name, version))`

// droppedTable keeps, per name, the highest version number dropped alone,
// which later versions do not reuse; dropping every version of a name
// forgets it, and the name starts again at 1.
const droppedTable = "hepsql_models_dropped"

const createDropped = `CREATE TABLE IF NOT EXISTS hepsql_models_dropped (name VARCHAR NOT NULL, last BIGINT NOT NULL)`

// A name's current version, the one its functions use when no version is
// given, is the version whose current is true; where none is (every
// version stored before the column existed, or after the current one was
// dropped), the newest. currentOrder sorts it first.
const currentOrder = `ORDER BY coalesce(current, false) DESC, version DESC`

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
	Current      bool // as stored; list sets it on the resolved current version
	HepsqlVer    string
	Weights      []byte
}

// ErrNoModel is wrapped by lookups of a name that has no stored model.
var ErrNoModel = errors.New("no such model")

// save stores rec as the next version of its name and returns the version.
// With promote, or when the name has no version yet, the new version
// becomes the current one; otherwise the current version stays so.
func save(conn *capi.Conn, rec *record, promote bool) (int64, error) {
	if err := conn.Exec(createStore); err != nil {
		return 0, fmt.Errorf("creating %s: %w", storeTable, err)
	}
	if _, err := storeExists(conn); err != nil { // adds the current column to an older store
		return 0, err
	}
	cur, err := currentVersion(conn, rec.Name)
	if err != nil {
		return 0, err
	}
	features, err := json.Marshal(rec.Layout)
	if err != nil {
		return 0, err
	}
	// One statement picks the version and inserts, so two trainings of a
	// name cannot take the same number (the key would refuse the second).
	// A version dropped alone keeps its number taken (hepsql_models_dropped),
	// so that 'name@N' never comes to mean another model.
	if err := conn.Exec(createDropped); err != nil {
		return 0, fmt.Errorf("creating %s: %w", droppedTable, err)
	}
	st, err := conn.Prepare(`INSERT INTO hepsql_models
		(name, version, architecture, options, features, classes, metrics, train_seconds, rows, query, weights, hepsql_version)
		SELECT $1, greatest(coalesce(max(version), 0),
			coalesce((SELECT max(last) FROM hepsql_models_dropped WHERE name = $1), 0)) + 1,
			$2, $3, $4, $5, $6, $7, $8, $9, $10, $11
		FROM hepsql_models WHERE name = $1
		RETURNING version`)
	if err != nil {
		return 0, fmt.Errorf("storing model %q: %w", rec.Name, err)
	}
	defer st.Close()
	for i, v := range []any{rec.Name, rec.Arch, rec.Options, string(features), int64(rec.Layout.Classes),
		rec.Metrics, rec.TrainSeconds, rec.Rows, rec.Query, rec.Weights, hepsqlVersion()} {
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
	if promote || cur == 0 {
		cur = version
	}
	if err := setCurrent(conn, rec.Name, cur); err != nil {
		return 0, fmt.Errorf("storing model %q: %w", rec.Name, err)
	}
	return version, nil
}

// setCurrent marks version as name's current one, and no other.
func setCurrent(conn *capi.Conn, name string, version int64) error {
	st, err := conn.Prepare(`UPDATE hepsql_models SET current = (version = $2) WHERE name = $1`)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Bind(1, name); err != nil {
		return err
	}
	if err := st.Bind(2, version); err != nil {
		return err
	}
	return each(st, func(capi.Chunk, int) error { return nil })
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

// storeExists reports whether the database has a model store, and adds
// the columns current and hepsql_version to a store written before they
// existed.
func storeExists(conn *capi.Conn) (bool, error) {
	st, err := conn.Prepare(`SELECT count(*)::BIGINT, count(*) FILTER (column_name = 'hepsql_version')::BIGINT FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = current_schema() AND table_name = 'hepsql_models'`)
	if err != nil {
		return false, err
	}
	defer st.Close()
	var found, latest bool // latest: has the newest column, hepsql_version
	err = each(st, func(ch capi.Chunk, n int) error {
		found = capi.Slice[int64](ch.Vector(0), n)[0] > 0
		latest = capi.Slice[int64](ch.Vector(1), n)[0] > 0
		return nil
	})
	if err == nil && found && !latest {
		err = conn.Exec(`ALTER TABLE hepsql_models ADD COLUMN IF NOT EXISTS current BOOLEAN DEFAULT false`)
		if err == nil {
			err = conn.Exec(`ALTER TABLE hepsql_models ADD COLUMN IF NOT EXISTS hepsql_version VARCHAR`)
		}
	}
	return found, err
}

const listColumns = `name, version, created::VARCHAR, architecture, options, features, metrics, train_seconds, rows, query, coalesce(current, false), coalesce(hepsql_version, '')`

// list returns every stored version (without weights), by name and
// version, with Current set on each name's current version.
func list(conn *capi.Conn) ([]*record, error) {
	ok, err := storeExists(conn)
	if err != nil || !ok {
		return nil, err
	}
	recs, err := selectRecords(conn, `SELECT `+listColumns+`, NULL::BLOB FROM hepsql_models ORDER BY name, version`, nil)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(recs); {
		j, cur := i, -1
		for ; j < len(recs) && recs[j].Name == recs[i].Name; j++ {
			if recs[j].Current && cur < 0 {
				cur = j
			}
		}
		if cur < 0 {
			cur = j - 1 // none marked: the newest
		}
		for k := i; k < j; k++ {
			recs[k].Current = k == cur
		}
		i = j
	}
	return recs, nil
}

// load returns version of name (0: the current one), weights included.
func load(conn *capi.Conn, name string, version int64) (*record, error) {
	ok, err := storeExists(conn)
	if err != nil {
		return nil, err
	}
	if ok {
		q, args := `SELECT `+listColumns+`, weights FROM hepsql_models WHERE name = $1 `+currentOrder+` LIMIT 1`, []any{name}
		if version > 0 {
			q, args = `SELECT `+listColumns+`, weights FROM hepsql_models WHERE name = $1 AND version = $2`, []any{name, version}
		}
		recs, err := selectRecords(conn, q, args)
		if err != nil {
			return nil, err
		}
		if len(recs) == 1 {
			return recs[0], nil
		}
	}
	return nil, noModel(conn, name, version)
}

// noModel is the error for a name, or a version of it, not in the store.
func noModel(conn *capi.Conn, name string, version int64) error {
	if version > 0 {
		if vs, err := versions(conn, name); err == nil && len(vs) > 0 {
			return fmt.Errorf("%w %q version %d; it has versions %s (SELECT * FROM models() lists them)", ErrNoModel, name, version, joinInts(vs))
		}
	}
	return fmt.Errorf("%w %q (SELECT * FROM models() lists them; train(%q, query) makes one)", ErrNoModel, name, name)
}

func joinInts(vs []int64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

// versions lists name's stored versions in order.
func versions(conn *capi.Conn, name string) ([]int64, error) {
	ok, err := storeExists(conn)
	if err != nil || !ok {
		return nil, err
	}
	return int64s(conn, `SELECT version FROM hepsql_models WHERE name = $1 ORDER BY version`, name)
}

// currentVersion is name's current version, 0 when it has none.
func currentVersion(conn *capi.Conn, name string) (int64, error) {
	return resolveVersion(conn, name, 0)
}

// resolveVersion is version of name if it is stored (0: the current
// version), else 0.
func resolveVersion(conn *capi.Conn, name string, version int64) (int64, error) {
	ok, err := storeExists(conn)
	if err != nil || !ok {
		return 0, err
	}
	var vs []int64
	if version > 0 {
		vs, err = int64s(conn, `SELECT version FROM hepsql_models WHERE name = $1 AND version = $2`, name, version)
	} else {
		vs, err = int64s(conn, `SELECT version FROM hepsql_models WHERE name = $1 `+currentOrder+` LIMIT 1`, name)
	}
	if err != nil || len(vs) == 0 {
		return 0, err
	}
	return vs[0], nil
}

// int64s runs a query of one BIGINT column.
func int64s(conn *capi.Conn, query string, args ...any) ([]int64, error) {
	st, err := conn.Prepare(query)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for i, a := range args {
		if err := st.Bind(i+1, a); err != nil {
			return nil, err
		}
	}
	var out []int64
	err = each(st, func(ch capi.Chunk, n int) error {
		out = append(out, capi.Slice[int64](ch.Vector(0), n)...)
		return nil
	})
	return out, err
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
		current := capi.Slice[bool](ch.Vector(10), n)
		wv := ch.Vector(12)
		wvalid := wv.ReadValidity(n)
		for r := range n {
			rec := &record{Name: str(0, r), Version: versions[r], Created: str(2, r), Arch: str(3, r),
				Options: str(4, r), Metrics: str(6, r), TrainSeconds: secs[r], Rows: rows[r], Query: str(9, r),
				Current: current[r], HepsqlVer: str(11, r)}
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

// drop deletes version of name (0: every version) and returns how many
// rows it deleted. When the current version goes, the newest left becomes
// current (none is marked).
func drop(conn *capi.Conn, name string, version int64) (int64, error) {
	ok, err := storeExists(conn)
	if err != nil || !ok {
		return 0, err
	}
	q, args := `DELETE FROM hepsql_models WHERE name = $1 RETURNING version`, []any{name}
	if version > 0 {
		q, args = `DELETE FROM hepsql_models WHERE name = $1 AND version = $2 RETURNING version`, []any{name, version}
	}
	st, err := conn.Prepare(q)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	for i, a := range args {
		if err := st.Bind(i+1, a); err != nil {
			return 0, err
		}
	}
	var n int64
	err = each(st, func(_ capi.Chunk, rows int) error {
		n += int64(rows)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dropping model %q: %w", name, err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := conn.Exec(createDropped); err != nil {
		return 0, fmt.Errorf("dropping model %q: %w", name, err)
	}
	q = `DELETE FROM hepsql_models_dropped WHERE name = $1`
	if version > 0 {
		q = `INSERT INTO hepsql_models_dropped VALUES ($1, $2)`
	}
	st2, err := conn.Prepare(q)
	if err != nil {
		return 0, fmt.Errorf("dropping model %q: %w", name, err)
	}
	defer st2.Close()
	for i, a := range args {
		if err := st2.Bind(i+1, a); err != nil {
			return 0, err
		}
	}
	if err := each(st2, func(capi.Chunk, int) error { return nil }); err != nil {
		return 0, fmt.Errorf("dropping model %q: %w", name, err)
	}
	return n, nil
}
