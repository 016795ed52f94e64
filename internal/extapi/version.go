package extapi

import (
	"strconv"
	"strings"
)

// Supported reports whether a host of DuckDB version v ("v1.5.6") gives
// the function struct forwarders.c was generated for: its slots are those
// of DuckDB 1.5.2 to 1.5.6 (546), and DuckDB 2.0 appended two functions to
// them and removed none.
func Supported(v string) bool {
	major, minor, patch, ok := parseVersion(v)
	if !ok {
		return false
	}
	switch {
	case major == 1 && minor == 5:
		return patch >= 2
	case major == 2 && minor == 0:
		return true
	}
	return false
}

// parseVersion reads "v1.5.6" (a suffix after -, + or a space is ignored).
func parseVersion(v string) (major, minor, patch int, ok bool) {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+ "); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return 0, 0, 0, false
		}
		n[i] = x
	}
	return n[0], n[1], n[2], true
}
