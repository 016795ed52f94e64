package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"

	"github.com/hepsql/hepsql/internal/testfiles"
)

// buildBinary builds the command into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hepsql")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type result struct {
	stdout, stderr string
	code           int
}

func invoke(t *testing.T, bin, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errOut.String(), code}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const pipeline = `-- @param n = 5
-- @param label = 'default label'
CREATE TEMP TABLE ev AS SELECT range AS i FROM range(${n});
SELECT '${label}' AS label, count(*) AS n, sum(i) AS s
FROM ev;
`

const broken = `-- @param n = 3
-- a pipeline with a broken seventh line

CREATE TABLE ev AS SELECT range AS i FROM range(${n});
SELECT count(*) AS n FROM ev;

SELECT i, pt FROM ev;
SELECT 'never' AS x;
`

func TestCommand(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.sql", pipeline)
	bad := writeFile(t, dir, "bad.sql", broken)
	db := filepath.Join(dir, "store.duckdb")
	// go-hep's std-containers tree: 2 entries, 2 unsupported maps of nested vectors and sets.
	split := filepath.Join(testfiles.GrootTestdata(t), "std-containers-split00.root")
	notices := writeFile(t, dir, "notices.sql", "CREATE TABLE ev AS SELECT * FROM '"+split+"';\nSELECT count(*) AS n FROM ev;\nSELECT map_i32_vec_set_i16\nFROM '"+split+"';\n")
	notice := "Notice: read_root: " + split + ": 2 unsupported branches of tree \"tree\" left out of the table (map_i32_vec_vec_i16, map_i32_vec_set_i16): see root_branches()\n"

	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        result
	}{
		{"-c", "", []string{"-c", "SELECT 1 AS a; SELECT 'x' AS b", "--mode", "csv"},
			result{"a\n1\n\nb\nx\n", "", 0}},
		{"-c error stops", "", []string{"--mode", "csv", "-c", "SELECT nosuch; SELECT 2 AS b"},
			result{"", "Error: Binder Error: Referenced column \"nosuch\" was not found because the FROM clause is missing\n\n" +
				"LINE 1: SELECT nosuch\n               ^\n", 1}},
		{"run with --set", "", []string{"run", good, "--set", "n=3", "--mode", "csv", "--set", "label=a, b"},
			result{"label,n,s\n\"a, b\",3,3\n", "", 0}},
		{"run defaults as json", "", []string{"run", "--mode=json", good},
			result{"[\n{\"label\":\"default label\",\"n\":5,\"s\":10}\n]\n", "", 0}},
		{"run failing", "", []string{"run", bad, "--mode", "csv"},
			result{"n\n3\n", bad + ":7:11: Binder Error: Referenced column \"pt\" not found in FROM clause!\n" +
				"Candidate bindings: \"i\"\n\nLINE 7: SELECT i, pt FROM ev\n                  ^\n", 1}},
		{"run with notices", "", []string{"run", notices, "--mode", "csv"},
			result{"n\n2\n", notice + notices + ":3:8: read_root: cannot read branch \"map_i32_vec_set_i16\" (TBranchElement map<int,vector<set<short> > >: C++ type map<int,vector<set<short>>>) of tree \"tree\" in " + split +
				"; unsupported branches are left out of the table: leave it out of the query (see root_branches())\n\nLINE 3: SELECT map_i32_vec_set_i16\n               ^\n", 1}},
		{"run unknown parameter", "", []string{"run", good, "--set", "m=1"},
			result{"", "hepsql: " + good + ": --set m: no such parameter (declared: n, label)\n", 1}},
		{"run missing file", "", []string{"run", filepath.Join(dir, "none.sql")},
			result{"", "hepsql: open " + filepath.Join(dir, "none.sql") + ": no such file or directory\n", 1}},
		{"piped shell", ".mode csv\nSELECT 1 AS a,\n  2 AS b;\nSELECT 3 AS c\n", nil,
			result{"a,b\n1,2\n\nc\n3\n", "", 0}},
		{"piped shell error", "SELECT 'x' AS a;\nSELEC 1;\nSELECT 2 AS b;\n", []string{"--mode", "csv", "--threads", "2"},
			result{"a\nx\n\nb\n2\n", "Error: Parser Error: syntax error at or near \"SELEC\"\n\nLINE 2: SELEC 1\n        ^\n", 1}},
		// Line numbers of piped input count from its start, also for a
		// statement that starts after another on the same line.
		{"piped shell error lines", "SELECT 1 AS a;\n\nSELECT 2 AS b; SELECT\n  3 AS c,\n  nosuch;\n", []string{"--mode", "csv"},
			result{"a\n1\n\nb\n2\n", "Error: Binder Error: Referenced column \"nosuch\" was not found because the FROM clause is missing\n\nLINE 5:   nosuch\n          ^\n", 1}},
		{"write database", "CREATE TABLE kept AS SELECT 42 AS v;\n", []string{"--db", db}, result{"", "", 0}},
		{"read database", "", []string{"--db", db, "-c", "SELECT v FROM kept", "--mode", "csv"}, result{"v\n42\n", "", 0}},
		{"bad mode", "", []string{"--mode", "xml"},
			result{"", "hepsql: --mode \"xml\": want one of box, table, line, list, csv, json, markdown\nRun 'hepsql -h' or 'hepsql run -h' for usage.\n", 2}},
		{"gen without --out", "", []string{"gen", "adl"},
			result{"", "hepsql: gen adl: --out is required\nRun 'hepsql -h' or 'hepsql run -h' for usage.\n", 2}},
		{"gen adl", "", []string{"gen", "adl", "--events", "500", "--seed", "3", "--out", filepath.Join(dir, "gen")},
			result{filepath.Join(dir, "gen", "adl_0000.root") + "\n", "", 0}},
		{"query generated", "", []string{"-c", "SELECT count(*) AS n, count(DISTINCT _file) AS f FROM '" + filepath.Join(dir, "gen", "*.root") + "'", "--mode", "csv"},
			result{"n,f\n500,1\n", "", 0}},
		{"gen help", "", []string{"gen", "-h"}, result{genUsage, "", 0}},
		{"gen unknown", "", []string{"gen", "zjets"},
			result{"", "hepsql: gen: want 'adl' (NanoAOD-style events for the ADL queries), 'topology' (QCD, tt̄ and W+jets samples for the topology classifier) or 'jets' (W, Z and top fat jets for UCluster)\nRun 'hepsql -h' or 'hepsql run -h' for usage.\n", 2}},
		{"gen topology too few", "", []string{"gen", "topology", "--events", "2", "--out", filepath.Join(dir, "topo")},
			result{"", "hepsql: topogen: Events must be at least 3 (one per class), got 2\n", 1}},
		{"gen topology", "", []string{"gen", "topology", "--events", "31", "--seed", "2", "--per-file", "6", "--compression", "zstd", "--out", filepath.Join(dir, "topo")},
			result{strings.Join([]string{
				filepath.Join(dir, "topo", "qcd_0000.root"), filepath.Join(dir, "topo", "qcd_0001.root"),
				filepath.Join(dir, "topo", "ttbar_0000.root"), filepath.Join(dir, "topo", "ttbar_0001.root"),
				filepath.Join(dir, "topo", "wjets_0000.root"), filepath.Join(dir, "topo", "wjets_0001.root"),
			}, "\n") + "\n", "", 0}},
		{"query topology", "", []string{"-c", "SELECT split_part(parse_filename(_file), '_', 1) AS class, count(*) AS n, " +
			"count(DISTINCT _file) AS f, bool_and(len(EFlowTrack_PT) = nEFlowTrack) AS ok FROM '" + filepath.Join(dir, "topo", "*.root") + "' GROUP BY ALL ORDER BY class", "--mode", "csv"},
			result{"class,n,f,ok\nqcd,11,2,true\nttbar,10,2,true\nwjets,10,2,true\n", "", 0}},
		{"gen jets", "", []string{"gen", "jets", "--events", "10", "--seed", "2", "--qcd", "--per-file", "6", "--out", filepath.Join(dir, "jets")},
			result{filepath.Join(dir, "jets", "jets_0000.root") + "\n" + filepath.Join(dir, "jets", "jets_0001.root") + "\n", "", 0}},
		{"query jets", "", []string{"-c", "SELECT truth, count(*) AS n, bool_and(len(Part_pt) = nPart AND nPart BETWEEN 1 AND 100) AS ok FROM read_root('" +
			filepath.Join(dir, "jets", "*.root") + "', tree := 'Jets') GROUP BY ALL ORDER BY truth", "--mode", "csv"},
			result{"truth,n,ok\n0,3,true\n1,3,true\n2,2,true\n3,2,true\n", "", 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := invoke(t, bin, tc.stdin, tc.args...)
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestFitsColumns: a wide result (the CMS sample's 88 columns, jagged
// lists of floats) printed as a table with COLUMNS=100 and stdout not a
// terminal has no line wider than 100 display columns; middle columns are
// hidden behind a "…" column and the footer says how many.
func TestFitsColumns(t *testing.T) {
	sample := testfiles.CMSSample(t)
	bin := buildBinary(t)
	for _, mode := range []string{"box", "table"} {
		cmd := exec.Command(bin, "--mode", mode, "-c", "SELECT * FROM read_root('"+sample+"') LIMIT 3")
		cmd.Env = append(os.Environ(), "COLUMNS=100")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if len(lines) != 9 {
			t.Errorf("%s: %d lines, want 9:\n%s", mode, len(lines), out)
		}
		for _, l := range lines {
			if w := runewidth.StringWidth(l); w > 100 {
				t.Errorf("%s: line of width %d: %s", mode, w, l)
			}
		}
		if w := runewidth.StringWidth(lines[0]); w < 90 {
			t.Errorf("%s: table is %d wide, want it to use the room (100)", mode, w)
		}
		if !strings.Contains(lines[1], " … ") || !strings.HasPrefix(lines[len(lines)-1], "(3 rows, 88 columns, ") {
			t.Errorf("%s: no hidden-column marker or footer:\n%s", mode, out)
		}
	}
}

// TestVersion: --version names hepsql's version (or devel), Go's and
// DuckDB's.
func TestVersion(t *testing.T) {
	got := invoke(t, buildBinary(t), "", "--version")
	if got.code != 0 || !strings.HasPrefix(got.stdout, "hepsql ") || !strings.Contains(got.stdout, ", go1.") ||
		!strings.Contains(got.stdout, ", DuckDB v") || strings.Count(got.stdout, "\n") != 1 {
		t.Errorf("--version: %+v", got)
	}
	version = "v9.9.9"
	defer func() { version = "" }()
	if line := versionLine("v1.5.5"); !strings.HasPrefix(line, "hepsql v9.9.9, ") || !strings.HasSuffix(line, ", DuckDB v1.5.5") {
		t.Errorf("versionLine = %q", line)
	}
}

// TestHelpROOT: the ROOT table functions have help pages, with "did you
// mean" for a misspelt name.
func TestHelpROOT(t *testing.T) {
	got := invoke(t, buildBinary(t), ".help read_root\n.help root_branche\n")
	if !strings.HasPrefix(got.stdout, "read_root (ROOT files)\n  One row per entry of a TTree;") ||
		got.stderr != "Error: .help: no help on \"root_branche\"; did you mean root_branches?\n" {
		t.Errorf("got %+v", got)
	}
}
