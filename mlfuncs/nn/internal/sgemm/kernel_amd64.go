//go:build !purego

package sgemm

import "golang.org/x/sys/cpu"

//go:generate go run gen.go

// hasAsm: the kernels use AVX2 and FMA3, which GOAMD64=v1 builds cannot
// assume, so they are chosen at run time.
var hasAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAsm selects the assembly kernels; tests turn it off to cover stripGo.
var useAsm = hasAsm

// stripN computes c[N×n] = (acc ? c : 0) + A·b, A[r][p] = a[r*rsA+p*ksA],
// b k×n with stride ldb, c with stride ldc; k ≥ 1 and strides are in
// floats. Columns go 16 at a time, then a masked block for n%16.
//
//go:noescape
func strip1(k int, a *float32, rsA, ksA int, b *float32, ldb int, c *float32, ldc int, n int, acc bool)

//go:noescape
func strip2(k int, a *float32, rsA, ksA int, b *float32, ldb int, c *float32, ldc int, n int, acc bool)

//go:noescape
func strip3(k int, a *float32, rsA, ksA int, b *float32, ldb int, c *float32, ldc int, n int, acc bool)

//go:noescape
func strip4(k int, a *float32, rsA, ksA int, b *float32, ldb int, c *float32, ldc int, n int, acc bool)

//go:noescape
func strip5(k int, a *float32, rsA, ksA int, b *float32, ldb int, c *float32, ldc int, n int, acc bool)

//go:noescape
func strip6(k int, a *float32, rsA, ksA int, b *float32, ldb int, c *float32, ldc int, n int, acc bool)

// stripAsm calls the kernel for mr rows directly: through a func value
// the pointers would escape and the stack scratch of Gemm with them.
func stripAsm(mr, k int, a []float32, rsA, ksA int, b []float32, ldb int, c []float32, ldc, n int, acc bool) {
	pa, pb, pc := &a[0], &b[0], &c[0]
	switch mr {
	case 1:
		strip1(k, pa, rsA, ksA, pb, ldb, pc, ldc, n, acc)
	case 2:
		strip2(k, pa, rsA, ksA, pb, ldb, pc, ldc, n, acc)
	case 3:
		strip3(k, pa, rsA, ksA, pb, ldb, pc, ldc, n, acc)
	case 4:
		strip4(k, pa, rsA, ksA, pb, ldb, pc, ldc, n, acc)
	case 5:
		strip5(k, pa, rsA, ksA, pb, ldb, pc, ldc, n, acc)
	case 6:
		strip6(k, pa, rsA, ksA, pb, ldb, pc, ldc, n, acc)
	}
}

// transpose8 sets dst[p*ldd+j] = src[j*lds+p] for j < 8·rows8, p < 8·cols8.
//
//go:noescape
func transpose8(dst *float32, ldd int, src *float32, lds int, rows8, cols8 int)

// transposeAsm moves the 8×8 blocks of transpose: b's first nj&^7 rows
// and kk&^7 columns. Both sizes must be at least 8.
func transposeAsm(dst, b []float32, ldb, nj, kk int) {
	_ = dst[(kk&^7-1)*nj+nj&^7-1]
	_ = b[(nj&^7-1)*ldb+kk&^7-1]
	transpose8(&dst[0], nj, &b[0], ldb, nj/8, kk/8)
}
