package sgemm

// Relu sets each v[i] to max(v[i], 0), NaN and -0 to +0. nn's inference
// applies it to every hidden activation: in Go (a compare, or bit
// operations, per float) it cost a third as much as the layers' products
// for TFaaS's 42×128×128×128×64×64 network; with AVX it is 8 floats per
// instruction.
func Relu(v []float32) {
	n8 := 0
	if useAsm && len(v) >= 8 {
		n8 = len(v) / 8
		relu8(&v[0], n8)
	}
	for i := n8 * 8; i < len(v); i++ {
		if !(v[i] > 0) {
			v[i] = 0
		}
	}
}

// TransposesWithAsm reports whether op(b) = bᵀ is transposed with the
// AVX kernel (otherwise in Go, one float at a time).
func TransposesWithAsm() bool { return useAsm }
