// Package modelcodec is the byte envelope that hepsql's stored models
// share: an 8-byte magic naming the model family, a uint16 format
// version, the family's spec as JSON (uint32 length first), the weights as
// little-endian IEEE float32 (uint32 count first), then a CRC-32 (IEEE)
// of everything before it. The weights are stored bit for bit, so a
// decoded model predicts exactly as the original did. Each family (package
// nn's networks, package ucluster's) keeps its own magic, so that neither
// decodes the other's.
package modelcodec

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
)

// Encode writes spec and params in the envelope under magic and version.
func Encode(magic string, version uint16, spec any, params []float32) ([]byte, error) {
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encoding spec: %w", err)
	}
	b := make([]byte, 0, len(magic)+2+4+len(js)+4+4*len(params)+4)
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint16(b, version)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(js)))
	b = append(b, js...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(params)))
	for _, v := range params {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// VersionError is returned for an envelope of another format version:
// intact, but not readable by this build.
type VersionError struct{ Got, Want uint16 }

func (e *VersionError) Error() string {
	return fmt.Sprintf("model format version %d; this build reads version %d", e.Got, e.Want)
}

// Decode checks data's magic, checksum and version, unmarshals its spec
// into spec and returns its weights. Malformed input gives an error that
// wraps corrupt (the family's sentinel); another version a *VersionError.
func Decode(data []byte, magic string, version uint16, spec any, corrupt error) ([]float32, error) {
	fail := func(format string, args ...any) ([]float32, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{corrupt}, args...)...)
	}
	if len(data) < len(magic)+2+4+4+4 || string(data[:len(magic)]) != magic {
		return fail("missing %q header (%d bytes)", magic, len(data))
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if got := crc32.ChecksumIEEE(body); got != sum {
		return fail("checksum %08x, stored %08x", got, sum)
	}
	p := body[len(magic):]
	if v := binary.LittleEndian.Uint16(p); v != version {
		return nil, &VersionError{Got: v, Want: version}
	}
	p = p[2:]
	n := int(binary.LittleEndian.Uint32(p))
	p = p[4:]
	if n > len(p)-4 {
		return fail("spec of %d bytes in %d", n, len(p))
	}
	if err := json.Unmarshal(p[:n], spec); err != nil {
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
	return params, nil
}
