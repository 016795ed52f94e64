package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/hepsql/hepsql/gen/adl"
	"github.com/hepsql/hepsql/gen/topology"
)

// runGen implements "hepsql gen adl|topology ...": synthetic events.
func runGen(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "adl" && args[0] != "topology") {
		return usagef("gen: want 'adl' (NanoAOD-style events for the ADL queries) or 'topology' (QCD, tt̄ and W+jets samples for the topology classifier)")
	}
	kind := args[0]
	fs := flag.NewFlagSet("gen "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	eventsHelp := "number of events"
	if kind == "topology" {
		eventsHelp = "number of events, split equally between the three classes"
	}
	events := fs.Int("events", 100000, eventsHelp)
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same files")
	out := fs.String("out", "", "output folder (required)")
	perFile := fs.Int("per-file", 0, "events per file (0: one file)")
	compression := fs.String("compression", "", "zlib (default), lzma, zstd or none, optionally with :LEVEL")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	if *out == "" {
		return usagef("gen %s: --out is required", kind)
	}
	var files []string
	var err error
	if kind == "adl" {
		files, err = adl.Generate(adl.Options{Events: *events, Seed: *seed, OutDir: *out, EventsPerFile: *perFile, Compression: adl.Compression(*compression)})
	} else {
		files, err = topology.Generate(topology.Options{Events: *events, Seed: *seed, OutDir: *out, EventsPerFile: *perFile, Compression: topology.Compression(*compression)})
	}
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stdout, f)
	}
	return nil
}
