package tbranch

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// recoveredError turns what recover returned while groot parsed
// structure k into an error. groot's own panics carry messages; a Go
// runtime error in groot (an index out of range on a corrupt count) is
// reported as the corruption it is, with the runtime's text as the
// detail. A panic raised in hepsql's own code is a bug of ours, and says
// so. It must be called from the deferred function that recovered r, while
// the panicking frames are still on the stack.
func recoveredError(k rfile.CorruptKind, r any) error {
	origin := panicOrigin()
	if strings.HasPrefix(origin, "github.com/hepsql/") {
		return fmt.Errorf("rootscan bug reading the %s (please report): %v in %s", string(k), r, origin)
	}
	if err, ok := r.(error); ok {
		var re interface{ RuntimeError() }
		if errors.As(err, &re) {
			return fmt.Errorf("%w (groot: %s)", k, err.Error())
		}
		return fmt.Errorf("%w: %w", k, err)
	}
	return fmt.Errorf("%w: %s", k, rfile.SafeText(fmt.Sprint(r)))
}

// panicOrigin names the function a panic being recovered was raised in:
// the first frame below the runtime's panic machinery.
func panicOrigin() string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	inPanic := false
	for {
		f, more := frames.Next()
		switch {
		case strings.HasPrefix(f.Function, "runtime."):
			if strings.Contains(f.Function, "panic") {
				inPanic = true
			}
		case inPanic:
			return f.Function
		}
		if !more {
			return ""
		}
	}
}

// cleanError is an error whose text was made safe by rfile.SafeText.
type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() error { return e.err }

// safeError returns err, its text made safe when it carries bytes from
// the file that are not valid UTF-8 or not printable.
func safeError(err error) error {
	if err == nil {
		return nil
	}
	m := err.Error()
	if s := rfile.SafeText(m); s != m {
		return &cleanError{msg: s, err: err}
	}
	return err
}
