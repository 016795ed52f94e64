package onnx_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advancedclimatesystems/gonnx"
	"gorgonia.org/tensor"

	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/onnx"
)

// TestExportRunsInGonnx: networks of every kind, with random weights,
// exported and run by gonnx (an independent ONNX runtime whose protobuf
// decoding is generated from onnx.proto) give nn's probabilities within
// 1e-5; the model's header fields read back as written.
func TestExportRunsInGonnx(t *testing.T) {
	specs := []nn.Spec{
		{Arch: nn.MLP}, // the topology's 14 → 50 → 20 → 10 → 3
		{Arch: nn.MLP, HLFDim: 3, Hidden: []int{}, Classes: 2},
		{Arch: nn.GRU, SeqLen: 7, SeqDim: 4, GRUUnits: 5, Classes: 3},
		{Arch: nn.Inclusive, HLFDim: 3, SeqLen: 6, SeqDim: 2, GRUUnits: 4, Hidden: []int{9, 5}, Classes: 4},
	}
	for i, spec := range specs {
		m, err := nn.New(spec, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		s := m.Spec
		b, err := onnx.Export(m, onnx.Meta{Name: "net", Version: 3, Producer: "test", Props: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		mp, err := gonnx.ModelProtoFromBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", s.Arch, err)
		}
		if mp.IrVersion != onnx.IRVersion || len(mp.OpsetImport) != 1 || mp.OpsetImport[0].Version != onnx.Opset ||
			mp.ProducerName != "hepsql" || mp.ProducerVersion != "test" || mp.ModelVersion != 3 || mp.Graph.Name != "net" ||
			len(mp.MetadataProps) != 1 || mp.MetadataProps[0].Key != "k" || mp.MetadataProps[0].Value != "v" {
			t.Errorf("%s: header %v %v %q %q %d %q %v", s.Arch, mp.IrVersion, mp.OpsetImport, mp.ProducerName, mp.ProducerVersion, mp.ModelVersion, mp.Graph.Name, mp.MetadataProps)
		}
		const rows = 128
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		var inputs [][]float32
		feeds := gonnx.Tensors{}
		if s.HLFDim > 0 {
			x := make([]float32, rows*s.HLFDim)
			for k := range x {
				x[k] = float32(rng.NormFloat64())
			}
			inputs = append(inputs, x)
			feeds[onnx.InputName] = tensor.New(tensor.WithShape(rows, s.HLFDim), tensor.WithBacking(append([]float32{}, x...)))
		}
		if s.SeqLen > 0 {
			// Each row: a random number of active steps, then padding,
			// and now and then an all-zero step among the active ones.
			T, F := s.SeqLen, s.SeqDim
			seq := make([]float32, rows*T*F)
			for r := range rows {
				n := rng.IntN(T + 1)
				for st := range n {
					if st > 0 && rng.IntN(4) == 0 {
						continue
					}
					for f := range F {
						seq[(r*T+st)*F+f] = float32(2 * rng.NormFloat64())
					}
				}
			}
			inputs = append(inputs, seq)
			feeds[onnx.SequenceName] = tensor.New(tensor.WithShape(rows, T, F), tensor.WithBacking(append([]float32{}, seq...)))
		}
		want, err := m.Predict(inputs, rows, 1)
		if err != nil {
			t.Fatal(err)
		}
		g, err := gonnx.NewModel(mp)
		if err != nil {
			t.Fatalf("%s: %v", s.Arch, err)
		}
		out, err := g.Run(feeds)
		if err != nil {
			t.Fatalf("%s: gonnx: %v", s.Arch, err)
		}
		got, _ := out[onnx.OutputName].Data().([]float32)
		if len(got) != rows*s.Classes {
			t.Fatalf("%s: %d outputs, want %d", s.Arch, len(got), rows*s.Classes)
		}
		worst := 0.0
		for r := range rows {
			for c := range s.Classes {
				worst = max(worst, math.Abs(float64(got[r*s.Classes+c]-want[r][c])))
			}
		}
		if worst > 1e-5 {
			t.Errorf("%s %v: gonnx and nn differ by up to %g", s.Arch, s.Hidden, worst)
		}
	}
}

// TestExportRefusesBadMeta: input names must match the network's inputs.
func TestExportRefusesBadMeta(t *testing.T) {
	m, err := nn.New(nn.Spec{Arch: nn.MLP, HLFDim: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onnx.Export(m, onnx.Meta{Name: "x", Inputs: []string{"a"}}); err == nil {
		t.Error("1 input name for 2 inputs: no error")
	}
}
