// Command conciseness measures how long hepsql's ADL benchmark queries are
// next to the public BigQuery, Presto and RDataFrame implementations of the
// same queries: code lines and characters, comments, blank lines and
// indentation left out (see measure).
//
// hepsql's queries are counted from queries/adl on every run; the peers'
// counts come from the table in peers.go, or are recounted from a checkout
// of their repository with -peers. The result is printed and written
// between the conciseness markers of bench/README.md.
//
//	go run ./bench/cmd/conciseness [-peers DIR] [-readme bench/README.md]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	queriesDir := flag.String("queries", "queries/adl", "hepsql's ADL queries (q1.sql ...; built-in-only versions in builtin/)")
	peersDir := flag.String("peers", "", "recount the peers from this checkout of "+peerRepo+" at "+peerCommit[:7]+" and check the committed counts")
	readme := flag.String("readme", "bench/README.md", "file whose conciseness section is rewritten; empty: print only")
	flag.Parse()

	if err := run(*queriesDir, *peersDir, *readme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(queriesDir, peersDir, readme string) error {
	lib, err := measureHepsql(queriesDir)
	if err != nil {
		return err
	}
	builtin, err := measureHepsql(filepath.Join(queriesDir, "builtin"))
	if err != nil {
		return err
	}
	if peersDir != "" {
		if err := checkPeers(peersDir); err != nil {
			return err
		}
	}
	r := report{
		date:    time.Now().UTC().Format("2006-01-02"),
		version: hepsqlVersion(queriesDir),
		lib:     lib,
		builtin: builtin,
	}
	text := r.render()
	fmt.Print(text)
	if readme == "" {
		return nil
	}
	return rewriteSection(readme, text)
}

// hepsqlFile names the file of a query: Q6-1 is q6-1.sql.
func hepsqlFile(query string) string { return "q" + strings.TrimPrefix(query, "Q") + ".sql" }

// measureHepsql counts every query of the table in dir; the `-- @param`
// header and the description above each query are comments, so they do not
// count.
func measureHepsql(dir string) (map[string]size, error) {
	out := make(map[string]size, len(queries))
	for _, q := range queries {
		path := filepath.Join(dir, hepsqlFile(q))
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("conciseness: hepsql's %s: %w", q, err)
		}
		out[q] = measure(string(src), langSQL, nil)
	}
	return out, nil
}

// checkPeers recounts every peer file from dir and fails, listing each
// difference, unless all agree with the committed table.
func checkPeers(dir string) error {
	var bad []string
	for _, f := range peerFiles {
		path := filepath.Join(dir, filepath.FromSlash(f.path))
		src, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("conciseness: recount %s %s: %w", f.system, f.query, err)
		}
		l, err := langOf(path)
		if err != nil {
			return err
		}
		whole := measure(string(src), l, nil)
		noDraw := whole
		if l == langCPP {
			noDraw = measure(string(src), l, isDrawing)
		}
		if whole != f.whole || noDraw != f.noDraw {
			bad = append(bad, fmt.Sprintf("  %s: committed %d lines/%d chars (%d/%d without drawing), recounted %d/%d (%d/%d)",
				f.path, f.whole.Lines, f.whole.Chars, f.noDraw.Lines, f.noDraw.Chars,
				whole.Lines, whole.Chars, noDraw.Lines, noDraw.Chars))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("conciseness: %d of %d peer files in %s differ from the committed counts (not the commit %s?):\n%s",
			len(bad), len(peerFiles), dir, peerCommit[:7], strings.Join(bad, "\n"))
	}
	fmt.Fprintf(os.Stderr, "conciseness: all %d peer files in %s recount to the committed numbers\n", len(peerFiles), dir)
	return nil
}

// hepsqlVersion names the commit the queries were counted at, and says so
// when the working tree holds changes to them.
func hepsqlVersion(queriesDir string) string {
	head, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "an unknown commit (git rev-parse failed)"
	}
	v := strings.TrimSpace(string(head))
	dirty, err := exec.Command("git", "status", "--porcelain", "--", queriesDir).Output()
	if err == nil && len(bytes.TrimSpace(dirty)) > 0 {
		v += " with uncommitted changes to " + queriesDir
	}
	return v
}
