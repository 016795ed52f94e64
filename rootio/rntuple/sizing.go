package rntuple

// Page and cluster sizes, chosen as ROOT's RNTupleWriter chooses them
// (RNTupleWriteOptions of ROOT 6.36–6.38, and of the 6.35 development
// versions that wrote most of the fixtures; 6.34 and earlier targeted
// smaller clusters):
//
//   - a column's page is cut when it holds MaxUnzippedPageSize bytes
//     (1 MiB) of elements, so a page of 1-byte values holds eight times
//     the elements of one of 8-byte values (the fixtures' 100-million-entry
//     int16 column has pages of 524,288 elements). ROOT counts the
//     element's in-memory width: a bit (bool) counts as a byte; the width
//     used here is the on-disk one otherwise, which is ROOT's in-memory
//     width for every column this writer writes but the variant's Switch
//     (12 bytes here, 16 in ROOT). ROOT's pages start at 256 bytes and
//     grow while the cluster fills; only the full size shows in a file.
//   - a cluster is committed once its uncompressed bytes reach an
//     estimate of what compresses to ApproxZippedClusterSize (128 MiB):
//     twice that for the first cluster when compressing (once without),
//     then that size times the last cluster's compression ratio, and
//     never more than MaxUnzippedClusterSize (10 times the compressed
//     target, 1280 MiB).

const (
	// DefaultPageSize is ROOT's fMaxUnzippedPageSize: a page's
	// uncompressed bytes.
	DefaultPageSize = 1 << 20
	// DefaultClusterSize is ROOT's fApproxZippedClusterSize: a cluster's
	// approximate compressed bytes.
	DefaultClusterSize = 128 << 20
	// MaxUnzippedClusterFactor gives ROOT's fMaxUnzippedClusterSize, the
	// most uncompressed bytes a cluster gathers however well it
	// compresses: this many times the compressed target.
	MaxUnzippedClusterFactor = 10
)

// pageElements is how many elements of column c a page holds: as many as
// fit PageSize bytes (never none), at most PageElements if that is set.
func (wr *Writer) pageElements(c *wcol) int {
	width := max(c.l.size, 1) // a bit counts as a byte, as in ROOT's page buffers
	n := max(int(wr.opts.PageSize/int64(width)), 1)
	if wr.opts.PageElements > 0 {
		n = min(n, wr.opts.PageElements)
	}
	return n
}

// ClusterFull reports whether a cluster holding unzipped bytes (as
// UnzippedBytes counts them) is due to be written: it has reached the
// estimate of what compresses to ClusterSize bytes, or
// MaxUnzippedClusterSize.
func (wr *Writer) ClusterFull(unzipped int64) bool {
	return unzipped >= min(wr.unzippedEst, wr.opts.MaxUnzippedClusterSize)
}

// noteCluster updates the estimate after a cluster of unzipped bytes was
// stored in zipped bytes: ClusterSize times its compression ratio.
func (wr *Writer) noteCluster(unzipped, zipped int64) {
	if zipped <= 0 || unzipped <= 0 {
		return
	}
	est := float64(unzipped) / float64(zipped) * float64(wr.opts.ClusterSize)
	wr.unzippedEst = int64(min(est, float64(wr.opts.MaxUnzippedClusterSize)))
}

// UnzippedBytes counts the uncompressed bytes of entries from onward of
// a (all entries for from 0) as ROOT counts what a Fill appends: each
// value's width (a bool a byte, a string its bytes plus an 8-byte
// offset), an 8-byte offset per list, string or optional entry. Counting
// only the entries added since the last count keeps a writer gathering a
// cluster chunk by chunk linear.
func UnzippedBytes(a *Array, from int) int64 {
	if a == nil || a.Type == nil || from >= a.Len {
		return 0
	}
	from = max(from, 0)
	n := int64(a.Len - from)
	t := a.Type
	switch t.Kind {
	case KindBool, KindInt8, KindUint8:
		return n
	case KindInt16, KindUint16:
		return 2 * n
	case KindInt32, KindUint32, KindFloat32:
		return 4 * n
	case KindInt64, KindUint64, KindFloat64:
		return 8 * n
	case KindString:
		b := 8 * n
		if len(a.Strings) >= a.Len {
			for _, s := range a.Strings[from:a.Len] {
				b += int64(len(s))
			}
		}
		return b
	case KindList, KindOptional:
		b := 8 * n
		if t.Elide {
			b = 0 // stored as the plain value unless some entry is absent
		}
		if len(a.Children) == 1 && len(a.Offsets) > a.Len {
			b += childBytes(&a.Children[0], int(a.Offsets[from]), int(a.Offsets[a.Len]))
		}
		return b
	case KindArray:
		if len(a.Children) == 1 {
			return childBytes(&a.Children[0], from*t.Size, a.Len*t.Size)
		}
	case KindStruct:
		var b int64
		for i := range a.Children {
			b += childBytes(&a.Children[i], from, a.Len)
		}
		return b
	case KindVariant:
		// The Switch column's element, and each alternative's values
		// from the first that an entry from `from` on holds (an
		// alternative's values follow the variant's entries in order).
		b := 12 * n
		for k := range a.Children {
			first := -1
			if from == 0 {
				first = 0
			} else if len(a.Tags) >= a.Len && len(a.Index) >= a.Len {
				for r := from; r < a.Len; r++ {
					if int(a.Tags[r]) == k+1 {
						first = int(a.Index[r])
						break
					}
				}
			}
			if first >= 0 {
				b += UnzippedBytes(&a.Children[k], first)
			}
		}
		return b
	}
	return 0
}

// childBytes counts entries [from, to) of a child array.
func childBytes(c *Array, from, to int) int64 {
	if to >= c.Len {
		return UnzippedBytes(c, from)
	}
	return UnzippedBytes(c, from) - UnzippedBytes(c, to)
}
