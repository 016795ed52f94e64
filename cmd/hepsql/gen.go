package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/hepsql/hepsql/gen/adl"
)

// runGen implements "hepsql gen adl ...": synthetic NanoAOD-style events.
func runGen(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "adl" {
		return usagef("gen: want 'adl' (the topology generator is not written yet)")
	}
	fs := flag.NewFlagSet("gen adl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Int("events", 100000, "number of events")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same files")
	out := fs.String("out", "", "output folder (required)")
	perFile := fs.Int("per-file", 0, "events per file (0: one file)")
	compression := fs.String("compression", "", "zlib (default), lzma, zstd or none, optionally with :LEVEL")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	if *out == "" {
		return usagef("gen adl: --out is required")
	}
	files, err := adl.Generate(adl.Options{Events: *events, Seed: *seed, OutDir: *out, EventsPerFile: *perFile, Compression: adl.Compression(*compression)})
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stdout, f)
	}
	return nil
}
