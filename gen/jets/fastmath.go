package jets

import "math"

// The generator calls exp about a hundred times a jet (each hadron's
// sinh/cosh η, the shower's angles and momentum fractions) and Go's
// math.Exp on amd64 evaluates it as exp(x/16)^16: a polynomial followed
// by four dependent squarings, a long chain of latency (~11% of a jet's
// CPU time in a profile of Generate). expTable is the usual shorter
// route: x = (k + 64·r/ln2)·ln2/64, exp(x) = 2^(k/64)·e^r with 2^(k/64)
// from a table of 64 entries and e^r, |r| ≤ ln2/128, from a degree-5
// polynomial evaluated in two independent halves. Its error is within
// about one unit in the last place of math.Exp (TestFastExp), far below
// anything the float32 branches resolve.

const (
	expTableBits = 6
	expTableSize = 1 << expTableBits
	// ln2/64 split into a head with 22 trailing zero bits, so that
	// k·expLn2Hi is exact for the |k| < 2^22 of |x| < 700, and the rest.
	expLn2Hi  = 0x1.62e42fecp-07
	expLn2Lo  = 0x1.d1cf79abc9e3bp-38
	expInvLn2 = expTableSize / math.Ln2
)

// expTable[j] holds the bits of 2^(j/64), each correctly rounded by
// math.Exp2, whose result is exact to within half an ulp for these
// arguments.
var expTable = func() (t [expTableSize]uint64) {
	for j := range t {
		t[j] = math.Float64bits(math.Exp2(float64(j) / expTableSize))
	}
	return t
}()

// fastExp is e^x for the generator's arguments; outside (-700, 700) it
// defers to math.Exp (which handles overflow, underflow and NaN).
func fastExp(x float64) float64 {
	if !(x > -700 && x < 700) {
		return math.Exp(x)
	}
	kf := math.RoundToEven(x * expInvLn2)
	k := int64(kf)
	r := (x - kf*expLn2Hi) - kf*expLn2Lo
	r2 := r * r
	// e^r − 1 = r + r²/2 + r³/6 + r⁴/24 + r⁵/120 (+ under 4e-17·e^r),
	// its terms in two halves that do not wait on each other; the 1 is
	// added last, so that only the final additions round at its scale.
	q := r + r2*(0.5+r*(1.0/6)) + r2*r2*((1.0/24)+r*(1.0/120))
	// 2^(k/64) = 2^(k>>6) · 2^((k&63)/64): the integer power goes into
	// the table entry's exponent field.
	t := math.Float64frombits(expTable[k&(expTableSize-1)] + uint64(k>>expTableBits)<<52)
	return t + t*q
}

// Sincos is the generator's other hot transcendental (each hadron's
// azimuth, the shower's and pile-up's angles, ~14% of drawing's CPU
// time with math.Sincos, which reduces by π/4 and evaluates two long
// polynomials). fastSincos takes the angle's nearest multiple jπ/64 from
// a table and rotates by the rest, |r| ≤ π/128, whose sine and cosine
// are short polynomials: within about one unit in the last place of
// math.Sincos (TestFastSincos).

const (
	sincosTableBits = 7
	sincosTableSize = 1 << sincosTableBits // entries over one turn
	sincosStep      = 2 * math.Pi / sincosTableSize
	sincosInvStep   = sincosTableSize / (2 * math.Pi)
	// sincosStep split into a head with 24 trailing zero bits (k·head
	// exact for |k| < 2^24, |x| < 1e5 needs 2^21) and the rest.
	sincosStepHi = 0x1.921fb54p-05
	sincosStepLo = 0x1.10b4611a62633p-35
)

// sincosTable[j] is sin and cos of 2πj/128, each within about half an
// ulp: math.Sincos of an angle of the first octant (where it is most
// accurate) at an exact head m·sincosStepHi, corrected to first order for
// m·sincosStepLo (below 1e-9), and mapped to the other octants by
// symmetry (math.Sincos(2πj/128) directly would carry the rounding of
// the angle, several ulps near π).
var sincosTable = func() (t [sincosTableSize][2]float64) {
	const quarter = sincosTableSize / 4
	octant := func(m int) (s, c float64) { // m in [0, quarter/2]
		s, c = math.Sincos(float64(m) * sincosStepHi)
		d := float64(m) * sincosStepLo
		return s + c*d, c - s*d
	}
	for j := range t {
		m := j % quarter
		var s, c float64
		if m <= quarter/2 {
			s, c = octant(m)
		} else {
			c, s = octant(quarter - m) // sin(π/2 − a) = cos a
		}
		switch j / quarter {
		case 1:
			s, c = c, -s
		case 2:
			s, c = -s, -c
		case 3:
			s, c = -c, s
		}
		t[j] = [2]float64{s, c}
	}
	return t
}()

// fastSincos is math.Sincos for |x| < 1e5; beyond (and for NaN or ±Inf)
// it defers to math.Sincos.
func fastSincos(x float64) (sin, cos float64) {
	if !(x > -1e5 && x < 1e5) {
		return math.Sincos(x)
	}
	kf := math.RoundToEven(x * sincosInvStep)
	r := (x - kf*sincosStepHi) - kf*sincosStepLo
	t := &sincosTable[int64(kf)&(sincosTableSize-1)]
	r2 := r * r
	// sin r − r and cos r − 1 to r⁹/9!, r¹⁰/10! (below 1e-19 here).
	sr := r * r2 * (-1.0/6 + r2*(1.0/120) + r2*r2*(-1.0/5040+r2*(1.0/362880)))
	cr := r2 * (-0.5 + r2*(1.0/24) + r2*r2*(-1.0/720+r2*(1.0/40320)))
	s, c := t[0], t[1]
	// sin(a+r) = sin a cos r + cos a sin r, cos(a+r) = cos a cos r − sin a sin r,
	// with the exact parts (1 and r) added last.
	sin = s + (c*r + (s*cr + c*sr))
	cos = c - (s*r - (c*cr - s*sr))
	return sin, cos
}
