package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/hepsql/hepsql/gen/adl"
	"github.com/hepsql/hepsql/gen/jets"
	"github.com/hepsql/hepsql/gen/topology"
)

// runGen implements "hepsql gen adl|topology|jets ...": synthetic events.
func runGen(args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stdout, genUsage)
		return nil
	}
	if len(args) == 0 || (args[0] != "adl" && args[0] != "topology" && args[0] != "jets") {
		return usagef("gen: want 'adl' (NanoAOD-style events for the ADL queries), 'topology' (QCD, tt̄ and W+jets samples for the topology classifier) or 'jets' (W, Z and top fat jets for UCluster)")
	}
	kind := args[0]
	fs := flag.NewFlagSet("gen "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	eventsHelp := "number of events"
	switch kind {
	case "topology":
		eventsHelp = "number of events, split equally between the three classes"
	case "jets":
		eventsHelp = "number of jets (one per entry), the classes taking turns"
	}
	qcd := false
	if kind == "jets" {
		fs.BoolVar(&qcd, "qcd", false, "add light-quark and gluon jets (truth 3) as a fourth class")
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
	switch kind {
	case "adl":
		files, err = adl.Generate(adl.Options{Events: *events, Seed: *seed, OutDir: *out, EventsPerFile: *perFile, Compression: adl.Compression(*compression)})
	case "jets":
		files, err = jets.Generate(jets.Options{Jets: *events, Seed: *seed, QCD: qcd, OutDir: *out, JetsPerFile: *perFile, Compression: jets.Compression(*compression)})
	default:
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

// genUsage is what `hepsql gen -h` prints: the kinds, each with its own -h.
const genUsage = `Usage: hepsql gen KIND --out DIR [--events N] [--seed S] [flags]

Kinds:
  adl        NanoAOD-style events for the ADL queries (queries/adl)
  topology   QCD, tt̄ and W+jets samples for the topology classifier (queries/topology)
  jets       W, Z and top fat jets for UCluster (queries/ucluster)

Run 'hepsql gen KIND -h' for a kind's flags.
`
