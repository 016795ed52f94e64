package sqlml

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/mlfuncs/onnx"
)

// The model repository: what is stored beside each version's weights, as
// SQL sees it (models(), model_info) and as programs see it (Info, for the
// server's metadata endpoints), and the ONNX export that lets a model
// leave hepsql (export_onnx).

// Info is one stored model version's metadata. It is also models()'s
// metadata column, as JSON, so that SQL and the server read one document.
type Info struct {
	Name         string `json:"name"`
	Version      int64  `json:"version"`
	Current      bool   `json:"current"`
	Created      string `json:"created"`
	Architecture string `json:"architecture"`
	// Features are the training query's feature columns, in order.
	Features []InfoFeature `json:"features"`
	// Inputs name the network's high-level input values in order: a
	// scalar column's name, or name[i] (from 1) for each value of a list.
	Inputs []string `json:"inputs"`
	// SeqLen and SeqDim (> 0) give the sequence input of gru and
	// inclusive models: steps × values per step.
	SeqLen        int             `json:"seq_len,omitempty"`
	SeqDim        int             `json:"seq_dim,omitempty"`
	Label         string          `json:"label"`
	OneHot        bool            `json:"one_hot,omitempty"`
	Classes       int             `json:"classes"`
	Rows          int64           `json:"rows"` // training rows
	TrainSeconds  float64         `json:"train_seconds"`
	Metrics       json.RawMessage `json:"metrics"` // best epoch's figures
	Options       json.RawMessage `json:"options"` // training options and network spec
	Query         string          `json:"query"`
	HepsqlVersion string          `json:"hepsql_version,omitempty"` // empty: stored before it was recorded
}

// InfoFeature is a feature column of a stored model.
type InfoFeature struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`            // scalar, vector, sequence
	Type  string `json:"type,omitempty"`  // its SQL type in training (empty: not recorded)
	Width int    `json:"width,omitempty"` // vector: values; sequence: values per step
}

// hlfInputs names a layout's high-level input values in order.
func hlfInputs(l *layout) []string {
	var in []string
	for _, f := range l.Features {
		switch f.Kind {
		case kindScalar:
			in = append(in, f.Name)
		case kindVector:
			for i := range f.Width {
				in = append(in, fmt.Sprintf("%s[%d]", f.Name, i+1))
			}
		}
	}
	return in
}

// info is rec's metadata.
func (rec *record) info() *Info {
	l := rec.Layout
	in := &Info{Name: rec.Name, Version: rec.Version, Current: rec.Current, Created: rec.Created, Architecture: rec.Arch,
		Inputs: hlfInputs(l), SeqLen: l.SeqLen, SeqDim: l.SeqDim, Label: l.Label, OneHot: l.OneHot, Classes: l.Classes,
		Rows: rec.Rows, TrainSeconds: rec.TrainSeconds, Metrics: rawJSON(rec.Metrics), Options: rawJSON(rec.Options),
		Query: rec.Query, HepsqlVersion: rec.HepsqlVer}
	if in.Inputs == nil {
		in.Inputs = []string{}
	}
	for _, f := range l.Features {
		in.Features = append(in.Features, InfoFeature{Name: f.Name, Kind: f.Kind, Type: f.Type, Width: f.Width})
	}
	return in
}

// rawJSON keeps stored JSON text as it is, or null when it is not JSON
// (a store edited by hand), so that Info always marshals.
func rawJSON(s string) json.RawMessage {
	if !json.Valid([]byte(s)) {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

// ServedInfos returns the metadata of every stored version by name and
// version (name "": every name), read through models() so that the
// server and SQL show the same thing.
func ServedInfos(ctx context.Context, db *sql.DB, name string) ([]*Info, error) {
	q, args := `SELECT metadata FROM models() ORDER BY name, version`, []any(nil)
	if name != "" {
		q, args = `SELECT metadata FROM models() WHERE name = $1 ORDER BY version`, []any{name}
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Info
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		in := new(Info)
		if err := json.Unmarshal([]byte(doc), in); err != nil {
			return nil, fmt.Errorf("models(): bad metadata: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// ServedInfo returns version of name's metadata (0: its current version).
func ServedInfo(ctx context.Context, db *sql.DB, name string, version int64) (*Info, error) {
	infos, err := ServedInfos(ctx, db, name)
	if err != nil {
		return nil, err
	}
	for _, in := range infos {
		if (version == 0 && in.Current) || (version > 0 && in.Version == version) {
			return in, nil
		}
	}
	return nil, servedNoModel(ctx, db, name, version)
}

// hepsqlVersion is the version of the hepsql module in this binary, as
// stored with each trained model: the module version when hepsql is a
// dependency or was built with go install, else "devel", with the VCS
// commit when the build recorded one.
var hepsqlVersion = sync.OnceValue(func() string {
	const module = "github.com/hepsql/hepsql"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := ""
	if info.Main.Path == module {
		v = info.Main.Version
	}
	for _, d := range info.Deps {
		if d.Path == module {
			v = d.Version
		}
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	if info.Main.Path == module {
		rev, modified := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			v += " commit " + rev
			if modified {
				v += "+modified"
			}
		}
	}
	return v
})

var modelInfoColumns = []capi.Column{
	{Name: "name", Type: tVarchar},
	{Name: "version", Type: tBigInt},
	{Name: "position", Type: tBigInt},
	{Name: "feature", Type: tVarchar},
	{Name: "kind", Type: tVarchar},
	{Name: "type", Type: tVarchar},
	{Name: "width", Type: tBigInt},
	{Name: "inputs", Type: capi.ListOf(tVarchar)},
}

// bindModelInfo: model_info('name[@N]') is one row per feature column of
// the version (default: the current one), in training order, with the
// network inputs each one feeds.
func (e *env) bindModelInfo(a *capi.BindArgs) (capi.Table, error) {
	name, version, err := e.refArg(a, "model_info")
	if err != nil {
		return nil, err
	}
	return &valuesTable{cols: modelInfoColumns, compute: func() ([][]any, error) {
		m, err := e.model(name, version)
		if err != nil {
			return nil, fmt.Errorf("model_info: %w", err)
		}
		rec := m.rec
		var out [][]any
		at := 0
		for i, f := range rec.Layout.Features {
			var inputs []string
			switch f.Kind {
			case kindScalar:
				inputs = []string{f.Name}
			case kindVector:
				for k := range f.Width {
					inputs = append(inputs, fmt.Sprintf("%s[%d]", f.Name, k+1))
				}
			case kindSequence:
				inputs = []string{"sequence"}
			}
			if f.Kind != kindSequence {
				at += len(inputs)
			}
			var typ any
			if f.Type != "" {
				typ = f.Type
			}
			out = append(out, []any{rec.Name, rec.Version, int64(i + 1), f.Name, f.Kind, typ, int64(max(f.Width, 1)), inputs})
		}
		return out, nil
	}}, nil
}

// refArg reads a function's first argument, a model reference 'name' or
// 'name@N'.
func (e *env) refArg(a *capi.BindArgs, fn string) (string, int64, error) {
	v, err := a.Arg(0)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", fn, err)
	}
	ref, _ := v.(string)
	name, version, err := parseRef(ref)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", fn, err)
	}
	return name, version, nil
}

var exportColumns = []capi.Column{
	{Name: "name", Type: tVarchar},
	{Name: "version", Type: tBigInt},
	{Name: "path", Type: tVarchar},
	{Name: "bytes", Type: tBigInt},
}

// bindExportONNX: export_onnx('name[@N]', path) writes the version
// (default: the current one) as an ONNX model file and returns what it
// wrote. A database that forbids external access (enable_external_access
// = false, as a sandboxed server sets it) exports only into its
// allowed_directories and allowed_paths.
func (e *env) bindExportONNX(a *capi.BindArgs) (capi.Table, error) {
	name, version, err := e.refArg(a, "export_onnx")
	if err != nil {
		return nil, err
	}
	v, err := a.Arg(1)
	if err != nil {
		return nil, fmt.Errorf("export_onnx: %w", err)
	}
	path, _ := v.(string)
	if path == "" {
		return nil, fmt.Errorf("export_onnx(%q, path): want the path of the .onnx file to write", name)
	}
	return &valuesTable{cols: exportColumns, compute: func() ([][]any, error) {
		if err := e.checkFileAccess(path); err != nil {
			return nil, fmt.Errorf("export_onnx(%q, %q): %w", name, path, err)
		}
		m, err := e.model(name, version)
		if err != nil {
			return nil, fmt.Errorf("export_onnx: %w", err)
		}
		b, err := exportONNX(m)
		if err != nil {
			return nil, fmt.Errorf("export_onnx: %w", err)
		}
		if err := writeFileAtomic(path, b); err != nil {
			return nil, fmt.Errorf("export_onnx(%q): %w", name, err)
		}
		return [][]any{{m.rec.Name, m.rec.Version, path, int64(len(b))}}, nil
	}}, nil
}

// exportONNX encodes a loaded model with its metadata.
func exportONNX(m *loaded) ([]byte, error) {
	rec := m.rec
	in := rec.info()
	features, err := json.Marshal(in.Features)
	if err != nil {
		return nil, err
	}
	props := map[string]string{
		"hepsql.model":    fmt.Sprintf("%s@%d", rec.Name, rec.Version),
		"hepsql.features": string(features),
		"hepsql.label":    rec.Layout.Label,
		"hepsql.query":    rec.Query,
		"hepsql.created":  rec.Created,
		"hepsql.metrics":  rec.Metrics,
	}
	if rec.HepsqlVer != "" {
		props["hepsql.trained_by"] = rec.HepsqlVer
	}
	return onnx.Export(m.model, onnx.Meta{Name: rec.Name, Version: rec.Version, Inputs: in.Inputs,
		Producer: hepsqlVersion(), Props: props})
}

// ExportONNX encodes version of name (0: the current one) as an ONNX
// model, for programs that hand models out (the server). The bytes are
// export_onnx's for the same version.
func ExportONNX(ctx context.Context, db *sql.DB, name string, version int64) ([]byte, error) {
	s, err := LoadServed(ctx, db, name, version)
	if err != nil {
		return nil, err
	}
	info, err := ServedInfo(ctx, db, name, s.Version)
	if err != nil {
		return nil, err
	}
	l := &layout{Label: info.Label, OneHot: info.OneHot, Classes: info.Classes, SeqLen: info.SeqLen, SeqDim: info.SeqDim}
	for _, f := range info.Features {
		l.Features = append(l.Features, feature{Name: f.Name, Kind: f.Kind, Width: f.Width, Type: f.Type})
	}
	rec := &record{Name: s.Name, Version: s.Version, Created: info.Created, Arch: info.Architecture, Layout: l,
		Metrics: string(info.Metrics), Query: info.Query, HepsqlVer: info.HepsqlVersion}
	return exportONNX(&loaded{model: s.Model, rec: rec})
}

// checkFileAccess refuses to write path where the database forbids file
// access: enable_external_access false, unless path is under one of
// allowed_directories or is one of allowed_paths (DuckDB's own
// exceptions, which a sandboxed server sets).
func (e *env) checkFileAccess(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	conn, err := e.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := conn.Prepare(`SELECT current_setting('enable_external_access')::BOOLEAN
		OR len(list_filter(current_setting('allowed_directories')::VARCHAR[], d -> starts_with($1, d))) > 0
		OR list_contains(current_setting('allowed_paths')::VARCHAR[], $1)`)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Bind(1, abs); err != nil {
		return err
	}
	allowed := true
	err = each(st, func(ch capi.Chunk, n int) error {
		allowed = capi.Slice[bool](ch.Vector(0), n)[0]
		return nil
	})
	if err != nil {
		return err
	}
	if !allowed {
		return errors.New("the database does not allow file access there (enable_external_access is false, and the path is not under allowed_directories nor in allowed_paths)")
	}
	return nil
}

// writeFileAtomic writes b to path through a temporary file in the same
// folder, so that a reader never sees half a model.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
