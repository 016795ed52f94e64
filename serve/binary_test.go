package serve

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// binaryBody builds a binary-extension request for rows as datatype
// (FP32 or FP64), written with encoding/binary rather than the server's
// code; binOut asks for the output in binary. It returns the body and
// its JSON header's length.
func binaryBody(datatype string, rows [][]float64, binOut bool) ([]byte, int) {
	var data bytes.Buffer
	for _, r := range rows {
		for _, v := range r {
			if datatype == "FP64" {
				binary.Write(&data, binary.LittleEndian, v)
			} else {
				binary.Write(&data, binary.LittleEndian, float32(v))
			}
		}
	}
	req := map[string]any{"id": "bin-1", "inputs": []map[string]any{{
		"name": "f", "shape": []int{len(rows), len(rows[0])}, "datatype": datatype,
		"parameters": map[string]any{"binary_data_size": data.Len()}}}}
	if binOut {
		req["outputs"] = []map[string]any{{"name": "probabilities", "parameters": map[string]any{"binary_data": true}}}
	}
	h, _ := json.Marshal(req)
	return append(h, data.Bytes()...), len(h)
}

// postBinary posts body with its Inference-Header-Content-Length.
func postBinary(t testing.TB, url string, body []byte, headerLen int) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(binaryHeader, strconv.Itoa(headerLen))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// inferBinary sends rows in binary and returns the probabilities, one
// slice a row, read from the JSON or binary answer.
func inferBinary(t testing.TB, url, datatype string, rows [][]float64, binOut bool) [][]float64 {
	t.Helper()
	body, n := binaryBody(datatype, rows, binOut)
	resp, b := postBinary(t, url, body, n)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	hdr := len(b)
	if binOut {
		h, err := strconv.Atoi(resp.Header.Get(binaryHeader))
		if err != nil || h > len(b) {
			t.Fatalf("binary answer with %s %q, %d bytes", binaryHeader, resp.Header.Get(binaryHeader), len(b))
		}
		hdr = h
	}
	var r struct {
		ID      string
		Outputs []struct {
			Name       string
			Shape      []int
			Data       []float64
			Parameters struct {
				BinaryDataSize *int `json:"binary_data_size"`
			}
		}
	}
	if err := json.Unmarshal(b[:hdr], &r); err != nil || len(r.Outputs) != 1 || len(r.Outputs[0].Shape) != 2 || r.Outputs[0].Shape[0] != len(rows) || r.ID != "bin-1" {
		t.Fatalf("answer %s: %v", b[:hdr], err)
	}
	o := r.Outputs[0]
	k := o.Shape[1]
	if binOut {
		if o.Data != nil || o.Parameters.BinaryDataSize == nil || *o.Parameters.BinaryDataSize != len(b)-hdr || len(b)-hdr != 4*len(rows)*k {
			t.Fatalf("binary answer %s with %d bytes after it", b[:hdr], len(b)-hdr)
		}
		for i := range len(rows) * k {
			o.Data = append(o.Data, float64(math.Float32frombits(binary.LittleEndian.Uint32(b[hdr+4*i:]))))
		}
	}
	var out [][]float64
	for i := range rows {
		out = append(out, o.Data[i*k:(i+1)*k])
	}
	return out
}

// TestBinaryMatchesJSONAndSQL checks that requests in the binary tensor
// extension (FP32 and FP64, one row and many, answers in JSON and in
// binary) predict what predict_proba does in SQL, and exactly what the
// same rows sent as JSON numbers do.
func TestBinaryMatchesJSONAndSQL(t *testing.T) {
	db, hs, _ := setup(t)
	xs, want := expected(t, db, "m")
	url := hs.URL + "/v2/models/m/infer"
	for _, dt := range []string{"FP32", "FP64"} {
		_, viaJSON := infer(t, url, dt, xs, false)
		for _, binOut := range []bool{false, true} {
			what := fmt.Sprintf("%s, binary output %v", dt, binOut)
			got := inferBinary(t, url, dt, xs, binOut)
			same(t, what+", 64 rows", got, want)
			for i := range got {
				for c := range got[i] {
					if float32(got[i][c]) != float32(viaJSON[i][c]) {
						t.Fatalf("%s: row %d class %d: %g in binary, %g in JSON", what, i, c, got[i][c], viaJSON[i][c])
					}
				}
			}
			for i := range 4 {
				same(t, fmt.Sprintf("%s, row %d", what, i), inferBinary(t, url, dt, xs[i:i+1], binOut), want[i:i+1])
			}
		}
	}
	// binary_data_output for every output, JSON input.
	var v2 map[string]any
	json.Unmarshal([]byte(v2Body("FP32", xs[:2], false)), &v2)
	v2["parameters"] = map[string]any{"binary_data_output": true}
	b, _ := json.Marshal(v2)
	resp, ans := postBinary(t, url, b, len(b))
	h, _ := strconv.Atoi(resp.Header.Get(binaryHeader))
	if resp.StatusCode != 200 || h <= 0 || len(ans)-h != 2*2*4 {
		t.Fatalf("binary_data_output: %d, %s %q, %d bytes", resp.StatusCode, binaryHeader, resp.Header.Get(binaryHeader), len(ans))
	}
	for i := range 4 {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(ans[h+4*i:])); got != want[i/2][i%2] && math.Abs(float64(got-want[i/2][i%2])) > 1e-6 {
			t.Errorf("binary_data_output value %d: %g, predict_proba %g", i, got, want[i/2][i%2])
		}
	}
}

// TestBinaryErrors checks that malformed binary requests answer 400 with
// a message that says what is wrong.
func TestBinaryErrors(t *testing.T) {
	_, hs, _ := setup(t)
	url := hs.URL + "/v2/models/m/infer"
	good, n := binaryBody("FP32", [][]float64{{1, 2, 3}, {4, 5, 6}}, false)
	hdr := func(size int, shape string) string {
		return `{"inputs":[{"name":"f","shape":` + shape + `,"datatype":"FP32","parameters":{"binary_data_size":` + strconv.Itoa(size) + `}}]}`
	}
	nan := binary.LittleEndian.AppendUint32(nil, 0x7fc00000)
	cases := []struct {
		body      []byte
		headerLen int // -1: no header
		header    string
		says      string
	}{
		{good[:len(good)-1], n, "", "only 23 bytes"},                                                   // truncated
		{append(good[:n:n], make([]byte, 12)...), n, "", "only 12 bytes"},                              // too short for its size
		{append(append([]byte(nil), good...), 0), n, "", "1 bytes after"},                              // a byte too many
		{[]byte(hdr(1<<40, "[2,3]")), len(hdr(1<<40, "[2,3]")), "", "binary_data_size 1099511627776"},  // huge
		{append([]byte(hdr(20, "[2,3]")), make([]byte, 20)...), len(hdr(20, "[2,3]")), "", "24 bytes"}, // size ≠ shape × 4
		{append([]byte(hdr(12, "[1,3]")), append(nan, make([]byte, 8)...)...), len(hdr(12, "[1,3]")), "", "not a finite"},
		{[]byte(hdr(12, "[1,3]")), -1, "", "no Inference-Header-Content-Length"},
		{good, len(good) + 1, "", "bytes of JSON"},
		{good, 0, "x", "not a byte count"},
		{good, n - 1, "", "malformed JSON"},
		{[]byte(`{"inputs":[{"name":"f","shape":[1,3],"datatype":"FP32","data":[1,2,3],"parameters":{"binary_data_size":12}}]}` + strings.Repeat("\x00", 12)), 109, "", "given twice"},
		{[]byte(`{"inputs":[{"name":"f","shape":[1,3],"datatype":"BYTES","parameters":{"binary_data_size":12}}]}` + strings.Repeat("\x00", 12)), 95, "", "datatype"},
	}
	for i, c := range cases {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(c.body))
		switch {
		case c.header != "":
			req.Header.Set(binaryHeader, c.header)
		case c.headerLen >= 0:
			req.Header.Set(binaryHeader, strconv.Itoa(c.headerLen))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct{ Error string }
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, c.says) {
			t.Errorf("case %d: %d %s; want 400 and an error saying %s", i, resp.StatusCode, b, c.says)
		}
	}
}

// FuzzDecodeInferBinary feeds the decoder arbitrary bodies with a binary
// part after headerLen bytes: it returns rows × width finite values or a
// request error, never panics, and never allocates for sizes the body
// does not hold.
func FuzzDecodeInferBinary(f *testing.F) {
	for _, dt := range []string{"FP32", "FP64"} {
		b, n := binaryBody(dt, [][]float64{{1, 2, 3}, {-4, 5e-3, 6e10}}, true)
		f.Add(b, n)
	}
	b, n := binaryBody("FP32", [][]float64{{1, 2, 3}}, false)
	f.Add(b[:len(b)-2], n)
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[1048576,3],"datatype":"INT8","parameters":{"binary_data_size":3}}]}abc`), 99)
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[1,3],"datatype":"UINT16","parameters":{"binary_data_size":6}}]}abcdef`), 95)
	f.Fuzz(func(t *testing.T, body []byte, headerLen int) {
		_, x, rows, err := decodeInfer(body, headerLen, "x", 3)
		if err != nil {
			if _, ok := err.(*requestError); !ok {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		if rows < 1 || len(x) != rows*3 || rows*3 > len(body) {
			t.Fatalf("%d rows, %d values from %d bytes", rows, len(x), len(body))
		}
		for _, v := range x {
			if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
				t.Fatalf("value %g", v)
			}
		}
	})
}
