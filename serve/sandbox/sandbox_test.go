package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootscan"
	"github.com/hepsql/hepsql/serve/sandbox"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	allowed := filepath.Join(dir, "allowed")
	outside := filepath.Join(dir, "outside")
	for _, d := range []string{allowed, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(allowed, "link")); err != nil {
		t.Fatal(err)
	}
	p, err := sandbox.New([]string{allowed, "root://eos.example.org//eos/opendata/"})
	if err != nil {
		t.Fatal(err)
	}
	for name, ok := range map[string]bool{
		filepath.Join(allowed, "a.root"):                      true,
		filepath.Join(allowed, "sub", "*.root"):               true,
		allowed:                                               true,
		filepath.Join(allowed, "..", "outside", "a.root"):     false,
		filepath.Join(allowed, "link", "a.root"):              false, // a link out
		filepath.Join(outside, "a.root"):                      false,
		allowed + "x/a.root":                                  false, // a sibling sharing the prefix
		"/etc/passwd":                                         false,
		"root://eos.example.org//eos/opendata/cms/a.root":     true,
		"root://eos.example.org//eos/user/a.root":             false,
		"root://eos.example.org//eos/opendata/../user/a.root": false,
		"root://other.example.org//eos/opendata/a.root":       false,
		"http://eos.example.org//eos/opendata/a.root":         false,
	} {
		err := p.Check(name)
		if (err == nil) != ok {
			t.Errorf("Check(%q) = %v, want allowed %v", name, err, ok)
		}
		if err != nil && (!errors.Is(err, sandbox.ErrDenied) || strings.Contains(err.Error(), allowed) && !strings.Contains(name, allowed)) {
			t.Errorf("Check(%q): error %q", name, err)
		}
	}
	if _, err := sandbox.New([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("New with a missing folder: no error")
	}
}

// TestLock runs queries on a locked database: read_root and DuckDB's
// readers work inside the allowed folder and fail outside it with an error
// naming nothing but what the query named; settings cannot be changed.
func TestLock(t *testing.T) {
	sample := testfiles.CMSSample(t)
	dataDir := filepath.Dir(sample)
	out := t.TempDir()
	csv := filepath.Join(out, "secret.csv")
	if err := os.WriteFile(csv, []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A symlink inside an allowed folder leading out of it.
	allowed := t.TempDir()
	if err := os.Symlink(out, filepath.Join(allowed, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "x.root"), []byte("not ROOT"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := hepsql.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(2)
	ctx := context.Background()
	var want int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_root(?)", sample).Scan(&want); err != nil {
		t.Fatal(err)
	}
	p, err := sandbox.New([]string{dataDir, allowed})
	if err != nil {
		t.Fatal(err)
	}
	defer rootscan.SetAccessCheck(rootscan.SetAccessCheck(p.Check))
	if err := p.Lock(ctx, db, sandbox.Limits{MemoryLimit: "1GB"}); err != nil {
		t.Fatal(err)
	}
	var got int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_root(?)", sample).Scan(&got); err != nil || got != want {
		t.Fatalf("read_root in an allowed folder: %d, %v; want %d", got, err, want)
	}
	for _, q := range []string{
		"SELECT count(*) FROM read_root('" + filepath.Join(allowed, "link", "x.root") + "')", // the link leads out
		"SELECT count(*) FROM read_root('" + filepath.Join(allowed, "link", "*.root") + "')",
		"SELECT count(*) FROM read_root('" + filepath.Join(out, "*.root") + "')",
		"SELECT count(*) FROM read_csv('" + csv + "')",
		"COPY (SELECT 1 AS a) TO '" + filepath.Join(out, "x.csv") + "'",
		"COPY (SELECT 1 AS a) TO '" + filepath.Join(out, "y.root") + "' (FORMAT root)",
		"ATTACH '" + filepath.Join(out, "x.db") + "'",
		"SET enable_external_access = true",
		"SET allowed_directories = ['/']",
		"RESET lock_configuration",
	} {
		_, err := db.ExecContext(ctx, q)
		if err == nil {
			t.Errorf("%s: no error", q)
			continue
		}
		msg := err.Error()
		if strings.Contains(q, "read_root") && !strings.Contains(msg, "outside the folders") {
			t.Errorf("%s: error %q does not say the file is outside the allowed folders", q, msg)
		}
		if strings.Contains(msg, dataDir) || strings.Contains(msg, filepath.Dir(allowed)) && !strings.Contains(q, filepath.Dir(allowed)) {
			t.Errorf("%s: error names a server path: %s", q, msg)
		}
		t.Logf("%s: %s", q, msg)
	}
}
