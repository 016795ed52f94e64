package sqlml

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/ucluster"
)

// This file is the model store seen from outside SQL, for programs that
// serve models (hepsql serve): they reach the database through
// database/sql, find a name's current version, and load a version's
// network to run it themselves.

// storeGen counts writes to any model store of this process (train, tune,
// promote_model, drop_model). A database file is open in one process at a
// time, so every write to its store goes through here: a server that saw
// the same generation before a request knows its resolved versions still
// hold without asking the database.
var storeGen atomic.Int64

// StoreGeneration is the number of writes to model stores made through
// this process's ML functions so far. A change made by hand
// (UPDATE hepsql_models ...) does not count.
func StoreGeneration() int64 { return storeGen.Load() }

// Served is one stored model version decoded for inference outside SQL.
type Served struct {
	Name    string
	Version int64
	Arch    string // mlp, gru, inclusive
	Created string
	// Inputs names the network's high-level inputs in order, one per
	// value: a scalar column's name, or name[i] (from 1) for the values of
	// a list column.
	Inputs []string
	// Columns are the feature columns the model was trained on.
	Columns []ServedColumn
	SeqLen  int // > 0: the model also takes a sequence (gru, inclusive)
	SeqDim  int
	Classes int
	Model   *nn.Model
}

// ServedColumn is a feature column of a stored model.
type ServedColumn struct {
	Name  string
	Kind  string // scalar, vector, sequence
	Width int
}

// HLFDim is the number of high-level input values per row.
func (s *Served) HLFDim() int { return len(s.Inputs) }

// storeTableExists reports whether db has hepsql_models in its current
// schema.
func storeTableExists(ctx context.Context, db *sql.DB) (bool, error) {
	var n int64
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = current_schema() AND table_name = 'hepsql_models'`).Scan(&n)
	return n > 0, err
}

// ResolveVersion returns version of name if it is stored (0: name's
// current version); an error wrapping ErrNoModel when it is not.
func ResolveVersion(ctx context.Context, db *sql.DB, name string, version int64) (int64, error) {
	ok, err := storeTableExists(ctx, db)
	if err != nil {
		return 0, err
	}
	if ok {
		q, args := `SELECT version FROM hepsql_models WHERE name = $1 `+currentOrder+` LIMIT 1`, []any{name}
		if version > 0 {
			q, args = `SELECT version FROM hepsql_models WHERE name = $1 AND version = $2`, []any{name, version}
		}
		var v int64
		err := db.QueryRowContext(ctx, q, args...).Scan(&v)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
	}
	return 0, servedNoModel(ctx, db, name, version)
}

func servedNoModel(ctx context.Context, db *sql.DB, name string, version int64) error {
	if version > 0 {
		if vs, err := ServedVersions(ctx, db, name); err == nil && len(vs) > 0 {
			return fmt.Errorf("%w %q version %d; it has versions %s", ErrNoModel, name, version, joinInts(vs))
		}
	}
	return fmt.Errorf("%w %q", ErrNoModel, name)
}

// ServedVersions lists name's stored versions in order.
func ServedVersions(ctx context.Context, db *sql.DB, name string) ([]int64, error) {
	ok, err := storeTableExists(ctx, db)
	if err != nil || !ok {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT version FROM hepsql_models WHERE name = $1 ORDER BY version`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ServedNames lists the stored model names with their current versions,
// by name.
func ServedNames(ctx context.Context, db *sql.DB) (names []string, versions []int64, err error) {
	ok, err := storeTableExists(ctx, db)
	if err != nil || !ok {
		return nil, nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT name, arg_max(version, coalesce(current, false)::BIGINT * 1000000000000 + version) FROM hepsql_models GROUP BY name ORDER BY name`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		var v int64
		if err := rows.Scan(&n, &v); err != nil {
			return nil, nil, err
		}
		names, versions = append(names, n), append(versions, v)
	}
	return names, versions, rows.Err()
}

// ErrNotServable is wrapped by LoadServed for a stored model that the
// server cannot run (a ucluster model: its input is a list of particles).
var ErrNotServable = errors.New("model not servable over HTTP")

// LoadServed loads version of name (0: the current one) and decodes its
// network.
func LoadServed(ctx context.Context, db *sql.DB, name string, version int64) (*Served, error) {
	v, err := ResolveVersion(ctx, db, name, version)
	if err != nil {
		return nil, err
	}
	var features, arch, created string
	var weights []byte
	err = db.QueryRowContext(ctx, `SELECT architecture, created::VARCHAR, features, weights FROM hepsql_models WHERE name = $1 AND version = $2`,
		name, v).Scan(&arch, &created, &features, &weights)
	if errors.Is(err, sql.ErrNoRows) { // dropped since it was resolved
		return nil, servedNoModel(ctx, db, name, version)
	}
	if err != nil {
		return nil, err
	}
	l := new(layout)
	if err := json.Unmarshal([]byte(features), l); err != nil {
		return nil, fmt.Errorf("model %q version %d: bad features: %w", name, v, err)
	}
	if arch == ucluster.Arch {
		return nil, fmt.Errorf("%w: model %q version %d is a ucluster model: it clusters jets from a list of particles, and serving takes flat rows of numbers; use predict(%q, query) in SQL", ErrNotServable, name, v, name)
	}
	m, err := nn.Unmarshal(weights)
	if err != nil {
		return nil, fmt.Errorf("model %q version %d: %w", name, v, err)
	}
	s := &Served{Name: name, Version: v, Arch: arch, Created: created, SeqLen: m.Spec.SeqLen, SeqDim: m.Spec.SeqDim,
		Classes: m.Spec.Classes, Model: m}
	for _, f := range l.Features {
		s.Columns = append(s.Columns, ServedColumn{Name: f.Name, Kind: f.Kind, Width: f.Width})
	}
	s.Inputs = hlfInputs(l)
	if len(s.Inputs) != m.Spec.HLFDim {
		return nil, fmt.Errorf("model %q version %d: its features (%s) make %d values, its network takes %d",
			name, v, strings.Join(s.Inputs, ", "), len(s.Inputs), m.Spec.HLFDim)
	}
	return s, nil
}
