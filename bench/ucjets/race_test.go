//go:build race

package ucjets

// Under the race detector training runs ~10× slower: the tests train
// fewer seeds.
const raceEnabled = true
