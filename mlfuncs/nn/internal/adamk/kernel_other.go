//go:build !amd64 || purego

package adamk

// useAsm stays false here; it is a variable only so that the tests, which
// switch it, build everywhere.
var useAsm = false

func update8(n int, p, m, v, ga, gb *float32, c *Consts) {
	panic("adamk: no assembly kernel on this platform")
}
