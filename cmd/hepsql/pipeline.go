package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/repl"
)

// runPipeline is "hepsql run FILE.sql": it runs a pipeline file, printing
// every result; the first error stops it.
func runPipeline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f dbFlags
	fs := newFlagSet("hepsql run", stderr, &f)
	sets := setFlag{}
	fs.Var(sets, "set", "set parameter `NAME=VALUE` declared in the file by '-- @param NAME = DEFAULT' (repeatable)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: hepsql run FILE.sql [--set NAME=VALUE]... [flags]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef("run: want one pipeline file, got %d", len(files))
	}
	if err := f.check(); err != nil {
		return err
	}
	file := files[0]
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	// Parse before opening the database: parameter mistakes show at once.
	stmts, err := engine.ParseScript(file, string(src), sets)
	if err != nil {
		return err
	}
	db, err := openDB(f.db, f.threads)
	if err != nil {
		return err
	}
	defer db.Close()

	// Ctrl-C interrupts the running statement, which then fails with
	// FILE:LINE:COL: interrupted, instead of killing the process mid-write.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	printer := repl.Printer{Mode: f.mode, Timer: true, MaxRows: f.maxRows, MaxWidth: f.maxWidth}
	// Rows are printed as they stream: a result of any size runs in
	// memory independent of its size. On a terminal, long statements draw
	// a progress bar on stderr.
	return repl.RunScript(ctx, db, stmts, file, &printer, stdout, stderr)
}
