package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The matrix products go through gonum's float32 GEMM, whose inner loops
// are SIMD assembly; on these shapes (tens to a few hundred wide) it runs
// 6–12 GFLOP/s on one core against 3–5 for a plain Go triple loop. All
// matrices are row-major. gonum splits a product over goroutines (and
// allocates for it) once the output has 4 or more 64×64 blocks; gemm cuts
// every product into output tiles of at most 64 rows × 192 columns (3
// blocks), so the trainer's and predictor's own workers stay the only
// threads and the kernels allocate nothing.
var blasImpl gonum.Implementation

const (
	tileRows = 64
	tileCols = 192
)

// gemm: c[m×n] = beta·c + op(a)·op(b), op transposing when asked; a is
// stored m×k (k×m if transA), b k×n (n×k if transB).
func gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	for i0 := 0; i0 < m; i0 += tileRows {
		mi := min(tileRows, m-i0)
		as := a[i0*lda:]
		if transA {
			as = a[i0:]
		}
		for j0 := 0; j0 < n; j0 += tileCols {
			nj := min(tileCols, n-j0)
			bs := b[j0:]
			if transB {
				bs = b[j0*ldb:]
			}
			blasImpl.Sgemm(ta, tb, mi, nj, k, 1, as, lda, bs, ldb, beta, c[i0*ldc+j0:], ldc)
		}
	}
}

// gemmNN: c[m×n] = beta·c + a[m×k]·b[k×n].
func gemmNN(m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(false, false, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// gemmTN: c[m×n] = beta·c + aᵀ·b with a stored k×m and b stored k×n.
func gemmTN(m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(true, false, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// gemmNT: c[m×n] = beta·c + a·bᵀ with a stored m×k and b stored n×k.
func gemmNT(m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(false, true, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

func scaleRows(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			row[j] *= beta
		}
	}
}

// colSumAdd adds the column sums of a[m×n] to dst[n].
func colSumAdd(m, n int, a []float32, dst []float32) {
	dst = dst[:n]
	for i := 0; i < m; i++ {
		row := a[i*n : i*n+n]
		for j, v := range row {
			dst[j] += v
		}
	}
}

// grow returns buf with length n, reallocating only when it is too small,
// so that a workspace settles after the first batch of the largest size.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

func growInt(buf []int, n int) []int {
	if cap(buf) < n {
		return make([]int, n)
	}
	return buf[:n]
}
