package ucluster

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/hepsql/hepsql/mlfuncs/internal/modelcodec"
)

// Encoding: package modelcodec's envelope, as package nn's, under its own
// magic "HEPSQLUC" so that neither decodes the other's.
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
	b, err := modelcodec.Encode(codecMagic, codecVersion, m.Spec, m.Params)
	if err != nil {
		return nil, fmt.Errorf("ucluster: %w", err)
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
		return nil, fmt.Errorf("ucluster: %w", err)
	}
	return FromParams(spec, params)
}
