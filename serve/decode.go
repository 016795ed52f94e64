package serve

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// inferRequest is the Open Inference Protocol's request body.
type inferRequest struct {
	ID      string        `json:"id,omitempty"`
	Inputs  []inputTensor `json:"inputs"`
	Outputs []struct {
		Name       string `json:"name"`
		Parameters struct {
			BinaryData *bool `json:"binary_data"`
		} `json:"parameters"`
	} `json:"outputs,omitempty"`
	Parameters struct {
		BinaryDataOutput bool `json:"binary_data_output"`
	} `json:"parameters"`
}

type inputTensor struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Data       json.RawMessage `json:"data"`
	Parameters struct {
		BinaryDataSize *int64 `json:"binary_data_size"`
	} `json:"parameters"`

	binary bool   // the values are bin's, not Data's (binary.go)
	bin    []byte // the tensor's little-endian bytes
}

// requestError is a fault of the request: its message goes back to the
// client with 400 (404 when notFound).
type requestError struct {
	msg      string
	notFound bool
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...)}
}

// maxRowsPerRequest bounds one request's rows, so that a shape cannot ask
// for more memory than the body could fill.
const maxRowsPerRequest = 1 << 20

// decodeInfer reads an inference request for a model of width inputs per
// row, named input, and returns its rows, row-major, and their number.
// headerLen is the request's Inference-Header-Content-Length (-1 without
// it): the JSON's length, binary tensors after it (binary.go).
func decodeInfer(body []byte, headerLen int, input string, width int) (req *inferRequest, x []float32, rows int, err error) {
	body, bin, err := splitBinary(body, headerLen)
	if err != nil {
		return nil, nil, 0, err
	}
	req = new(inferRequest)
	var data []byte // the data array, when found apart
	if lo, hi, ok := findData(body); ok && hi-lo > 256 {
		data = body[lo:hi]
		cut := make([]byte, 0, len(body)-(hi-lo)+4)
		cut = append(append(append(cut, body[:lo]...), "null"...), body[hi:]...)
		body = cut
	}
	if err := json.Unmarshal(body, req); err != nil {
		return nil, nil, 0, badRequest("malformed JSON: %s", jsonMessage(err))
	}
	if data != nil && len(req.Inputs) == 1 {
		if string(req.Inputs[0].Data) != "null" {
			return nil, nil, 0, badRequest("input %q: data given twice", req.Inputs[0].Name)
		}
		req.Inputs[0].Data = data
	}
	if err := req.attachBinary(bin, headerLen >= 0); err != nil {
		return nil, nil, 0, err
	}
	if len(req.Inputs) != 1 {
		return nil, nil, 0, badRequest("want 1 input tensor %q of shape [rows, %d], got %d tensors", input, width, len(req.Inputs))
	}
	for _, o := range req.Outputs {
		if o.Name != outputName {
			return nil, nil, 0, badRequest("unknown output %q; the model has one output, %q", o.Name, outputName)
		}
	}
	t := req.Inputs[0]
	if t.Name != input {
		return nil, nil, 0, badRequest("unknown input %q; the model's input is %q, of shape [rows, %d]", t.Name, input, width)
	}
	switch {
	case len(t.Shape) == 2 && t.Shape[1] == int64(width) && t.Shape[0] >= 1 && t.Shape[0] <= maxRowsPerRequest:
		rows = int(t.Shape[0])
	case len(t.Shape) == 1 && t.Shape[0] == int64(width):
		rows = 1
	default:
		return nil, nil, 0, badRequest("input %q has shape %v; want [rows, %d] with 1 <= rows <= %d", input, t.Shape, width, maxRowsPerRequest)
	}
	x, err = t.values(rows * width)
	if err != nil {
		return nil, nil, 0, badRequest("input %q: %v", input, err)
	}
	return req, x, rows, nil
}

// jsonMessage describes a JSON decoding error without Go type names.
func jsonMessage(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("%s at byte %d", e.Error(), e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("field %q has a %s where a different type is wanted (byte %d)", e.Field, e.Value, e.Offset)
	}
	return err.Error()
}

// Datatypes accepted for input tensors, with the range of their values.
var datatypes = map[string][2]float64{
	"FP32":   {-math.MaxFloat32, math.MaxFloat32},
	"FP64":   {-math.MaxFloat64, math.MaxFloat64},
	"INT8":   {math.MinInt8, math.MaxInt8},
	"INT16":  {math.MinInt16, math.MaxInt16},
	"INT32":  {math.MinInt32, math.MaxInt32},
	"INT64":  {math.MinInt64, math.MaxInt64},
	"UINT8":  {0, math.MaxUint8},
	"UINT16": {0, math.MaxUint16},
	"UINT32": {0, math.MaxUint32},
	"UINT64": {0, math.MaxUint64},
}

// parseNumbers reads a JSON array of numbers, flat or nested (row-major),
// of exactly want values of the given datatype, as float32.
func parseNumbers(data []byte, datatype string, want int) ([]float32, error) {
	lim, ok := datatypes[datatype]
	if !ok {
		return nil, fmt.Errorf("datatype %q; want FP32, FP64 or an INT or UINT type", datatype)
	}
	isInt := datatype[0] != 'F'
	out := make([]float32, 0, want)
	depth, i := 0, 0
	// expectValue: a number or '[' comes next (or ']' right after '[').
	expectValue, afterOpen := true, false
	skip := func() {
		for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
			i++
		}
	}
	skip()
	if i == len(data) || data[i] != '[' {
		return nil, fmt.Errorf("data: want an array of numbers")
	}
	depth, afterOpen = 1, true
	i++
	for {
		skip()
		if i == len(data) {
			break
		}
		if depth == 0 {
			return nil, fmt.Errorf("data: unexpected %.20q after the array", data[i:])
		}
		c := data[i]
		switch {
		case c == '[' && expectValue:
			depth++
			i++
			afterOpen = true
			continue
		case c == ']' && (!expectValue || afterOpen):
			depth--
			i++
			expectValue, afterOpen = false, false
			continue
		case c == ',' && !expectValue:
			i++
			expectValue, afterOpen = true, false
			continue
		case (c == '-' || (c >= '0' && c <= '9')) && expectValue:
		default:
			return nil, fmt.Errorf("data: want numbers in arrays, found %.20q", data[i:])
		}
		j := i + 1
		for j < len(data) && (data[j] == '.' || data[j] == 'e' || data[j] == 'E' || data[j] == '+' || data[j] == '-' || (data[j] >= '0' && data[j] <= '9')) {
			j++
		}
		v, ok := parseDecimal(data[i:j])
		if !ok {
			// The bytes are not kept: the error below quotes them anew.
			var err error
			v, err = strconv.ParseFloat(unsafe.String(&data[i], j-i), 64)
			if err != nil {
				v = math.Inf(1)
			}
		}
		if math.IsInf(v, 0) || v < lim[0] || v > lim[1] {
			return nil, fmt.Errorf("data: %.40q is not a %s value", data[i:j], datatype)
		}
		if math.Abs(v) > math.MaxFloat32 {
			return nil, fmt.Errorf("data: %.40q is beyond the network's float32 range", data[i:j])
		}
		if isInt && v != math.Trunc(v) {
			return nil, fmt.Errorf("data: %.40q is not a whole number, as %s wants", data[i:j], datatype)
		}
		if len(out) == want {
			return nil, fmt.Errorf("data has more than the %d values the shape says", want)
		}
		out = append(out, float32(v))
		i = j
		expectValue, afterOpen = false, false
	}
	if depth != 0 {
		return nil, fmt.Errorf("data: the array is not closed")
	}
	if len(out) != want {
		return nil, fmt.Errorf("data has %d values; the shape says %d", len(out), want)
	}
	return out, nil
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseDecimal reads the common JSON number, -?digits(.digits)?, of at
// most 15 significant digits, exactly as strconv.ParseFloat would (one
// correctly rounded operation on exact operands); ok false for anything
// else, which ParseFloat then reads.
func parseDecimal(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		neg, i = true, 1
	}
	var m uint64
	digits, frac, sawDot := 0, 0, false
	start := i
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if m == 0 && c == '0' && !sawDot && i > start {
				return 0, false // a leading zero: not JSON, left to ParseFloat's verdict
			}
			m = m*10 + uint64(c-'0')
			if m != 0 {
				digits++
			}
			if sawDot {
				frac++
			}
		case c == '.' && !sawDot && i > start:
			sawDot = true
		default:
			return 0, false
		}
	}
	if i == start || b[len(b)-1] == '.' || digits > 15 || frac >= len(pow10) {
		return 0, false
	}
	v := float64(m) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

// tfaasRequest is TFaaS's /json body: feature names and their values for
// one row (values a list of lists for several rows), and the model.
type tfaasRequest struct {
	Keys   []string        `json:"keys"`
	Values json.RawMessage `json:"values"`
	Model  string          `json:"model"`
}

// decodeTFaaS reads the values of a /json request in the model's input
// order; keys may come in any order, and may be left out when the values
// are in the model's order.
func decodeTFaaS(req *tfaasRequest, inputs []string) ([]float32, int, error) {
	width := len(inputs)
	order := make([]int, width) // order[k]: the position in values of input k
	if len(req.Keys) == 0 || slices.Equal(req.Keys, inputs) {
		for k := range order {
			order[k] = k
		}
	} else {
		if len(req.Keys) != width {
			return nil, 0, badRequest("%d keys; model %q takes %d: %v", len(req.Keys), req.Model, width, inputs)
		}
		pos := make(map[string]int, width)
		for i, k := range req.Keys {
			if _, dup := pos[k]; dup {
				return nil, 0, badRequest("key %q given twice", k)
			}
			pos[k] = i
		}
		for k, name := range inputs {
			i, ok := pos[name]
			if !ok {
				return nil, 0, badRequest("no key %q; model %q takes %v", name, req.Model, inputs)
			}
			order[k] = i
		}
	}
	if !nestedValues(req.Values) {
		// One row, the common case: read by the tensor reader.
		row, err := parseNumbers(req.Values, "FP64", width)
		if err != nil {
			return nil, 0, badRequest("values: %s", strings.TrimPrefix(err.Error(), "data: "))
		}
		x := make([]float32, width)
		for k, i := range order {
			x[k] = row[i]
		}
		return x, 1, nil
	}
	var nested [][]float64
	if err := json.Unmarshal(req.Values, &nested); err != nil {
		return nil, 0, badRequest("values: want a list of numbers (one row) or a list of lists (several rows)")
	}
	if len(nested) == 0 || len(nested) > maxRowsPerRequest {
		return nil, 0, badRequest("values: want 1 to %d rows, got %d", maxRowsPerRequest, len(nested))
	}
	x := make([]float32, 0, len(nested)*width)
	for r, row := range nested {
		if len(row) != width {
			return nil, 0, badRequest("values row %d has %d values; model %q takes %d", r, len(row), req.Model, width)
		}
		for _, i := range order {
			if math.Abs(row[i]) > math.MaxFloat32 {
				return nil, 0, badRequest("values row %d: %g is beyond the network's float32 range", r, row[i])
			}
			x = append(x, float32(row[i]))
		}
	}
	return x, len(nested), nil
}
