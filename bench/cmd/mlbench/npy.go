package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// writeNPY writes a C-order .npy file (format 1.0) of float32 ('<f4') or
// int32 ('<i4') values with the given shape, for numpy.load.
func writeNPY(path string, shape []int, values any) error {
	var descr string
	var n int
	switch v := values.(type) {
	case []float32:
		descr, n = "<f4", len(v)
	case []int32:
		descr, n = "<i4", len(v)
	default:
		return fmt.Errorf("npy: %T not supported", values)
	}
	want := 1
	dims := make([]string, len(shape))
	for i, d := range shape {
		want *= d
		dims[i] = strconv.Itoa(d)
	}
	if want != n {
		return fmt.Errorf("npy: %s: shape %v holds %d values, got %d", path, shape, want, n)
	}
	sh := strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, sh)
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(header)))
	w.WriteString(header)
	buf := make([]byte, 4)
	switch v := values.(type) {
	case []float32:
		for _, x := range v {
			binary.LittleEndian.PutUint32(buf, math.Float32bits(x))
			w.Write(buf)
		}
	case []int32:
		for _, x := range v {
			binary.LittleEndian.PutUint32(buf, uint32(x))
			w.Write(buf)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("npy: writing %s: %w", path, err)
	}
	return f.Close()
}

var shapeRE = regexp.MustCompile(`'shape': \(([0-9, ]*)\)`)

// readNPYFloat32 reads a little-endian float32 .npy file written by numpy
// (format 1.x or 2.x, C order) and returns its values and shape.
func readNPYFloat32(path string) ([]float32, []int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 12 || string(b[:6]) != "\x93NUMPY" {
		return nil, nil, fmt.Errorf("npy: %s: not a .npy file", path)
	}
	var hlen, start int
	if b[6] == 1 {
		hlen, start = int(binary.LittleEndian.Uint16(b[8:])), 10
	} else {
		hlen, start = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	header := string(b[start : start+hlen])
	if !strings.Contains(header, "'<f4'") || strings.Contains(header, "'fortran_order': True") {
		return nil, nil, fmt.Errorf("npy: %s: want C-order <f4, header %s", path, header)
	}
	m := shapeRE.FindStringSubmatch(header)
	if m == nil {
		return nil, nil, fmt.Errorf("npy: %s: no shape in %s", path, header)
	}
	var shape []int
	for _, f := range strings.Split(m[1], ",") {
		if f = strings.TrimSpace(f); f != "" {
			d, _ := strconv.Atoi(f)
			shape = append(shape, d)
		}
	}
	body := b[start+hlen:]
	out := make([]float32, len(body)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	return out, shape, nil
}
