package hepsql

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
)

// List is a LIST (or ARRAY) column scanned into a Go slice; a NULL list
// scans as nil. T may be a number, bool, string, a slice (for lists of
// lists), a struct (for LIST(STRUCT)), a pointer to one (for NULL
// elements), or an sql.Scanner.
type List[T any] []T

// Scan implements sql.Scanner.
func (l *List[T]) Scan(src any) error {
	return scanInto(src, reflect.ValueOf((*[]T)(l)).Elem(), fmt.Sprintf("hepsql.List[%s]", reflect.TypeFor[T]()))
}

// Struct is a STRUCT column scanned into a Go struct T (fields matched by
// name, as Into describes); Valid is false for a NULL.
type Struct[T any] struct {
	Value T
	Valid bool
}

// Scan implements sql.Scanner.
func (s *Struct[T]) Scan(src any) error {
	var zero T
	s.Value, s.Valid = zero, src != nil
	if src == nil {
		return nil
	}
	return scanInto(src, reflect.ValueOf(&s.Value).Elem(), fmt.Sprintf("hepsql.Struct[%s]", reflect.TypeFor[T]()))
}

// Scanning LIST, ARRAY and STRUCT columns into Go types.
//
// database/sql hands a driver's values to Scan as they are, and DuckDB's
// (hepsql's) are []any for a LIST or ARRAY, map[string]any for a STRUCT
// ([]any in field order for a STRUCT with unnamed fields, row(1, 2)), and
// Go scalars for the elements (float32 for FLOAT, int32 for INTEGER, ...):
// without help a LIST scans only into []any. List, Struct and Into convert
// them:
//
//	var pt hepsql.List[float32]           // Jet_pt FLOAT[]
//	var jets hepsql.List[Jet]             // LIST(STRUCT(pt FLOAT, eta FLOAT))
//	var met hepsql.Struct[MET]            // STRUCT(pt FLOAT, phi FLOAT)
//	var m [][]float32                     // FLOAT[][]
//	rows.Scan(&pt, &jets, &met, hepsql.Into(&m))
//
// Conversions: numbers convert to any Go number type when the value fits
// (an integer into a narrower integer in range, a float into an integer
// when it is a whole number; any number into float32 or float64, rounded to
// the nearest); BOOLEAN into bool, VARCHAR into string or []byte, DECIMAL
// into a float or, when whole, an integer, TIMESTAMP and DATE into
// time.Time; an ARRAY into a Go array of its length; any value into an
// `any`. A STRUCT fills a Go struct's exported fields by name: the field's
// `hepsql:"name"` tag, else the field's name matched without regard to
// case or underscores (Pt takes pt; JetPt takes jet_pt); STRUCT fields
// with no Go field are ignored, and a Go field (not tagged "-") that finds
// no STRUCT field is an error, so that a misspelt name is not a silent
// zero. A NULL becomes nil for a pointer, slice, map or `any`, a zero
// value with Valid false for Struct and for elements that are
// sql.Scanners (sql.NullFloat64, sql.Null[T]), and is an error anywhere
// else: scan lists with NULL elements into List[*float32] or
// List[sql.Null[float32]]. Errors name the value's Go type, the target and
// where in the value it failed (`[2].pt`).
//
// Into returns an sql.Scanner that converts a column's value into *dst,
// which may be of any type List and Struct accept as elements: a slice
// ([]float32, [][]float32, []Jet), a struct, a Go array, a map[string]T
// (for a STRUCT), a pointer or a scalar. Into panics if dst is not a
// non-nil pointer.
func Into(dst any) sql.Scanner {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		panic(fmt.Sprintf("hepsql.Into: want a non-nil pointer, got %T", dst))
	}
	return into{v.Elem()}
}

type into struct{ v reflect.Value }

func (i into) Scan(src any) error { return scanInto(src, i.v, i.v.Type().String()) }

// ScanError is a failed conversion: the value (its Go type as the driver
// returned it), the target and the path inside the value ("" for the
// whole value, "[3]" for a list element, ".pt" for a STRUCT field).
type ScanError struct {
	Target string // the type scanned into, e.g. hepsql.List[float32]
	Path   string
	Src    any
	Want   reflect.Type
	Reason string
}

func (e *ScanError) Error() string {
	at := ""
	if e.Path != "" {
		at = " at " + e.Path
	}
	val := fmt.Sprintf("%T", e.Src)
	switch e.Src.(type) {
	case nil:
		val = "NULL"
	case []any, map[string]any:
	default:
		val += fmt.Sprintf(" %v", e.Src)
	}
	msg := fmt.Sprintf("hepsql: scanning into %s%s: cannot convert %s to %s", e.Target, at, val, e.Want)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

var (
	scannerType = reflect.TypeFor[sql.Scanner]()
	timeType    = reflect.TypeFor[time.Time]()
)

func scanInto(src any, dst reflect.Value, target string) error {
	c := converter{target: target}
	return c.convert(src, dst, "")
}

type converter struct{ target string }

func (c *converter) fail(src any, dst reflect.Value, path, reason string) error {
	return &ScanError{Target: c.target, Path: path, Src: src, Want: dst.Type(), Reason: reason}
}

// convert sets dst (settable) from the driver value src.
func (c *converter) convert(src any, dst reflect.Value, path string) error {
	t := dst.Type()
	// A Scanner element (sql.NullFloat64, another List) decides itself.
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(scannerType) {
		if err := dst.Addr().Interface().(sql.Scanner).Scan(src); err != nil {
			var se *ScanError
			if errors.As(err, &se) { // a List or Struct inside: say where
				se.Path = path + se.Path
				return se
			}
			return c.fail(src, dst, path, err.Error())
		}
		return nil
	}
	if src == nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			dst.SetZero()
			return nil
		}
		return c.fail(src, dst, path, "NULL needs a pointer, a slice, a map, any or an sql.Scanner (sql.Null[T])")
	}
	switch t.Kind() {
	case reflect.Interface:
		s := reflect.ValueOf(src)
		if !s.Type().AssignableTo(t) {
			return c.fail(src, dst, path, "")
		}
		dst.Set(s)
		return nil
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := c.convert(src, p.Elem(), path); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			switch s := src.(type) {
			case []byte:
				dst.SetBytes(append([]byte(nil), s...))
				return nil
			case string:
				dst.SetBytes([]byte(s))
				return nil
			}
		}
		l, ok := src.([]any)
		if !ok {
			return c.fail(src, dst, path, "not a LIST")
		}
		out := reflect.MakeSlice(t, len(l), len(l))
		for i, x := range l {
			if err := c.convert(x, out.Index(i), fmt.Sprintf("%s[%d]", path, i+1)); err != nil {
				return err
			}
		}
		dst.Set(out)
		return nil
	case reflect.Array:
		l, ok := src.([]any)
		if !ok {
			return c.fail(src, dst, path, "not a LIST or ARRAY")
		}
		if len(l) != t.Len() {
			return c.fail(src, dst, path, fmt.Sprintf("%d values for %d", len(l), t.Len()))
		}
		for i, x := range l {
			if err := c.convert(x, dst.Index(i), fmt.Sprintf("%s[%d]", path, i+1)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		m, ok := src.(map[string]any)
		if !ok || t.Key().Kind() != reflect.String {
			return c.fail(src, dst, path, "not a STRUCT, or the map's key is not a string")
		}
		out := reflect.MakeMapWithSize(t, len(m))
		for k, x := range m {
			v := reflect.New(t.Elem()).Elem()
			if err := c.convert(x, v, path+"."+k); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), v)
		}
		dst.Set(out)
		return nil
	case reflect.Struct:
		if t == timeType {
			if tm, ok := src.(time.Time); ok {
				dst.Set(reflect.ValueOf(tm))
				return nil
			}
			return c.fail(src, dst, path, "")
		}
		return c.structFrom(src, dst, path)
	}
	return c.scalar(src, dst, path)
}

// structFrom fills struct dst from a STRUCT value: map[string]any by field
// name, or []any (unnamed fields) by position.
func (c *converter) structFrom(src any, dst reflect.Value, path string) error {
	t := dst.Type()
	switch s := src.(type) {
	case map[string]any:
		keys := make(map[string]string, len(s)) // normalised → STRUCT field
		for k := range s {
			keys[normalise(k)] = k
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, tagged := f.Tag.Lookup("hepsql")
			if name == "-" {
				continue
			}
			key, ok := name, false
			if tagged {
				_, ok = s[name]
			} else if _, ok = s[f.Name]; ok {
				key = f.Name
			} else {
				key, ok = keys[normalise(f.Name)]
			}
			if !ok {
				return c.fail(src, dst, path, fmt.Sprintf("field %s finds no STRUCT field %s (the STRUCT has %s)", f.Name, want(name, f.Name, tagged), fieldList(s)))
			}
			if err := c.convert(s[key], dst.Field(i), path+"."+key); err != nil {
				return err
			}
		}
		return nil
	case []any:
		var fields []int
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && f.Tag.Get("hepsql") != "-" {
				fields = append(fields, i)
			}
		}
		if len(fields) != len(s) {
			return c.fail(src, dst, path, fmt.Sprintf("a STRUCT of %d unnamed fields fills structs of as many fields, by position; %s has %d", len(s), t, len(fields)))
		}
		for k, i := range fields {
			if err := c.convert(s[k], dst.Field(i), fmt.Sprintf("%s.(%d)", path, k+1)); err != nil {
				return err
			}
		}
		return nil
	}
	return c.fail(src, dst, path, "not a STRUCT")
}

func want(tag, field string, tagged bool) string {
	if tagged {
		return fmt.Sprintf("%q (its tag)", tag)
	}
	return fmt.Sprintf("named %s (without regard to case or underscores)", field)
}

func fieldList(m map[string]any) string {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	if len(names) == 0 {
		return "no fields"
	}
	slices.Sort(names) // a stable message
	return strings.Join(names, ", ")
}

func normalise(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// decimal is duckdb-go's Decimal (and anything else with Float64).
type decimal interface{ Float64() float64 }

// scalar converts a driver scalar into a Go bool, number or string.
func (c *converter) scalar(src any, dst reflect.Value, path string) error {
	t := dst.Type()
	switch t.Kind() {
	case reflect.Bool:
		if b, ok := src.(bool); ok {
			dst.SetBool(b)
			return nil
		}
	case reflect.String:
		switch s := src.(type) {
		case string:
			dst.SetString(s)
			return nil
		case []byte:
			dst.SetString(string(s))
			return nil
		}
	case reflect.Float32, reflect.Float64:
		if f, ok := asFloat(src); ok {
			dst.SetFloat(f)
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok, reason := asInt(src)
		if ok && dst.OverflowInt(i) {
			ok, reason = false, "out of range"
		}
		if ok {
			dst.SetInt(i)
			return nil
		}
		return c.fail(src, dst, path, reason)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u, ok, reason := asUint(src)
		if ok && dst.OverflowUint(u) {
			ok, reason = false, "out of range"
		}
		if ok {
			dst.SetUint(u)
			return nil
		}
		return c.fail(src, dst, path, reason)
	}
	return c.fail(src, dst, path, "")
}

func asFloat(src any) (float64, bool) {
	switch x := src.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case int8, int16, int32, int64, int:
		return float64(reflect.ValueOf(x).Int()), true
	case uint8, uint16, uint32, uint64, uint:
		return float64(reflect.ValueOf(x).Uint()), true
	case decimal:
		return x.Float64(), true
	}
	return 0, false
}

func asInt(src any) (int64, bool, string) {
	switch x := src.(type) {
	case int8, int16, int32, int64, int:
		return reflect.ValueOf(x).Int(), true, ""
	case uint8, uint16, uint32, uint64, uint:
		u := reflect.ValueOf(x).Uint()
		if u > math.MaxInt64 {
			return 0, false, "out of range"
		}
		return int64(u), true, ""
	}
	if f, ok := asFloat(src); ok {
		if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, false, "not a whole number in range"
		}
		return int64(f), true, ""
	}
	return 0, false, ""
}

func asUint(src any) (uint64, bool, string) {
	i, ok, reason := asInt(src)
	if ok && i >= 0 {
		return uint64(i), true, ""
	}
	if ok {
		return 0, false, "negative"
	}
	if u, isU := src.(uint64); isU {
		return u, true, ""
	}
	return 0, false, reason
}
