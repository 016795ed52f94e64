// Package nn holds the networks that hepsql trains: their architecture
// (Spec), their weights (Model), and float32 forward and backward kernels
// that run a whole batch at once with no per-value allocation.
//
// Three architectures, from the LHC topology classifier:
//
//   - "mlp": dense ReLU layers and a softmax output (14 → 50 → 20 → 10 → 3);
//   - "gru": a masked particle sequence (T × F, all-zero rows skipped) →
//     GRU(units, tanh) → dropout → dense softmax;
//   - "inclusive": the GRU branch (with its dropout) concatenated with the
//     high-level features after dropout → dense ReLU layers → softmax.
//
// Inputs are row-major float32 matrices, one per model input, in the order
// Spec.InputDims gives: the high-level vector first, then the sequence
// (T·F floats per row, particle after particle).
package nn

import (
	"fmt"
	"strings"
)

// Architecture names.
const (
	MLP       = "mlp"
	GRU       = "gru"
	Inclusive = "inclusive"
)

// Spec is a network's architecture and the options that shape its weights.
// The zero values of optional fields take the topology classifier's values
// through Normalize.
type Spec struct {
	Arch     string  `json:"arch"`
	Classes  int     `json:"classes"`             // softmax outputs
	HLFDim   int     `json:"hlf_dim,omitempty"`   // mlp, inclusive: features per row
	SeqLen   int     `json:"seq_len,omitempty"`   // gru, inclusive: T (801)
	SeqDim   int     `json:"seq_dim,omitempty"`   // gru, inclusive: F (19)
	Hidden   []int   `json:"hidden,omitempty"`    // dense ReLU layers before the output
	GRUUnits int     `json:"gru_units,omitempty"` // gru, inclusive
	Dropout  float32 `json:"dropout"`             // gru, inclusive: rate on the branches
}

// Normalize fills unset fields with the topology classifier's values and
// checks the result.
func (s Spec) Normalize() (Spec, error) {
	s.Arch = strings.ToLower(strings.TrimSpace(s.Arch))
	if s.Classes == 0 {
		s.Classes = 3
	}
	switch s.Arch {
	case MLP:
		if s.HLFDim == 0 {
			s.HLFDim = 14
		}
		if s.Hidden == nil {
			s.Hidden = []int{50, 20, 10}
		}
		s.SeqLen, s.SeqDim, s.GRUUnits, s.Dropout = 0, 0, 0, 0
	case GRU, Inclusive:
		if s.SeqLen == 0 {
			s.SeqLen = 801
		}
		if s.SeqDim == 0 {
			s.SeqDim = 19
		}
		if s.GRUUnits == 0 {
			s.GRUUnits = 50
		}
		if s.Arch == GRU {
			s.HLFDim = 0
			if s.Hidden == nil {
				s.Hidden = []int{}
			}
		} else {
			if s.HLFDim == 0 {
				s.HLFDim = 14
			}
			if s.Hidden == nil {
				s.Hidden = []int{25}
			}
		}
	case "":
		return s, fmt.Errorf("nn: no model architecture given (want %s, %s or %s)", MLP, GRU, Inclusive)
	default:
		return s, fmt.Errorf("nn: unknown model architecture %q (want %s, %s or %s)", s.Arch, MLP, GRU, Inclusive)
	}
	if s.Classes < 2 {
		return s, fmt.Errorf("nn: %s needs at least 2 classes, got %d", s.Arch, s.Classes)
	}
	for i, h := range s.Hidden {
		if h <= 0 {
			return s, fmt.Errorf("nn: %s hidden layer %d has %d units; want > 0", s.Arch, i, h)
		}
	}
	if s.Dropout < 0 || s.Dropout >= 1 {
		return s, fmt.Errorf("nn: dropout %g out of [0, 1)", s.Dropout)
	}
	if s.HLFDim < 0 || s.SeqLen < 0 || s.SeqDim < 0 || s.GRUUnits < 0 {
		return s, fmt.Errorf("nn: negative size in %+v", s)
	}
	return s, nil
}

// hasGRU reports whether the network has the sequence branch.
func (s Spec) hasGRU() bool { return s.Arch == GRU || s.Arch == Inclusive }

// hasHLF reports whether the network reads the high-level vector.
func (s Spec) hasHLF() bool { return s.Arch == MLP || s.Arch == Inclusive }

// InputDims gives the number of float32 values per row of each input, in
// the order the kernels take them.
func (s Spec) InputDims() []int {
	var d []int
	if s.hasHLF() {
		d = append(d, s.HLFDim)
	}
	if s.hasGRU() {
		d = append(d, s.SeqLen*s.SeqDim)
	}
	return d
}

// InputNames names the inputs, for error messages.
func (s Spec) InputNames() []string {
	var n []string
	if s.hasHLF() {
		n = append(n, "hlf")
	}
	if s.hasGRU() {
		n = append(n, "sequence")
	}
	return n
}

// headIn is the width of the vector entering the dense head.
func (s Spec) headIn() int {
	n := 0
	if s.hasGRU() {
		n += s.GRUUnits
	}
	if s.hasHLF() {
		n += s.HLFDim
	}
	return n
}

// tensor is one named weight tensor inside the flat parameter vector.
type tensor struct {
	name       string
	rows, cols int
	off        int
}

func (t tensor) size() int { return t.rows * t.cols }

// layout lists the weight tensors in storage order. The GRU's gates are
// stored side by side, [update z | reset r | candidate n], with separate
// input and recurrent biases (the formulation of PyTorch and of Keras with
// reset_after), so the topology's inclusive network has 12,353 weights.
type layout struct {
	gruWx, gruUh, gruBx, gruBh tensor
	denseW, denseB             []tensor
	total                      int
}

func (s Spec) layout() layout {
	var l layout
	add := func(name string, r, c int) tensor {
		t := tensor{name: name, rows: r, cols: c, off: l.total}
		l.total += r * c
		return t
	}
	if s.hasGRU() {
		h3 := 3 * s.GRUUnits
		l.gruWx = add("gru.wx", s.SeqDim, h3)
		l.gruUh = add("gru.uh", s.GRUUnits, h3)
		l.gruBx = add("gru.bx", 1, h3)
		l.gruBh = add("gru.bh", 1, h3)
	}
	in := s.headIn()
	sizes := append(append([]int{}, s.Hidden...), s.Classes)
	for i, out := range sizes {
		l.denseW = append(l.denseW, add(fmt.Sprintf("dense%d.w", i), in, out))
		l.denseB = append(l.denseB, add(fmt.Sprintf("dense%d.b", i), 1, out))
		in = out
	}
	return l
}

// NumParams is the number of trainable weights.
func (s Spec) NumParams() int { return s.layout().total }

// TrainFlops estimates the arithmetic of one training row, forward and
// backward (about three times the forward's two flops per weight use):
// perRow for the dense part, perStep for each sequence step the GRU runs.
// The trainer cuts batches into shards of equal estimated cost.
func (s Spec) TrainFlops() (perRow, perStep float64) {
	l := s.layout()
	for _, t := range l.denseW {
		perRow += 6 * float64(t.size())
	}
	if s.hasGRU() {
		perStep = 6 * float64(l.gruWx.size()+l.gruUh.size())
	}
	return perRow, perStep
}
