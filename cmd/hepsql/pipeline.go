package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"

	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/repl"
	"github.com/hepsql/hepsql/rootscan"
)

// runPipeline is "hepsql run FILE.sql": it runs a pipeline file, printing
// every result; the first error stops it.
func runPipeline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f dbFlags
	fs := newFlagSet("hepsql run", stderr, &f)
	sets := setFlag{}
	fs.Var(sets, "set", "set parameter `NAME=VALUE` declared in the file by '-- @param NAME = DEFAULT' (repeatable)")
	shardArg := fs.String("shard", "", "run shard `K/N`: every read_root reads only part K (from 0) of N of its sources; sets ${shard} and ${shards} where the file declares them")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: hepsql run FILE.sql [--set NAME=VALUE]... [--shard K/N] [flags]\n\nFlags:\n")
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
	// Under mpirun or srun, a rank of a data-parallel job (see mpiWorld).
	world, err := mpiWorld()
	if err != nil {
		return err
	}
	var shard rootscan.Shard
	if *shardArg == "" && world.Size() > 1 {
		// Each rank reads its own shard of every read_root: disjoint,
		// their union the whole.
		*shardArg = fmt.Sprintf("%d/%d", world.Rank(), world.Size())
	}
	if *shardArg != "" {
		if shard, err = rootscan.ParseShard(*shardArg); err != nil {
			return usagef("--shard: %v", err)
		}
		if err := shardParams(sets, string(src), shard); err != nil {
			return err
		}
	}
	// Parse before opening the database: parameter mistakes show at once.
	stmts, err := engine.ParseScript(file, string(src), sets)
	if err != nil {
		return err
	}
	dbFile := f.db
	if world.Rank() > 0 && dbFile != "" {
		// One process may write a DuckDB file: rank 0 opens it and
		// stores the models; the other ranks run the same statements in
		// memory (their input comes from files, not the database's tables).
		dbFile = ""
	}
	db, err := openShardDB(dbFile, f.threads, shard)
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
	err = repl.RunScript(ctx, db, stmts, file, &printer, stdout, stderr)
	return endMPI(world, err, stderr)
}

// shardParams sets ${shard} and ${shards} to the shard's K and N in a file
// that declares them, unless --set did.
func shardParams(sets setFlag, src string, shard rootscan.Shard) error {
	for name, val := range map[string]int{"shard": shard.Index, "shards": shard.Count} {
		if _, set := sets[name]; set {
			return usagef("--shard and --set %s both set ${%s}", name, name)
		}
		if engine.Declares(src, name) {
			sets[name] = strconv.Itoa(val)
		}
	}
	return nil
}
