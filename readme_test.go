package hepsql_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hepsql/hepsql/internal/testfiles"
)

// TestReadme runs every fenced code block of README.md and docs/*.md as a
// new user would, from the repository root, in the file's order:
//
//   - sh blocks through bash, line by line (set -e), except the lines of
//     readmeSkip, and with the substitutions of readmeShrink;
//   - sql blocks through ./bin/hepsql reading the block on stdin (the
//     shell's "hepsql> " and "...> " prompts stripped), one process per
//     block, which must exit 0; a block that declares "-- @param" is a
//     pipeline file and runs through "hepsql run". docs/functions.md's
//     run from sqlfuncs/, as that file says;
//   - go blocks as a program of their own in a folder under out/ (so that
//     it imports this module), with go run;
//   - blocks without a language (printed output) are not run, nor are the
//     blocks of shownNotRun's languages (programs this machine lacks).
//
// README.md's first block runs ./scripts/demo, which builds bin/hepsql and
// writes out/adl and out/topology, the paths the tour reads (shrunk here:
// readmeShrink), so the test needs nothing that a fresh clone lacks, but
// it replaces a full-size demo's outputs in out/. Blocks that read the CMS
// sample (they name ../shared/data or "the CMS sample") fail in CI and are
// skipped elsewhere when it is missing.
func TestReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo and every README example")
	}
	var blocks []codeBlock
	docs, _ := filepath.Glob("docs/*.md")
	for _, f := range append([]string{"README.md"}, docs...) {
		b, err := readBlocks(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b...)
	}
	cms := os.Getenv("CI") != ""
	if _, err := os.Stat(filepath.FromSlash("../shared/data/Run2012B_SingleMu_10000.root")); err == nil {
		cms = true
	}
	// rootwrite's TestReadmeWriteExamples writes the same files in out/.
	testfiles.LockOut(t, ".")
	used := map[string]bool{}
	start := time.Now()
	ran, output := 0, 0
	for _, b := range blocks {
		name := fmt.Sprintf("%s:%d:%s", b.file, b.line, b.lang)
		if b.lang != "sh" && b.lang != "sql" && b.lang != "go" {
			if _, shown := shownNotRun[b.lang]; b.lang != "" && !shown {
				t.Errorf("%s: a %q block; the test runs sh, sql and go blocks, and leaves those without a language (output) and those of shownNotRun", name, b.lang)
			}
			output++
			continue
		}
		ran++
		ok := t.Run(name, func(t *testing.T) {
			if strings.Contains(b.text, "../shared/data") || strings.Contains(b.text, "the CMS sample") {
				if !cms {
					t.Skip("reads the CMS sample ../shared/data/Run2012B_SingleMu_10000.root, which is missing")
				}
				testfiles.CMSSample(t)
			}
			switch b.lang {
			case "sh":
				runShBlock(t, b, used)
			case "sql":
				dir := "."
				if b.file != "README.md" {
					// docs/functions.md says its examples run from
					// sqlfuncs/ (testdata/events.root).
					dir = "sqlfuncs"
				}
				runSQLBlock(t, b, dir)
			case "go":
				runGoBlock(t, b)
			}
		})
		if !ok && b.file == "README.md" && b.line == blocks[0].line {
			t.Fatal("the first block (the demo) failed; the others need its outputs")
		}
	}
	for line := range readmeSkip {
		if !used[line] {
			t.Errorf("readmeSkip lists %q, which no sh block has any more", line)
		}
	}
	for from := range readmeShrink {
		if !used[from] {
			t.Errorf("readmeShrink lists %q, which no sh block has any more", from)
		}
	}
	t.Logf("%d code blocks (run or skipped for the CMS sample) in %.1fs; %d blocks of output not run", ran, time.Since(start).Seconds(), output)
}

// shownNotRun lists the languages of blocks that are shown, not run, and
// why: docs/extension.md shows how to load the extension into other
// DuckDBs (extension/'s tests load it into Node's).
var shownNotRun = map[string]string{
	"python":  "Python's duckdb cannot be installed here",
	"js":      "a Node program: extension/nodetest runs the same calls in its tests",
	"console": "a session of the DuckDB CLI, which cannot be installed here",
}

// readmeSkip lists each sh line that is not run, by its command (the line
// without its comment), and why.
var readmeSkip = map[string]string{
	"./scripts/test": "runs every test, this one included",
	"./bin/hepsql":   "the interactive shell: it waits for a terminal",
}

// readmeShrink lists each text replaced in sh lines so that the demo's
// steps run in seconds: the same commands on fewer events.
var readmeShrink = map[string]string{
	"./scripts/demo":  "./scripts/demo 2000 3000",
	"--events 60000 ": "--events 3000 ",
}

type codeBlock struct {
	file string
	line int // of the opening fence
	lang string
	text string
}

var fence = regexp.MustCompile("^```\\s*([A-Za-z0-9_+-]*)\\s*$")

func readBlocks(file string) ([]codeBlock, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []codeBlock
	var cur *codeBlock
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := fence.FindStringSubmatch(line); m != nil {
			if cur == nil {
				cur = &codeBlock{file: file, line: n, lang: m[1]}
				continue
			}
			if m[1] == "" {
				out = append(out, *cur)
				cur = nil
				continue
			}
		}
		if cur != nil {
			cur.text += line + "\n"
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: code block not closed", file, cur.line)
	}
	return out, sc.Err()
}

func runShBlock(t *testing.T, b codeBlock, used map[string]bool) {
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, line := range strings.Split(b.text, "\n") {
		cmd := strings.TrimSpace(line)
		if i := strings.Index(cmd, " #"); i >= 0 {
			cmd = strings.TrimSpace(cmd[:i])
		}
		if cmd == "" {
			continue
		}
		if why, ok := readmeSkip[cmd]; ok {
			used[cmd] = true
			t.Logf("not run: %s (%s)", cmd, why)
			continue
		}
		for from, to := range readmeShrink {
			if strings.HasPrefix(cmd+" ", from) || strings.Contains(cmd+" ", " "+from) {
				used[from] = true
				cmd = strings.Replace(cmd+" ", from, to, 1)
			}
		}
		script.WriteString(cmd + "\n")
	}
	out, err := exec.Command("bash", "-c", script.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, script.String(), tail(out))
	}
}

var prompt = regexp.MustCompile(`^\s*(hepsql>|\.\.\.>) ?`)

func runSQLBlock(t *testing.T, b codeBlock, dir string) {
	bin, err := filepath.Abs("bin/hepsql")
	if err != nil {
		t.Fatal(err)
	}
	var sql strings.Builder
	for _, line := range strings.Split(b.text, "\n") {
		sql.WriteString(prompt.ReplaceAllString(line, "") + "\n")
	}
	var cmd *exec.Cmd
	if strings.Contains(b.text, "-- @param") {
		f := filepath.Join(t.TempDir(), "block.sql")
		if err := os.WriteFile(f, []byte(sql.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(bin, "run", f, "--mode", "csv")
	} else {
		cmd = exec.Command(bin, "--mode", "csv")
		cmd.Stdin = strings.NewReader(sql.String())
	}
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, sql.String(), tail(out))
	}
}

func runGoBlock(t *testing.T, b codeBlock) {
	if err := os.MkdirAll("out", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("out", "readme-go-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(b.text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "run", "./"+filepath.ToSlash(dir)).CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s\n%s", err, b.text, tail(out))
	}
}

// tail is the end of a command's output, enough to see its error.
func tail(out []byte) string {
	const n = 4000
	if len(out) > n {
		return "…" + string(out[len(out)-n:])
	}
	return string(out)
}
