package ucluster

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Encoding, as package nn's with its own magic so that neither decodes the
// other's: "HEPSQLUC", a uint16 format version, the Spec as JSON (uint32
// length first), the weights as little-endian float32 (uint32 count
// first), a CRC-32 (IEEE) of everything before it.
const (
	codecMagic   = "HEPSQLUC"
	codecVersion = 1
)

// ErrCorrupt is wrapped by decoding errors for malformed input.
var ErrCorrupt = errors.New("ucluster: corrupt model encoding")

// IsEncoded reports whether data starts like a ucluster model.
func IsEncoded(data []byte) bool { return bytes.HasPrefix(data, []byte(codecMagic)) }

// MarshalBinary encodes the model.
func (m *Model) MarshalBinary() ([]byte, error) {
	spec, err := json.Marshal(m.Spec)
	if err != nil {
		return nil, fmt.Errorf("ucluster: encoding spec: %w", err)
	}
	b := make([]byte, 0, len(codecMagic)+2+4+len(spec)+4+4*len(m.Params)+4)
	b = append(b, codecMagic...)
	b = binary.LittleEndian.AppendUint16(b, codecVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(spec)))
	b = append(b, spec...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.Params)))
	for _, v := range m.Params {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// Unmarshal decodes a model written by MarshalBinary.
func Unmarshal(data []byte) (*Model, error) {
	fail := func(format string, args ...any) (*Model, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
	if len(data) < len(codecMagic)+2+4+4+4 || !IsEncoded(data) {
		return fail("missing %q header (%d bytes)", codecMagic, len(data))
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if got := crc32.ChecksumIEEE(body); got != sum {
		return fail("checksum %08x, stored %08x", got, sum)
	}
	p := body[len(codecMagic):]
	if v := binary.LittleEndian.Uint16(p); v != codecVersion {
		return nil, fmt.Errorf("ucluster: model format version %d; this build reads version %d", v, codecVersion)
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
	return FromParams(spec, params)
}
