// Package mc holds what hepsql's synthetic-event generators (gen/adl,
// gen/topology) share: four-vectors, a reseedable random stream with the
// draws event generation needs, and the basket-compression option of the
// files they write.
package mc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"go-hep.org/x/hep/groot/rtree"
)

// P4 is a four-momentum (GeV), Cartesian components.
type P4 struct{ Px, Py, Pz, E float64 }

func (p P4) Add(q P4) P4   { return P4{p.Px + q.Px, p.Py + q.Py, p.Pz + q.Pz, p.E + q.E} }
func (p P4) Pt() float64   { return math.Hypot(p.Px, p.Py) }
func (p P4) Phi() float64  { return math.Atan2(p.Py, p.Px) }
func (p P4) Eta() float64  { return math.Asinh(p.Pz / p.Pt()) }
func (p P4) Mass() float64 { return math.Sqrt(max(p.E*p.E-p.Px*p.Px-p.Py*p.Py-p.Pz*p.Pz, 0)) }

// Boost returns p, given in the rest frame of parent, in the lab frame.
func (p P4) Boost(parent P4) P4 {
	bx, by, bz := parent.Px/parent.E, parent.Py/parent.E, parent.Pz/parent.E
	b2 := bx*bx + by*by + bz*bz
	if b2 == 0 {
		return p
	}
	gamma := 1 / math.Sqrt(1-b2)
	bp := bx*p.Px + by*p.Py + bz*p.Pz
	k := (gamma-1)*bp/b2 + gamma*p.E
	return P4{p.Px + k*bx, p.Py + k*by, p.Pz + k*bz, gamma * (p.E + bp)}
}

// SplitMix64 is a bijective mixer: distinct inputs give distinct,
// well-spread PCG states, so each event can have its own stream.
func SplitMix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Stream is a PCG stream reseeded per event, so that event i of a sample
// depends only on (seed, i), whatever the file split or thread.
type Stream struct {
	pcg *rand.PCG
	R   *rand.Rand
}

// NewStream returns a stream to be reseeded with Reseed before use.
func NewStream() Stream {
	pcg := rand.NewPCG(0, 0)
	return Stream{pcg: pcg, R: rand.New(pcg)}
}

// Reseed starts the stream of event idx of a sample with the given (mixed)
// seed.
func (s Stream) Reseed(seed uint64, idx int64) { s.pcg.Seed(seed, SplitMix64(uint64(idx))) }

// Float64 is s.R.Float64() without the call through rand.Rand's Source
// interface: the same formula on the same PCG draw, so the same value; the
// generators draw it in their hottest loops.
func (s Stream) Float64() float64 { return float64(s.pcg.Uint64()<<11>>11) / (1 << 53) }

func (s Stream) Uniform(lo, hi float64) float64 { return lo + (hi-lo)*s.Float64() }
func (s Stream) Azimuth() float64               { return s.Uniform(-math.Pi, math.Pi) }
func (s Stream) Exp(mean float64) float64       { return mean * s.R.ExpFloat64() }
func (s Stream) Gauss(mu, sigma float64) float64 {
	return mu + sigma*s.R.NormFloat64()
}
func (s Stream) Chance(p float64) bool { return s.Float64() < p }

// Poisson uses Knuth's product method: the generators' means stay small.
func (s Stream) Poisson(mean float64) int {
	limit := math.Exp(-mean)
	k, p := 0, s.Float64()
	for p > limit {
		k++
		p *= s.Float64()
	}
	return k
}

// BreitWigner draws a resonance mass (Cauchy line shape) within [lo, hi].
func (s Stream) BreitWigner(m0, width, lo, hi float64) float64 {
	for {
		m := m0 + width/2*math.Tan(math.Pi*(s.Float64()-0.5))
		if m >= lo && m <= hi {
			return m
		}
	}
}

// Decay splits parent isotropically in its rest frame into two bodies of
// masses m1 and m2, returned in the lab frame.
func (s Stream) Decay(parent P4, m1, m2 float64) (P4, P4) {
	m := parent.Mass()
	pstar := math.Sqrt(max((m*m-(m1+m2)*(m1+m2))*(m*m-(m1-m2)*(m1-m2)), 0)) / (2 * m)
	cosT := s.Uniform(-1, 1)
	sinT := math.Sqrt(1 - cosT*cosT)
	phi := s.Azimuth()
	dx, dy, dz := pstar*sinT*math.Cos(phi), pstar*sinT*math.Sin(phi), pstar*cosT
	d1 := P4{dx, dy, dz, math.Sqrt(pstar*pstar + m1*m1)}
	d2 := P4{-dx, -dy, -dz, math.Sqrt(pstar*pstar + m2*m2)}
	return d1.Boost(parent), d2.Boost(parent)
}

// WrapPhi brings an angle within one turn of [−π, π] back into it.
func WrapPhi(phi float64) float64 {
	switch {
	case phi > math.Pi:
		return phi - 2*math.Pi
	case phi < -math.Pi:
		return phi + 2*math.Pi
	}
	return phi
}

// Compression names a basket codec and an optional level as "codec" or
// "codec:level": "zlib", "lzma", "zstd" or "none", level 1 to 9 (default
// 1). The empty string means "zlib:1", the setting of the CMS sample.
//
// LZ4 is refused: groot v0.40.0's LZ4 writer truncates a basket whose
// compressed form is barely smaller than its input (it happens with a few
// hundred bytes of floats) and the file then fails to read back.
type Compression string

// WriteOption maps c onto groot's tree-writer option; errors are prefixed
// with the generator's name.
func (c Compression) WriteOption(who string) (rtree.WriteOption, error) {
	codec, lvlText, hasLevel := strings.Cut(string(c), ":")
	level := 1
	if hasLevel {
		n, err := strconv.Atoi(lvlText)
		if err != nil || n < 1 || n > 9 {
			return nil, fmt.Errorf("%s: compression %q: level must be an integer in 1..9", who, string(c))
		}
		level = n
	}
	switch strings.ToLower(codec) {
	case "", "zlib":
		return rtree.WithZlib(level), nil
	case "lz4":
		return nil, fmt.Errorf("%s: compression %q: groot's LZ4 writer can truncate barely compressible baskets, making unreadable files; use zlib, lzma or zstd", who, string(c))
	case "lzma":
		return rtree.WithLZMA(level), nil
	case "zstd":
		return rtree.WithZstd(level), nil
	case "none":
		if hasLevel {
			return nil, fmt.Errorf("%s: compression %q: \"none\" takes no level", who, string(c))
		}
		return rtree.WithoutCompression(), nil
	default:
		return nil, fmt.Errorf("%s: unknown compression %q (want zlib, lzma, zstd or none, with an optional :level)", who, string(c))
	}
}
