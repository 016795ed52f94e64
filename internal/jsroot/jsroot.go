// Package jsroot runs jsroot, CERN's JavaScript ROOT reader, as an
// independent reader to check hepsql against: rootwrite's read-back tests
// and bench/cmd/rootsweep both use it, through dump.mjs in this folder.
//
// jsroot is installed once, here, with
//
//	cd internal/jsroot && npm install --ignore-scripts
//
// (scripts/test does it); node_modules is git-ignored.
package jsroot

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Dir is the folder holding dump.mjs and jsroot's node_modules.
func Dir() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Dir(here)
}

// Available says why jsroot cannot run here (no node, or jsroot not
// installed), or nil when it can.
func Available() error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("jsroot: node not found: %w", err)
	}
	if _, err := os.Stat(filepath.Join(Dir(), "node_modules", "jsroot", "package.json")); err != nil {
		return fmt.Errorf("jsroot not installed (%w): run `cd internal/jsroot && npm install --ignore-scripts` (scripts/test does)", err)
	}
	return nil
}

// Dump runs `node dump.mjs OUT args...` and returns the JSON it wrote to
// OUT (a temporary file: jsroot logs its warnings on stdout). An error
// carries the arguments and what node printed.
func Dump(ctx context.Context, args ...string) ([]byte, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "jsroot-*.json")
	if err != nil {
		return nil, err
	}
	out := f.Name()
	f.Close()
	defer os.Remove(out)
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join(Dir(), "dump.mjs"), out}, args...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		return nil, fmt.Errorf("jsroot %q: %w\n%s", args, err, msg)
	}
	return os.ReadFile(out)
}
