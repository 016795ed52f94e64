// Package ucluster is UCluster (Mikuni & Canelli, arXiv 2010.07106):
// unsupervised clustering of jets in the latent space of a particle-cloud
// classifier, trained end to end as a deep k-means.
//
// The network, per jet (its particles: up to SeqLen rows of SeqDim
// features; an all-zero row is padding and is skipped, so the model runs on
// the particles alone, no masked arithmetic):
//
//   - a k-nearest-neighbour graph in (Δη, Δφ), the first two features,
//     each particle's k nearest (itself included; all of the jet's when it
//     has fewer than k), ties to the lower index;
//   - two graph-attention edge convolutions (GAPNet style) over that graph,
//     widths Edge1 and Edge2 (see gat.go);
//   - a dense ReLU layer on [h1, h2] per particle (width Embed) and a max
//     over the particles: the jet's embedding z;
//   - a head, dense ReLU (Head) → Classes logits, for the auxiliary
//     classification (the jet-mass class);
//   - Clusters centroids μ in the embedding space.
//
// Losses (means over the batch): the focal loss (γ = 2) of the head against
// the auxiliary label; end to end, plus β times Σ_j q_j d_j with
// d_j = ‖z − μ_j‖² and q = softmax(−α d). A jet's cluster is argmin_j d_j.
//
// All weights live in one flat float32 vector (Params), as in package nn,
// so the optimiser and the gradient sum are loops over one slice.
package ucluster

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Arch is the architecture's name in train(model := 'ucluster').
const Arch = "ucluster"

// Spec is the architecture.
type Spec struct {
	Classes    int `json:"classes"`     // auxiliary classes
	Clusters   int `json:"clusters"`    // k of the k-means
	Neighbors  int `json:"neighbors"`   // k of the kNN graph
	SeqLen     int `json:"seq_len"`     // particles per jet at most
	SeqDim     int `json:"seq_dim"`     // features per particle (≥ 2: Δη, Δφ first)
	Edge1      int `json:"edge1"`       // width of the first edge convolution
	Edge2      int `json:"edge2"`       // of the second
	Embed      int `json:"embed"`       // of the jet embedding
	Head       int `json:"head"`        // of the head's hidden layer
	FocalGamma int `json:"focal_gamma"` // γ of the focal loss
	// The input standardisation, per feature: a real particle's features
	// become (x − InputMean) · InputScale (InputScale = 1/σ) after its
	// kNN graph is built on the raw (Δη, Δφ), so the graph keeps its
	// physical distances while every feature reaches the network on a
	// scale of one (log E is ~5, the pid code up to ±5). Train computes
	// them over the training rows' particles; stored with the weights,
	// predict applies the same. Empty: the inputs as given.
	InputMean  []float32 `json:"input_mean,omitempty"`
	InputScale []float32 `json:"input_scale,omitempty"`
}

// Normalize fills zero fields with the defaults and checks the result.
func (s Spec) Normalize() (Spec, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&s.Classes, 3)
	def(&s.Clusters, 3)
	def(&s.Neighbors, 8)
	def(&s.SeqLen, 100)
	def(&s.SeqDim, 8)
	def(&s.Edge1, 32)
	def(&s.Edge2, 64)
	def(&s.Embed, 128)
	def(&s.Head, 64)
	def(&s.FocalGamma, 2)
	switch {
	case s.Classes < 2:
		return s, fmt.Errorf("ucluster: %d auxiliary classes; want at least 2", s.Classes)
	case s.Clusters < 2:
		return s, fmt.Errorf("ucluster: clusters := %d; want at least 2", s.Clusters)
	case s.Neighbors < 1:
		return s, fmt.Errorf("ucluster: k := %d neighbours; want at least 1", s.Neighbors)
	case s.SeqDim < 2:
		return s, fmt.Errorf("ucluster: particles have %d features; want at least 2 (Δη, Δφ first)", s.SeqDim)
	case (s.InputMean != nil || s.InputScale != nil) && (len(s.InputMean) != s.SeqDim || len(s.InputScale) != s.SeqDim):
		return s, fmt.Errorf("ucluster: input standardisation of %d means and %d scales for %d features", len(s.InputMean), len(s.InputScale), s.SeqDim)
	case s.SeqLen < 1 || s.Edge1 < 1 || s.Edge2 < 1 || s.Embed < 1 || s.Head < 1 || s.FocalGamma < 0:
		return s, fmt.Errorf("ucluster: bad sizes in %+v", s)
	}
	return s, nil
}

// tensor is one weight tensor in the flat vector.
type tensor struct {
	name       string
	rows, cols int
	off        int
}

func (t tensor) size() int                { return t.rows * t.cols }
func (t tensor) of(p []float32) []float32 { return p[t.off : t.off+t.size()] }

// gatTensors are one edge convolution's weights.
type gatTensors struct {
	ws, bs, we, u, v tensor
}

type layout struct {
	g1, g2      gatTensors
	wp1, wp2    tensor // the particle dense layer, split by input: h1 rows, h2 rows
	bp          tensor
	wh, bh      tensor
	wo, bo      tensor
	mu          tensor // Clusters × Embed
	total       int
	glorot      []tensor
	glorotFanIn []int // fan-in for the Glorot limit, per glorot tensor (split kernels count whole)
}

func (s Spec) layout() layout {
	var l layout
	add := func(name string, r, c int) tensor {
		t := tensor{name: name, rows: r, cols: c, off: l.total}
		l.total += r * c
		return t
	}
	gat := func(p string, in, d int) gatTensors {
		g := gatTensors{
			ws: add(p+".ws", in, d), bs: add(p+".bs", 1, d),
			we: add(p+".we", in, d), u: add(p+".u", d, 1), v: add(p+".v", d, 1),
		}
		l.glorot = append(l.glorot, g.ws, g.we, g.u, g.v)
		l.glorotFanIn = append(l.glorotFanIn, in, in, d, d)
		return g
	}
	l.g1 = gat("gat1", s.SeqDim, s.Edge1)
	l.g2 = gat("gat2", s.Edge1, s.Edge2)
	l.wp1 = add("dense.w_h1", s.Edge1, s.Embed)
	l.wp2 = add("dense.w_h2", s.Edge2, s.Embed)
	l.bp = add("dense.b", 1, s.Embed)
	l.wh = add("head.w", s.Embed, s.Head)
	l.bh = add("head.b", 1, s.Head)
	l.wo = add("out.w", s.Head, s.Classes)
	l.bo = add("out.b", 1, s.Classes)
	l.mu = add("centroids", s.Clusters, s.Embed)
	in := s.Edge1 + s.Edge2
	l.glorot = append(l.glorot, l.wp1, l.wp2, l.wh, l.wo)
	l.glorotFanIn = append(l.glorotFanIn, in, in, s.Embed, s.Head)
	return l
}

// Tensors lists the weight tensors, name, shape and offset, in storage
// order: the PyTorch peer (bench/cmd/ucbench) maps its parameters by them.
func (s Spec) Tensors() []TensorInfo {
	l := s.layout()
	var out []TensorInfo
	for _, t := range []tensor{l.g1.ws, l.g1.bs, l.g1.we, l.g1.u, l.g1.v, l.g2.ws, l.g2.bs, l.g2.we, l.g2.u, l.g2.v,
		l.wp1, l.wp2, l.bp, l.wh, l.bh, l.wo, l.bo, l.mu} {
		out = append(out, TensorInfo{Name: t.name, Rows: t.rows, Cols: t.cols, Offset: t.off})
	}
	return out
}

// TensorInfo describes one weight tensor of the flat vector.
type TensorInfo struct {
	Name       string `json:"name"`
	Rows, Cols int
	Offset     int `json:"offset"`
}

// Model is a network's architecture and weights.
type Model struct {
	Spec   Spec
	Params []float32
	lay    layout
}

// New makes a model with Glorot-uniform kernels (the whole dense kernel's
// fan-in and fan-out, also where it is stored in two parts), zero biases
// and zero centroids (k-means sets them), drawn from seed.
func New(spec Spec, seed uint64) (*Model, error) {
	s, err := spec.Normalize()
	if err != nil {
		return nil, err
	}
	m := &Model{Spec: s, lay: s.layout()}
	m.Params = make([]float32, m.lay.total)
	rng := rand.New(rand.NewPCG(seed, 0x75636c7573746572)) // "ucluster"
	for i, t := range m.lay.glorot {
		lim := math.Sqrt(6 / float64(m.lay.glorotFanIn[i]+t.cols))
		for j := range t.of(m.Params) {
			t.of(m.Params)[j] = float32((2*rng.Float64() - 1) * lim)
		}
	}
	return m, nil
}

// FromParams wraps weights in the architecture's layout.
func FromParams(spec Spec, params []float32) (*Model, error) {
	s, err := spec.Normalize()
	if err != nil {
		return nil, err
	}
	m := &Model{Spec: s, lay: s.layout()}
	if len(params) != m.lay.total {
		return nil, fmt.Errorf("ucluster: the architecture needs %d weights, got %d", m.lay.total, len(params))
	}
	m.Params = params
	return m, nil
}

// Clone is a deep copy.
func (m *Model) Clone() *Model {
	c := *m
	c.Params = append([]float32(nil), m.Params...)
	return &c
}

// Centroids is the centroids' view into Params, Clusters × Embed.
func (m *Model) Centroids() []float32 { return m.lay.mu.of(m.Params) }
