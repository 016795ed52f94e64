package serve

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hepsql/hepsql"
)

// setup opens a database file in a temporary folder, trains model 'm'
// (version 1: three features in one list column f, two classes) through
// SQL, and serves it on a loopback port.
func setup(t *testing.T) (*sql.DB, *httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := hepsql.Open(filepath.Join(dir, "models.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	exec(t, db, `CREATE TABLE d AS SELECT (i % 2)::INTEGER AS label,
		[sin(i), cos(i * 0.7) + (i % 2), (i % 7) / 7.0]::DOUBLE[] AS f FROM range(400) t(i)`)
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, f FROM d', hidden := [8], epochs := 3, lr := 0.01, threads := 1)`)
	srv := New(db, Options{})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return db, hs, dir
}

func exec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	rows.Close()
}

// expected is each row of d: its features and predict_proba(ref, f) in SQL.
func expected(t *testing.T, db *sql.DB, ref string) ([][]float64, [][]float32) {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf(`SELECT f, predict_proba('%s', f) FROM d ORDER BY rowid LIMIT 64`, ref))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var xs [][]float64
	var ps [][]float32
	for rows.Next() {
		var x hepsql.List[float64]
		var p hepsql.List[float32]
		if err := rows.Scan(&x, &p); err != nil {
			t.Fatal(err)
		}
		xs, ps = append(xs, x), append(ps, p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return xs, ps
}

type inferResponse struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	ID           string `json:"id"`
	Outputs      []struct {
		Name     string    `json:"name"`
		Datatype string    `json:"datatype"`
		Shape    []int     `json:"shape"`
		Data     []float64 `json:"data"`
	} `json:"outputs"`
	Error string `json:"error"`
}

func post(t testing.TB, url, body string) (int, []byte) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
	}
	return resp.StatusCode, b
}

func get(t testing.TB, url string) (int, []byte) {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func v2Body(datatype string, rows [][]float64, nested bool) string {
	var data []any
	for _, r := range rows {
		if nested {
			data = append(data, r)
		} else {
			for _, v := range r {
				data = append(data, v)
			}
		}
	}
	b, _ := json.Marshal(map[string]any{"id": "req-1", "inputs": []map[string]any{{
		"name": "f", "shape": []int{len(rows), len(rows[0])}, "datatype": datatype, "data": data}}})
	return string(b)
}

// infer posts rows to url and returns the probabilities, one slice a row.
func infer(t testing.TB, url, datatype string, rows [][]float64, nested bool) (*inferResponse, [][]float64) {
	code, body := post(t, url, v2Body(datatype, rows, nested))
	if code != http.StatusOK {
		t.Errorf("POST %s: %d %s", url, code, body)
		return nil, nil
	}
	var r inferResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Errorf("%v: %s", err, body)
		return nil, nil
	}
	if len(r.Outputs) != 1 || len(r.Outputs[0].Shape) != 2 || r.Outputs[0].Shape[0] != len(rows) || r.Outputs[0].Name != "probabilities" {
		t.Errorf("outputs %+v for %d rows", r.Outputs, len(rows))
		return nil, nil
	}
	k := r.Outputs[0].Shape[1]
	var out [][]float64
	for i := range rows {
		out = append(out, r.Outputs[0].Data[i*k:(i+1)*k])
	}
	return &r, out
}

func same(t testing.TB, what string, got [][]float64, want [][]float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			t.Errorf("%s: row %d has %d classes, want %d", what, i, len(got[i]), len(want[i]))
			return
		}
		for c := range got[i] {
			if math.Abs(got[i][c]-float64(want[i][c])) > 1e-6 {
				t.Errorf("%s: row %d class %d: %g over HTTP, %g from predict_proba in SQL", what, i, c, got[i][c], want[i][c])
				return
			}
		}
	}
}

// TestInferMatchesSQL checks that predictions over HTTP, in the Open
// Inference Protocol and TFaaS's /json, one row and many, flat and nested
// data, FP32 and FP64, equal predict_proba in SQL to 1e-6.
func TestInferMatchesSQL(t *testing.T) {
	db, hs, _ := setup(t)
	xs, want := expected(t, db, "m")
	url := hs.URL + "/v2/models/m/infer"
	for i := range 8 {
		r, got := infer(t, url, "FP32", xs[i:i+1], false)
		same(t, fmt.Sprintf("v2 row %d", i), got, want[i:i+1])
		if r != nil && (r.ModelName != "m" || r.ModelVersion != "1" || r.ID != "req-1") {
			t.Errorf("response names %q version %q id %q", r.ModelName, r.ModelVersion, r.ID)
		}
	}
	_, got := infer(t, url, "FP64", xs, true)
	same(t, "v2 64 rows, FP64, nested", got, want)
	_, got = infer(t, hs.URL+"/v2/models/m/versions/1/infer", "FP32", xs, false)
	same(t, "v2 version 1, 64 rows", got, want)

	// TFaaS's /json: keys in another order than the model's.
	keys := []string{"f[3]", "f[1]", "f[2]"}
	for i := range 4 {
		body, _ := json.Marshal(map[string]any{"keys": keys, "values": []float64{xs[i][2], xs[i][0], xs[i][1]}, "model": "m"})
		code, b := post(t, hs.URL+"/json", string(body))
		var p []float64
		if code != http.StatusOK || json.Unmarshal(b, &p) != nil {
			t.Fatalf("/json: %d %s", code, b)
		}
		same(t, fmt.Sprintf("/json row %d", i), [][]float64{p}, want[i:i+1])
	}
	body, _ := json.Marshal(map[string]any{"values": xs, "model": "m@1"})
	code, b := post(t, hs.URL+"/json", string(body))
	var ps [][]float64
	if code != http.StatusOK || json.Unmarshal(b, &ps) != nil {
		t.Fatalf("/json, 64 rows: %d %s", code, b)
	}
	same(t, "/json 64 rows", ps, want)
}

// TestConcurrentClients sends one-row requests from many clients at once,
// so that they are batched together, and checks that each gets its own
// row's probabilities back.
func TestConcurrentClients(t *testing.T) {
	db, hs, _ := setup(t)
	xs, want := expected(t, db, "m")
	url := hs.URL + "/v2/models/m/infer"
	var wg sync.WaitGroup
	for c := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 16 {
				i := (c*16 + k) % len(xs)
				n := 1 + k%3 // one to three rows
				if i+n > len(xs) {
					i = 0
				}
				_, got := infer(t, url, "FP32", xs[i:i+n], false)
				same(t, fmt.Sprintf("client %d request %d", c, k), got, want[i:i+n])
			}
		}()
	}
	wg.Wait()
}

// TestMetadata checks health, server and model metadata and /models.
func TestMetadata(t *testing.T) {
	_, hs, _ := setup(t)
	for _, p := range []string{"/v2/health/live", "/v2/health/ready", "/v2", "/v2/models/m/ready"} {
		if code, b := get(t, hs.URL+p); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, code, b)
		}
	}
	for _, p := range []string{"/v2/models/m", "/v2/models/m/versions/1"} {
		code, b := get(t, hs.URL+p)
		var md struct {
			Name     string       `json:"name"`
			Versions []string     `json:"versions"`
			Inputs   []tensorMeta `json:"inputs"`
			Outputs  []tensorMeta `json:"outputs"`
		}
		if code != http.StatusOK || json.Unmarshal(b, &md) != nil {
			t.Fatalf("GET %s: %d %s", p, code, b)
		}
		if md.Name != "m" || fmt.Sprint(md.Versions) != "[1]" || len(md.Inputs) != 1 || md.Inputs[0].Name != "f" ||
			md.Inputs[0].Datatype != "FP32" || fmt.Sprint(md.Inputs[0].Shape) != "[-1 3]" ||
			len(md.Outputs) != 1 || fmt.Sprint(md.Outputs[0].Shape) != "[-1 2]" {
			t.Errorf("GET %s: %s", p, b)
		}
	}
	code, b := get(t, hs.URL+"/models")
	var ms []struct {
		Name    string   `json:"name"`
		Version int64    `json:"version"`
		Keys    []string `json:"keys"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &ms) != nil || len(ms) != 1 || ms[0].Name != "m" ||
		ms[0].Version != 1 || fmt.Sprint(ms[0].Keys) != "[f[1] f[2] f[3]]" {
		t.Errorf("GET /models: %d %s", code, b)
	}
}

// TestErrors checks that bad requests get 400 or 404 with a message that
// says what is wrong and names no server path.
func TestErrors(t *testing.T) {
	_, hs, dir := setup(t)
	one := `{"inputs":[{"name":"f","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`
	cases := []struct {
		method, path, body string
		code               int
		says               string
	}{
		{"POST", "/v2/models/nosuch/infer", one, 404, `"nosuch"`},
		{"GET", "/v2/models/nosuch", "", 404, `"nosuch"`},
		{"POST", "/v2/models/m/versions/7/infer", one, 404, "versions 1"},
		{"POST", "/v2/models/m/versions/x/infer", one, 400, "version"},
		{"POST", "/v2/models/m/infer", `{"inputs":[`, 400, "malformed JSON"},
		{"POST", "/v2/models/m/infer", `not json`, 400, "malformed JSON"},
		{"POST", "/v2/models/m/infer", `{"inputs":[{"name":"f","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`, 400, "shape"},
		{"POST", "/v2/models/m/infer", `{"inputs":[{"name":"f","shape":[2,3],"datatype":"FP32","data":[1,2,3]}]}`, 400, "3 values"},
		{"POST", "/v2/models/m/infer", `{"inputs":[{"name":"f","shape":[1,3],"datatype":"BYTES","data":[1,2,3]}]}`, 400, "datatype"},
		{"POST", "/v2/models/m/infer", `{"inputs":[{"name":"f","shape":[1,3],"datatype":"INT32","data":[1,2.5,3]}]}`, 400, "whole number"},
		{"POST", "/v2/models/m/infer", `{"inputs":[{"name":"f","shape":[1,3],"datatype":"FP32","data":[1,"a",3]}]}`, 400, "want numbers"},
		{"POST", "/v2/models/m/infer", `{"inputs":[{"name":"g","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`, 400, `"f"`},
		{"POST", "/v2/models/m/infer", `{"inputs":[]}`, 400, "1 input"},
		{"POST", "/v2/models/m/infer", `{"inputs":[{"name":"f","shape":[1,3],"datatype":"FP32","data":[1,,3]}]}`, 400, "malformed JSON"},
		{"POST", "/v2/models/m/infer", `{"inputs":[{"name":"f","shape":[1,3],"datatype":"FP32","data":[1,2,3`, 400, "malformed JSON"},
		{"POST", "/json", `{"keys":["a"],"values":[1],"model":"m"}`, 400, "keys"},
		{"POST", "/json", `{"values":[1,2,3],"model":"nosuch"}`, 404, `"nosuch"`},
		{"POST", "/json", `{"values":"x","model":"m"}`, 400, "values"},
		{"GET", "/nowhere", "", 404, "no endpoint"},
	}
	// A long data array is read apart from encoding/json (fastdata.go):
	// its grammar is checked there.
	long := strings.Repeat("0.5,", 300)
	cases = append(cases, struct {
		method, path, body string
		code               int
		says               string
	}{"POST", "/v2/models/m/infer", `{"inputs":[{"name":"f","shape":[101,3],"datatype":"FP32","data":[` + long + `,1,2,3]}]}`, 400, "want numbers"})
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, hs.URL+c.path, bytes.NewReader([]byte(c.body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct{ Error string }
		if resp.StatusCode != c.code || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, c.says) {
			t.Errorf("%s %s %s: %d %s; want %d and an error saying %s", c.method, c.path, c.body, resp.StatusCode, b, c.code, c.says)
		}
		if strings.Contains(string(b), dir) {
			t.Errorf("%s %s: the answer names the server's folder: %s", c.method, c.path, b)
		}
	}
}

// TestNewVersionServedAtOnce trains version 2 while the server runs: a
// request without a version gets version 2's outputs at once; version 1
// stays reachable by number.
func TestNewVersionServedAtOnce(t *testing.T) {
	db, hs, _ := setup(t)
	xs, want1 := expected(t, db, "m@1")
	url := hs.URL + "/v2/models/m/infer"
	r, got := infer(t, url, "FP32", xs, false)
	same(t, "version 1", got, want1)
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, f FROM d', hidden := [5, 4], epochs := 2, lr := 0.02, threads := 1)`)
	_, want2 := expected(t, db, "m")
	r, got = infer(t, url, "FP32", xs, false)
	if r == nil || r.ModelVersion != "2" {
		t.Fatalf("after training version 2, the server answers with version %+v", r)
	}
	same(t, "version 2, served at once", got, want2)
	_, got = infer(t, hs.URL+"/v2/models/m/versions/1/infer", "FP32", xs, false)
	same(t, "version 1 by number", got, want1)
	exec(t, db, `SELECT * FROM promote_model('m', 1)`)
	r, got = infer(t, url, "FP32", xs, false)
	if r == nil || r.ModelVersion != "1" {
		t.Fatalf("after promoting version 1, the server answers with version %+v", r)
	}
	same(t, "version 1 promoted", got, want1)
}

// FuzzDecodeInfer feeds the request decoder arbitrary bodies: it returns
// rows × width values or a request error, never panics.
func FuzzDecodeInfer(f *testing.F) {
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`))
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[2,3],"datatype":"INT8","data":[[1,2,3],[4,5,6]]}]}`))
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[3],"datatype":"FP64","data":[1e3,-2.5e-3,0]}]}`))
	f.Add([]byte(`{"id":"a","inputs":[{"name":"x","shape":[1048576,3],"datatype":"FP32","data":[]}]}`))
	big := []byte(`{"inputs":[{"name":"x","shape":[40,3],"datatype":"FP32","data":[`)
	for i := range 120 {
		if i > 0 {
			big = append(big, ',')
		}
		big = append(big, fmt.Sprintf("%d.%03d", i-60, i)...)
	}
	f.Add(append(big, "]}]}"...))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, x, rows, err := decodeInfer(body, -1, "x", 3)
		if err != nil {
			if _, ok := err.(*requestError); !ok {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		if rows < 1 || len(x) != rows*3 {
			t.Fatalf("%d rows, %d values", rows, len(x))
		}
		for _, v := range x {
			if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
				t.Fatalf("value %g", v)
			}
		}
	})
}

// FuzzDecodeTFaaS feeds TFaaS's /json decoder arbitrary bodies: it returns
// rows × 3 values or a request error, never panics.
func FuzzDecodeTFaaS(f *testing.F) {
	f.Add([]byte(`{"keys":["b","a","c"],"values":[1,2,3],"model":"m"}`))
	f.Add([]byte(`{"values":[[1,2,3],[4,5,6]],"model":"m"}`))
	f.Add([]byte(`{"keys":["a","a","c"],"values":[1,2,3],"model":"m"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req tfaasRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		x, rows, err := decodeTFaaS(&req, []string{"a", "b", "c"})
		if err != nil {
			if _, ok := err.(*requestError); !ok {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		if rows < 1 || len(x) != rows*3 {
			t.Fatalf("%d rows, %d values", rows, len(x))
		}
	})
}

// TestDroppedVersion checks that a version dropped while serving is no
// longer served, by number or as the current one.
func TestDroppedVersion(t *testing.T) {
	db, hs, _ := setup(t)
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, f FROM d', hidden := [4], epochs := 1, threads := 1)`)
	xs, _ := expected(t, db, "m@2")
	infer(t, hs.URL+"/v2/models/m/versions/2/infer", "FP32", xs[:1], false)
	exec(t, db, `SELECT * FROM drop_model('m', version := 2)`)
	if code, b := post(t, hs.URL+"/v2/models/m/versions/2/infer", v2Body("FP32", xs[:1], false)); code != http.StatusNotFound || !strings.Contains(string(b), "versions 1") {
		t.Errorf("version 2 after its drop: %d %s", code, b)
	}
	_, want1 := expected(t, db, "m")
	r, got := infer(t, hs.URL+"/v2/models/m/infer", "FP32", xs, false)
	if r == nil || r.ModelVersion != "1" {
		t.Fatalf("after dropping version 2, the current version served is %+v", r)
	}
	same(t, "version 1 after the drop of 2", got, want1)
	exec(t, db, `SELECT * FROM drop_model('m')`)
	if code, b := post(t, hs.URL+"/v2/models/m/infer", v2Body("FP32", xs[:1], false)); code != http.StatusNotFound || !strings.Contains(string(b), `no such model \"m\"`) {
		t.Errorf("after dropping every version: %d %s", code, b)
	}
}

// TestUClusterNotServed checks that a ucluster model in the store leaves
// the other models served and listed, and that asking for it gets a 400
// that says why.
func TestUClusterNotServed(t *testing.T) {
	db, hs, _ := setup(t)
	exec(t, db, `CREATE TABLE jets AS SELECT (i % 3)::INTEGER AS aux_label,
		list_transform(range(3 + i % 5), k -> [sin(i + k), cos(i * k), k, i % 3 + 1, -k, 0.5, k * k, 1]::FLOAT[]) AS particles
		FROM range(60) t(i)`)
	exec(t, db, `SELECT count(*) FROM train('uc', 'SELECT particles, aux_label FROM jets', model := 'ucluster',
		pretrain_epochs := 1, epochs := 1, embed := 4, batch := 16, threads := 1)`)
	code, b := get(t, hs.URL+"/models")
	if code != http.StatusOK || !strings.Contains(string(b), `"m"`) || strings.Contains(string(b), `"uc"`) {
		t.Errorf("GET /models: %d %s", code, b)
	}
	code, b = get(t, hs.URL+"/v2/models/uc")
	if code != http.StatusBadRequest || !strings.Contains(string(b), "ucluster") {
		t.Errorf("GET /v2/models/uc: %d %s", code, b)
	}
	if code, b := get(t, hs.URL+"/v2/models/m"); code != http.StatusOK {
		t.Errorf("GET /v2/models/m beside a ucluster model: %d %s", code, b)
	}
}
