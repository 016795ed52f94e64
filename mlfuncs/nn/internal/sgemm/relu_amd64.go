//go:build !purego

package sgemm

// relu8 applies Relu to n8 blocks of 8 floats from p (AVX VMAXPS).
//
//go:noescape
func relu8(p *float32, n8 int)
