// Command hepsql is a SQL shell and pipeline runner for High-Energy-Physics
// data.
//
//	hepsql [--db FILE] [--threads N] [--mode MODE]          interactive shell, or statements from stdin
//	hepsql [--db FILE] [--threads N] [--mode MODE] -c SQL   run SQL and exit
//	hepsql run FILE.sql [--set NAME=VALUE]... [--shard K/N] [--mode MODE] [--db FILE] [--threads N]
//	hepsql slurm FILE.sql --shards N [--merge MERGE.sql] [--dry-run] [--wait]   shards as a Slurm job array
//	hepsql slurm --resume FOLDER [--wait]                                         rerun the failed shards
//	hepsql gen adl|topology|jets ...
//	hepsql serve --db FILE [--listen ADDR] [--batch-wait D] [--max-batch N]   models over HTTP
//	hepsql --version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hepsql/hepsql/engine"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and turns its error into an exit status:
// 0 success, 1 failure, 2 bad usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) > 0 && (args[0] == "--version" || args[0] == "-version" || args[0] == "version"):
		err = printVersion(stdout)
	case len(args) > 0 && args[0] == "run":
		err = runPipeline(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "gen":
		err = runGen(args[1:], stdout, stderr)
	case len(args) > 1 && args[0] == "serve" && args[1] == "token":
		err = runServeToken(args[2:], stdout, stderr)
	case len(args) > 0 && args[0] == "slurm":
		err = runSlurm(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "serve":
		err = runServe(ctx, args[1:], stderr)
	default:
		err = runShell(ctx, args, stdin, stdout, stderr)
	}
	var located *engine.ScriptError
	var usage usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errReported):
		return 1
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "hepsql: %v\nRun 'hepsql -h' or 'hepsql run -h' for usage.\n", err)
		return 2
	case errors.As(err, &located):
		fmt.Fprintln(stderr, err) // FILE:LINE:COL: message, as editors and CI logs expect
		return 1
	default:
		fmt.Fprintf(stderr, "hepsql: %v\n", err)
		return 1
	}
}

// errReported means the failure has already been printed.
var errReported = errors.New("failed")

// usageError is a mistake on the command line.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }
