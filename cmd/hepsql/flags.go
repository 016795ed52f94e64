package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hepsql/hepsql/repl"
)

// dbFlags are the options every database-using subcommand takes.
type dbFlags struct {
	db       string
	threads  int
	mode     string
	maxRows  int
	maxWidth int
}

func newFlagSet(name string, stderr io.Writer, f *dbFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.db, "db", "", "database `FILE`; in memory if empty")
	fs.IntVar(&f.threads, "threads", 0, "number of worker threads; 0 uses all cores")
	fs.StringVar(&f.mode, "mode", repl.ModeBox, "output `MODE`: "+strings.Join(repl.Modes, ", "))
	fs.IntVar(&f.maxRows, "maxrows", repl.DefaultMaxRows, "box, table and markdown show the first and last `N`/2 rows; 0 shows all")
	fs.IntVar(&f.maxWidth, "maxwidth", 0, "box and table fit `N` columns of text; 0: the terminal's width, else $COLUMNS, else 80")
	return fs
}

func (f *dbFlags) check() error {
	if !repl.ValidMode(f.mode) {
		return usagef("--mode %q: want one of %s", f.mode, strings.Join(repl.Modes, ", "))
	}
	if f.maxRows < 0 || f.maxWidth < 0 {
		return usagef("--maxrows and --maxwidth want a number >= 0")
	}
	if f.threads < 0 {
		return usagef("--threads %d: want a positive number", f.threads)
	}
	return nil
}

// parseInterspersed parses flags anywhere among the arguments, so that
// "hepsql run FILE.sql --set a=1" works; the flag package alone stops at the
// first non-flag. It returns the non-flag arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// setFlag collects repeated --set NAME=VALUE options.
type setFlag map[string]string

func (s setFlag) String() string {
	var kv []string
	for k, v := range s {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	return strings.Join(kv, " ")
}

func (s setFlag) Set(arg string) error {
	name, val, ok := strings.Cut(arg, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE, not %q", arg)
	}
	if _, dup := s[name]; dup {
		return fmt.Errorf("%s set twice", name)
	}
	s[name] = val
	return nil
}
