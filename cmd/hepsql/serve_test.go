package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesNonLoopback checks that serve, which has no
// authentication yet, will not listen beyond loopback, and wants --db.
func TestServeRefusesNonLoopback(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"serve", "--db", db, "--listen", "0.0.0.0:8080"}, "loopback"},
		{[]string{"serve", "--db", db, "--listen", "example.org:8080"}, "loopback"},
		{[]string{"serve", "--listen", "127.0.0.1:8080"}, "--db FILE is required"},
		{[]string{"serve", "--db", db, "--max-batch", "0"}, "--max-batch"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), c.args, nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), c.says) {
			t.Errorf("%v: status %d, %s; want 2 and a message saying %s", c.args, code, stderr.String(), c.says)
		}
	}
	for _, ok := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		if err := loopbackOnly(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
