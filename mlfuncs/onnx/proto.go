package onnx

import (
	"encoding/binary"
	"math"
)

// A protobuf encoder for the few ONNX messages an export needs. The wire
// format is simple enough (a field is a varint key, field<<3 | wire type,
// then a varint, four little-endian bytes, or a length and bytes) that a
// hand-written writer of ~60 lines beats a generated-code dependency; the
// field numbers come from the ONNX specification (onnx.proto, IR version
// 7) and are named where they are used. Nothing here decodes: the tests
// check the bytes with onnx's own checker and an independent runtime.

// Protobuf wire types.
const (
	wireVarint = 0
	wireBytes  = 2
	wireFixed  = 5 // 32-bit
)

// msg is one message being encoded; nested messages are encoded into
// their own msg first and appended as bytes, which costs a copy per level
// but keeps lengths exact without a second pass.
type msg struct{ b []byte }

func (m *msg) key(field, wire int) {
	m.b = binary.AppendUvarint(m.b, uint64(field)<<3|uint64(wire))
}

// int writes an int32/int64/enum field; protobuf encodes negative
// integers as their 64-bit two's complement.
func (m *msg) int(field int, v int64) {
	m.key(field, wireVarint)
	m.b = binary.AppendUvarint(m.b, uint64(v))
}

func (m *msg) float(field int, v float32) {
	m.key(field, wireFixed)
	m.b = binary.LittleEndian.AppendUint32(m.b, math.Float32bits(v))
}

func (m *msg) bytes(field int, v []byte) {
	m.key(field, wireBytes)
	m.b = binary.AppendUvarint(m.b, uint64(len(v)))
	m.b = append(m.b, v...)
}

func (m *msg) str(field int, v string) { m.bytes(field, []byte(v)) }

func (m *msg) sub(field int, v *msg) { m.bytes(field, v.b) }

// packedInts writes a repeated int64 field packed, as proto3 does by
// default.
func (m *msg) packedInts(field int, vs []int64) {
	var p []byte
	for _, v := range vs {
		p = binary.AppendUvarint(p, uint64(v))
	}
	m.bytes(field, p)
}
