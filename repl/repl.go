// Package repl is the hepsql interactive shell as a library: it reads SQL
// statements and dot-commands, runs them on one database session, and prints
// results as tables, CSV, JSON or markdown.
package repl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"unicode/utf8"

	"github.com/hepsql/hepsql/engine"
)

// Prompts.
const (
	PromptFirst    = "hepsql> "
	PromptContinue = "   ...> "
)

// DefaultMaxRows is how many rows tables show when Options.MaxRows is 0.
const DefaultMaxRows = 40

// ErrFailed is returned (wrapped) by Run when input was not interactive and at
// least one statement or command failed; the errors themselves have already
// been printed.
var ErrFailed = errors.New("statements failed")

// Options configures a REPL. Zero values are sensible defaults.
type Options struct {
	In  io.Reader // statements and dot-commands; nil means os.Stdin
	Out io.Writer // results and prompts; nil means os.Stdout
	Err io.Writer // error messages; nil means os.Stderr

	// Interactive turns on prompts, Ctrl-C handling and, when In and Out are
	// os.Stdin and os.Stdout on a terminal, line editing with history.
	Interactive bool
	HistoryFile string // "" means ~/.hepsql_history; "-" keeps no history
	Mode        string // initial output mode (see Modes); "" means box
	MaxRows     int    // rows shown by box, table and markdown; 0 means DefaultMaxRows, <0 all
	MaxWidth    int    // width tables fit; 0: the terminal's, else $COLUMNS, else 80
	NoTimer     bool   // start with the timer off
	Bail        bool   // stop at the first failing statement or command

	// HelpTopics serves ".help TOPIC" pages beyond the built-in command list,
	// e.g. "functions" from a function registry.
	HelpTopics map[string]func(io.Writer) error
	// HelpLookup serves ".help NAME" for names that are not topics (the
	// function library's entries); found is false for unknown names.
	HelpLookup func(name string) (text string, found bool)
	// HelpNames lists the names HelpLookup knows, for "did you mean" when
	// .help is given an unknown one.
	HelpNames func() []string
}

// REPL is a shell session. Create it with New and start it with Run.
type REPL struct {
	db      *sql.DB
	opts    Options
	conn    *sql.Conn // the session: SET and temporary tables live on it
	printer Printer
	failed  int // statements and commands that failed

	// redirect, if set, receives results instead of Options.Out (.output,
	// .once); redirectOnce ends it after the next statement or command.
	redirect     *os.File
	redirectOnce bool
	progress     bool // DuckDB's progress estimate is on: draw it

	// notify and stopNotify subscribe to Ctrl-C; tests replace them.
	notify     func(chan<- os.Signal)
	stopNotify func(chan<- os.Signal)
}

// New returns a shell on db. It does nothing until Run.
func New(db *sql.DB, opts Options) *REPL {
	if opts.In == nil {
		opts.In = os.Stdin
	}
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Err == nil {
		opts.Err = os.Stderr
	}
	maxRows := opts.MaxRows
	switch {
	case maxRows == 0:
		maxRows = DefaultMaxRows
	case maxRows < 0:
		maxRows = 0
	}
	return &REPL{
		db:         db,
		opts:       opts,
		printer:    Printer{Mode: opts.Mode, Timer: !opts.NoTimer, MaxRows: maxRows, MaxWidth: opts.MaxWidth},
		notify:     func(c chan<- os.Signal) { signal.Notify(c, os.Interrupt) },
		stopNotify: func(c chan<- os.Signal) { signal.Stop(c) },
	}
}

// Run reads and executes input until its end, .quit, or cancellation of ctx.
// Failing statements are reported on Options.Err and the shell goes on (unless
// Bail); at the end of non-interactive input, Run returns an error wrapping
// ErrFailed if anything failed, so that scripts can exit non-zero.
func (r *REPL) Run(ctx context.Context) (err error) {
	if r.printer.Mode != "" && !ValidMode(r.printer.Mode) {
		return fmt.Errorf("unknown output mode %q (want one of %s)", r.printer.Mode, strings.Join(Modes, ", "))
	}
	if r.conn, err = r.db.Conn(ctx); err != nil {
		return fmt.Errorf("open database session: %w", err)
	}
	defer func() { err = errors.Join(err, r.conn.Close()) }()
	in, err := newLineReader(r.opts, r.complete)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, in.Close()) }()
	defer r.closeRedirect()
	r.enableProgress(ctx)

	if err := r.loop(ctx, in); err != nil {
		return err
	}
	if r.failed > 0 && !r.opts.Interactive {
		return fmt.Errorf("%d failed: %w", r.failed, ErrFailed)
	}
	return nil
}

// loop collects lines until they hold complete statements and runs them.
// Dot-commands are recognized only at the start of a statement.
func (r *REPL) loop(ctx context.Context, in lineReader) error {
	var buf strings.Builder // input of the statement(s) being typed
	var entry []string      // its lines, for the history
	lineNo := 0             // lines read so far
	bufLine, bufCol := 1, 1 // where buf starts in the input
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		prompt := PromptFirst
		if buf.Len() > 0 {
			prompt = PromptContinue
		}
		line, err := in.ReadLine(prompt)
		switch {
		case errors.Is(err, errLineAborted):
			buf.Reset()
			entry = nil
			lineNo++
			continue
		case errors.Is(err, io.EOF):
			if r.opts.Interactive {
				fmt.Fprintln(r.opts.Out) // leave the terminal on a fresh line
				// Ctrl-D in the middle of a statement: never run half of
				// one.
				if _, _, pending := engine.SplitSQL(buf.String()); pending {
					addEntry(in, entry)
					fmt.Fprintln(r.opts.Err, "Note: the unfinished statement was not run (end it with ';')")
				}
				return nil
			}
			r.runRest(ctx, buf.String(), bufLine, bufCol)
			return nil
		case err != nil:
			return fmt.Errorf("read input: %w", err)
		}
		lineNo++
		if buf.Len() == 0 {
			bufLine, bufCol = lineNo, 1
		}

		if buf.Len() == 0 && strings.HasPrefix(strings.TrimSpace(line), ".") {
			in.AddHistory(line)
			if quit := r.dotCommand(ctx, line); quit || r.bailing() {
				return nil
			}
			continue
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		entry = append(entry, line)
		text := buf.String()
		stmts, rest, pending := engine.SplitSQLAt(text, bufLine, bufCol)
		if !pending {
			// Into the history before it runs: a statement that never
			// ends is there too.
			addEntry(in, entry)
			entry = nil
		}
		for _, st := range stmts {
			r.execute(ctx, st)
			if r.bailing() {
				return nil
			}
		}
		buf.Reset()
		if pending {
			// rest starts where the last ';' ended.
			done := text[:len(text)-len(rest)]
			if nl := strings.Count(done, "\n"); nl > 0 {
				bufLine += nl
				bufCol = utf8.RuneCountInString(done[strings.LastIndexByte(done, '\n')+1:]) + 1
			} else {
				bufCol += utf8.RuneCountInString(done)
			}
			buf.WriteString(rest)
		}
	}
}

// runRest runs what is left at the end of input: a last statement needs no
// ';' there.
func (r *REPL) runRest(ctx context.Context, rest string, line, col int) {
	stmts, _, pending := engine.SplitSQLAt(rest+"\n;", line, col)
	if pending { // inside an open quote: let the database say so
		stmts = []engine.Statement{{SQL: strings.TrimSpace(rest), Line: line, Col: col}}
	}
	for _, st := range stmts {
		r.execute(ctx, st)
		if r.bailing() {
			return
		}
	}
}

// addEntry puts a statement typed over several lines into the history as
// one entry on one line, so that it can be recalled whole; "--" comments,
// which would swallow the lines joined after them, are dropped.
func addEntry(in lineReader, lines []string) {
	if len(lines) == 0 {
		return
	}
	if len(lines) == 1 {
		in.AddHistory(lines[0])
		return
	}
	var parts []string
	for _, l := range lines {
		if l = strings.TrimSpace(stripLineComment(l)); l != "" {
			parts = append(parts, l)
		}
	}
	in.AddHistory(strings.Join(parts, " "))
}

// stripLineComment cuts a "--" comment off a line of SQL, minding quotes
// (a string that goes on past the line end keeps the rest of the line).
func stripLineComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '-' && i+1 < len(line) && line[i+1] == '-':
			return line[:i]
		}
	}
	return line
}

// execute runs one statement and prints its rows as they stream, or its
// error.
func (r *REPL) execute(ctx context.Context, st engine.Statement) {
	qctx, done := r.interruptible(ctx)
	defer done()
	qctx, bar := r.withProgress(qctx)
	r.printer.beforeTable = bar.stop
	defer func() { r.printer.beforeTable = nil }()
	var printErr error
	out, err := engine.StreamStatement(qctx, r.conn, st, func(rows *engine.Rows) error {
		if r.printer.streams() {
			bar.stop() // rows will print while the statement runs
		}
		printErr = r.printer.PrintRows(r.out(), rows)
		return printErr
	})
	switch {
	case printErr != nil:
		r.fail(printErr)
	case err != nil && !r.opts.Interactive:
		// Piped input: LINE n counts from the start of the input.
		r.fail(engine.Locate(st, err))
	case err != nil:
		r.fail(err)
	default:
		r.printer.PrintStatus(r.out(), r.opts.Err, out.Status)
	}
	r.printer.PrintNotices(r.opts.Err, out.Notices)
	r.endOnce()
}

// out is where results go: Options.Out, or the file of .output or .once.
func (r *REPL) out() io.Writer {
	if r.redirect != nil {
		return r.redirect
	}
	return r.opts.Out
}

// endOnce closes the file of .once after the statement it was for.
func (r *REPL) endOnce() {
	if r.redirectOnce {
		r.closeRedirect()
	}
}

func (r *REPL) closeRedirect() {
	if r.redirect != nil {
		delete(r.printer.printed, io.Writer(r.redirect))
		if err := r.redirect.Close(); err != nil {
			r.fail(fmt.Errorf("close %s: %w", r.redirect.Name(), err))
		}
	}
	r.redirect, r.redirectOnce = nil, false
}

// fail reports err and counts it.
func (r *REPL) fail(err error) {
	r.failed++
	msg := err.Error()
	var located *engine.ScriptError
	if !errors.As(err, &located) && errors.Is(err, context.Canceled) {
		msg = "interrupted" // rather than the driver's two-line message
	}
	fmt.Fprintf(r.opts.Err, "Error: %s\n", msg)
}

func (r *REPL) bailing() bool { return r.opts.Bail && r.failed > 0 }

// interruptible derives the context of one statement, which Ctrl-C cancels
// in interactive use. The signal is caught only while a statement runs: at
// the prompt the line editor reads Ctrl-C as a key, so the shell never dies
// of it; non-interactive runs keep the default of terminating.
func (r *REPL) interruptible(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	if !r.opts.Interactive {
		return ctx, cancel
	}
	sig := make(chan os.Signal, 1)
	r.notify(sig)
	finished := make(chan struct{})
	go func() {
		select {
		case <-sig:
			cancel()
		case <-finished:
		}
	}()
	return ctx, func() {
		r.stopNotify(sig)
		close(finished)
		cancel()
	}
}
