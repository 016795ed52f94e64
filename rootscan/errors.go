package rootscan

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A corrupt file is reported by the structure that failed to parse, so
// that "corrupt basket" means a basket: errCorrupt (basket.go) is the
// baskets' own kind, and these are the file's metadata. Each wraps
// errCorruptFile as well, for callers that ask whether a file is corrupt
// at all.
var errCorruptFile = errors.New("corrupt ROOT file")

// errNotROOT is a file that does not start with ROOT's magic bytes.
var errNotROOT = errors.New("not a ROOT file")

// corruptKind names a corrupt structure; errors.Is matches the kind and
// errCorruptFile.
type corruptKind string

func (k corruptKind) Error() string        { return "corrupt " + string(k) }
func (k corruptKind) Is(target error) bool { return target == errCorruptFile }

const (
	errCorruptHeader    corruptKind = "file header"
	errCorruptDirectory corruptKind = "directory"
	errCorruptStreamers corruptKind = "streamer info"
	errCorruptTree      corruptKind = "tree record"
)

// corruptf makes an error of kind k with a message.
func corruptf(k corruptKind, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{k}, args...)...)
}

// recoveredError turns what recover returned while groot parsed
// structure k into an error. groot's own panics carry messages; a Go
// runtime error in groot (an index out of range on a corrupt count) is
// reported as the corruption it is, with the runtime's text as the
// detail. A panic raised in hepsql's own code is a bug of ours, and says
// so. It must be called from the deferred function that recovered r, while
// the panicking frames are still on the stack.
func recoveredError(k corruptKind, r any) error {
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
	return fmt.Errorf("%w: %s", k, safeText(fmt.Sprint(r)))
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

// safeText makes text taken from a file fit for messages and VARCHARs:
// invalid UTF-8 bytes and control characters are written as Go escapes,
// other text is kept as it is.
func safeText(s string) string {
	clean := utf8.ValidString(s)
	if clean {
		for _, r := range s {
			if r < 0x20 || r == 0x7f {
				clean = false
				break
			}
		}
	}
	if clean {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	q = q[1 : len(q)-1]
	return strings.ReplaceAll(q, `\"`, `"`)
}

// cleanError is an error whose text was made safe by safeText.
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
	if s := safeText(m); s != m {
		return &cleanError{msg: s, err: err}
	}
	return err
}

// detail is the text of an error from a helper shared with other readers
// (the lean reader's objReader, the baskets' decompress), without their
// own kind's prefix: it goes after the corrupt structure's kind.
func detail(err error) string {
	msg := strings.TrimPrefix(err.Error(), errCorrupt.Error()+": ")
	msg = strings.ReplaceAll(msg, errNotLean.Error()+": ", "")
	return strings.ReplaceAll(msg, io.ErrUnexpectedEOF.Error(), "record truncated")
}
