//go:build race

package sgemm

// The race detector slows the float64 reference ~10× and cannot look
// inside the assembly, so under it the tests run smaller products.
const raceEnabled = true
