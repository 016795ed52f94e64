package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/hepsql/hepsql/repl"
	"github.com/hepsql/hepsql/sqlfuncs"
)

// runShell is the default command: the interactive shell on a terminal,
// statements read from stdin otherwise, or the -c statements.
func runShell(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var f dbFlags
	fs := newFlagSet("hepsql", stderr, &f)
	command := fs.String("c", "", "run the `SQL` statement(s), separated by ';', and exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage:
  hepsql [flags]                 shell (statements from stdin when it is not a terminal)
  hepsql [flags] -c SQL          run SQL and exit
  hepsql run FILE.sql [flags]    run a pipeline file; see 'hepsql run -h'
  hepsql gen adl|topology|jets   generate events
  hepsql serve --db FILE ...     serve the database's models over HTTP; see 'hepsql serve -h'
  hepsql --version               print the version

Flags:
`)
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if err := f.check(); err != nil {
		return err
	}
	commandSet := false
	fs.Visit(func(fl *flag.Flag) { commandSet = commandSet || fl.Name == "c" })

	maxRows := f.maxRows
	if maxRows == 0 {
		maxRows = -1 // all
	}
	opts := repl.Options{In: stdin, Out: stdout, Err: stderr, Mode: f.mode, MaxRows: maxRows, MaxWidth: f.maxWidth,
		HelpTopics: map[string]func(io.Writer) error{"functions": func(w io.Writer) error {
			_, err := io.WriteString(w, sqlfuncs.HelpIndex())
			return err
		}},
		HelpNames: func() []string {
			var names []string
			for _, fn := range sqlfuncs.Reference() {
				names = append(names, fn.Name)
			}
			return names
		},
		HelpLookup: func(name string) (string, bool) {
			if fn := sqlfuncs.Lookup(name); fn != nil {
				return sqlfuncs.Help(fn), true
			}
			return "", false
		},
	}
	switch {
	case commandSet:
		opts.In, opts.Bail = strings.NewReader(*command), true
	case stdin == os.Stdin && term.IsTerminal(int(os.Stdin.Fd())):
		opts.Interactive = true
		fmt.Fprintln(stderr, `hepsql: enter ".help" for help`)
	}
	db, err := openDB(f.db, f.threads)
	if err != nil {
		return err
	}
	defer db.Close()
	err = repl.New(db, opts).Run(ctx)
	if errors.Is(err, repl.ErrFailed) {
		return errReported
	}
	return err
}
