//go:build !amd64 || purego

package sgemm

const hasAsm = false

// useAsm stays false here; it is a variable only so that the tests, which
// switch it, build everywhere.
var useAsm = false

func stripAsm(mr, k int, a []float32, rsA, ksA int, b []float32, ldb int, c []float32, ldc, n int, acc bool) {
	panic("sgemm: no assembly kernel on this platform")
}

func transposeAsm(dst, b []float32, ldb, nj, kk int) {
	panic("sgemm: no assembly kernel on this platform")
}

func relu8(p *float32, n8 int) {
	panic("sgemm: no assembly kernel on this platform")
}
