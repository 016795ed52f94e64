package rfile

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hepsql/hepsql/rootio/compress"
)

// A corrupt file is reported by the structure that failed to parse, so
// that "corrupt basket" means a basket: ErrCorrupt (errors.go) is the
// baskets' own kind, and these are the file's metadata. Each wraps
// ErrCorruptFile as well, for callers that ask whether a file is corrupt
// at all.
var ErrCorruptFile = errors.New("corrupt ROOT file")

// ErrNotROOT is a file that does not start with ROOT's magic bytes.
var ErrNotROOT = errors.New("not a ROOT file")

// CorruptKind names a corrupt structure; errors.Is matches the kind and
// ErrCorruptFile.
type CorruptKind string

// Corruptf makes an error of kind k with a message.
func Corruptf(k CorruptKind, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{k}, args...)...)
}

// SafeText makes text taken from a file fit for messages and VARCHARs:
// invalid UTF-8 bytes and control characters are written as Go escapes,
// other text is kept as it is.
func SafeText(s string) string {
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

// Detail is the text of an error from a helper shared with other readers
// (the lean reader's RecordReader, the baskets' Decompress), without their
// own kind's prefix: it goes after the corrupt structure's kind.
func Detail(err error) string {
	msg := strings.TrimPrefix(err.Error(), ErrCorrupt.Error()+": ")
	msg = strings.ReplaceAll(msg, ErrNotLean.Error()+": ", "")
	return strings.ReplaceAll(msg, io.ErrUnexpectedEOF.Error(), "record truncated")
}

// ErrCorrupt marks decoding failures caused by the bytes of the file.
var ErrCorrupt = errors.New("corrupt basket")

// Decompress inflates a basket's or key's compressed payload into dst
// (rootio/compress), its errors marked as corrupt data.
func Decompress(dst, src []byte) error {
	if err := compress.Decompress(dst, src); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return nil
}

const (
	ErrCorruptHeader    CorruptKind = "file header"
	ErrCorruptDirectory CorruptKind = "directory"
	ErrCorruptStreamers CorruptKind = "streamer info"
	ErrCorruptTree      CorruptKind = "tree record"
)

func (k CorruptKind) Error() string { return "corrupt " + string(k) }

func (k CorruptKind) Is(target error) bool { return target == ErrCorruptFile }
