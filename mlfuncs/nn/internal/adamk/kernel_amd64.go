//go:build !purego

package adamk

import "golang.org/x/sys/cpu"

// useAsm: the kernel uses AVX, which GOAMD64=v1 builds cannot assume; the
// tests switch it off to compare against the scalar code.
var useAsm = cpu.X86.HasAVX

// update8 applies the step to the first n elements, n a multiple of 8;
// gb may be nil.
//
//go:noescape
func update8(n int, p, m, v, ga, gb *float32, c *Consts)
