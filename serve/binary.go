package serve

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"unsafe"
)

// The Open Inference Protocol's binary tensor data extension (Triton's
// "binary_data", which KServe v2 clients speak): the body is a JSON header
// of Inference-Header-Content-Length bytes, then each input's raw
// little-endian bytes, in the order of the header's inputs, each
// parameters.binary_data_size long. Outputs come back the same way when
// the request asks for them (an output's parameters.binary_data, or the
// request's parameters.binary_data_output): the answer's JSON says the
// output's binary_data_size and its float32 values follow the JSON.
//
// FP32 bytes are copied into the batch's input slice as they are (no
// per-value parsing); each value is still checked to be finite, as the
// JSON path's grammar ensures, since a NaN or Inf would spread through the
// network's softmax and answer garbage without an error.

// binaryHeader is the HTTP header that says the body's JSON part length.
const binaryHeader = "Inference-Header-Content-Length"

// headerLength reads the request's Inference-Header-Content-Length: -1
// when the body is all JSON.
func headerLength(r *http.Request) (int, error) {
	h := r.Header.Get(binaryHeader)
	if h == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 {
		return 0, badRequest("header %s: %q is not a byte count", binaryHeader, h)
	}
	return n, nil
}

// splitBinary cuts body into its JSON header and the binary tensors that
// follow it (headerLen < 0: no binary part).
func splitBinary(body []byte, headerLen int) (header, bin []byte, err error) {
	if headerLen < 0 {
		return body, nil, nil
	}
	if headerLen > len(body) {
		return nil, nil, badRequest("header %s says %d bytes of JSON; the body has %d bytes in all", binaryHeader, headerLen, len(body))
	}
	return body[:headerLen], body[headerLen:], nil
}

// attachBinary hands each input that has parameters.binary_data_size its
// bytes of bin, in the inputs' order; every byte of bin must be claimed.
// hasBinary says whether the request had the binary header.
func (req *inferRequest) attachBinary(bin []byte, hasBinary bool) error {
	for i := range req.Inputs {
		t := &req.Inputs[i]
		size := t.Parameters.BinaryDataSize
		if size == nil {
			continue
		}
		if !hasBinary {
			return badRequest("input %q has parameters.binary_data_size but the request has no %s header to say where its JSON ends", t.Name, binaryHeader)
		}
		if len(t.Data) > 0 && string(t.Data) != "null" {
			return badRequest("input %q: data given twice, in JSON and as binary_data_size", t.Name)
		}
		if *size < 0 || *size > int64(len(bin)) {
			return badRequest("input %q: binary_data_size %d, but only %d bytes of binary data are left in the body (truncated?)", t.Name, *size, len(bin))
		}
		t.bin, t.binary = bin[:*size:*size], true
		bin = bin[*size:]
	}
	if len(bin) > 0 {
		return badRequest("%d bytes after the binary tensors that no input's binary_data_size claims", len(bin))
	}
	return nil
}

// values returns the tensor's want values as float32, from its JSON data
// or its binary bytes.
func (t *inputTensor) values(want int) ([]float32, error) {
	if !t.binary {
		return parseNumbers(t.Data, t.Datatype, want)
	}
	return binaryValues(t.bin, t.Datatype, t.Shape, want)
}

// elemSize is each datatype's bytes per value in binary form.
var elemSize = map[string]int{
	"FP32": 4, "FP64": 8,
	"INT8": 1, "INT16": 2, "INT32": 4, "INT64": 8,
	"UINT8": 1, "UINT16": 2, "UINT32": 4, "UINT64": 8,
}

// littleEndian is whether this machine's float32 bytes are the Protocol's
// (then FP32 tensors are copied as they are).
var littleEndian = func() bool {
	v := uint16(1)
	return *(*byte)(unsafe.Pointer(&v)) == 1
}()

// binaryValues reads want little-endian values of datatype from b.
func binaryValues(b []byte, datatype string, shape []int64, want int) ([]float32, error) {
	size, ok := elemSize[datatype]
	if !ok {
		return nil, fmt.Errorf("datatype %q; want FP32, FP64 or an INT or UINT type", datatype)
	}
	if len(b) != want*size {
		return nil, fmt.Errorf("binary_data_size %d bytes; shape %v of %s is %d values of %d bytes, %d bytes", len(b), shape, datatype, want, size, want*size)
	}
	out := make([]float32, want)
	switch datatype {
	case "FP32":
		if littleEndian {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), len(b)), b)
		} else {
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
		// An exponent of all ones is Inf or NaN.
		for i, v := range out {
			if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
				return nil, fmt.Errorf("binary data: value %d is %g, not a finite FP32 value", i, v)
			}
		}
	case "FP64":
		for i := range out {
			v := math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("binary data: value %d is %g, not a finite FP64 value", i, v)
			}
			if math.Abs(v) > math.MaxFloat32 {
				return nil, fmt.Errorf("binary data: value %d, %g, is beyond the network's float32 range", i, v)
			}
			out[i] = float32(v)
		}
	case "INT8":
		for i := range out {
			out[i] = float32(int8(b[i]))
		}
	case "UINT8":
		for i := range out {
			out[i] = float32(b[i])
		}
	case "INT16":
		for i := range out {
			out[i] = float32(int16(binary.LittleEndian.Uint16(b[2*i:])))
		}
	case "UINT16":
		for i := range out {
			out[i] = float32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case "INT32":
		for i := range out {
			out[i] = float32(int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
	case "UINT32":
		for i := range out {
			out[i] = float32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case "INT64":
		for i := range out {
			out[i] = float32(int64(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case "UINT64":
		for i := range out {
			out[i] = float32(binary.LittleEndian.Uint64(b[8*i:]))
		}
	}
	return out, nil
}

// binaryOutput reports whether the request asks for its output in binary:
// the output's own parameters.binary_data when it is named, else the
// request's parameters.binary_data_output.
func (req *inferRequest) binaryOutput() bool {
	for _, o := range req.Outputs {
		if o.Name == outputName && o.Parameters.BinaryData != nil {
			return *o.Parameters.BinaryData
		}
	}
	return req.Parameters.BinaryDataOutput
}

// appendFloat32LE appends v's little-endian bytes.
func appendFloat32LE(out []byte, v []float32) []byte {
	if littleEndian {
		return append(out, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))...)
	}
	for _, f := range v {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(f))
	}
	return out
}
