package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// lang selects the comment and literal syntax stripped before counting.
type lang int

const (
	langSQL lang = iota
	langCPP
)

func (l lang) String() string {
	if l == langCPP {
		return "C++"
	}
	return "SQL"
}

// langOf picks the syntax from the file name, so that a directory of
// fetched peer files recounts without a per-file switch.
func langOf(path string) (lang, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".sql":
		return langSQL, nil
	case ".c", ".cc", ".cxx", ".cpp", ".h", ".hxx":
		return langCPP, nil
	}
	return 0, fmt.Errorf("conciseness: %s: unknown language (want .sql, .C, .cxx, .cpp)", path)
}

// stripComments removes SQL `--` and `/* */` comments, or C++ `//` and
// `/* */` comments, leaving string literals and quoted identifiers intact.
// A block comment becomes one space, as a C compiler sees it, but keeps its
// newlines so that the text around it stays on its own lines.
func stripComments(src string, l lang) string {
	var out strings.Builder
	out.Grow(len(src))
	lineComment := "--"
	if l == langCPP {
		lineComment = "//"
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case strings.HasPrefix(src[i:], lineComment):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			body := src[i+2:]
			if end >= 0 {
				body = src[i+2 : i+2+end]
				i += 2 + end + 2
			} else {
				i = len(src)
			}
			out.WriteByte(' ')
			out.WriteString(strings.Repeat("\n", strings.Count(body, "\n")))
		case isQuote(c, l):
			j := skipQuoted(src, i, l)
			out.WriteString(src[i:j])
			i = j
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String()
}

// isQuote reports whether c opens a literal whose content must not be read
// as a comment: SQL strings, quoted and backquoted identifiers; C++ string
// and character literals.
func isQuote(c byte, l lang) bool {
	if l == langCPP {
		return c == '"' || c == '\''
	}
	return c == '\'' || c == '"' || c == '`'
}

// skipQuoted returns the index just past the literal opening at src[i]. SQL
// escapes a quote by doubling it, which the scan handles as a close followed
// by a new open; C++ escapes with a backslash. An unterminated literal runs
// to the end of the text.
func skipQuoted(src string, i int, l lang) int {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch {
		case l == langCPP && src[j] == '\\':
			j++
		case src[j] == q:
			return j + 1
		}
	}
	return len(src)
}

// size is a count of code lines and of their characters.
type size struct {
	Lines, Chars int
}

func (s size) add(o size) size { return size{s.Lines + o.Lines, s.Chars + o.Chars} }

// measure counts, after stripping comments, the lines that are not blank
// and their characters (Unicode code points) with the leading and trailing
// white space of each line removed; line breaks are not counted. Indentation
// and blank lines are style, so they do not weigh. A line for which drop
// returns true (given the trimmed line) is left out; drop may be nil.
func measure(src string, l lang, drop func(string) bool) size {
	var s size
	for _, line := range strings.Split(stripComments(src, l), "\n") {
		t := strings.TrimFunc(line, unicode.IsSpace)
		if t == "" || (drop != nil && drop(t)) {
			continue
		}
		s.Lines++
		s.Chars += utf8.RuneCountInString(t)
	}
	return s
}

// isDrawing reports whether a trimmed C++ line only draws or saves a plot:
// the RDataFrame macros end by drawing their histograms on a TCanvas, which
// the SQL implementations, returning the histogram as rows, do not do.
func isDrawing(t string) bool {
	for _, p := range []string{`#include "TCanvas.h"`, "TCanvas ", "c.SaveAs(", "c.Divide(", "c.cd("} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return strings.HasSuffix(t, "->Draw();") && !strings.ContainsAny(strings.TrimSuffix(t, "->Draw();"), " =(")
}
