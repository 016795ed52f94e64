package rootwrite_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/testfiles"
)

// TestReadmeWriteExamples runs the SQL block of README.md's "Writing ROOT
// files and plots" from the repository root, where its paths point, and
// checks the files it writes: two ROOT files, a PNG and an SVG.
func TestReadmeWriteExamples(t *testing.T) {
	testfiles.CMSSample(t)
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(here))
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "#### Writing ROOT files and plots")
	if i < 0 {
		t.Fatal("README.md has no section on writing ROOT files and plots")
	}
	start := strings.Index(text[i:], "```sql\n")
	end := strings.Index(text[i+start+7:], "```")
	if start < 0 || end < 0 {
		t.Fatal("the section has no SQL block")
	}
	block := text[i+start+7 : i+start+7+end]
	t.Chdir(root)
	testfiles.LockOut(t, root) // TestReadme writes the same files
	if err := os.MkdirAll("out", 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"out/dimuon.root": "root", "out/met.root": "root", "out/jets.png": "\x89PNG", "out/met.svg": "<?xml"}
	for f := range files {
		os.Remove(f)
	}
	db := openDB(t)
	for _, stmt := range strings.Split(block, ";") {
		code := ""
		for _, line := range strings.Split(stmt, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				code += line + "\n"
			}
		}
		if strings.TrimSpace(code) == "" {
			continue
		}
		rows, err := db.Query(stmt)
		if err != nil {
			t.Fatalf("%s: %v", strings.TrimSpace(stmt), err)
		}
		rows.Close()
	}
	for f, magic := range files {
		b, err := os.ReadFile(f)
		if err != nil || !strings.HasPrefix(string(b), magic) {
			t.Errorf("%s: %v, want a file starting %q", f, err, magic)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM 'out/dimuon.root' WHERE nMu <> len(Mu_pt) OR nMu < 2").Scan(&n); err != nil || n != 0 {
		t.Errorf("out/dimuon.root: %d rows with a wrong counter (%v)", n, err)
	}
}
