package tbranch

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"go-hep.org/x/hep/groot/rbase"
	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/rdict"
	"go-hep.org/x/hep/groot/rmeta"
	"go-hep.org/x/hep/groot/root"
)

// nativeValue reads element i of dst, as decodeElems wrote it (the
// in-memory form DuckDB's vectors hold), as a Go value of the element's
// type.
func nativeValue(e Encoding, dst []byte, i int) any {
	le := binary.LittleEndian
	switch e {
	case EncBool:
		return dst[i] != 0
	case EncI8:
		return int8(dst[i])
	case EncU8:
		return dst[i]
	case EncI16:
		return int16(le.Uint16(dst[2*i:]))
	case EncU16:
		return le.Uint16(dst[2*i:])
	case EncI32:
		return int32(le.Uint32(dst[4*i:]))
	case EncU32:
		return le.Uint32(dst[4*i:])
	case EncI64:
		return int64(le.Uint64(dst[8*i:]))
	case EncU64:
		return le.Uint64(dst[8*i:])
	case EncF32, EncF16:
		return math.Float32frombits(le.Uint32(dst[4*i:]))
	case EncF64, EncD32:
		return math.Float64frombits(le.Uint64(dst[8*i:]))
	}
	panic(fmt.Sprintf("encoding %d", e))
}

// TestDecodePackedFloats decodes Float16_t and Double32_t elements in
// every packing ROOT has (a range with a bit count, a range alone, a bit
// count alone, none) as groot writes them, without a database, and
// compares with what groot's own buffer reads from the same bytes. The
// test files hold packed floats without a range only.
func TestDecodePackedFloats(t *testing.T) {
	values := []float64{0, 1, -1, 0.5, 3.14159, -2.71828, 99.9, 100, 250, -7.25e-3, 1e6, -1e-6}
	for _, title := range []string{"", "[0,100,16]", "[-10,10]", "[0,0,10]", "[0,0,20]", "[-1e3,1e3,32]", "[0,255,8]"} {
		for _, typ := range []rmeta.Enum{rmeta.Float16, rmeta.Double32} {
			elm := rdict.Element{Name: *rbase.NewNamed("x", "x"+title), Type: typ}.New()
			w := rbytes.NewWBuffer(nil, nil, 0, nil)
			for _, v := range values {
				if typ == rmeta.Float16 {
					w.WriteF16(root.Float16(v), &elm)
				} else {
					w.WriteD32(root.Double32(v), &elm)
				}
			}
			if err := w.Err(); err != nil {
				t.Fatal(err)
			}
			src := w.Bytes()
			enc := EncF16
			if typ == rmeta.Double32 {
				enc = EncD32
			}
			p := packingOf(&elm)
			if len(src) != len(values)*enc.diskSize(p) {
				t.Errorf("%v%s: groot wrote %d bytes for %d values, the decoder expects %d each", typ, title, len(src), len(values), enc.diskSize(p))
				continue
			}
			dst := make([]byte, len(values)*outSize(enc))
			if err := decodeElems(enc, p, dst, src, len(values)); err != nil {
				t.Fatalf("%v%s: %v", typ, title, err)
			}
			r := rbytes.NewRBuffer(src, nil, 0, nil)
			for i := range values {
				var want float64
				if typ == rmeta.Float16 {
					want = float64(r.ReadF16(&elm))
				} else {
					want = float64(r.ReadD32(&elm))
				}
				got := nativeValue(enc, dst, i)
				g, ok := got.(float64)
				if f, is32 := got.(float32); is32 {
					g, ok = float64(f), true
				}
				if !ok || g != want && !(math.IsNaN(g) && math.IsNaN(want)) {
					t.Errorf("%v%s: value %v: decoded %v, groot reads %v", typ, title, values[i], got, want)
				}
			}
		}
	}
}
