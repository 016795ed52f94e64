//go:build !race

package ucjets

const raceEnabled = false
