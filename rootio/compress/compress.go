// Package compress inflates ROOT's compressed blocks: the framing that
// TTree baskets, TKeys and RNTuple pages and envelopes share (a 9-byte
// header naming the algorithm and the compressed and uncompressed sizes of
// at most 16 MiB, then the algorithm's data), for zlib (ZL), zstd (ZS),
// lz4 (L4, with ROOT's XXH64 of the compressed bytes) and lzma (XZ).
//
// It is pure Go. A faster zlib inflater (libdeflate, loaded through cgo by
// internal/capi) can be injected with SetZlibInflater, so that readers
// built on this package stay free of cgo.
package compress

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/pierrec/xxHash/xxHash64"
	"github.com/ulikunitz/xz"
)

// HeaderSize is the size of the header before each compressed block.
const HeaderSize = 9

// MaxBlock is the largest uncompressed (and compressed) size one block's
// header can state: three bytes.
const MaxBlock = 1<<24 - 1

// algNames names ROOT's compression algorithms in error messages.
var algNames = map[string]string{"ZL": "zlib", "ZS": "zstd", "L4": "lz4", "XZ": "lzma"}

// Algorithm names the algorithm of the block starting src ("zlib", "zstd",
// "lz4", "lzma"), or "" when src does not start with a known block header.
func Algorithm(src []byte) string {
	if len(src) < HeaderSize {
		return ""
	}
	return algNames[string(src[:2])]
}

// Decompress inflates ROOT's chunked compression format into dst, which
// has exactly the uncompressed size. The blocks must fill dst exactly and
// end where src does. zlib's Adler-32, lz4's XXH64 and xz's block check
// are verified; ROOT's zstd frames carry no checksum (one is verified when
// a frame has it). Errors name the block's algorithm ("zlib: ...").
func Decompress(dst, src []byte) error {
	for len(dst) > 0 {
		if len(src) < HeaderSize {
			return fmt.Errorf("compressed block header truncated (%d bytes left)", len(src))
		}
		alg := string(src[:2])
		csize := int(src[3]) | int(src[4])<<8 | int(src[5])<<16
		usize := int(src[6]) | int(src[7])<<8 | int(src[8])<<16
		name, known := algNames[alg]
		if !known {
			return fmt.Errorf("unsupported compression algorithm %q", alg)
		}
		if csize > len(src)-HeaderSize || usize > len(dst) || usize == 0 {
			return fmt.Errorf("%s block of %d→%d bytes does not fit (%d stored, %d expected)", name, csize, usize, len(src)-HeaderSize, len(dst))
		}
		block := src[HeaderSize : HeaderSize+csize]
		out := dst[:usize]
		var err error
		switch alg {
		case "ZL":
			err = inflateZlib(out, block)
		case "ZS":
			err = inflateZstd(out, block)
		case "L4":
			err = inflateLZ4(out, block)
		case "XZ":
			err = inflateXZ(out, block)
		}
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		dst = dst[usize:]
		src = src[HeaderSize+csize:]
	}
	if len(src) != 0 {
		return fmt.Errorf("%d bytes after the last compressed block", len(src))
	}
	return nil
}

// inflateLZ4 checks and inflates ROOT's lz4 block: an 8-byte big-endian
// XXH64 (seed 0) of the compressed bytes, then one lz4 block.
func inflateLZ4(dst, src []byte) error {
	if len(src) < 8 {
		return fmt.Errorf("block of %d bytes has no room for its checksum", len(src))
	}
	if want, got := binary.BigEndian.Uint64(src), xxHash64.Checksum(src[8:], 0); got != want {
		return fmt.Errorf("XXH64 checksum mismatch (stored %016x, computed %016x)", want, got)
	}
	n, err := lz4.UncompressBlock(src[8:], dst)
	if err == nil && n != len(dst) {
		err = fmt.Errorf("block gave %d bytes, want %d", n, len(dst))
	}
	return err
}

// ZlibInflater inflates one zlib stream (header, deflate data, Adler-32)
// into dst, which must be exactly the uncompressed size; a corrupt stream,
// a wrong checksum or another size is an error.
type ZlibInflater func(dst, src []byte) error

var (
	// fastZlib is the injected inflater (libdeflate), nil when none.
	fastZlib atomic.Pointer[ZlibInflater]
	// goZlib makes inflateZlib use the Go inflater even where a fast one
	// is set, so that tests cover both paths in one process.
	goZlib atomic.Bool
)

// SetZlibInflater makes Decompress inflate zlib blocks with fn (nil: the
// Go inflater). rootscan registers libdeflate here when the system has it
// (capi.InflateZlib: 2.5–2.8× faster on the CMS sample's baskets).
func SetZlibInflater(fn ZlibInflater) {
	if fn == nil {
		fastZlib.Store(nil)
		return
	}
	fastZlib.Store(&fn)
}

// ForceGoZlib makes zlib blocks inflate in Go (true) even where a fast
// inflater is set, or through it again (false); it returns the previous
// setting. Tests use it to cover both paths.
func ForceGoZlib(on bool) (old bool) { return goZlib.Swap(on) }

// inflateZlib inflates with the injected inflater when there is one, else
// with klauspost/compress. Both verify the stream's Adler-32 and its size.
func inflateZlib(dst, src []byte) error {
	if fn := fastZlib.Load(); fn != nil && !goZlib.Load() {
		return (*fn)(dst, src)
	}
	return InflateZlibGo(dst, src)
}

// zlibReaders holds idle Go inflaters, used where libdeflate is missing.
// A zlib reader carries about 50 kB of window and tables that take longer
// to set up than a small block takes to inflate, and a sync.Pool is emptied
// by every GC, which a short scan over many files triggers often; a bounded
// free list keeps them.
var zlibReaders = make(chan io.ReadCloser, 64)

// InflateZlibGo inflates one zlib stream into exactly dst with
// klauspost/compress, verifying the Adler-32 and that the stream ends
// where dst does.
func InflateZlibGo(dst, src []byte) error {
	br := bytes.NewReader(src)
	var zr io.ReadCloser
	select {
	case zr = <-zlibReaders:
		if err := zr.(zlib.Resetter).Reset(br, nil); err != nil {
			return err
		}
	default:
		var err error
		if zr, err = zlib.NewReader(br); err != nil {
			return err
		}
	}
	err := readExactly(zr, dst)
	select {
	case zlibReaders <- zr:
	default:
	}
	if errors.Is(err, zlib.ErrChecksum) {
		return errors.New("Adler-32 checksum mismatch")
	}
	return err
}

// readExactly fills dst from r and then reads on to r's end, so that a
// decompressor verifies the checksum at the end of its stream: a stream
// that ends early or runs long is an error.
func readExactly(r io.Reader, dst []byte) error {
	if n, err := io.ReadFull(r, dst); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("stream ends after %d of %d bytes", n, len(dst))
		}
		return err
	}
	var one [1]byte
	switch _, err := io.ReadFull(r, one[:]); err {
	case nil:
		return fmt.Errorf("stream longer than %d bytes", len(dst))
	case io.EOF:
		return nil
	default:
		return err
	}
}

var zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
})

// inflateZstd inflates a zstd frame. klauspost verifies the frame's
// content size and, when the frame has one, its content checksum; ROOT's
// frames have none.
func inflateZstd(dst, src []byte) error {
	d, err := zstdDecoder()
	if err != nil {
		return err
	}
	out, err := d.DecodeAll(src, dst[:0])
	if err != nil {
		return err
	}
	if len(out) != len(dst) || (len(out) > 0 && &out[0] != &dst[0]) {
		if len(out) != len(dst) {
			return fmt.Errorf("frame gave %d bytes, want %d", len(out), len(dst))
		}
		copy(dst, out)
	}
	return nil
}

// inflateXZ inflates an xz stream, read to its end so that the block
// check (CRC32, CRC64 or SHA-256), the index and the footer are verified.
func inflateXZ(dst, src []byte) error {
	r, err := xz.NewReader(bytes.NewReader(src))
	if err != nil {
		return err
	}
	return readExactly(r, dst)
}
