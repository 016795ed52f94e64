package sqlml

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/mlfuncs/data"
)

var (
	errShape     = data.ErrShape
	errLabel     = data.ErrLabel
	errNotFinite = data.ErrNotFinite
)

// cache is a training query's result converted once to the network's
// float32 form and written to a local file, so that epochs re-read a flat
// file instead of re-running the query, and memory stays at one block.
//
// The file is a sequence of blocks, one per DuckDB chunk:
//
//	rows int32 | steps int32 | hlf [rows×HLFDim]float32 | labels [rows]int32 |
//	lens [rows]int32 | seq [steps×SeqDim]float32
//
// in the machine's byte order (the file never leaves the process).
type cache struct {
	l      *layout
	f      *os.File
	size   int64 // bytes written
	rows   int
	counts []int // per class
	maxLen int   // longest sequence kept
}

// fill runs the prepared statement and writes its rows to a new temporary
// file in dir ("" for the system's).
func fillCache(ctx context.Context, conn *capi.Conn, st *capi.Stmt, b *binding, dir string) (*cache, error) {
	f, err := os.CreateTemp(dir, "hepsql-train-*.bin")
	if err != nil {
		return nil, fmt.Errorf("cache file: %w", err)
	}
	// Unlinked at once: the open descriptor keeps the data, and nothing is
	// left behind whatever way the process ends.
	os.Remove(f.Name())
	c := &cache{l: b.l, f: f}
	if err := c.write(ctx, conn, st, b); err != nil {
		f.Close()
		return nil, err
	}
	return c, nil
}

func (c *cache) write(ctx context.Context, conn *capi.Conn, st *capi.Stmt, b *binding) error {
	res, err := st.Stream()
	if err != nil {
		return fmt.Errorf("running the query: %w", err)
	}
	defer res.Close()
	stop := context.AfterFunc(ctx, conn.Interrupt)
	defer stop()
	w := bufio.NewWriterSize(c.f, 1<<20)
	var r rows
	for {
		ch, n, err := res.Next()
		if err := ctx.Err(); err != nil {
			return err
		}
		if err != nil {
			return fmt.Errorf("running the query: %w", err)
		}
		if n == 0 {
			break
		}
		if err := b.read(ch, n, c.rows, &r); err != nil {
			return err
		}
		for _, k := range r.lens {
			c.maxLen = max(c.maxLen, int(k))
		}
		for _, y := range r.labels {
			for int(y) >= len(c.counts) {
				c.counts = append(c.counts, 0)
			}
			c.counts[y]++
		}
		hdr := [2]int32{int32(n), int32(len(r.steps) / max(c.l.SeqDim, 1))}
		for _, s := range [][]byte{bytesOf(hdr[:]), bytesOf(r.hlf), bytesOf(r.labels), bytesOf(r.lens), bytesOf(r.steps)} {
			if _, err := w.Write(s); err != nil {
				return fmt.Errorf("cache file: %w", err)
			}
		}
		c.rows += n
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("cache file: %w", err)
	}
	c.size, err = c.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("cache file: %w", err)
	}
	return nil
}

func bytesOf[T int32 | float32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*4)
}

func (c *cache) Close() error { return c.f.Close() }

// source returns a data.Source over the cached rows with the inputs of
// the layout's architecture. Each source reads the file at its own offset,
// so that tune's trainings read one cache side by side.
func (c *cache) source(hlf bool) *cacheSource {
	s := &cacheSource{c: c, hlf: hlf && c.l.HLFDim > 0, seq: c.l.hasSeq()}
	if s.hlf {
		s.dims = append(s.dims, c.l.HLFDim)
	}
	if s.seq {
		s.dims = append(s.dims, c.l.SeqLen*c.l.SeqDim)
	}
	// Dense sequences are large (801×19 floats a row): batches are cut to
	// about 8 MiB of rows.
	s.maxRows = max(1, min(capi.VectorSize, (8<<20)/int(data.RowBytes(s.dims))))
	return s
}

// cacheSource reads a cache block by block, expanding packed sequences.
type cacheSource struct {
	c        *cache
	hlf, seq bool
	dims     []int
	maxRows  int
	r        *bufio.Reader
	blk      rows
	pos      int // next row of blk
	inputs   [][]float32
	seqBuf   []float32
	stepOffs []int
}

func (s *cacheSource) Dims() []int { return s.dims }

func (s *cacheSource) Rewind() error {
	sec := io.NewSectionReader(s.c.f, 0, s.c.size)
	if s.r == nil {
		s.r = bufio.NewReaderSize(sec, 1<<20)
	} else {
		s.r.Reset(sec)
	}
	s.blk.n, s.pos = 0, 0
	return nil
}

func (s *cacheSource) Next(ctx context.Context) (data.Batch, error) {
	if err := ctx.Err(); err != nil {
		return data.Batch{}, err
	}
	if s.pos >= s.blk.n {
		if err := s.readBlock(); err != nil {
			return data.Batch{}, err
		}
	}
	l := s.c.l
	n := min(s.maxRows, s.blk.n-s.pos)
	lo := s.pos
	s.pos += n
	s.inputs = s.inputs[:0]
	if s.hlf {
		s.inputs = append(s.inputs, s.blk.hlf[lo*l.HLFDim:(lo+n)*l.HLFDim])
	}
	if s.seq {
		s.seqBuf = expand(s.seqBuf, &s.blk, s.stepOffs, lo, n, l.SeqLen, l.SeqDim)
		s.inputs = append(s.inputs, s.seqBuf)
	}
	return data.Batch{Rows: n, Inputs: s.inputs, Labels: s.blk.labels[lo : lo+n]}, nil
}

// expand writes rows [lo, lo+n) of blk as dense T×F sequences, padding at
// the end with zero steps (which the GRU skips).
func expand(buf []float32, blk *rows, offs []int, lo, n, t, f int) []float32 {
	size := n * t * f
	if cap(buf) < size {
		buf = make([]float32, size)
	}
	buf = buf[:size]
	clear(buf)
	for r := range n {
		k := int(blk.lens[lo+r])
		copy(buf[r*t*f:r*t*f+k*f], blk.steps[offs[lo+r]*f:])
	}
	return buf
}

func (s *cacheSource) readBlock() error {
	var hdr [2]int32
	if _, err := io.ReadFull(s.r, bytesOf(hdr[:])); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("cache file: %w", err)
	}
	l := s.c.l
	n, steps := int(hdr[0]), int(hdr[1])
	s.blk.reset(n, l.HLFDim)
	s.blk.steps = append(s.blk.steps[:0], make([]float32, steps*l.SeqDim)...)
	for _, b := range [][]byte{bytesOf(s.blk.hlf), bytesOf(s.blk.labels), bytesOf(s.blk.lens), bytesOf(s.blk.steps)} {
		if _, err := io.ReadFull(s.r, b); err != nil {
			return fmt.Errorf("cache file: truncated block: %w", err)
		}
	}
	s.stepOffs = s.stepOffs[:0]
	at := 0
	for _, k := range s.blk.lens {
		s.stepOffs = append(s.stepOffs, at)
		at += int(k)
	}
	s.pos = 0
	return nil
}
