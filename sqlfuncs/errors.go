package sqlfuncs

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Errors of the scalar functions name arguments and values, never a row
// number: DuckDB hands a function chunks of up to 2048 rows, so a row's
// index in its chunk locates nothing, and a function sees a row's _file and
// _entry only when they are its arguments. Errors that depend on a row's
// values (lists of different lengths in one row, an index outside its
// collection) say instead how to find the entries: try() turns the error
// into NULL, so
//
//	SELECT _file, _entry FROM read_root(…) WHERE try(delta_r(…)) IS NULL
//
// lists them (beside rows whose arguments are NULL).

// lengthError: two list arguments of one row that must have the same length
// do not. a and b are argument indices; Register's wrapper names them.
type lengthError struct{ a, b, na, nb int }

func (e *lengthError) Error() string {
	return fmt.Sprintf("argument %d has %d values and argument %d has %d (in the same row)", e.a+1, e.na, e.b+1, e.nb)
}

// dataError marks an error caused by a row's values rather than by the
// query's constants; Register's wrapper adds how to find the entries.
type dataError struct{ err error }

func (e *dataError) Error() string { return e.err.Error() }
func (e *dataError) Unwrap() error { return e.err }

func dataErrorf(format string, args ...any) error {
	return &dataError{fmt.Errorf(format, args...)}
}

// checkLengths returns a lengthError for the first of lists whose length
// differs from the first's; args[i] is list i's argument index.
func checkLengths(args []int, lens ...int) error {
	for i := 1; i < len(lens); i++ {
		if lens[i] != lens[0] {
			return &lengthError{a: args[0], b: args[i], na: lens[0], nb: lens[i]}
		}
	}
	return nil
}

// explain rewrites an error of function fn, whose arguments are args, for
// the user: argument indices become names, and data errors tell how to find
// the offending entries.
func explain(fn string, args []Arg, err error) error {
	var le *lengthError
	if errors.As(err, &le) {
		err = &dataError{fmt.Errorf("%s has %d values and %s has %d (in the same row)", argName(args, le.a), le.na, argName(args, le.b), le.nb)}
	}
	var de *dataError
	if !errors.As(err, &de) {
		return err
	}
	names := make([]string, len(args))
	for i, a := range args {
		names[i] = a.Name
	}
	return fmt.Errorf("%w; to list the entries: SELECT _file, _entry … WHERE try(%s(%s)) IS NULL", err, fn, strings.Join(names, ", "))
}

func argName(args []Arg, i int) string {
	if i >= 0 && i < len(args) {
		return args[i].Name
	}
	return fmt.Sprintf("argument %d", i+1)
}

// binningError names a fixed binning's arguments and what is wrong with
// them; maxBins > 0 is the most bins allowed.
func binningError(nbins int64, lo, hi float64, maxBins int64) error {
	var why string
	switch {
	case nbins <= 0:
		why = "nbins must be at least 1"
	case maxBins > 0 && nbins > maxBins:
		why = fmt.Sprintf("nbins must be at most %d", maxBins)
	case math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0):
		why = "lo and hi must be finite"
	default:
		why = "lo must be below hi"
	}
	return fmt.Errorf("invalid binning nbins = %d, lo = %g, hi = %g: %s", nbins, lo, hi, why)
}
