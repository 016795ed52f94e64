package main

import (
	"errors"
	"fmt"
)

// runGen implements "hepsql gen adl|topology ...". Not written yet.
func runGen(args []string) error {
	if len(args) == 0 || (args[0] != "adl" && args[0] != "topology") {
		return usagef("gen: want adl or topology")
	}
	return fmt.Errorf("gen %s: %w", args[0], errors.New("not yet"))
}
