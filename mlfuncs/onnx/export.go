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
// gru and inclusive networks are not exported yet: ErrUnsupported names
// them. (ONNX's GRU operator with linear_before_reset = 1 is hepsql's
// cell, but hepsql skips every all-zero step while ONNX's sequence_lens
// only cuts trailing ones, and the one independent Go runtime cannot run
// sequence_lens; an export that cannot be checked is not offered.)
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
	InputName  = "features"
	OutputName = "probabilities"
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
	attrInt   = 2 // AttributeProto.AttributeType INT
	batchName = "batch"
)

// Export encodes m as an ONNX model.
func Export(m *nn.Model, meta Meta) ([]byte, error) {
	s := m.Spec
	if s.Arch != nn.MLP {
		return nil, fmt.Errorf("%w: %s network %q (only %s networks are exported so far)", ErrUnsupported, s.Arch, meta.Name, nn.MLP)
	}
	if len(meta.Inputs) != 0 && len(meta.Inputs) != s.HLFDim {
		return nil, fmt.Errorf("onnx: model %q: %d input names for %d inputs", meta.Name, len(meta.Inputs), s.HLFDim)
	}
	var g msg
	x := InputName
	last := m.NumDense() - 1
	for i := range m.NumDense() {
		w, in, out, b := m.DenseWeights(i)
		wn, bn := fmt.Sprintf("dense%d.weight", i), fmt.Sprintf("dense%d.bias", i)
		g.sub(graphInitializer, tensor(wn, []int64{int64(in), int64(out)}, w))
		g.sub(graphInitializer, tensor(bn, []int64{int64(out)}, b))
		y := fmt.Sprintf("dense%d", i)
		// Gemm: Y = X·W + b, W stored [in × out] row-major as hepsql
		// keeps it, so no transpose.
		g.sub(graphNode, node("Gemm", y, []string{x, wn, bn}, y))
		x = y
		if i < last {
			r := fmt.Sprintf("relu%d", i)
			g.sub(graphNode, node("Relu", r, []string{x}, r))
			x = r
		}
	}
	sm := node("Softmax", "softmax", []string{x}, OutputName, intAttr("axis", 1))
	g.sub(graphNode, sm)
	g.str(graphName, meta.Name)
	doc := fmt.Sprintf("hepsql model %q version %d: %s, %d classes", meta.Name, meta.Version, s.Arch, s.Classes)
	g.str(graphDoc, doc)
	inDoc := fmt.Sprintf("%d high-level values per row", s.HLFDim)
	if len(meta.Inputs) > 0 {
		inDoc += ", in this order: " + strings.Join(meta.Inputs, ", ")
	}
	g.sub(graphInput, valueInfo(InputName, int64(s.HLFDim), inDoc))
	g.sub(graphOutput, valueInfo(OutputName, int64(s.Classes), fmt.Sprintf("the probabilities of classes 0 … %d", s.Classes-1)))

	var mp msg
	mp.int(modelIRVersion, IRVersion)
	mp.str(modelProducerName, "hepsql")
	if meta.Producer != "" {
		mp.str(modelProducerVersion, meta.Producer)
	}
	mp.int(modelVersion, meta.Version)
	mp.str(modelDoc, doc)
	mp.sub(modelGraph, &g)
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

// valueInfo declares a graph input or output: float32 [batch × width],
// the batch dimension symbolic.
func valueInfo(name string, width int64, doc string) *msg {
	var batch, w, shape, tt, typ, vi msg
	batch.str(dimParam, batchName)
	w.int(dimValue, width)
	shape.sub(shapeDim, &batch)
	shape.sub(shapeDim, &w)
	tt.int(typeElem, dtFloat)
	tt.sub(typeShape, &shape)
	typ.sub(typeTensor, &tt)
	vi.str(valueName, name)
	vi.sub(valueType, &typ)
	vi.str(valueDoc, doc)
	return &vi
}
