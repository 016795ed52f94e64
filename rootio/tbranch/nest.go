package tbranch

// FillNested writes a collection's rows into v, a LIST of STRUCTs, from
// the readers of its members: the first member writes the list entries
// and reserves the child rows (all fields at once: reserving a LIST
// reserves its STRUCT child's fields); each member decodes its elements
// straight into its field's vector, as a flat list column would into its
// child. The members share a counter, so every member must give each
// entry as many elements as the first: a member that does not is an
// error naming the file, the branch and the entry (fillListTo), never a
// misaligned row.
func FillNested(readers []*Reader, v Vector, entry int64, n int) error {
	for i, r := range readers {
		var first *Reader
		if i > 0 {
			first = readers[0]
		}
		if err := r.fillListTo(v, i, first, entry, n); err != nil {
			return err
		}
	}
	return nil
}
