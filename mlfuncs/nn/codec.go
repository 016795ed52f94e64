package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Encoding: magic "HEPSQLNN", a uint16 format version, the Spec as JSON
// (uint32 length first), the weights as little-endian IEEE float32
// (uint32 count first), then a CRC-32 (IEEE) of everything before it. The
// weights are stored bit for bit, so a decoded model predicts exactly as
// the original did.
const (
	codecMagic   = "HEPSQLNN"
	codecVersion = 1
)

// ErrCorrupt is wrapped by decoding errors for malformed input.
var ErrCorrupt = errors.New("nn: corrupt model encoding")

// MarshalBinary encodes the model.
func (m *Model) MarshalBinary() ([]byte, error) {
	spec, err := json.Marshal(m.Spec)
	if err != nil {
		return nil, fmt.Errorf("nn: encoding spec: %w", err)
	}
	var b bytes.Buffer
	b.Grow(len(codecMagic) + 2 + 4 + len(spec) + 4 + 4*len(m.Params) + 4)
	b.WriteString(codecMagic)
	b.Write(binary.LittleEndian.AppendUint16(nil, codecVersion))
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(spec))))
	b.Write(spec)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(m.Params))))
	buf := make([]byte, 4*len(m.Params))
	for i, v := range m.Params {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	b.Write(buf)
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(b.Bytes())))
	return b.Bytes(), nil
}

// Unmarshal decodes a model written by MarshalBinary.
func Unmarshal(data []byte) (*Model, error) {
	fail := func(format string, args ...any) (*Model, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
	if len(data) < len(codecMagic)+2+4+4+4 || string(data[:len(codecMagic)]) != codecMagic {
		return fail("missing %q header (%d bytes)", codecMagic, len(data))
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if got := crc32.ChecksumIEEE(body); got != sum {
		return fail("checksum %08x, stored %08x", got, sum)
	}
	p := body[len(codecMagic):]
	if v := binary.LittleEndian.Uint16(p); v != codecVersion {
		return nil, fmt.Errorf("nn: model format version %d; this build reads version %d", v, codecVersion)
	}
	p = p[2:]
	n := int(binary.LittleEndian.Uint32(p))
	p = p[4:]
	if n > len(p)-4 {
		return fail("spec of %d bytes in %d", n, len(p))
	}
	var spec Spec
	if err := json.Unmarshal(p[:n], &spec); err != nil {
		return fail("spec: %v", err)
	}
	p = p[n:]
	count := int(binary.LittleEndian.Uint32(p))
	p = p[4:]
	if len(p) != 4*count {
		return fail("%d weights declared, %d bytes present", count, len(p))
	}
	params := make([]float32, count)
	for i := range params {
		params[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return fromParams(spec, params)
}
