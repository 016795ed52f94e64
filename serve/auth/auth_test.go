package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestTokens(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tokens")
	sqlTok, err := AddToken(file, SQL, "alice")
	if err != nil {
		t.Fatal(err)
	}
	inferTok, err := AddToken(file, Infer, "")
	if err != nil {
		t.Fatal(err)
	}
	tk, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		header string
		need   Scope
		want   error
		name   string
	}{
		{"Bearer " + sqlTok, SQL, nil, "alice"},
		{"bearer  " + sqlTok + " ", Infer, nil, "alice"},
		{"Bearer " + inferTok, Infer, nil, "line 3"},
		{"Bearer " + inferTok, SQL, ErrScope, ""},
		{"Bearer x" + sqlTok, Infer, ErrBadToken, ""},
		{"Basic " + sqlTok, Infer, ErrNoToken, ""},
		{"", Infer, ErrNoToken, ""},
		{"Bearer ", Infer, ErrNoToken, ""},
	} {
		id, err := tk.Check(c.header, c.need)
		if !errors.Is(err, c.want) || c.want == nil && id.Name != c.name {
			t.Errorf("Check(%q, %s) = %+v, %v; want %v", c.header, c.need, id, err, c.want)
		}
	}
	// The file's line is the token's SHA-256, computed independently.
	sum := sha256.Sum256([]byte(sqlTok))
	if l := Line(sqlTok, SQL, "alice"); l != "sql sha256:"+hex.EncodeToString(sum[:])+" alice" {
		t.Errorf("Line = %q", l)
	}
	for _, bad := range []string{"sql abc", "admin sha256:" + strings.Repeat("0", 64), "sql sha256:" + strings.Repeat("0", 63), "sql sha256:" + strings.Repeat("0", 64) + " a b", "# only comments"} {
		if _, err := Parse(strings.NewReader(bad), "f"); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

func TestDoors(t *testing.T) {
	sqlTok, inferTok := NewToken(), NewToken()
	tk, err := Parse(strings.NewReader(Line(sqlTok, SQL, "a")+"\n"+Line(inferTok, Infer, "b")+"\n"), "f")
	if err != nil {
		t.Fatal(err)
	}
	h := HTTP(tk, Infer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := IdentityOf(r.Context())
		w.Write([]byte(id.Name))
	}))
	for _, c := range []struct {
		path, tok string
		code      int
	}{
		{"/models", "", 401}, {"/models", "wrong", 401}, {"/models", inferTok, 200}, {"/models", sqlTok, 200},
		{"/v2/health/ready", "", 200}, {"/v2/models/x/infer", "", 401},
	} {
		req := httptest.NewRequest("GET", c.path, nil)
		if c.tok != "" {
			req.Header.Set("Authorization", "Bearer "+c.tok)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.code || c.code == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s with %q: %d, want %d", c.path, c.tok, w.Code, c.code)
		}
	}
	unary, _ := GRPC(tk, SQL)
	call := func(tok string) error {
		ctx := context.Background()
		if tok != "" {
			ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", "Bearer "+tok))
		}
		_, err := unary(ctx, nil, &grpc.UnaryServerInfo{}, func(ctx context.Context, req any) (any, error) { return nil, nil })
		return err
	}
	if err := call(sqlTok); err != nil {
		t.Errorf("sql token: %v", err)
	}
	if code := status.Code(call("")); code != codes.Unauthenticated {
		t.Errorf("no token: %v", code)
	}
	if code := status.Code(call(inferTok)); code != codes.PermissionDenied {
		t.Errorf("inference token: %v", code)
	}
}
