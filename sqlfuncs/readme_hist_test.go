package sqlfuncs_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeHistExamples runs the SQL block of README.md's "Histograms
// and cut-flows as values" from the repository root, where its paths
// point, against the CMS sample, and checks a few of its numbers.
func TestReadmeHistExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "#### Histograms and cut-flows as values")
	if i < 0 {
		t.Fatal("README.md has no section on histograms as values")
	}
	start := strings.Index(text[i:], "```sql\n")
	end := strings.Index(text[i+start+7:], "```")
	if start < 0 || end < 0 {
		t.Fatal("the section has no SQL block")
	}
	block := text[i+start+7 : i+start+7+end]
	t.Chdir("..")
	if _, err := os.Stat("../shared/data/Run2012B_SingleMu_10000.root"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip("the CMS sample ../shared/data/Run2012B_SingleMu_10000.root is missing")
	}
	db := openDB(t)
	for _, stmt := range strings.Split(block, ";") {
		if strings.TrimSpace(stripComments(stmt)) == "" {
			continue
		}
		rows, err := db.Query(stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		rows.Close()
		if n == 0 {
			t.Fatalf("%s: no rows", stmt)
		}
	}
	var entries int64
	if err := db.QueryRow("SELECT hist_merge(met).entries FROM parts").Scan(&entries); err != nil || entries != 10000 {
		t.Fatalf("merged entries %d, %v; want the sample's 10000 events", entries, err)
	}
	var same bool
	if err := db.QueryRow("SELECT hist_merge(met) = (SELECT hist(MET_pt, 50, 0, 200) FROM '../shared/data/Run2012B_SingleMu_10000.root') FROM parts").Scan(&same); err != nil || !same {
		t.Fatalf("merged shards differ from the one-pass histogram (%v)", err)
	}
}

func stripComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
