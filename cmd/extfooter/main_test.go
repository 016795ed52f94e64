package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestFooter checks the layout DuckDB reads (extension_load.cpp: the last
// 512 bytes, eight 32-byte fields then the signature), field by field.
func TestFooter(t *testing.T) {
	b, err := Footer("abc123", "v1.2.0", "linux_amd64")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 512 {
		t.Fatalf("footer is %d bytes, want 512", len(b))
	}
	want := []string{"", "", "", "C_STRUCT", "abc123", "v1.2.0", "linux_amd64", "4"}
	for i, w := range want {
		f := b[i*32 : (i+1)*32]
		if got := string(bytes.TrimRight(f, "\x00")); got != w {
			t.Errorf("field %d = %q, want %q", i, got, w)
		}
		if n := bytes.IndexByte(f, 0); n >= 0 && bytes.ContainsFunc(f[n:], func(r rune) bool { return r != 0 }) {
			t.Errorf("field %d is not NUL-padded: %q", i, f)
		}
	}
	if !bytes.Equal(b[256:], make([]byte, 256)) {
		t.Error("signature bytes are not zero (an unsigned extension)")
	}
	if _, err := Footer(strings.Repeat("x", 33), "v1.2.0", "linux_amd64"); err == nil {
		t.Error("a 33-byte version was accepted")
	}
}

func TestPlatform(t *testing.T) {
	for _, c := range [][3]string{{"linux", "amd64", "linux_amd64"}, {"linux", "arm64", "linux_arm64"}, {"darwin", "arm64", "osx_arm64"}, {"windows", "amd64", "windows_amd64"}} {
		if got := Platform(c[0], c[1]); got != c[2] {
			t.Errorf("Platform(%s, %s) = %s, want %s", c[0], c[1], got, c[2])
		}
	}
}
