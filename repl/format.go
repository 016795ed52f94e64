package repl

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// formatText renders a value as the duckdb shell would (NULL, [1, 2],
// {'a': 1}, {k=v}, 1.0, 2020-01-02 03:04:05), so that results read the same
// as in DuckDB's own documentation. t may be nil when the type is unknown.
func formatText(v any, t *typeInfo) string {
	var b strings.Builder
	writeText(&b, v, t)
	return b.String()
}

func writeText(b *strings.Builder, v any, t *typeInfo) {
	if t == nil {
		t = &typeInfo{}
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("NULL")
	case string:
		b.WriteString(x)
	case []byte:
		if t.name == "UUID" && len(x) == 16 {
			b.WriteString(formatUUID(x))
		} else {
			writeBlob(b, x)
		}
	case float64:
		b.WriteString(formatFloat(x, 64))
	case float32:
		b.WriteString(formatFloat(float64(x), 32))
	case time.Time:
		b.WriteString(formatTime(x, t.name))
	case duckdb.Interval:
		b.WriteString(formatInterval(x))
	case duckdb.Union:
		writeText(b, x.Value, t.field(x.Tag))
	case []any:
		if t.name == "STRUCT" { // a STRUCT with unnamed fields: (1, 2) as DuckDB prints it
			b.WriteByte('(')
			for i, e := range x {
				if i > 0 {
					b.WriteString(", ")
				}
				writeText(b, e, t.member(i))
			}
			b.WriteByte(')')
			return
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeText(b, e, t.elem)
		}
		b.WriteByte(']')
	case map[string]any:
		if t.name == "JSON" {
			writeJSONText(b, x)
			return
		}
		b.WriteByte('{')
		for i, k := range structKeys(x, t) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "'%s': ", k)
			writeText(b, x[k], t.field(k))
		}
		b.WriteByte('}')
	case duckdb.OrderedMap:
		b.WriteByte('{')
		vals := x.Values()
		for i, k := range x.Keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeText(b, k, t.key)
			b.WriteByte('=')
			writeText(b, vals[i], t.val)
		}
		b.WriteByte('}')
	case fmt.Stringer: // Decimal, *big.Int (HUGEINT), ...
		b.WriteString(x.String())
	default:
		if t.name == "JSON" {
			writeJSONText(b, x)
			return
		}
		fmt.Fprint(b, x)
	}
}

// structKeys orders a STRUCT's fields as declared, falling back to sorted
// names for fields the type does not list (so output is deterministic).
func structKeys(m map[string]any, t *typeInfo) []string {
	keys := make([]string, 0, len(m))
	seen := map[string]bool{}
	for _, f := range t.fields {
		if _, ok := m[f.name]; ok {
			keys = append(keys, f.name)
			seen[f.name] = true
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

func writeJSONText(b *strings.Builder, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		fmt.Fprint(b, v)
		return
	}
	b.Write(data)
}

// writeBlob escapes bytes outside printable ASCII as \xHH, like DuckDB.
func writeBlob(b *strings.Builder, x []byte) {
	for _, c := range x {
		if c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(b, `\x%02X`, c)
		}
	}
}

func formatUUID(x []byte) string {
	h := fmt.Sprintf("%x", x)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// formatFloat prints the shortest representation that reads back exactly,
// in positional notation for exponents -4..15 and with a ".0" on integral
// values, which is how DuckDB prints floating-point numbers.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, bits)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, bits)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

func formatTime(x time.Time, typ string) string {
	switch typ {
	case "DATE":
		return x.Format("2006-01-02")
	case "TIME":
		return x.Format("15:04:05.999999999")
	case "TIMETZ", "TIME WITH TIME ZONE":
		return x.Format("15:04:05.999999999-07")
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		return x.Format("2006-01-02 15:04:05.999999999-07")
	}
	return x.Format("2006-01-02 15:04:05.999999999")
}

// formatInterval writes "1 year 2 months 3 days 04:05:06.5" like DuckDB.
func formatInterval(iv duckdb.Interval) string {
	var parts []string
	unit := func(n int64, name string) {
		if n == 0 {
			return
		}
		if n != 1 && n != -1 {
			name += "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, name))
	}
	unit(int64(iv.Months/12), "year")
	unit(int64(iv.Months%12), "month")
	unit(int64(iv.Days), "day")
	if iv.Micros != 0 || len(parts) == 0 {
		us, sign := iv.Micros, ""
		if us < 0 {
			us, sign = -us, "-"
		}
		clock := fmt.Sprintf("%s%02d:%02d:%02d", sign, us/3_600_000_000, us/60_000_000%60, us/1_000_000%60)
		if frac := us % 1_000_000; frac != 0 {
			clock += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, clock)
	}
	return strings.Join(parts, " ")
}

// jsonValue converts a value to something encoding/json writes faithfully:
// numbers stay numbers (exact for DECIMAL and HUGEINT), STRUCT fields keep
// their declared order, and NaN and infinities, which JSON lacks, become the
// strings "NaN", "Infinity" and "-Infinity".
func jsonValue(v any, t *typeInfo) any {
	if t == nil {
		t = &typeInfo{}
	}
	if s, ok := v.(string); ok && t.name == "JSON" && json.Valid([]byte(s)) {
		return json.RawMessage(s) // a JSON value stays JSON
	}
	switch x := v.(type) {
	case nil, bool, string, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return x
	case float32:
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return jsonFloat(f)
		}
		// Shortest digits at float32 precision: 12.777097, not 12.77709674835205.
		return json.Number(strconv.FormatFloat(float64(x), 'g', -1, 32))
	case float64:
		return jsonFloat(x)
	case *big.Int:
		return json.Number(x.String())
	case duckdb.Decimal:
		return json.Number(x.String())
	case duckdb.Union:
		return jsonValue(x.Value, t.field(x.Tag))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if t.name == "STRUCT" { // unnamed fields: a JSON array
				out[i] = jsonValue(e, t.member(i))
			} else {
				out[i] = jsonValue(e, t.elem)
			}
		}
		return out
	case map[string]any:
		if t.name == "JSON" {
			return x
		}
		obj := orderedObject{}
		for _, k := range structKeys(x, t) {
			obj = append(obj, member{k, jsonValue(x[k], t.field(k))})
		}
		return obj
	case duckdb.OrderedMap:
		obj := orderedObject{}
		vals := x.Values()
		for i, k := range x.Keys() {
			obj = append(obj, member{formatText(k, t.key), jsonValue(vals[i], t.val)})
		}
		return obj
	}
	if t.name == "JSON" {
		return v
	}
	return formatText(v, t)
}

func jsonFloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}

// orderedObject is a JSON object that keeps its members in order.
type orderedObject []member

type member struct {
	key string
	val any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshalJSON(m.key)
		if err != nil {
			return nil, err
		}
		v, err := marshalJSON(m.val)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", m.key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// marshalJSON is json.Marshal without HTML escaping, which would turn the
// "<" and ">" of selection strings into \u003c and \u003e.
func marshalJSON(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}
