package repl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/peterh/liner"
	"golang.org/x/term"
)

// errLineAborted reports Ctrl-C at the prompt: drop the current input.
var errLineAborted = errors.New("input line aborted")

// lineReader is where the shell gets its input from.
type lineReader interface {
	// ReadLine returns one line without its end-of-line; io.EOF at the end
	// of input (Ctrl-D), errLineAborted on Ctrl-C.
	ReadLine(prompt string) (string, error)
	AddHistory(entry string)
	Close() error
}

// newLineReader picks the line editor when the shell really talks to a
// terminal on both ends (the editor drives os.Stdin and os.Stdout itself),
// and plain buffered reading otherwise: pipes, files, tests.
func newLineReader(opts Options) (lineReader, error) {
	if opts.Interactive && opts.In == os.Stdin && opts.Out == os.Stdout &&
		term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())) {
		return newEditor(opts.HistoryFile)
	}
	var prompts io.Writer
	if opts.Interactive {
		prompts = opts.Out
	}
	return &plainReader{r: bufio.NewReader(opts.In), prompts: prompts}, nil
}

// plainReader reads lines from any reader, printing prompts only if asked.
type plainReader struct {
	r       *bufio.Reader
	prompts io.Writer // nil: no prompts
}

func (p *plainReader) ReadLine(prompt string) (string, error) {
	if p.prompts != nil {
		if _, err := io.WriteString(p.prompts, prompt); err != nil {
			return "", fmt.Errorf("write prompt: %w", err)
		}
	}
	// ReadString, unlike bufio.Scanner, has no line-length limit: generated
	// SQL can have very long lines.
	line, err := p.r.ReadString('\n')
	if err == io.EOF && line != "" {
		err = nil // last line without a newline; EOF comes on the next call
	}
	return strings.TrimRight(line, "\r\n"), err
}

func (p *plainReader) AddHistory(string) {}

func (p *plainReader) Close() error { return nil }

// editor is the interactive line editor with persistent history.
type editor struct {
	state   *liner.State
	history string // file; "" when history is off
}

// historyOff as Options.HistoryFile disables the history file.
const historyOff = "-"

func newEditor(historyFile string) (*editor, error) {
	if historyFile == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("locate history file: %w", err)
		}
		historyFile = filepath.Join(home, ".hepsql_history")
	}
	if historyFile == historyOff {
		historyFile = ""
	}
	e := &editor{state: liner.NewLiner(), history: historyFile}
	e.state.SetCtrlCAborts(true) // we want to hear about Ctrl-C to drop a half-typed statement
	e.state.SetMultiLineMode(true)
	if historyFile != "" {
		if f, err := os.Open(historyFile); err == nil {
			_, _ = e.state.ReadHistory(f) // a damaged history is not worth failing for
			f.Close()
		}
	}
	return e, nil
}

func (e *editor) ReadLine(prompt string) (string, error) {
	line, err := e.state.Prompt(prompt)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", errLineAborted
	}
	return line, err
}

func (e *editor) AddHistory(entry string) {
	if strings.TrimSpace(entry) != "" {
		e.state.AppendHistory(entry)
	}
}

// Close restores the terminal and saves the history.
func (e *editor) Close() error {
	var err error
	if e.history != "" {
		err = e.saveHistory()
	}
	return errors.Join(err, e.state.Close())
}

func (e *editor) saveHistory() error {
	f, err := os.OpenFile(e.history, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	if _, err := e.state.WriteHistory(f); err != nil {
		f.Close()
		return fmt.Errorf("save history %s: %w", e.history, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save history %s: %w", e.history, err)
	}
	return nil
}
