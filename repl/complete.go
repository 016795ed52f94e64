package repl

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/hepsql/hepsql/engine"
)

// Tab completion: dot-commands at the start of a line; inside a '...'
// string, file paths; elsewhere SQL keywords, functions (hepsql's and
// DuckDB's), tables and views, and their columns. Names come from DuckDB's
// catalog each time, so that tables made a moment ago complete too.

// completionQuery lists the names to complete, with how to spell them.
const completionQuery = `SELECT DISTINCT name FROM (
	SELECT keyword_name AS name FROM duckdb_keywords()
	UNION ALL SELECT function_name FROM duckdb_functions()
	UNION ALL SELECT table_name FROM duckdb_tables()
	UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal
	UNION ALL SELECT column_name FROM duckdb_columns() WHERE NOT internal
)`

// complete is liner's word completer: line split at pos into head, the
// candidate words and tail.
func (r *REPL) complete(line string, pos int) (head string, completions []string, tail string) {
	if pos > len(line) {
		pos = len(line)
	}
	before, tail := line[:pos], line[pos:]
	if strings.HasPrefix(strings.TrimSpace(before), ".") && !strings.ContainsAny(strings.TrimSpace(before), " \t") {
		word := strings.TrimSpace(before)
		for _, c := range commands {
			if strings.HasPrefix(c.name, word) {
				completions = append(completions, c.name+" ")
			}
		}
		return before[:len(before)-len(word)], completions, tail
	}
	// The FILE argument of .import, .read, .output and .once: a path.
	if cmd, arg, ok := strings.Cut(strings.TrimLeft(before, " \t"), " "); ok && fileCommands[cmd] &&
		!strings.ContainsAny(strings.TrimLeft(arg, " "), " \t'\"") {
		word := strings.TrimLeft(arg, " ")
		return before[:len(before)-len(word)], completePath(word), tail
	}
	if q := openQuote(before); q >= 0 {
		prefix := before[q+1:]
		return before[:q+1], completePath(prefix), tail
	}
	start := len(before)
	for start > 0 {
		c := rune(before[start-1])
		if !(c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c)) {
			break
		}
		start--
	}
	word := before[start:]
	if word == "" {
		return before, nil, tail
	}
	return before[:start], r.completeName(word), tail
}

// openQuote returns the offset of the single quote opening a string still
// open at the end of s, or -1.
func openQuote(s string) int {
	open := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			if open >= 0 {
				open = -1
			} else {
				open = i
			}
		}
	}
	return open
}

// completePath lists the files and folders whose path starts with prefix;
// folders end with '/'.
// fileCommands are the dot-commands whose first argument is a file.
var fileCommands = map[string]bool{".import": true, ".read": true, ".output": true, ".once": true}

func completePath(prefix string) []string {
	matches, _ := filepath.Glob(globEscape(prefix) + "*")
	var out []string
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.IsDir() {
			m += string(filepath.Separator)
		}
		out = append(out, m)
	}
	return out
}

func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

// completeName lists the names starting with word, without regard to case;
// keywords take the case of what was typed.
func (r *REPL) completeName(word string) []string {
	if r.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, _, err := engine.RunStatement(ctx, r.conn, engine.Statement{SQL: completionQuery})
	if err != nil {
		return nil
	}
	lower := strings.ToLower(word)
	upper := word == strings.ToUpper(word) && word != lower
	var out []string
	for _, row := range res.Rows {
		name, _ := row[0].(string)
		if !strings.HasPrefix(strings.ToLower(name), lower) || name == "" {
			continue
		}
		if upper {
			name = strings.ToUpper(name)
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
