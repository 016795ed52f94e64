package rntuple

// Value returns entry i of a as a plain Go value: bool, int64, uint64,
// float64 (float fields rounded to float32 precision), string, []any for
// lists and arrays, nil or the value for optionals, map[string]any for
// structs, and for variants the active alternative's value (nil when the
// variant holds none). It is meant for tests and small tools: scans read
// the Array's slices directly.
func (a *Array) Value(i int) any {
	t := a.Type
	switch t.Kind {
	case KindBool:
		return a.Bools[i]
	case KindInt8, KindInt16, KindInt32, KindInt64:
		return a.Ints[i]
	case KindUint8, KindUint16, KindUint32, KindUint64:
		return a.Uints[i]
	case KindFloat32, KindFloat64:
		return a.Floats[i]
	case KindString:
		return a.Strings[i]
	case KindList:
		out := []any{}
		for k := a.Offsets[i]; k < a.Offsets[i+1]; k++ {
			out = append(out, a.Children[0].Value(int(k)))
		}
		return out
	case KindOptional:
		if a.Offsets[i+1] == a.Offsets[i] {
			return nil
		}
		return a.Children[0].Value(int(a.Offsets[i]))
	case KindArray:
		out := []any{}
		for k := i * t.Size; k < (i+1)*t.Size; k++ {
			out = append(out, a.Children[0].Value(k))
		}
		return out
	case KindStruct:
		out := map[string]any{}
		for k, name := range t.Names {
			out[name] = a.Children[k].Value(i)
		}
		return out
	case KindVariant:
		if a.Tags[i] == 0 {
			return nil
		}
		return a.Children[a.Tags[i]-1].Value(int(a.Index[i]))
	}
	return nil
}
