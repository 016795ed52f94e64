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
func newLineReader(opts Options, complete func(string, int) (string, []string, string)) (lineReader, error) {
	if opts.Interactive && opts.In == os.Stdin && opts.Out == os.Stdout &&
		term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())) {
		return newEditor(opts.HistoryFile, complete)
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
	history *historyFile // nil when history is off
}

// historyOff as Options.HistoryFile disables the history file.
const historyOff = "-"

func newEditor(historyPath string, complete func(line string, pos int) (string, []string, string)) (*editor, error) {
	if historyPath == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("locate history file: %w", err)
		}
		historyPath = filepath.Join(home, ".hepsql_history")
	}
	e := &editor{state: liner.NewLiner()}
	e.state.SetCtrlCAborts(true) // we want to hear about Ctrl-C to drop a half-typed statement
	e.state.SetMultiLineMode(true)
	if complete != nil {
		e.state.SetWordCompleter(complete)
		e.state.SetTabCompletionStyle(liner.TabPrints)
	}
	if historyPath != historyOff {
		h, entries, err := openHistory(historyPath)
		if err != nil {
			e.state.Close()
			return nil, err
		}
		e.history = h
		for _, entry := range entries {
			e.state.AppendHistory(entry)
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

// AddHistory puts entry in the editor's history and appends it to the file
// at once, so that a shell killed (SIGHUP) loses nothing and shells running
// side by side keep each other's lines.
func (e *editor) AddHistory(entry string) {
	if strings.TrimSpace(entry) == "" {
		return
	}
	e.state.AppendHistory(entry)
	if e.history != nil {
		e.history.Append(entry)
	}
}

// Close restores the terminal and closes the history file.
func (e *editor) Close() error {
	var err error
	if e.history != nil {
		err = e.history.Close()
	}
	return errors.Join(err, e.state.Close())
}

// historyFile is the history on disk: one entry per line, appended with
// O_APPEND, one write per entry, so that entries of several shells
// interleave whole.
type historyFile struct {
	f *os.File
}

// maxHistoryLoad is how many of the last entries are loaded at start.
const maxHistoryLoad = 1000

// openHistory opens (creating it) the history file at path for appending,
// and returns its last entries, oldest first.
func openHistory(path string) (*historyFile, []string, error) {
	var entries []string
	if data, err := os.ReadFile(path); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(l) != "" {
				entries = append(entries, l)
			}
		}
	}
	if len(entries) > maxHistoryLoad {
		entries = entries[len(entries)-maxHistoryLoad:]
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open history: %w", err)
	}
	return &historyFile{f: f}, entries, nil
}

// Append writes entry as one line; newlines in it become blanks.
func (h *historyFile) Append(entry string) {
	entry = strings.ReplaceAll(strings.TrimRight(entry, "\r\n"), "\n", " ")
	_, _ = h.f.WriteString(entry + "\n") // history is not worth failing a statement for
}

func (h *historyFile) Close() error { return h.f.Close() }
