// Package npy reads and writes NumPy's .npy files (C order, little
// endian, float32/float64/int32), the format in which the benchmarks hand
// data to their Python peers.
package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Write writes a C-order .npy file (format 1.0) of the given shape.
func Write[T float32 | float64 | int32](path string, shape []int, v []T) error {
	descr := map[int]string{4: "<f4", 8: "<f8"}[binary.Size(v[0])]
	if _, ok := any(v).([]int32); ok {
		descr = "<i4"
	}
	dims := make([]string, len(shape))
	n := 1
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
		n *= d
	}
	if n != len(v) {
		return fmt.Errorf("npy: %s: shape %v holds %d values, got %d", path, shape, n, len(v))
	}
	sh := strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, sh)
	header += strings.Repeat(" ", (64-(10+len(header)+1)%64)%64) + "\n"
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(header)))
	w.WriteString(header)
	binary.Write(w, binary.LittleEndian, v)
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("npy: writing %s: %w", path, err)
	}
	return f.Close()
}

var shapeRE = regexp.MustCompile(`'shape': \(([0-9, ]*)\)`)

// Read reads a little-endian C-order .npy file of float32 ('<f4') or
// int32 ('<i4') values.
func Read[T float32 | int32](path string) ([]T, []int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 12 || string(b[:6]) != "\x93NUMPY" {
		return nil, nil, fmt.Errorf("npy: %s: not a .npy file", path)
	}
	hlen, start := int(binary.LittleEndian.Uint16(b[8:])), 10
	if b[6] != 1 {
		hlen, start = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	header := string(b[start : start+hlen])
	want := "'<f4'"
	if _, ok := any([]T(nil)).([]int32); ok {
		want = "'<i4'"
	}
	if !strings.Contains(header, want) || strings.Contains(header, "'fortran_order': True") {
		return nil, nil, fmt.Errorf("npy: %s: want C-order %s, header %s", path, want, header)
	}
	g := shapeRE.FindStringSubmatch(header)
	if g == nil {
		return nil, nil, fmt.Errorf("npy: %s: no shape in %s", path, header)
	}
	var shape []int
	for _, f := range strings.Split(g[1], ",") {
		if f = strings.TrimSpace(f); f != "" {
			d, _ := strconv.Atoi(f)
			shape = append(shape, d)
		}
	}
	body := b[start+hlen:]
	out := make([]T, len(body)/4)
	if _, err := binary.Decode(body, binary.LittleEndian, out); err != nil {
		return nil, nil, fmt.Errorf("npy: %s: %w", path, err)
	}
	return out, shape, nil
}
