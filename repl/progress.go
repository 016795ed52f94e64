package repl

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/hepsql/hepsql/engine"
)

// progressBar draws DuckDB's progress estimate of a statement running for
// more than a second on a terminal's line, like the DuckDB shell; it is
// erased when the statement ends or its rows start to print.
type progressBar struct {
	w     io.Writer
	mu    sync.Mutex
	drawn bool
	quiet bool // rows are printing: draw no more
}

// progressBarWidth is the number of cells of the bar.
const progressBarWidth = 50

// isTerminal reports whether w is a terminal (a variable: tests pretend).
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// enableProgress turns on DuckDB's progress estimate on the session, without
// its own bar (which would draw on stdout).
func (r *REPL) enableProgress(ctx context.Context) {
	if !r.opts.Interactive || !isTerminal(r.opts.Err) {
		return
	}
	if _, err := r.conn.ExecContext(ctx, "SET enable_progress_bar = true; SET enable_progress_bar_print = false"); err == nil {
		r.progress = true
	}
}

// withProgress returns ctx carrying a fresh bar for one statement, and
// the bar (nil when progress is off).
func (r *REPL) withProgress(ctx context.Context) (context.Context, *progressBar) {
	if !r.progress {
		return ctx, nil
	}
	bar := &progressBar{w: r.opts.Err}
	return engine.WithProgress(ctx, bar.report), bar
}

func (b *progressBar) report(percent float64, done bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if done || b.quiet {
		b.eraseLocked()
		return
	}
	percent = min(max(percent, 0), 100)
	full := int(percent / 100 * progressBarWidth)
	fmt.Fprintf(b.w, "\r%3.0f%% ▕%s%s▏", percent, strings.Repeat("█", full), strings.Repeat(" ", progressBarWidth-full))
	b.drawn = true
}

// stop erases the bar and keeps it away: rows are about to print.
func (b *progressBar) stop() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.quiet = true
	b.eraseLocked()
}

// reset erases the bar and lets it draw again: the next statement.
func (b *progressBar) reset() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.quiet = false
	b.eraseLocked()
}

// RunScript runs a pipeline file's statements on one connection of db, as
// `hepsql run` does: each result streams to out through p, statuses (COPY's
// row count) and notices print as in the shell, and, when errOut is a
// terminal, a statement that runs over a second draws DuckDB's progress
// estimate on errOut, erased when it ends or its rows start to print.
func RunScript(ctx context.Context, db *sql.DB, stmts []engine.Statement, file string, p *Printer, out, errOut io.Writer) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: open connection: %w", file, err)
	}
	defer conn.Close()
	var bar *progressBar
	if isTerminal(errOut) {
		if _, err := conn.ExecContext(ctx, "SET enable_progress_bar = true; SET enable_progress_bar_print = false"); err == nil {
			bar = &progressBar{w: errOut}
			ctx = engine.WithProgress(ctx, bar.report)
			p.beforeTable = bar.stop
			defer func() { p.beforeTable = nil }()
		}
	}
	return engine.StreamScriptConn(ctx, conn, stmts, file, func(rows *engine.Rows) error {
		if p.streams() {
			bar.stop() // rows will print while the statement runs
		}
		return p.PrintRows(out, rows)
	}, func(_ engine.Statement, o engine.Outcome) {
		bar.reset()
		p.PrintStatus(out, errOut, o.Status)
		p.PrintNotices(errOut, o.Notices)
	})
}

func (b *progressBar) eraseLocked() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
}
