package sqlflight

import (
	"context"
	"log"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Recover returns gRPC interceptors that turn a panic in a handler into
// codes.Internal (logged to lg), since gRPC would let it end the process.
// Put them innermost, after authentication.
func Recover(lg *log.Logger) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				lg.Printf("sqlflight: panic in %s: %v", info.FullMethod, p)
				resp, err = nil, status.Error(codes.Internal, "internal error; the server's log has the details")
			}
		}()
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if p := recover(); p != nil {
				lg.Printf("sqlflight: panic in %s: %v", info.FullMethod, p)
				err = status.Error(codes.Internal, "internal error; the server's log has the details")
			}
		}()
		return handler(srv, ss)
	}
	return unary, stream
}
