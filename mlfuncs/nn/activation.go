package nn

import "math"

// The GRU evaluates two sigmoids and a tanh per unit and step: ~145,000
// of each per 128-event batch of topology sequences. Through math.Exp and
// math.Tanh (float64, with their special-case handling) they took a
// quarter of an inclusive epoch. The float32 versions below are accurate
// to a few float32 ulps (TestActivations), which is below what the float32
// state can hold anyway.

const (
	log2e = 1.44269504088896340736
	// ln2Hi has only the high bits of ln 2, so that k·ln2Hi is exact for
	// the |k| ≤ 127 used here; ln2Lo is the rest.
	ln2Hi = 0.693145751953125
	ln2Lo = 1.42860682030941723212e-6
	// roundMagic is 1.5·2^23: adding and subtracting it rounds a float32
	// of magnitude < 2^22 to the nearest integer (Go does not reassociate
	// floating-point sums, so the pair survives compilation).
	roundMagic = 12582912
	// expMax keeps 2^k within the normal exponents: e^88 ≈ 1.7e38.
	expMax = 88
	expMin = -87
)

// expInPlace replaces each v[i] by e^v[i]: v = k·ln 2 + r with
// |r| ≤ ln2/2, e^r from its Taylor series to degree 7 (truncation below
// 1e-8 relative), times 2^k built in the exponent bits. Inputs are
// clamped to [-87, 88]: the sigmoid and tanh below only need the
// saturated value there. It works on slices because the body is too large
// for Go to inline: called per value, the call cost as much as the
// arithmetic.
func expInPlace(v []float32) {
	for i, x := range v {
		x = min(max(x, expMin), expMax)
		t := x*log2e + roundMagic
		k := t - roundMagic
		r := x - k*ln2Hi - k*ln2Lo
		p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
		// The low bits of t's mantissa hold k + 2^22.
		ki := int32(math.Float32bits(t)&0x7fffff) - 1<<22
		v[i] = p * math.Float32frombits(uint32(ki+127)<<23)
	}
}

// sigmoidInPlace replaces each v[i] by 1/(1+e^{-v[i]}).
func sigmoidInPlace(v []float32) {
	for i := range v {
		v[i] = -v[i]
	}
	expInPlace(v)
	for i, e := range v {
		v[i] = 1 / (1 + e)
	}
}

// tanhInPlace replaces each v[i] by tanh v[i], computed as
// ±(1 − 2/(e^{2|v|}+1)): no cancellation for large |v| and an absolute
// error of a few 1e-8 near 0, where the GRU's state update (1−z)·c only
// needs absolute accuracy. scratch holds len(v) values.
func tanhInPlace(v, scratch []float32) {
	scratch = scratch[:len(v)]
	for i, x := range v {
		scratch[i] = 2 * abs32(x)
	}
	expInPlace(scratch)
	for i, e := range scratch {
		a := 1 - 2/(e+1)
		if v[i] < 0 {
			a = -a
		}
		v[i] = a
	}
}

// reluInPlace replaces each v[i] by max(v[i], 0), without a branch: about
// half the signs differ, and a branch would mispredict at that rate.
func reluInPlace(v []float32) {
	for i, x := range v {
		v[i] = max(x, 0)
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// Scalar forms, for tests and cold paths.

func exp32(x float32) float32 {
	v := [1]float32{x}
	expInPlace(v[:])
	return v[0]
}

func sigmoid(x float32) float32 {
	v := [1]float32{x}
	sigmoidInPlace(v[:])
	return v[0]
}

func tanh32(x float32) float32 {
	v, s := [1]float32{x}, [1]float32{}
	tanhInPlace(v[:], s[:])
	return v[0]
}

// ExpInPlace is expInPlace for the other model packages (mlfuncs/ucluster's
// attention softmax).
func ExpInPlace(v []float32) { expInPlace(v) }
