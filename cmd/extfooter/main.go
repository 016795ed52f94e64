// Command extfooter appends DuckDB's 512-byte extension metadata footer to
// a shared library, making it a loadable (unsigned) C_STRUCT extension.
//
// The footer is eight NUL-padded 32-byte ASCII fields followed by a 256-byte
// signature (zeros: unsigned). In file order the fields are: three unused,
// the ABI type (C_STRUCT), the extension's version (free text), the minimum
// C API version the extension needs, the platform (as DuckDB's PRAGMA
// platform names it, e.g. linux_amd64) and the magic "4". DuckDB reads the
// last 512 bytes of the file; running it twice appends a second footer, so
// the build script runs it on a freshly linked file.
//
// Usage: extfooter -version V -capi v1.2.0 [-platform P] FILE
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
)

const fieldSize = 32

func main() {
	version := flag.String("version", "dev", "the extension's version")
	capiVersion := flag.String("capi", "v1.2.0", "the minimum C API version the extension needs")
	platform := flag.String("platform", Platform(runtime.GOOS, runtime.GOARCH), "DuckDB's platform name (PRAGMA platform)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: extfooter [-version V] [-capi v1.2.0] [-platform P] FILE")
		os.Exit(2)
	}
	footer, err := Footer(*version, *capiVersion, *platform)
	if err == nil {
		err = appendTo(flag.Arg(0), footer)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "extfooter:", err)
		os.Exit(1)
	}
}

// Footer returns the 512 bytes DuckDB reads at the end of an unsigned
// C_STRUCT extension.
func Footer(version, capiVersion, platform string) ([]byte, error) {
	fields := []string{"", "", "", "C_STRUCT", version, capiVersion, platform, "4"}
	b := make([]byte, 512)
	for i, f := range fields {
		if len(f) > fieldSize {
			return nil, fmt.Errorf("footer field %d %q is longer than %d bytes", i, f, fieldSize)
		}
		copy(b[i*fieldSize:], f)
	}
	return b, nil
}

func appendTo(path string, footer []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(footer); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// Platform is DuckDB's name for a Go GOOS/GOARCH pair, as its PRAGMA
// platform prints it for the builds it publishes (linux_amd64,
// osx_arm64, windows_amd64, ...).
func Platform(goos, goarch string) string {
	if goos == "darwin" {
		goos = "osx"
	}
	return goos + "_" + goarch
}
