package rootwrite

import (
	"fmt"
	"slices"
	"strings"

	"go-hep.org/x/hep/groot/riofs"
)

// options are COPY's options for FORMAT root.
type options struct {
	tree        string
	title       string
	compression string
	level       int
}

// defaultLevels are ROOT's own default levels per algorithm (its
// compression settings 101, 404, 505, 207).
var defaultLevels = map[string]int{"zlib": 1, "lz4": 4, "zstd": 5, "lzma": 7, "none": 0}

var knownOptions = []string{"TREE", "TITLE", "COMPRESSION", "LEVEL"}

func parseOptions(m map[string]any) (options, error) {
	o := options{tree: "Events", compression: "zlib", level: -1}
	for k, v := range m {
		if !slices.Contains(knownOptions, k) {
			return o, fmt.Errorf("COPY (FORMAT root): unknown option %s (the options are %s)", k, strings.Join(knownOptions, ", "))
		}
		switch k {
		case "TREE", "TITLE", "COMPRESSION":
			s, ok := v.(string)
			if !ok {
				return o, fmt.Errorf("COPY (FORMAT root): option %s takes a string, got %v", k, v)
			}
			switch k {
			case "TREE":
				if s == "" || strings.ContainsAny(s, "/;") {
					return o, fmt.Errorf("COPY (FORMAT root): TREE %q is not a tree name", s)
				}
				o.tree = s
			case "TITLE":
				o.title = s
			case "COMPRESSION":
				s = strings.ToLower(s)
				if _, ok := defaultLevels[s]; !ok {
					return o, fmt.Errorf("COPY (FORMAT root): COMPRESSION %q: use 'zlib', 'lz4', 'zstd', 'lzma' or 'none'", s)
				}
				o.compression = s
			}
		case "LEVEL":
			n, ok := v.(int64)
			if !ok || n < 0 || n > 9 {
				return o, fmt.Errorf("COPY (FORMAT root): LEVEL takes an integer from 0 to 9, got %v", v)
			}
			o.level = int(n)
		}
	}
	if o.level < 0 {
		o.level = defaultLevels[o.compression]
	}
	if o.compression == "none" || o.level == 0 {
		o.compression, o.level = "none", 0
	}
	return o, nil
}

// fileOption is the riofs option for the compression chosen.
func (o options) fileOption() riofs.FileOption {
	switch o.compression {
	case "lz4":
		return riofs.WithLZ4(o.level)
	case "zstd":
		// groot hands the level to klauspost/compress's zstd encoder,
		// which knows four (fastest, default, better, best): ROOT's 1–9
		// are mapped onto them.
		return riofs.WithZstd([10]int{1, 1, 1, 2, 2, 2, 3, 3, 4, 4}[o.level])
	case "lzma":
		return riofs.WithLZMA(o.level)
	case "none":
		return riofs.WithoutCompression()
	}
	return riofs.WithZlib(o.level)
}
