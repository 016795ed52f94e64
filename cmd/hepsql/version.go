package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is hepsql's version; a release build sets it with
// -ldflags "-X main.version=v1.2.3". Otherwise it comes from the module's
// build information: the module version when built with go install, else
// the VCS revision the binary was built from.
var version = ""

// versionLine is what --version prints: hepsql's version, its commit and
// the versions of Go and DuckDB.
func versionLine(duckdbVersion string) string {
	v, rev, modified := version, "", false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	parts := []string{"hepsql " + v}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified {
			rev += "+modified"
		}
		parts = append(parts, "commit "+rev)
	}
	parts = append(parts, runtime.Version())
	if duckdbVersion != "" {
		parts = append(parts, "DuckDB "+duckdbVersion)
	}
	return strings.Join(parts, ", ")
}

// printVersion writes the version line, asking an in-memory database for
// DuckDB's version.
func printVersion(w io.Writer) error {
	duck := ""
	if db, err := openDB("", 1); err == nil {
		_ = db.QueryRow("SELECT library_version FROM pragma_version()").Scan(&duck)
		db.Close()
	}
	_, err := fmt.Fprintln(w, versionLine(duck))
	return err
}
