package extension

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hepsql/hepsql/internal/extapi"
)

// CHost is chost/host.c, a minimal stock DuckDB host, linked against the
// static DuckDB of a duckdb-go-bindings version: it reaches DuckDBs that npm
// does not ship (2.0, through duckdb-go-bindings v0.20000.0 and its lib
// module go.duckdb.org/libduckdb/linux-amd64).
type CHost struct {
	Exe string // the linked host
}

// BuildCHost compiles chost/host.c against duckdb.h of bindingsDir and links
// it with the static DuckDB in libDir, writing the program to out.
func BuildCHost(ctx context.Context, root, bindingsDir, libDir, out string) (CHost, error) {
	ldflags, err := extapi.LinkFlags(libDir)
	if err != nil {
		return CHost{}, err
	}
	tmp, err := os.MkdirTemp("", "chost")
	if err != nil {
		return CHost{}, err
	}
	defer os.RemoveAll(tmp)
	cflags := []string{"-O1", "-DDUCKDB_STATIC_BUILD", "-I" + filepath.Join(bindingsDir, "include"), "-I" + libDir}
	objs := []string{filepath.Join(tmp, "host.o")}
	src := [][2]string{{filepath.Join(root, "extension", "chost", "host.c"), objs[0]}}
	// DuckDB 2.0's lib module registers its built-in extensions through a C
	// file of its own (host.c calls it when HOST_STATIC_EXTENSIONS is set).
	if loader := filepath.Join(libDir, "static_extension_loader.c"); fileExists(loader) {
		cflags = append(cflags, "-DHOST_STATIC_EXTENSIONS")
		objs = append(objs, filepath.Join(tmp, "loader.o"))
		src = append(src, [2]string{loader, objs[1]})
	}
	for _, s := range src {
		if err := runTool(ctx, "gcc", append(append([]string{"-c"}, cflags...), "-o", s[1], s[0])...); err != nil {
			return CHost{}, err
		}
	}
	if err := runTool(ctx, "g++", append(append(append([]string{"-o", out}, objs...), ldflags...), "-lpthread")...); err != nil {
		return CHost{}, err
	}
	return CHost{Exe: out}, nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func runTool(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("extension: %s: %v\n%s", name, err, out.Bytes())
	}
	return nil
}

// Run loads the extension at ext into a fresh in-memory DuckDB of the host
// and runs the queries once each. Values come back as JSON strings of
// DuckDB's text for them (NULL as null); Millis is empty.
func (h CHost) Run(ctx context.Context, ext string, threads int, queries []Query) (*Response, error) {
	abs, err := filepath.Abs(ext)
	if err != nil {
		return nil, err
	}
	var script strings.Builder
	for _, q := range queries {
		fmt.Fprintf(&script, "--- %s\n", q.Name)
		for _, s := range q.Statements {
			fmt.Fprintf(&script, "%s\n;;\n", s)
		}
	}
	cmd := exec.CommandContext(ctx, h.Exe, abs, fmt.Sprint(max(threads, 1)))
	cmd.Stdin = strings.NewReader(script.String())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	resp := &Response{}
	var cur *Result
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case resp.DuckDB == "" && strings.HasPrefix(line, "version "):
			resp.DuckDB = strings.TrimPrefix(line, "version ")
		case strings.HasPrefix(line, "=== "):
			resp.Results = append(resp.Results, Result{Name: strings.TrimPrefix(line, "=== ")})
			cur = &resp.Results[len(resp.Results)-1]
		case strings.HasPrefix(line, "!!! ") && cur == nil:
			resp.LoadError = strings.TrimPrefix(line, "!!! ")
		case strings.HasPrefix(line, "!!! "):
			cur.Error = strings.TrimPrefix(line, "!!! ")
		case cur != nil && cur.Error != "":
			cur.Error += "\n" + line // the rest of a multi-line message
		case cur != nil:
			var row []json.RawMessage
			for _, v := range strings.Split(line, "\t") {
				raw := json.RawMessage("null")
				if v != `\N` {
					raw, _ = json.Marshal(v)
				}
				row = append(row, raw)
			}
			cur.Rows = append(cur.Rows, row)
		}
	}
	if resp.LoadError != "" {
		return resp, fmt.Errorf("extension: LOAD into DuckDB %s: %w", resp.DuckDB, &LoadError{resp.LoadError})
	}
	if runErr != nil {
		return nil, fmt.Errorf("extension: %s: %v\n%s", h.Exe, runErr, stderr.Bytes())
	}
	if len(resp.Results) != len(queries) {
		return nil, fmt.Errorf("extension: %s gave %d results for %d queries", h.Exe, len(resp.Results), len(queries))
	}
	return resp, nil
}
