package nn

import (
	"errors"
	"fmt"

	"github.com/hepsql/hepsql/mlfuncs/internal/modelcodec"
)

// Encoding: package modelcodec's envelope (magic, format version, the
// Spec as JSON, the weights bit for bit, a CRC-32) under the magic
// "HEPSQLNN".
const (
	codecMagic   = "HEPSQLNN"
	codecVersion = 1
)

// ErrCorrupt is wrapped by decoding errors for malformed input.
var ErrCorrupt = errors.New("nn: corrupt model encoding")

// MarshalBinary encodes the model.
func (m *Model) MarshalBinary() ([]byte, error) {
	b, err := modelcodec.Encode(codecMagic, codecVersion, m.Spec, m.Params)
	if err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	return b, nil
}

// Unmarshal decodes a model written by MarshalBinary.
func Unmarshal(data []byte) (*Model, error) {
	var spec Spec
	params, err := modelcodec.Decode(data, codecMagic, codecVersion, &spec, ErrCorrupt)
	switch {
	case errors.Is(err, ErrCorrupt):
		return nil, err // already names the package
	case err != nil:
		return nil, fmt.Errorf("nn: %w", err)
	}
	return fromParams(spec, params)
}
