package compress

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/pierrec/xxHash/xxHash64"
	"github.com/ulikunitz/xz"
)

// ROOT's compression algorithms, as in its settings (algorithm*100 + level).
const (
	AlgZlib = 1
	AlgLZMA = 2
	AlgLZ4  = 4
	AlgZstd = 5
)

// Compress frames src in ROOT's compressed blocks (at most MaxBlock bytes
// of src each) with the algorithm and level of ROOT's settings
// (algorithm*100 + level, level 1–9). It returns nil when the blocks
// would not be smaller than src (or settings say level 0): ROOT then
// stores the bytes as they are, which readers recognise by equal sizes.
func Compress(settings int, src []byte) ([]byte, error) {
	alg, level := settings/100, settings%100
	if level == 0 || len(src) == 0 {
		return nil, nil
	}
	if level < 1 || level > 9 {
		return nil, fmt.Errorf("compression level %d (1 to 9)", level)
	}
	orig := len(src)
	var out []byte
	for len(src) > 0 {
		chunk := src[:min(len(src), MaxBlock)]
		src = src[len(chunk):]
		var data []byte
		var tag string
		var method byte
		switch alg {
		case AlgZlib, 0:
			var buf bytes.Buffer
			w, err := zlibWriter(&buf, level)
			if err != nil {
				return nil, err
			}
			w.Write(chunk)
			err = w.Close()
			keep(zlibFree[level], w)
			if err != nil {
				return nil, err
			}
			data, tag, method = buf.Bytes(), "ZL", 8
		case AlgZstd:
			enc, err := zstdEncoder(level)
			if err != nil {
				return nil, err
			}
			data, tag, method = enc.EncodeAll(chunk, nil), "ZS", 1
			keep(zstdFree[level], enc)
		case AlgLZ4:
			dst := make([]byte, lz4.CompressBlockBound(len(chunk)))
			c := lz4.CompressorHC{Level: lz4.CompressionLevel(1 << (8 + level))}
			n, err := c.CompressBlock(chunk, dst)
			if err != nil {
				return nil, err
			}
			if n == 0 { // incompressible
				return nil, nil
			}
			data = binary.BigEndian.AppendUint64(nil, xxHash64.Checksum(dst[:n], 0))
			data, tag, method = append(data, dst[:n]...), "L4", 1
		case AlgLZMA:
			var buf bytes.Buffer
			w, err := xz.WriterConfig{CheckSum: xz.CRC64}.NewWriter(&buf)
			if err != nil {
				return nil, err
			}
			w.Write(chunk)
			if err := w.Close(); err != nil {
				return nil, err
			}
			data, tag, method = buf.Bytes(), "XZ", 0
		default:
			return nil, fmt.Errorf("compression algorithm %d not supported (zlib 1, lzma 2, lz4 4, zstd 5)", alg)
		}
		if len(data) > MaxBlock {
			return nil, nil
		}
		c, u := len(data), len(chunk)
		out = append(out, tag[0], tag[1], method, byte(c), byte(c>>8), byte(c>>16), byte(u), byte(u>>8), byte(u>>16))
		out = append(out, data...)
	}
	if len(out) >= orig {
		return nil, nil
	}
	return out, nil
}

// Encoders are kept between calls, a few per level: building a zstd
// encoder allocates its tables (1.6 MiB at level 5), a zlib writer its
// window, and a writer compresses one block per page or basket. A free
// list rather than a sync.Pool: a pool empties at every collection, and
// the RNTuple writer, which allocates quickly, would rebuild its encoders
// every few pages; the list keeps at most maxFree a level, for the life of
// the process. An encoder is used by one call at a time.
const maxFree = 4

var (
	zstdFree [10]chan *zstd.Encoder
	zlibFree [10]chan *zlib.Writer
)

func init() {
	for l := range zstdFree {
		zstdFree[l] = make(chan *zstd.Encoder, maxFree)
		zlibFree[l] = make(chan *zlib.Writer, maxFree)
	}
}

func zstdEncoder(level int) (*zstd.Encoder, error) {
	select {
	case e := <-zstdFree[level]:
		return e, nil
	default:
	}
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
}

func zlibWriter(w io.Writer, level int) (*zlib.Writer, error) {
	select {
	case z := <-zlibFree[level]:
		z.Reset(w)
		return z, nil
	default:
	}
	return zlib.NewWriterLevel(w, level)
}

// keep returns an encoder to its level's free list, or lets it go when
// the list is full.
func keep[E any](free chan E, e E) {
	select {
	case free <- e:
	default:
	}
}
