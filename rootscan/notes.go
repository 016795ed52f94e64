package rootscan

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Notes collects, per DuckDB connection of one database, the branches that
// read_root calls bound on it left out of their tables, until the engine
// takes them after a statement: to show them as notices, and to explain
// DuckDB's "column not found" when a query names one of them. A program
// that never takes them loses nothing but the oldest: each connection keeps
// the last maxNotesPerConn, and at most maxNotesConns connections keep any.
type Notes struct {
	mu     sync.Mutex
	byConn map[uint64][]LeftOut
}

const (
	maxNotesPerConn = 16
	maxNotesConns   = 64
)

// LeftOut is what one bound read_root table left out: the unsupported
// branches of its tree, named as root_branches names them.
type LeftOut struct {
	File    string // the chain's first file, which fixed the schema
	Tree    string
	Columns []Unsupported
}

// Unsupported is one branch read_root cannot read.
type Unsupported struct {
	Name     string // SQL name
	Branch   string // ROOT branch path
	RootType string // ROOT's description of its leaf
	Why      string // why it cannot be read
}

// NewNotes returns an empty collection for one database.
func NewNotes() *Notes { return &Notes{byConn: map[uint64][]LeftOut{}} }

// add records what a bind on connection conn left out.
func (n *Notes) add(conn uint64, l LeftOut) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	list, ok := n.byConn[conn]
	if !ok && len(n.byConn) >= maxNotesConns {
		for k := range n.byConn { // connections nobody takes notes from
			delete(n.byConn, k)
			if len(n.byConn) < maxNotesConns {
				break
			}
		}
	}
	if len(list) >= maxNotesPerConn {
		list = list[1:]
	}
	n.byConn[conn] = append(list, l)
}

// Take returns and forgets what binds on connection conn left out since the
// last Take, each table once.
func (n *Notes) Take(conn uint64) []LeftOut {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	list := n.byConn[conn]
	delete(n.byConn, conn)
	n.mu.Unlock()
	// DuckDB may bind a table more than once for one statement (a prepared
	// statement rebound, a replacement scan tried again): keep one of each.
	var out []LeftOut
	seen := map[string]bool{}
	for _, l := range list {
		if k := l.File + "\x00" + l.Tree; !seen[k] {
			seen[k] = true
			out = append(out, l)
		}
	}
	return out
}

// noticeNames is how many branch names a notice lists before "...".
const noticeNames = 5

// Notice is the one-line message telling the user what the table left out.
func (l LeftOut) Notice() string {
	names := make([]string, 0, noticeNames+1)
	for i, c := range l.Columns {
		if i == noticeNames {
			names = append(names, "...")
			break
		}
		names = append(names, c.Name)
	}
	what := "branch"
	if len(l.Columns) != 1 {
		what = "branches"
	}
	return fmt.Sprintf("read_root: %s: %d unsupported %s of tree %q left out of the table (%s): see root_branches()",
		l.File, len(l.Columns), what, l.Tree, strings.Join(names, ", "))
}

// find returns the unsupported column named name (DuckDB compares names
// without regard to case).
func (l LeftOut) find(name string) (Unsupported, bool) {
	for _, c := range l.Columns {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Unsupported{}, false
}

// DuckDB's binder errors for a column that is not in the FROM clause's
// tables, as DuckDB 1.5 words them: a plain or qualified reference, and a
// name in SELECT * EXCLUDE / REPLACE / RENAME.
var (
	missingColumn  = regexp.MustCompile(`Referenced column "((?:[^"]|"")+)" not found in FROM clause`)
	missingQual    = regexp.MustCompile(`Table "(?:[^"]|"")+" does not have a column named "((?:[^"]|"")+)"`)
	missingExclude = regexp.MustCompile(`Column "((?:[^"]|"")+)" in (?:EXCLUDE|REPLACE|RENAME) list not found in FROM clause`)
)

// UnsupportedColumnError is DuckDB's complaint that a query names a column
// that is not there, when that column is an unsupported branch a read_root
// table of the statement left out: it says which branch, its ROOT type and
// why it cannot be read. Unwrap gives DuckDB's error.
type UnsupportedColumnError struct {
	File, Tree string
	Column     Unsupported
	inExclude  bool
	Err        error
}

func (e *UnsupportedColumnError) Error() string {
	c := e.Column
	msg := fmt.Sprintf("read_root: cannot read branch %q (%s: %s) of tree %q in %s; unsupported branches are left out of the table",
		c.Branch, c.RootType, c.Why, e.Tree, e.File)
	if e.inExclude {
		msg += ", so there is nothing to exclude: drop it from the list"
	} else {
		msg += ": leave it out of the query"
	}
	msg += " (see root_branches())"
	// Keep DuckDB's excerpt of the statement ("LINE 1: ..." and a caret),
	// which shells use to point at the position.
	if i := strings.Index(e.Err.Error(), "\n\nLINE "); i >= 0 {
		msg += e.Err.Error()[i:]
	}
	return msg
}

func (e *UnsupportedColumnError) Unwrap() error { return e.Err }

// Explain returns err as an *UnsupportedColumnError when it is DuckDB's
// "column not found" for a column that one of left (what the statement's
// read_root tables left out) holds; otherwise it returns err unchanged.
func Explain(err error, left []LeftOut) error {
	if err == nil || len(left) == 0 {
		return err
	}
	var already *UnsupportedColumnError
	if errors.As(err, &already) {
		return err
	}
	msg := err.Error()
	m, exclude := missingColumn.FindStringSubmatch(msg), false
	if m == nil {
		m = missingQual.FindStringSubmatch(msg)
	}
	if m == nil {
		m, exclude = missingExclude.FindStringSubmatch(msg), true
	}
	if m == nil {
		return err
	}
	name := strings.ReplaceAll(m[1], `""`, `"`)
	for _, l := range left {
		if c, ok := l.find(name); ok {
			return &UnsupportedColumnError{File: l.File, Tree: l.Tree, Column: c, inExclude: exclude, Err: err}
		}
	}
	return err
}
