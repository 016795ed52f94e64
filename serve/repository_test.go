package serve

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hepsql/hepsql"
)

// sqlMetadata is models()'s metadata column for the rows where selects,
// decoded, by name and version.
func sqlMetadata(t *testing.T, q func(string, ...any) []string, where string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, doc := range q(`SELECT metadata FROM models() ` + where + ` ORDER BY name, version`) {
		var m map[string]any
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestRepositoryOverHTTP: the metadata endpoint, over a loopback server,
// gives the inputs, shapes and types of the stored model's features and
// its repository metadata as models() has it; GET /v2/models lists every
// version as models() does; Triton's index has every version; a model
// trained while the server runs shows in all of them at once.
func TestRepositoryOverHTTP(t *testing.T) {
	db, hs, _ := setup(t)
	exec(t, db, `CREATE TABLE e AS SELECT (i % 3)::BIGINT AS cls, i / 100.0 AS x, (i % 5)::FLOAT AS y FROM range(300) t(i)`)
	exec(t, db, `SELECT count(*) FROM train('two', 'SELECT cls, x, y FROM e', label := 'cls', hidden := [4], epochs := 1, threads := 1)`)
	strs := func(q string, args ...any) []string {
		t.Helper()
		rows, err := db.Query(q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	typeF := strs(`SELECT typeof(f) FROM d LIMIT 1`)[0]
	typeX, typeY := strs(`SELECT typeof(x) FROM e LIMIT 1`)[0], strs(`SELECT typeof(y) FROM e LIMIT 1`)[0]

	type meta struct {
		Name       string         `json:"name"`
		Versions   []string       `json:"versions"`
		Platform   string         `json:"platform"`
		Inputs     []tensorMeta   `json:"inputs"`
		Outputs    []tensorMeta   `json:"outputs"`
		Parameters map[string]any `json:"parameters"`
	}
	getMeta := func(path string) meta {
		t.Helper()
		code, b := get(t, hs.URL+path)
		var md meta
		if code != http.StatusOK || json.Unmarshal(b, &md) != nil {
			t.Fatalf("GET %s: %d %s", path, code, b)
		}
		return md
	}
	check := func(path string, wantInputs string, columns [][2]string, classes int) {
		t.Helper()
		md := getMeta(path)
		if got := fmt.Sprint(md.Inputs); got != wantInputs {
			t.Errorf("GET %s: inputs %s, want %s", path, got, wantInputs)
		}
		if got := fmt.Sprint(md.Outputs); got != fmt.Sprintf("[{probabilities FP32 [-1 %d]}]", classes) {
			t.Errorf("GET %s: outputs %s", path, got)
		}
		cols, _ := md.Parameters["columns"].([]any)
		var got [][2]string
		for _, c := range cols {
			c := c.(map[string]any)
			got = append(got, [2]string{c["name"].(string), c["type"].(string)})
		}
		if !reflect.DeepEqual(got, columns) {
			t.Errorf("GET %s: columns %v, want %v", path, got, columns)
		}
		// Every repository field is models()'s for the same version.
		v := int64(md.Parameters["version"].(float64))
		want := sqlMetadata(t, strs, fmt.Sprintf("WHERE name = '%s' AND version = %d", md.Name, v))
		if len(want) != 1 {
			t.Fatalf("models() has %d rows for %s@%d", len(want), md.Name, v)
		}
		for _, k := range []string{"current", "label", "classes", "rows", "train_seconds", "metrics", "options", "query", "hepsql_version", "created", "architecture"} {
			if !reflect.DeepEqual(md.Parameters[k], want[0][k]) {
				t.Errorf("GET %s: %s = %v; models() has %v", path, k, md.Parameters[k], want[0][k])
			}
		}
		if !reflect.DeepEqual(md.Parameters["features"], want[0]["inputs"]) {
			t.Errorf("GET %s: features %v; models() inputs %v", path, md.Parameters["features"], want[0]["inputs"])
		}
	}
	check("/v2/models/m", "[{f FP32 [-1 3]}]", [][2]string{{"f", typeF}}, 2)
	check("/v2/models/two/versions/1", "[{features FP32 [-1 2]}]", [][2]string{{"x", typeX}, {"y", typeY}}, 3)

	// Trained while serving: at once in models(), the metadata endpoint,
	// the listing and the index.
	exec(t, db, `SELECT count(*) FROM train('fresh', 'SELECT cls, y FROM e', label := 'cls', hidden := [3], epochs := 1, threads := 1)`)
	if n := strs(`SELECT name FROM models() WHERE name = 'fresh'`); len(n) != 1 {
		t.Fatalf("models() after training 'fresh': %v", n)
	}
	check("/v2/models/fresh", "[{y FP32 [-1 1]}]", [][2]string{{"y", typeY}}, 3)
	exec(t, db, `SELECT count(*) FROM train('two', 'SELECT cls, x, y FROM e', label := 'cls', hidden := [6], epochs := 1, threads := 1)`)
	if md := getMeta("/v2/models/two"); fmt.Sprint(md.Versions) != "[1 2]" || md.Parameters["version"].(float64) != 2 || md.Parameters["current"] != true {
		t.Errorf("GET /v2/models/two after version 2: versions %v, parameters %v", md.Versions, md.Parameters)
	}

	// The listing is models()'s documents, in its order.
	code, b := get(t, hs.URL+"/v2/models")
	var list struct {
		Models []map[string]any `json:"models"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &list) != nil {
		t.Fatalf("GET /v2/models: %d %s", code, b)
	}
	if want := sqlMetadata(t, strs, ""); !reflect.DeepEqual(list.Models, want) || len(want) != 4 {
		t.Errorf("GET /v2/models:\n%v\nmodels():\n%v", list.Models, want)
	}
	code, b = get(t, hs.URL+"/v2/models?name=two")
	if code != http.StatusOK || json.Unmarshal(b, &list) != nil || len(list.Models) != 2 {
		t.Errorf("GET /v2/models?name=two: %d %s", code, b)
	}
	code, b = post(t, hs.URL+"/v2/repository/index", `{"ready": true}`)
	var index []map[string]string
	if code != http.StatusOK || json.Unmarshal(b, &index) != nil {
		t.Fatalf("POST /v2/repository/index: %d %s", code, b)
	}
	var got []string
	for _, e := range index {
		got = append(got, e["name"]+"@"+e["version"]+":"+e["state"])
	}
	if fmt.Sprint(got) != "[fresh@1:READY m@1:READY two@1:READY two@2:READY]" {
		t.Errorf("index: %v", got)
	}
}

// TestONNXOverHTTP: GET …/onnx hands out the same bytes as export_onnx
// writes, for an mlp and a gru; an unknown model is 404.
func TestONNXOverHTTP(t *testing.T) {
	db, hs, dir := setup(t)
	path := filepath.Join(dir, "m.onnx")
	exec(t, db, fmt.Sprintf(`SELECT * FROM export_onnx('m', '%s')`, path))
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/v2/models/m/onnx", "/v2/models/m/versions/1/onnx"} {
		code, b := get(t, hs.URL+p)
		if code != http.StatusOK || !bytes.Equal(b, want) {
			t.Errorf("GET %s: %d, %d bytes; export_onnx wrote %d", p, code, len(b), len(want))
		}
	}
	seqTable(t, db)
	exec(t, db, `SELECT count(*) FROM train('g', 'SELECT label, parts FROM s', model := 'gru', gru_units := 4, epochs := 1, threads := 1, validation := 0)`)
	gpath := filepath.Join(dir, "g.onnx")
	exec(t, db, fmt.Sprintf(`SELECT * FROM export_onnx('g', '%s')`, gpath))
	want, err = os.ReadFile(gpath)
	if err != nil {
		t.Fatal(err)
	}
	if code, b := get(t, hs.URL+"/v2/models/g/onnx"); code != http.StatusOK || !bytes.Equal(b, want) {
		t.Errorf("GET /v2/models/g/onnx: %d, %d bytes; export_onnx wrote %d", code, len(b), len(want))
	}
	if code, b := get(t, hs.URL+"/v2/models/nosuch/onnx"); code != http.StatusNotFound {
		t.Errorf("GET /v2/models/nosuch/onnx: %d %s", code, b)
	}
}

// seqTable makes s: 300 rows of a label, two high-level values and a
// sequence of 1 to 4 two-value steps.
func seqTable(t *testing.T, db *sql.DB) {
	exec(t, db, `CREATE TABLE s AS SELECT i, (i % 2)::BIGINT AS label,
		[(i % 2) + (hash(i) % 100) / 100.0, (i % 7) / 7.0]::DOUBLE[] AS h,
		[[(i % 2) + (hash(i * 31 + j) % 100) / 100.0, j / 4.0 + 0.1] FOR j IN range(1 + i % 4)]::DOUBLE[][] AS parts
		FROM range(300) t(i)`)
}

// TestSequenceInfer: gru and inclusive models over the v2 protocol give
// predict_proba's probabilities in SQL, with the sequence padded by the
// client or (fewer steps than the model's) by the server.
func TestSequenceInfer(t *testing.T) {
	db, hs, _ := setup(t)
	seqTable(t, db)
	exec(t, db, `SELECT count(*) FROM train('g', 'SELECT label, parts FROM s', model := 'gru', gru_units := 5, epochs := 2, threads := 1, validation := 0)`)
	exec(t, db, `SELECT count(*) FROM train('inc', 'SELECT label, h, parts FROM s', model := 'inclusive', gru_units := 4, hidden := [6], epochs := 2, threads := 1, validation := 0)`)
	type row struct {
		h     []float64
		parts [][]float64
		g, in []float32
	}
	rs, err := db.Query(`SELECT h, parts, predict_proba('g', parts), predict_proba('inc', h, parts) FROM s ORDER BY i LIMIT 40`)
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	for rs.Next() {
		var h hepsql.List[float64]
		var parts []any
		var g, in hepsql.List[float32]
		if err := rs.Scan(&h, &parts, &g, &in); err != nil {
			t.Fatal(err)
		}
		r := row{h: h, g: g, in: in}
		for _, p := range parts {
			var st []float64
			for _, v := range p.([]any) {
				st = append(st, v.(float64))
			}
			r.parts = append(r.parts, st)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	// body is a request of the rows' sequences padded to steps steps, with
	// the high-level tensor when withH.
	body := func(rows []row, steps int, withH bool) string {
		var seq, hs []float64
		for _, r := range rows {
			for j := range steps {
				if j < len(r.parts) {
					seq = append(seq, r.parts[j]...)
				} else {
					seq = append(seq, 0, 0)
				}
			}
			hs = append(hs, r.h...)
		}
		in := []map[string]any{{"name": "sequence", "datatype": "FP32", "shape": []int{len(rows), steps, 2}, "data": seq}}
		if withH {
			in = append([]map[string]any{{"name": "h", "datatype": "FP64", "shape": []int{len(rows), 2}, "data": hs}}, in...)
		}
		b, _ := json.Marshal(map[string]any{"id": "q", "inputs": in})
		return string(b)
	}
	run := func(what, model, req string, rows []row, pick func(row) []float32) {
		t.Helper()
		code, b := post(t, hs.URL+"/v2/models/"+model+"/infer", req)
		var r inferResponse
		if code != http.StatusOK || json.Unmarshal(b, &r) != nil || len(r.Outputs) != 1 || r.ID != "q" {
			t.Fatalf("%s: %d %s", what, code, b)
		}
		var got [][]float64
		var want [][]float32
		for i, row := range rows {
			got = append(got, r.Outputs[0].Data[2*i:2*i+2])
			want = append(want, pick(row))
		}
		same(t, what, got, want)
	}
	short := []row{}
	for _, r := range rows {
		if len(r.parts) <= 2 {
			short = append(short, r)
		}
	}
	g := func(r row) []float32 { return r.g }
	in := func(r row) []float32 { return r.in }
	run("gru, padded by the client", "g", body(rows, 4, false), rows, g)
	run("gru, padded by the server", "g", body(short, 2, false), short, g)
	run("inclusive, padded by the client", "inc", body(rows, 4, true), rows, in)
	run("inclusive, padded by the server", "inc", body(short, 2, true), short, in)

	// Both tensors in binary (FP64 then FP32, in the header's order):
	// the same probabilities.
	for _, c := range []struct {
		model, req string
		rows       []row
		pick       func(row) []float32
	}{{"g", body(short, 2, false), short, g}, {"inc", body(rows, 4, true), rows, in}} {
		bin, n := toBinary(t, c.req)
		resp, b := postBinary(t, hs.URL+"/v2/models/"+c.model+"/infer", bin, n)
		var r inferResponse
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &r) != nil || len(r.Outputs) != 1 {
			t.Fatalf("%s in binary: %d %s", c.model, resp.StatusCode, b)
		}
		var got [][]float64
		var want [][]float32
		for i, row := range c.rows {
			got = append(got, r.Outputs[0].Data[2*i:2*i+2])
			want = append(want, c.pick(row))
		}
		same(t, c.model+" in binary", got, want)
	}

	// The metadata gives both tensors; bad requests say what is wanted.
	code, b := get(t, hs.URL+"/v2/models/inc")
	if code != http.StatusOK || !strings.Contains(string(b), `"inputs":[{"name":"h","datatype":"FP32","shape":[-1,2]},{"name":"sequence","datatype":"FP32","shape":[-1,4,2]}]`) {
		t.Errorf("GET /v2/models/inc: %d %s", code, b)
	}
	for _, c := range []struct{ model, body, says string }{
		{"g", body(rows[:1], 4, true), `unexpected input "h"`},
		{"inc", body(rows[:1], 4, false), `"h" [rows, 2]`},
		{"g", `{"inputs":[{"name":"sequence","datatype":"FP32","shape":[1,5,2],"data":[1,2,3,4,5,6,7,8,9,10]}]}`, "steps <= 4"},
		{"g", `{"inputs":[{"name":"sequence","datatype":"FP32","shape":[1,2,2],"data":[1,2,3]}]}`, "3 values"},
	} {
		code, b := post(t, hs.URL+"/v2/models/"+c.model+"/infer", c.body)
		var e struct{ Error string }
		if code != http.StatusBadRequest || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, c.says) {
			t.Errorf("%s: %d %s; want 400 saying %s", c.body, code, b, c.says)
		}
	}
}

// toBinary rewrites a JSON v2 request (flat data, FP32 or FP64) into the
// binary tensor extension: each input's data as little-endian bytes after
// the JSON, in the inputs' order. It returns the body and the JSON's length.
func toBinary(t *testing.T, req string) ([]byte, int) {
	var r map[string]any
	if err := json.Unmarshal([]byte(req), &r); err != nil {
		t.Fatal(err)
	}
	var data []byte
	for _, x := range r["inputs"].([]any) {
		in := x.(map[string]any)
		n := len(data)
		for _, v := range in["data"].([]any) {
			if in["datatype"] == "FP64" {
				data = binary.LittleEndian.AppendUint64(data, math.Float64bits(v.(float64)))
			} else {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(float32(v.(float64))))
			}
		}
		delete(in, "data")
		in["parameters"] = map[string]any{"binary_data_size": len(data) - n}
	}
	h, _ := json.Marshal(r)
	return append(h, data...), len(h)
}
