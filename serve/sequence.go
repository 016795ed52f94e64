package serve

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/hepsql/hepsql/mlfuncs/onnx"
	"github.com/hepsql/hepsql/mlfuncs/sqlml"
)

// Inference for models with a particle sequence (gru, inclusive).
//
// The request has the tensor "sequence", of shape [rows, steps, F], FP32
// (or another numeric datatype), row-major: row after row, each row's
// steps (particles) in order, each step's F values in the order of the
// training column's inner lists. steps may be below the model's T (the
// longest sequence in training, the metadata's shape), and is padded with
// all-zero steps; a step whose values are all zero is padding wherever it
// is, and is skipped, as in training and in SQL. An inclusive model also
// takes its high-level tensor (named as in the metadata), shape [rows, D].
// These models are not batched across requests: each request runs as one
// batch of its own rows.
const sequenceLayout = "sequence: [rows, steps, values per step], row-major, steps <= seq_len, padded with all-zero steps, which are skipped"

const sequenceName = "sequence"

// maxSequenceValues bounds the padded sequence of one request (256 MiB
// of float32), since padding turns a short body into a large tensor.
const maxSequenceValues = 64 << 20

// inferSequence answers an inference request for a sequence model.
func (s *Server) inferSequence(w http.ResponseWriter, r *http.Request, m *model, body []byte, headerLen int) {
	body, bin, err := splitBinary(body, headerLen)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req inferRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.fail(w, r, badRequest("malformed JSON: %s", jsonMessage(err)))
		return
	}
	if err := req.attachBinary(bin, headerLen >= 0); err != nil {
		s.fail(w, r, err)
		return
	}
	inputs, rows, err := decodeSequenceInputs(&req, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	probs := make([]float32, rows*m.s.Classes)
	if err := m.pred.PredictInto(probs, inputs, rows); err != nil {
		s.fail(w, r, err)
		return
	}
	writeInferResponse(w, m, &req, rows, probs)
}

// decodeSequenceInputs reads the tensors of a sequence model's request
// into the network's inputs (high-level first, then the sequence).
func decodeSequenceInputs(req *inferRequest, m *model) ([][]float32, int, error) {
	T, F, D := m.s.SeqLen, m.s.SeqDim, m.s.HLFDim()
	want := 1
	if D > 0 {
		want = 2
	}
	for _, o := range req.Outputs {
		if o.Name != outputName {
			return nil, 0, badRequest("unknown output %q; the model has one output, %q", o.Name, outputName)
		}
	}
	var seq, hlf *inputTensor
	for i := range req.Inputs {
		t := &req.Inputs[i]
		switch {
		case t.Name == sequenceName && seq == nil:
			seq = t
		case D > 0 && t.Name == m.input && hlf == nil:
			hlf = t
		default:
			return nil, 0, badRequest("unexpected input %q; model %q (%s) takes %s", t.Name, m.s.Name, m.s.Arch, m.sequenceInputs())
		}
	}
	if len(req.Inputs) != want || seq == nil {
		return nil, 0, badRequest("model %q (%s) takes %s; got %d tensors", m.s.Name, m.s.Arch, m.sequenceInputs(), len(req.Inputs))
	}
	if len(seq.Shape) != 3 || seq.Shape[0] < 1 || seq.Shape[0] > maxRowsPerRequest || seq.Shape[1] < 1 || seq.Shape[1] > int64(T) || seq.Shape[2] != int64(F) {
		return nil, 0, badRequest("input %q has shape %v; want [rows, steps, %d] with 1 <= steps <= %d", sequenceName, seq.Shape, F, T)
	}
	rows, steps := int(seq.Shape[0]), int(seq.Shape[1])
	if rows*T*F > maxSequenceValues {
		return nil, 0, badRequest("input %q: %d rows of %d×%d values are more than one request may hold (%d); split the request", sequenceName, rows, T, F, maxSequenceValues)
	}
	x, err := seq.values(rows * steps * F)
	if err != nil {
		return nil, 0, badRequest("input %q: %v", sequenceName, err)
	}
	padded := x
	if steps < T {
		padded = make([]float32, rows*T*F)
		for r := range rows {
			copy(padded[r*T*F:], x[r*steps*F:(r+1)*steps*F])
		}
	}
	if D == 0 {
		return [][]float32{padded}, rows, nil
	}
	if hlf == nil {
		return nil, 0, badRequest("model %q (%s) takes %s", m.s.Name, m.s.Arch, m.sequenceInputs())
	}
	if len(hlf.Shape) != 2 || hlf.Shape[0] != int64(rows) || hlf.Shape[1] != int64(D) {
		return nil, 0, badRequest("input %q has shape %v; want [%d, %d], a row for each of the sequence's", m.input, hlf.Shape, rows, D)
	}
	h, err := hlf.values(rows * D)
	if err != nil {
		return nil, 0, badRequest("input %q: %v", m.input, err)
	}
	return [][]float32{h, padded}, rows, nil
}

// sequenceInputs describes a sequence model's input tensors.
func (m *model) sequenceInputs() string {
	s := `"sequence" [rows, steps, ` + itoa(m.s.SeqDim) + `] (steps <= ` + itoa(m.s.SeqLen) + `)`
	if m.s.HLFDim() > 0 {
		s = `"` + m.input + `" [rows, ` + itoa(m.s.HLFDim()) + `] and ` + s
	}
	return s
}

// hlfInputName names a model's high-level input tensor: its column's name
// when one column holds them all, else "features".
func hlfInputName(sv *sqlml.Served) string {
	name, n := "features", 0
	for _, c := range sv.Columns {
		if c.Kind != "sequence" {
			name, n = c.Name, n+1
		}
	}
	if n != 1 {
		return "features"
	}
	return name
}

func itoa(v int) string { return strconv.Itoa(v) }

func errorsIsUnsupported(err error) bool { return errors.Is(err, onnx.ErrUnsupported) }
