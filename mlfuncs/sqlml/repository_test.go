package sqlml_test

import (
	"database/sql"
	"encoding/json"
	"maps"
	"math"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx"
	"gorgonia.org/tensor"

	"github.com/hepsql/hepsql/mlfuncs/sqlml"
)

// TestModelsMetadata: models() lists every version with the metadata
// train stored: compared with the hepsql_models table read with plain
// SQL, with the training query's column types as DuckDB names them, and
// with the network's input width.
func TestModelsMetadata(t *testing.T) {
	db := open(t, "")
	exec(t, db, createData)
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, a, b, v FROM d', epochs := 1, threads := 1, hidden := [8])`)
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, a, v FROM d', epochs := 1, threads := 1, hidden := [4])`)
	exec(t, db, `SELECT count(*) FROM train('other', 'SELECT label, b FROM d', epochs := 1, threads := 1, hidden := [4])`)

	var typeA, typeV string
	if err := db.QueryRow(`SELECT typeof(a), typeof(v) FROM d LIMIT 1`).Scan(&typeA, &typeV); err != nil {
		t.Fatal(err)
	}
	type stored struct {
		name, arch, options, metrics, query, created string
		version, rows                                int64
		current                                      bool
	}
	rows, err := db.Query(`SELECT name, version, architecture, options, metrics, query, created::VARCHAR, rows, coalesce(current, false)
		FROM hepsql_models ORDER BY name, version`)
	if err != nil {
		t.Fatal(err)
	}
	var want []stored
	for rows.Next() {
		var s stored
		if err := rows.Scan(&s.name, &s.version, &s.arch, &s.options, &s.metrics, &s.query, &s.created, &s.rows, &s.current); err != nil {
			t.Fatal(err)
		}
		want = append(want, s)
	}
	if len(want) != 3 {
		t.Fatalf("hepsql_models has %d rows, want 3", len(want))
	}
	infos, err := sqlml.ServedInfos(t.Context(), db, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != len(want) {
		t.Fatalf("models() has %d rows, hepsql_models %d", len(infos), len(want))
	}
	wantFeatures := map[string][][2]string{ // per name@version: name, SQL type
		"m@1":     {{"a", typeA}, {"b", typeA}, {"v", typeV}},
		"m@2":     {{"a", typeA}, {"v", typeV}},
		"other@1": {{"b", typeA}},
	}
	wantInputs := map[string][]string{"m@1": {"a", "b", "v[1]", "v[2]"}, "m@2": {"a", "v[1]", "v[2]"}, "other@1": {"b"}}
	for i, in := range infos {
		w := want[i]
		key := in.Name + "@" + itoa(in.Version)
		if in.Name != w.name || in.Version != w.version || in.Architecture != w.arch || in.Query != w.query ||
			in.Rows != w.rows || in.Created != w.created || in.Current != w.current {
			t.Errorf("%s: models() %+v; stored %+v", key, in, w)
		}
		if !jsonEqual(t, in.Options, w.options) || !jsonEqual(t, in.Metrics, w.metrics) {
			t.Errorf("%s: options/metrics %s %s; stored %s %s", key, in.Options, in.Metrics, w.options, w.metrics)
		}
		var got [][2]string
		for _, f := range in.Features {
			got = append(got, [2]string{f.Name, f.Type})
		}
		if !slices.Equal(got, wantFeatures[key]) {
			t.Errorf("%s: features %v, want %v", key, got, wantFeatures[key])
		}
		if !slices.Equal(in.Inputs, wantInputs[key]) {
			t.Errorf("%s: inputs %v, want %v", key, in.Inputs, wantInputs[key])
		}
		if in.Label != "label" || in.Classes != 3 || in.HepsqlVersion == "" {
			t.Errorf("%s: label %q, classes %d, hepsql %q", key, in.Label, in.Classes, in.HepsqlVersion)
		}
		var spec struct {
			Spec struct {
				HLFDim int `json:"hlf_dim"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(in.Options, &spec); err != nil || spec.Spec.HLFDim != len(in.Inputs) {
			t.Errorf("%s: options' hlf_dim %d (%v), %d inputs", key, spec.Spec.HLFDim, err, len(in.Inputs))
		}
	}
	// The current version is the newest: m@2.
	if !infos[1].Current || infos[0].Current {
		t.Errorf("current flags %v %v; want m@2 current", infos[0].Current, infos[1].Current)
	}
	// The typed columns agree with the JSON document.
	var types, inputs []any
	var hv string
	if err := db.QueryRow(`SELECT feature_types, inputs, hepsql_version FROM models() WHERE name = 'm' AND version = 1`).Scan(&types, &inputs, &hv); err != nil {
		t.Fatal(err)
	}
	if len(types) != 3 || types[2] != typeV || len(inputs) != 4 || inputs[3] != "v[2]" || hv != infos[0].HepsqlVersion {
		t.Errorf("models() columns: types %v, inputs %v, hepsql %q", types, inputs, hv)
	}
	// model_info: one row per feature column.
	r2, err := db.Query(`SELECT version, position, feature, kind, type, width, inputs FROM model_info('m@1') ORDER BY position`)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for r2.Next() {
		var v, pos, width int64
		var feat, kind, typ string
		var ins []any
		if err := r2.Scan(&v, &pos, &feat, &kind, &typ, &width, &ins); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Join([]string{itoa(v), itoa(pos), feat, kind, typ, itoa(width), itoa(int64(len(ins)))}, " "))
	}
	wantLines := []string{"1 1 a scalar " + typeA + " 1 1", "1 2 b scalar " + typeA + " 1 1", "1 3 v vector " + typeV + " 2 2"}
	if !slices.Equal(lines, wantLines) {
		t.Errorf("model_info('m@1'):\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
	if _, err := db.Exec(`SELECT * FROM model_info('nope')`); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("model_info of an unknown model: %v", err)
	}
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

func jsonEqual(t *testing.T, a json.RawMessage, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// systemPython is Debian's interpreter, where python3-onnx installs (the
// python3 on PATH may be another one).
const systemPython = "/usr/bin/python3"

// needONNX skips (fails under CI) when Debian's python3-onnx is missing.
func needONNX(t *testing.T) {
	t.Helper()
	if err := osexec.Command(systemPython, "-c", "import onnx").Run(); err != nil {
		msg := "python3-onnx is not installed (apt-get install -y python3-onnx; scripts/test installs it): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// TestExportONNX: a trained dense model exported with export_onnx passes
// onnx's own checker (full check, shapes inferred), and gonnx, an
// independent pure-Go ONNX runtime, computes predict_proba's
// probabilities within 1e-5 on 300 rows.
func TestExportONNX(t *testing.T) {
	needONNX(t)
	db := open(t, "")
	exec(t, db, createData)
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, a, b, v FROM d', epochs := 2, threads := 1, hidden := [16, 8], lr := 0.01)`)
	path := filepath.Join(t.TempDir(), "m.onnx")
	var name, gotPath string
	var version, n int64
	if err := db.QueryRow(`SELECT name, version, path, bytes FROM export_onnx('m@1', ?)`, path).Scan(&name, &version, &gotPath, &n); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || name != "m" || version != 1 || gotPath != path || st.Size() != n {
		t.Fatalf("export_onnx: %s@%d %s %d bytes; file %v %v", name, version, gotPath, n, st, err)
	}

	check := `import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
g = m.graph
print(m.ir_version, m.opset_import[0].version, g.input[0].name, g.output[0].name,
      [d.dim_value or d.dim_param for d in g.input[0].type.tensor_type.shape.dim],
      [d.dim_value or d.dim_param for d in g.output[0].type.tensor_type.shape.dim],
      " ".join(n.op_type for n in g.node), dict((p.key, p.value) for p in m.metadata_props)["hepsql.model"])
`
	out, err := osexec.Command(systemPython, "-c", check, path).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx.checker: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "7 13 features probabilities ['batch', 4] ['batch', 3] Gemm Relu Gemm Relu Gemm Softmax m@1"; got != want {
		t.Errorf("onnx sees\n%s\nwant\n%s", got, want)
	}

	// 300 rows through gonnx and through predict_proba.
	rows, err := db.Query(`SELECT a, b, v[1], v[2], predict_proba('m', [a, b, v[1], v[2]]) FROM d ORDER BY i LIMIT 300`)
	if err != nil {
		t.Fatal(err)
	}
	var x, want []float32
	for rows.Next() {
		var a, b, v1, v2 float64
		var p []any
		if err := rows.Scan(&a, &b, &v1, &v2, &p); err != nil {
			t.Fatal(err)
		}
		x = append(x, float32(a), float32(b), float32(v1), float32(v2))
		for _, q := range p {
			want = append(want, q.(float32))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	m, err := gonnx.NewModelFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run(gonnx.Tensors{"features": tensor.New(tensor.WithShape(300, 4), tensor.WithBacking(x))})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := res["probabilities"].Data().([]float32)
	if !ok || len(got) != len(want) {
		t.Fatalf("gonnx: %T of %d values, want %d float32", res["probabilities"].Data(), len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		worst = max(worst, math.Abs(float64(got[i]-want[i])))
	}
	if worst > 1e-5 {
		t.Errorf("gonnx and predict_proba differ by up to %g", worst)
	}
	t.Logf("300 rows: gonnx vs predict_proba max |Δ| = %.2g", worst)
}

// TestExportONNXErrors: a path that cannot be written is named; a
// missing version is named; a database without file access refuses,
// except under its allowed_directories.
func TestExportONNXErrors(t *testing.T) {
	db := open(t, "")
	dir := t.TempDir()
	exec(t, db, `CREATE TABLE d2 AS SELECT (i % 2)::BIGINT AS label, i / 10.0 AS a FROM range(60) t(i)`)
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, a FROM d2', epochs := 1, threads := 1, validation := 0)`)
	bad := filepath.Join(dir, "no", "such", "m.onnx")
	if _, err := db.Exec(`SELECT * FROM export_onnx('m', ?)`, bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("export into a missing folder: %v", err)
	}
	if _, err := db.Exec(`SELECT * FROM export_onnx('m@7', ?)`, filepath.Join(dir, "m.onnx")); err == nil || !strings.Contains(err.Error(), "version 7") {
		t.Errorf("export of a missing version: %v", err)
	}
	allowed := filepath.Join(dir, "allowed")
	if err := os.Mkdir(allowed, 0o755); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `SET allowed_directories = ['`+allowed+`']`)
	exec(t, db, `SET enable_external_access = false`)
	if _, err := db.Exec(`SELECT * FROM export_onnx('m', ?)`, filepath.Join(dir, "m.onnx")); err == nil || !strings.Contains(err.Error(), "enable_external_access") {
		t.Errorf("export without external access: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.onnx")); err == nil {
		t.Error("a refused export wrote its file")
	}
	// The allowed folder, reached through "..", is still allowed; its
	// sibling with the same prefix is not.
	if _, err := db.Exec(`SELECT * FROM export_onnx('m', ?)`, filepath.Join(allowed, "..", "allowed", "m.onnx")); err != nil {
		t.Errorf("export into an allowed directory: %v", err)
	}
	if err := os.Mkdir(allowed+"2", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`SELECT * FROM export_onnx('m', ?)`, filepath.Join(allowed+"2", "m.onnx")); err == nil {
		t.Error("export into allowed2 with only allowed/ allowed: no error")
	}
}

// TestExportONNXSequence: gru and inclusive models exported with their
// GRU unrolled pass onnx.checker, and gonnx computes predict_proba's
// probabilities within 1e-5 on 200 rows whose sequences have padding at
// the end and, in some rows, an all-zero step in the middle (skipped by
// hepsql, masked in the graph).
func TestExportONNXSequence(t *testing.T) {
	needONNX(t)
	db := open(t, "")
	exec(t, db, `CREATE TABLE s AS SELECT i, (i % 3)::BIGINT AS label,
		[(i % 3) + (hash(i) % 100) / 100.0, (i % 7) / 7.0]::DOUBLE[] AS h,
		[CASE WHEN j = 1 AND i % 5 = 0 THEN [0.0, 0.0, 0.0]
			ELSE [(i % 3) + (hash(i * 31 + j) % 100) / 100.0, j / 4.0 + 0.1, (hash(i + j) % 10) / 10.0 - 0.5] END
		 FOR j IN range(1 + i % 5)]::DOUBLE[][] AS parts
		FROM range(600) t(i)`)
	exec(t, db, `SELECT count(*) FROM train('g', 'SELECT label, parts FROM s', model := 'gru', gru_units := 6, epochs := 3, lr := 0.01, threads := 1, validation := 0)`)
	exec(t, db, `SELECT count(*) FROM train('inc', 'SELECT label, h, parts FROM s', model := 'inclusive', gru_units := 5, hidden := [7], epochs := 3, lr := 0.01, threads := 1, validation := 0)`)
	const rows, T, F = 200, 5, 3
	rs, err := db.Query(`SELECT h, parts, predict_proba('g', parts), predict_proba('inc', h, parts) FROM s ORDER BY i LIMIT 200`)
	if err != nil {
		t.Fatal(err)
	}
	var hs, seq, wantG, wantI []float32
	for rs.Next() {
		var h, parts, pg, pi []any
		if err := rs.Scan(&h, &parts, &pg, &pi); err != nil {
			t.Fatal(err)
		}
		for _, v := range h {
			hs = append(hs, float32(v.(float64)))
		}
		padded := make([]float32, T*F)
		for j, st := range parts {
			for k, v := range st.([]any) {
				padded[j*F+k] = float32(v.(float64))
			}
		}
		seq = append(seq, padded...)
		for _, v := range pg {
			wantG = append(wantG, v.(float32))
		}
		for _, v := range pi {
			wantI = append(wantI, v.(float32))
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		model  string
		inputs gonnx.Tensors
		want   []float32
	}{
		{"g", gonnx.Tensors{"sequence": tensor.New(tensor.WithShape(rows, T, F), tensor.WithBacking(seq))}, wantG},
		{"inc", gonnx.Tensors{
			"features": tensor.New(tensor.WithShape(rows, 2), tensor.WithBacking(hs)),
			"sequence": tensor.New(tensor.WithShape(rows, T, F), tensor.WithBacking(slices.Clone(seq)))}, wantI},
	} {
		path := filepath.Join(t.TempDir(), c.model+".onnx")
		exec(t, db, `SELECT * FROM export_onnx('`+c.model+`', '`+path+`')`)
		out, err := osexec.Command(systemPython, "-c", `import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
print(" ".join(i.name for i in m.graph.input))`, path).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: onnx.checker: %v\n%s", c.model, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != strings.Join(slices.Sorted(maps.Keys(c.inputs)), " ") {
			t.Errorf("%s: inputs %q", c.model, got)
		}
		m, err := gonnx.NewModelFromFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res, err := m.Run(c.inputs)
		if err != nil {
			t.Fatalf("%s: gonnx: %v", c.model, err)
		}
		got, _ := res["probabilities"].Data().([]float32)
		if len(got) != len(c.want) {
			t.Fatalf("%s: gonnx gives %d values, want %d", c.model, len(got), len(c.want))
		}
		worst := 0.0
		for i := range got {
			worst = max(worst, math.Abs(float64(got[i]-c.want[i])))
		}
		if worst > 1e-5 {
			t.Errorf("%s: gonnx and predict_proba differ by up to %g", c.model, worst)
		}
		t.Logf("%s, %d rows: gonnx vs predict_proba max |Δ| = %.2g", c.model, rows, worst)
	}
}

// TestOlderStore: a store written before hepsql_version and feature types
// were recorded (the column dropped, the types taken out of the features
// JSON) still lists, exports and trains: the version is NULL and the
// types empty for the old rows, and a new version records both.
func TestOlderStore(t *testing.T) {
	db := open(t, "")
	exec(t, db, createData)
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, a, v FROM d', epochs := 1, threads := 1, hidden := [4])`)
	exec(t, db, `ALTER TABLE hepsql_models DROP COLUMN hepsql_version`)
	exec(t, db, `UPDATE hepsql_models SET features = regexp_replace(features, ',"type":"[^"]*"', '', 'g')`)
	var hv sql.NullString
	var types []any
	if err := db.QueryRow(`SELECT hepsql_version, feature_types FROM models()`).Scan(&hv, &types); err != nil {
		t.Fatal(err)
	}
	if hv.Valid || len(types) != 2 || types[0] != "" {
		t.Errorf("old row: hepsql_version %v, feature_types %v", hv, types)
	}
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, a, v FROM d', epochs := 1, threads := 1, hidden := [4])`)
	if err := db.QueryRow(`SELECT hepsql_version, feature_types FROM models() WHERE version = 2`).Scan(&hv, &types); err != nil {
		t.Fatal(err)
	}
	if !hv.Valid || hv.String == "" || len(types) != 2 || types[0] == "" {
		t.Errorf("new row: hepsql_version %v, feature_types %v", hv, types)
	}
	if _, err := db.Exec(`SELECT * FROM export_onnx('m@1', ?)`, filepath.Join(t.TempDir(), "m.onnx")); err != nil {
		t.Errorf("exporting the old version: %v", err)
	}
}
