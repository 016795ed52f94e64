package serve

// Decoding a 1,000-row request through encoding/json spends most of its
// time scanning the data array twice (validation, then RawMessage). The
// data array is found here instead, with a scanner that knows only JSON's
// strings and brackets; the request is decoded by encoding/json with the
// array cut out (replaced by null) and the numbers are read by
// parseNumbers, which checks the array's grammar itself.

// findData returns the byte range of the array value of inputs[k].data
// when the body has exactly one input object with such a key; ok false
// sends the request down the plain path.
func findData(body []byte) (lo, hi int, ok bool) {
	type frame struct {
		open     byte
		key      string
		wantsKey bool
	}
	var stack []frame
	found := 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch c {
		case '"':
			j := i + 1
			for j < len(body) && body[j] != '"' {
				if body[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(body) {
				return 0, 0, false
			}
			if n := len(stack); n > 0 && stack[n-1].open == '{' && stack[n-1].wantsKey {
				stack[n-1].key = string(body[i+1 : j])
				stack[n-1].wantsKey = false
			}
			i = j
		case '{', '[':
			if c == '[' && len(stack) == 3 && stack[0].key == "inputs" && stack[1].open == '[' && stack[2].key == "data" {
				end := matchArray(body, i)
				if end < 0 {
					return 0, 0, false
				}
				found++
				lo, hi = i, end
				i = end - 1
				continue
			}
			stack = append(stack, frame{open: c, wantsKey: c == '{'})
		case '}', ']':
			if len(stack) == 0 {
				return 0, 0, false
			}
			stack = stack[:len(stack)-1]
		case ',':
			if n := len(stack); n > 0 && stack[n-1].open == '{' {
				stack[n-1].wantsKey = true
			}
		}
	}
	return lo, hi, found == 1
}

// matchArray returns the index after the ']' closing the array at i, or
// -1; strings inside are skipped whole.
func matchArray(body []byte, i int) int {
	depth := 0
	for ; i < len(body); i++ {
		switch body[i] {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"':
			i++
			for i < len(body) && body[i] != '"' {
				if body[i] == '\\' {
					i++
				}
				i++
			}
		}
	}
	return -1
}
