// Package onnx writes hepsql's networks (mlfuncs/nn) as ONNX models, so
// that a model trained in SQL can be run by other frameworks
// (onnxruntime, PyTorch, TensorFlow through onnx-tf, gonnx, ...).
//
// The file is an ONNX ModelProto, IR version 7, operator set 13 of the
// default domain, pinned: every runtime since onnxruntime 1.6 (2020) reads
// it, and it is the one opset the pure-Go runtime gonnx implements. The
// weights are stored as raw little-endian float32, bit for bit as hepsql
// holds them, so the exported model computes what predict_proba computes,
// up to float32 rounding in a different order of summation.
//
// An mlp becomes, for dense layers 0 … L−1,
//
//	features [batch × D] → Gemm(W0, b0) → Relu → … → Gemm(W(L−1), b(L−1)) → Softmax(axis 1) → probabilities [batch × classes]
//
// with D the model's high-level input values in the order the model
// stores them (Meta.Inputs; a list column gives one value per element).
// hepsql's networks have no input standardisation layer: they take the
// column values as they are, and so does the exported graph.
//
// gru and inclusive networks take "sequence" [batch × T × F] (inclusive:
// after "features"), and their GRU is unrolled over the T steps into
// plain operators (Gather, MatMul, Gemm, Sigmoid, Tanh, Add, Sub, Mul)
// rather than written as ONNX's GRU operator. hepsql skips every step
// whose values are all zero, wherever it is, carrying the state over it;
// ONNX's GRU can only cut trailing steps (sequence_lens), and gonnx, the
// independent runtime the tests run, implements neither sequence_lens nor
// Loop. The unrolled step computes a mask m, 1 where the step has a
// nonzero value and 0 where not (see gru for how, without booleans), and
// updates h ← h + m·(h' − h), which is hepsql's skipping. The graph grows
// by ~25 nodes per step (20,000 for the topology's T = 801).
package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/hepsql/hepsql/mlfuncs/nn"
)

// Pinned versions of the format.
const (
	IRVersion = 7  // ONNX 1.7's IR: the one that goes with opset 13
	Opset     = 13 // of the default domain ("" = ai.onnx)
)

// Tensor names of the exported graph.
const (
	InputName    = "features"
	SequenceName = "sequence"
	OutputName   = "probabilities"
)

// ErrUnsupported is wrapped by Export for a network it cannot write.
var ErrUnsupported = errors.New("onnx: model kind not exportable")

// Meta describes the model beyond its weights.
type Meta struct {
	Name    string // the hepsql model name: the graph's name
	Version int64  // the model version: ModelProto.model_version
	// Inputs names the high-level input values in order (len = the
	// network's input width); they go into the input's doc string.
	Inputs []string
	// Producer is hepsql's version: ModelProto.producer_version.
	Producer string
	// Props are stored as ModelProto.metadata_props, sorted by key
	// (onnxruntime shows them as the model's custom metadata).
	Props map[string]string
}

// ONNX enum values used here.
const (
	dtFloat   = 1 // TensorProto.DataType FLOAT
	dtInt64   = 7
	attrInt   = 2 // AttributeProto.AttributeType INT
	batchName = "batch"
)

// Export encodes m as an ONNX model.
func Export(m *nn.Model, meta Meta) ([]byte, error) {
	s := m.Spec
	if s.Arch != nn.MLP && s.Arch != nn.GRU && s.Arch != nn.Inclusive {
		return nil, fmt.Errorf("%w: %s network %q", ErrUnsupported, s.Arch, meta.Name)
	}
	if len(meta.Inputs) != 0 && len(meta.Inputs) != s.HLFDim {
		return nil, fmt.Errorf("onnx: model %q: %d input names for %d inputs", meta.Name, len(meta.Inputs), s.HLFDim)
	}
	b := &builder{}
	g := &b.g
	doc := fmt.Sprintf("hepsql model %q version %d: %s, %d classes", meta.Name, meta.Version, s.Arch, s.Classes)
	x := ""
	if s.HLFDim > 0 {
		inDoc := fmt.Sprintf("%d high-level values per row", s.HLFDim)
		if len(meta.Inputs) > 0 {
			inDoc += ", in this order: " + strings.Join(meta.Inputs, ", ")
		}
		g.sub(graphInput, valueInfo(InputName, []int64{int64(s.HLFDim)}, inDoc))
		x = InputName
	}
	if s.SeqLen > 0 {
		g.sub(graphInput, valueInfo(SequenceName, []int64{int64(s.SeqLen), int64(s.SeqDim)},
			fmt.Sprintf("per row %d steps of %d values, row-major; all-zero steps are padding, skipped wherever they are", s.SeqLen, s.SeqDim)))
		h := b.gru(m)
		if x == "" {
			x = h
		} else {
			// hepsql's head input is the GRU state, then the high-level values.
			x = b.op("Concat", []string{h, x}, intAttr("axis", 1))
		}
	}
	last := m.NumDense() - 1
	for i := range m.NumDense() {
		w, in, out, bias := m.DenseWeights(i)
		wn, bn := fmt.Sprintf("dense%d.weight", i), fmt.Sprintf("dense%d.bias", i)
		b.init(wn, []int64{int64(in), int64(out)}, w)
		b.init(bn, []int64{int64(out)}, bias)
		// Gemm: Y = X·W + b, W stored [in × out] row-major as hepsql
		// keeps it, so no transpose.
		x = b.op("Gemm", []string{x, wn, bn})
		if i < last {
			x = b.op("Relu", []string{x})
		}
	}
	g.sub(graphNode, node("Softmax", "softmax", []string{x}, OutputName, intAttr("axis", 1)))
	g.str(graphName, meta.Name)
	g.str(graphDoc, doc)
	g.sub(graphOutput, valueInfo(OutputName, []int64{int64(s.Classes)}, fmt.Sprintf("the probabilities of classes 0 … %d", s.Classes-1)))

	var mp msg
	mp.int(modelIRVersion, IRVersion)
	mp.str(modelProducerName, "hepsql")
	if meta.Producer != "" {
		mp.str(modelProducerVersion, meta.Producer)
	}
	mp.int(modelVersion, meta.Version)
	mp.str(modelDoc, doc)
	mp.sub(modelGraph, g)
	var op msg
	op.str(opsetDomain, "")
	op.int(opsetVersion, Opset)
	mp.sub(modelOpset, &op)
	for _, k := range slices.Sorted(maps.Keys(meta.Props)) {
		var e msg
		e.str(entryKey, k)
		e.str(entryValue, meta.Props[k])
		mp.sub(modelMetadata, &e)
	}
	return mp.b, nil
}

// builder accumulates a graph's nodes and initializers, naming each
// node's output after its operator and position.
type builder struct {
	g msg
	n int
}

// op adds a node and returns its output's name.
func (b *builder) op(op string, inputs []string, attrs ...*msg) string {
	b.n++
	out := fmt.Sprintf("%s_%d", strings.ToLower(op), b.n)
	b.g.sub(graphNode, node(op, out, inputs, out, attrs...))
	return out
}

func (b *builder) init(name string, dims []int64, v []float32) {
	b.g.sub(graphInitializer, tensor(name, dims, v))
}

// gru adds the unrolled GRU over input SequenceName and returns the name
// of its final state, [batch × H]. Per step t, with x_t = sequence[:, t, :]:
//
//	z = σ(x_t·Wz + bxz + h·Uz + bhz), r = σ(x_t·Wr + bxr + h·Ur + bhr)
//	n = tanh(x_t·Wn + bxn + r ⊙ (h·Un + bhn)), h' = n + z ⊙ (h − n)
//	h ← h + m ⊙ (h' − h), m = 1 where x_t has a nonzero value, else 0
//
// (PyTorch's and Keras's reset_after cell, as mlfuncs/nn/gru.go runs it).
// At t = 0, h = 0 and the recurrent products drop out.
func (b *builder) gru(m *nn.Model) string {
	s := m.Spec
	T, F, H := s.SeqLen, s.SeqDim, s.GRUUnits
	wx, uh, bx, bh, _ := m.GRUWeights()
	gates := []string{"z", "r", "n"}
	// cols takes gate k's H columns of a [rows × 3H] matrix.
	cols := func(w []float32, rows, k int) []float32 {
		out := make([]float32, 0, rows*H)
		for i := range rows {
			out = append(out, w[i*3*H+k*H:i*3*H+(k+1)*H]...)
		}
		return out
	}
	for k, gname := range gates {
		b.init("gru.w"+gname, []int64{int64(F), int64(H)}, cols(wx, F, k))
		b.init("gru.u"+gname, []int64{int64(H), int64(H)}, cols(uh, H, k))
		b.init("gru.bx"+gname, []int64{int64(H)}, bx[k*H:(k+1)*H])
		b.init("gru.bh"+gname, []int64{int64(H)}, bh[k*H:(k+1)*H])
	}
	// At t = 0 the z and r biases are summed, as h·U vanishes.
	b0 := make([]float32, 2*H)
	for j := range b0 {
		b0[j] = bx[j] + bh[j]
	}
	b.init("gru.b0z", []int64{int64(H)}, b0[:H])
	b.init("gru.b0r", []int64{int64(H)}, b0[H:])
	// The step mask without booleans (gonnx cannot cast them): with
	// s = Σ|x_t|·2^100, m = 1 − relu(1 − s) is 0 for an all-zero step and
	// exactly 1 once Σ|x_t| ≥ 2^-100 (an overflow to +Inf gives 1 too);
	// only a step whose values are all below ~1e-31 in magnitude would get
	// a fractional mask.
	scale := make([]float32, F)
	for i := range scale {
		scale[i] = 0x1p100
	}
	b.init("gru.scale", []int64{int64(F), 1}, scale)
	b.init("gru.one", []int64{1}, []float32{1})
	h := ""
	for t := range T {
		idx := fmt.Sprintf("gru.step%d", t)
		b.g.sub(graphInitializer, int64Scalar(idx, int64(t)))
		xt := b.op("Gather", []string{SequenceName, idx}, intAttr("axis", 1))
		sum := b.op("MatMul", []string{b.op("Abs", []string{xt}), "gru.scale"})
		mask := b.op("Sub", []string{"gru.one", b.op("Relu", []string{b.op("Sub", []string{"gru.one", sum})})})
		if t == 0 {
			z := b.op("Sigmoid", []string{b.op("Gemm", []string{xt, "gru.wz", "gru.b0z"})})
			r := b.op("Sigmoid", []string{b.op("Gemm", []string{xt, "gru.wr", "gru.b0r"})})
			n := b.op("Tanh", []string{b.op("Add", []string{
				b.op("Gemm", []string{xt, "gru.wn", "gru.bxn"}),
				b.op("Mul", []string{r, "gru.bhn"})})})
			hn := b.op("Sub", []string{n, b.op("Mul", []string{z, n})})
			h = b.op("Mul", []string{mask, hn})
			continue
		}
		gate := func(g string) string {
			return b.op("Add", []string{
				b.op("Gemm", []string{xt, "gru.w" + g, "gru.bx" + g}),
				b.op("Gemm", []string{h, "gru.u" + g, "gru.bh" + g})})
		}
		z := b.op("Sigmoid", []string{gate("z")})
		r := b.op("Sigmoid", []string{gate("r")})
		n := b.op("Tanh", []string{b.op("Add", []string{
			b.op("Gemm", []string{xt, "gru.wn", "gru.bxn"}),
			b.op("Mul", []string{r, b.op("Gemm", []string{h, "gru.un", "gru.bhn"})})})})
		hn := b.op("Add", []string{n, b.op("Mul", []string{z, b.op("Sub", []string{h, n})})})
		h = b.op("Add", []string{h, b.op("Mul", []string{mask, b.op("Sub", []string{hn, h})})})
	}
	return h
}

// Field numbers, from onnx.proto.
const (
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelVersion         = 5
	modelDoc             = 6
	modelGraph           = 7
	modelOpset           = 8
	modelMetadata        = 14

	opsetDomain  = 1
	opsetVersion = 2
	entryKey     = 1
	entryValue   = 2

	graphNode        = 1
	graphName        = 2
	graphInitializer = 5
	graphDoc         = 10
	graphInput       = 11
	graphOutput      = 12

	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5

	attrName = 1
	attrI    = 3
	attrType = 20

	tensorDims     = 1
	tensorDataType = 2
	tensorName     = 8
	tensorRawData  = 9

	valueName = 1
	valueType = 2
	valueDoc  = 3

	typeTensor = 1 // TypeProto.tensor_type
	typeElem   = 1 // TypeProto.Tensor.elem_type
	typeShape  = 2 // TypeProto.Tensor.shape
	shapeDim   = 1 // TensorShapeProto.dim
	dimValue   = 1
	dimParam   = 2
)

func node(op, name string, inputs []string, output string, attrs ...*msg) *msg {
	var n msg
	for _, in := range inputs {
		n.str(nodeInput, in)
	}
	n.str(nodeOutput, output)
	n.str(nodeName, name)
	n.str(nodeOpType, op)
	for _, a := range attrs {
		n.sub(nodeAttribute, a)
	}
	return &n
}

func intAttr(name string, v int64) *msg {
	var a msg
	a.str(attrName, name)
	a.int(attrI, v)
	a.int(attrType, attrInt)
	return &a
}

// tensor is a float32 initializer, its values as raw little-endian bytes.
func tensor(name string, dims []int64, v []float32) *msg {
	var t msg
	t.packedInts(tensorDims, dims)
	t.int(tensorDataType, dtFloat)
	t.str(tensorName, name)
	raw := make([]byte, 0, 4*len(v))
	for _, f := range v {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
	}
	t.bytes(tensorRawData, raw)
	return &t
}

// valueInfo declares a graph input or output: float32 [batch × dims…],
// the batch dimension symbolic.
func valueInfo(name string, dims []int64, doc string) *msg {
	var batch, shape, tt, typ, vi msg
	batch.str(dimParam, batchName)
	shape.sub(shapeDim, &batch)
	for _, d := range dims {
		var w msg
		w.int(dimValue, d)
		shape.sub(shapeDim, &w)
	}
	tt.int(typeElem, dtFloat)
	tt.sub(typeShape, &shape)
	typ.sub(typeTensor, &tt)
	vi.str(valueName, name)
	vi.sub(valueType, &typ)
	vi.str(valueDoc, doc)
	return &vi
}

// int64Scalar is a rank-0 int64 initializer.
func int64Scalar(name string, v int64) *msg {
	var t msg
	t.int(tensorDataType, dtInt64)
	t.str(tensorName, name)
	t.bytes(tensorRawData, binary.LittleEndian.AppendUint64(nil, uint64(v)))
	return &t
}
