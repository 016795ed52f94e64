// Package auth checks the bearer tokens of hepsql serve's two doors: the
// HTTP inference API (the Authorization header) and the Flight SQL server
// (gRPC metadata "authorization").
//
// # Token file
//
// One token a line; blank lines and lines starting with # are ignored:
//
//	SCOPE sha256:HEX [NAME]
//
// SCOPE is "sql" (SQL over Flight SQL, and inference) or "infer"
// (inference only); HEX is the SHA-256 of the token, in hexadecimal; NAME
// (no spaces) says whose it is, for the log. The server keeps only the
// hashes: the token itself is shown once, by `hepsql serve token`, which
// appends its line (AddToken). A presented token is hashed and looked up,
// so that no comparison leaks the stored hashes through timing.
package auth

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Scope is what a token may do.
type Scope int

const (
	// Infer may call the inference API only.
	Infer Scope = iota + 1
	// SQL may run SQL over Flight SQL, and call the inference API.
	SQL
)

func (s Scope) String() string {
	switch s {
	case Infer:
		return "infer"
	case SQL:
		return "sql"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// ParseScope reads "sql" or "infer".
func ParseScope(s string) (Scope, error) {
	switch s {
	case "sql":
		return SQL, nil
	case "infer":
		return Infer, nil
	}
	return 0, fmt.Errorf("scope %q: want sql or infer", s)
}

// Allows reports whether a token of scope s may do what need requires.
func (s Scope) Allows(need Scope) bool { return s >= need }

// Identity is a checked token's holder.
type Identity struct {
	Name  string
	Scope Scope
}

// Tokens is a loaded token file.
type Tokens struct {
	byHash map[[sha256.Size]byte]Identity
}

// Load reads a token file (see the package doc).
func Load(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: token file: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a token file's text; name names it in errors.
func Parse(r io.Reader, name string) (*Tokens, error) {
	t := &Tokens{byHash: map[[sha256.Size]byte]Identity{}}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("auth: %s:%d: want SCOPE sha256:HEX [NAME]", name, line)
		}
		scope, err := ParseScope(f[0])
		if err != nil {
			return nil, fmt.Errorf("auth: %s:%d: %w", name, line, err)
		}
		h, ok := strings.CutPrefix(f[1], "sha256:")
		var sum [sha256.Size]byte
		if !ok || len(h) != 2*sha256.Size {
			return nil, fmt.Errorf("auth: %s:%d: want sha256: and 64 hexadecimal digits", name, line)
		}
		if _, err := hex.Decode(sum[:], []byte(h)); err != nil {
			return nil, fmt.Errorf("auth: %s:%d: want sha256: and 64 hexadecimal digits", name, line)
		}
		id := Identity{Scope: scope, Name: fmt.Sprintf("line %d", line)}
		if len(f) == 3 {
			id.Name = f[2]
		}
		t.byHash[sum] = id
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("auth: %s: %w", name, err)
	}
	if len(t.byHash) == 0 {
		return nil, fmt.Errorf("auth: %s: no token (add one with hepsql serve token)", name)
	}
	return t, nil
}

// Errors of Check.
var (
	ErrNoToken  = errors.New("a bearer token is required (Authorization: Bearer TOKEN)")
	ErrBadToken = errors.New("unknown bearer token")
	ErrScope    = errors.New("this token may not do that")
)

// Check returns the identity of an "Authorization" header's value
// ("Bearer TOKEN"), if it may do what need requires.
func (t *Tokens) Check(authorization string, need Scope) (Identity, error) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(tok) == "" {
		return Identity{}, ErrNoToken
	}
	id, ok := t.byHash[sha256.Sum256([]byte(strings.TrimSpace(tok)))]
	if !ok {
		return Identity{}, ErrBadToken
	}
	if !id.Scope.Allows(need) {
		return id, fmt.Errorf("%w: token %s has scope %s, %s is needed", ErrScope, id.Name, id.Scope, need)
	}
	return id, nil
}

// NewToken returns a fresh random token (256 bits, URL-safe).
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return "hsq_" + base64.RawURLEncoding.EncodeToString(b)
}

// Line is token's line in a token file.
func Line(token string, scope Scope, name string) string {
	sum := sha256.Sum256([]byte(token))
	l := scope.String() + " sha256:" + hex.EncodeToString(sum[:])
	if name != "" {
		l += " " + name
	}
	return l
}

// AddToken creates a token of scope for name, appends its line to the
// token file at path (created, readable by its owner only, if missing) and
// returns the token, which is nowhere else.
func AddToken(path string, scope Scope, name string) (string, error) {
	if strings.ContainsAny(name, " \t\r\n#") {
		return "", fmt.Errorf("auth: token name %q: no spaces or #", name)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("auth: token file: %w", err)
	}
	tok := NewToken()
	st, _ := f.Stat()
	head := ""
	if st != nil && st.Size() == 0 {
		head = "# hepsql serve tokens: SCOPE sha256:HEX [NAME], one a line; SCOPE is sql or infer\n"
	}
	if _, err := io.WriteString(f, head+Line(tok, scope, name)+"\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("auth: token file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("auth: token file %s: %w", path, err)
	}
	return tok, nil
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityOf returns the identity a request was authenticated as.
func IdentityOf(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}
