//go:build race

package main

// Under the race detector training runs ~10× slower: the tests train
// fewer seeds.
const raceEnabled = true
