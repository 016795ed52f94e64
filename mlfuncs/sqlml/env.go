// Package sqlml is the SQL surface of hepsql's machine learning: table
// functions train, tune, predict, evaluate, roc, models and drop_model,
// and the scalar predict_proba, over the networks of mlfuncs/nn and the
// trainer of mlfuncs/train.
//
// A function that reads a query (train's training set, predict's rows)
// runs it on a connection of its own to the same database, opened with
// capi.Connect: DuckDB does not let a table function run a query on the
// connection that is calling it, and a second connection has its own
// client context, so nothing waits on the caller. The query sees the
// database as committed: rows written in the caller's open transaction are
// not visible to it.
//
// Models are stored in the table hepsql_models of the same database (see
// store.go), so a file-backed database reopens with its models. Training a
// name again stores version+1 and makes it the current version; tune
// stores its best point as version+1 and makes it current only if it
// scores better than the current one (promote := 'if_better'). Every
// function uses a name's current version unless given one ('name@2' or
// version := 2); promote_model and drop_model(name, version) change which.
package sqlml

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	ddb "github.com/duckdb/duckdb-go-bindings"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/ucluster"
)

// env is one database's ML state: its handle and a cache of loaded models.
type env struct {
	// open opens a connection to the database: capi.Connect in the
	// embedded engine, a pooled one in the loadable extension.
	open func() (*capi.Conn, error)

	mu     sync.Mutex
	gen    int64 // bumped by every write to the store through this env
	models map[string]*loaded
}

// loaded is a decoded model ready for inference.
type loaded struct {
	gen   int64
	rec   *record
	model *nn.Model
	pred  *nn.Predictor   // one goroutine per call: scalar calls run on DuckDB's threads
	uc    *ucluster.Model // a ucluster model instead (model and pred nil)
}

func (e *env) connect() (*capi.Conn, error) {
	c, err := e.open()
	if err != nil {
		return nil, fmt.Errorf("sqlml: %w", err)
	}
	return c, nil
}

// changed invalidates cached models after a write to the store.
func (e *env) changed() {
	e.mu.Lock()
	e.gen++
	e.mu.Unlock()
	storeGen.Add(1)
}

// parseRef splits a model reference, "name" or "name@version", into the
// name and the version (0: the current one).
func parseRef(ref string) (string, int64, error) {
	i := strings.LastIndexByte(ref, '@')
	if i < 0 {
		return ref, 0, nil
	}
	v, err := strconv.ParseInt(ref[i+1:], 10, 64)
	if err != nil || v < 1 || i == 0 {
		return "", 0, fmt.Errorf("model %q: want a name, or name@version with a version number from 1 (e.g. 'hlf@2')", ref)
	}
	return ref[:i], v, nil
}

// refVersion reads a model reference and a version := N argument (0 when
// not given) and checks that they agree.
func refVersion(ref string, named int64) (string, int64, error) {
	name, v, err := parseRef(ref)
	if err != nil {
		return "", 0, err
	}
	if named < 0 {
		return "", 0, fmt.Errorf("version := %d; want a version number from 1", named)
	}
	if named > 0 && v > 0 && named != v {
		return "", 0, fmt.Errorf("model %q with version := %d: two different versions", ref, named)
	}
	return name, max(v, named), nil
}

// model returns version of name (0: its current version), decoded.
// Decoded models are cached per name and version asked for; the cache is
// trusted until the store is next written through this process (a change
// to hepsql_models by hand is seen after that).
func (e *env) model(name string, version int64) (*loaded, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := fmt.Sprintf("%s@%d", name, version)
	if m := e.models[key]; m != nil && m.gen == e.gen {
		return m, nil
	}
	conn, err := e.connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if m := e.models[key]; m != nil {
		v, err := resolveVersion(conn, name, version)
		if err != nil {
			return nil, err
		}
		if v == m.rec.Version {
			m.gen = e.gen
			return m, nil
		}
	}
	rec, err := load(conn, name, version)
	if err != nil {
		return nil, err
	}
	var m *loaded
	if ucluster.IsEncoded(rec.Weights) {
		uc, err := ucluster.Unmarshal(rec.Weights)
		if err != nil {
			return nil, fmt.Errorf("model %q version %d: %w", name, rec.Version, err)
		}
		m = &loaded{gen: e.gen, rec: rec, uc: uc}
	} else {
		model, err := nn.Unmarshal(rec.Weights)
		if err != nil {
			return nil, fmt.Errorf("model %q version %d: %w", name, rec.Version, err)
		}
		m = &loaded{gen: e.gen, rec: rec, model: model, pred: model.NewPredictor(1)}
	}
	rec.Weights = nil
	if e.models == nil {
		e.models = map[string]*loaded{}
	}
	e.models[key] = m
	return m, nil
}

// Register registers the ML functions on conn for the database db.
func Register(conn *capi.Conn, db ddb.Database) error {
	return RegisterConns(conn, func() (*capi.Conn, error) { return capi.Connect(db) })
}

// RegisterConns registers the ML functions on conn; they open their
// connections to the database with open (see capi.ConnPool).
func RegisterConns(conn *capi.Conn, open func() (*capi.Conn, error)) error {
	e := &env{open: open}
	for _, f := range e.tableFunctions() {
		if err := conn.RegisterTableFunction(f); err != nil {
			return fmt.Errorf("sqlml: %w", err)
		}
	}
	if err := conn.RegisterScalarFunctions(e.predictProba()); err != nil {
		return fmt.Errorf("sqlml: %w", err)
	}
	return nil
}

func (e *env) tableFunctions() []*capi.TableFunction {
	name := []capi.Type{tVarchar}
	nameQuery := []capi.Type{tVarchar, tVarchar}
	return []*capi.TableFunction{
		{Name: "train", Params: nameQuery, Named: trainParams, Bind: e.bindTrain},
		{Name: "tune", Params: nameQuery, Named: tuneParams, Bind: e.bindTune},
		{Name: "predict", Params: nameQuery, Named: predictParams, Bind: e.bindPredict},
		{Name: "evaluate", Params: nameQuery, Named: append([]capi.NamedParam{{Name: "truth", Type: tVarchar}}, versionParam...), Bind: e.bindEvaluate},
		{Name: "roc", Params: []capi.Type{tVarchar, tVarchar, tBigInt}, Named: versionParam, Bind: e.bindROC},
		{Name: "models", Bind: e.bindModels},
		{Name: "drop_model", Params: name, Named: versionParam, Bind: e.bindDrop},
		{Name: "promote_model", Params: []capi.Type{tVarchar, tBigInt}, Bind: e.bindPromote},
		{Name: "model_info", Params: name, Bind: e.bindModelInfo},
		{Name: "export_onnx", Params: nameQuery, Bind: e.bindExportONNX},
	}
}
