package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// HTTP wraps h so that every request needs a token allowing need, except
// the health probes (GET /v2/health/live and /v2/health/ready), which say
// nothing but whether the server runs. A missing or unknown token answers
// 401 with WWW-Authenticate; a token of too narrow a scope, 403.
func HTTP(t *Tokens, need Scope, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && (r.URL.Path == "/v2/health/live" || r.URL.Path == "/v2/health/ready") {
			h.ServeHTTP(w, r)
			return
		}
		id, err := t.Check(r.Header.Get("Authorization"), need)
		if err != nil {
			code := http.StatusUnauthorized
			if errors.Is(err, ErrScope) {
				code = http.StatusForbidden
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hepsql"`)
			}
			b, _ := json.Marshal(map[string]string{"error": err.Error()})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			w.Write(append(b, '\n'))
			return
		}
		h.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

// GRPC returns interceptors that require, on every call, a token allowing
// need in the "authorization" metadata: codes.Unauthenticated when it is
// missing or unknown, codes.PermissionDenied when its scope is too narrow.
func GRPC(t *Tokens, need Scope) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	check := func(ctx context.Context) (context.Context, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		var h string
		if v := md.Get("authorization"); len(v) > 0 {
			h = v[0]
		}
		id, err := t.Check(h, need)
		if err != nil {
			if errors.Is(err, ErrScope) {
				return nil, status.Error(codes.PermissionDenied, err.Error())
			}
			return nil, status.Error(codes.Unauthenticated, err.Error())
		}
		return WithIdentity(ctx, id), nil
	}
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := check(ctx)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := check(ss.Context())
		if err != nil {
			return err
		}
		return handler(srv, &identityStream{ServerStream: ss, ctx: ctx})
	}
	return unary, stream
}

type identityStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *identityStream) Context() context.Context { return s.ctx }
