package sqlfuncs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hepsql/hepsql/internal/capi"
)

// Function is one SQL function of the library, with the documentation the
// REPL's .help, hepsql_functions() and docs/functions.md are built from.
type Function struct {
	Name    string
	Group   string
	Summary string
	// Example is a runnable SQL statement; a test runs every example.
	Example string
	// Overloads are the typed signatures; DuckDB picks one by argument types.
	Overloads []Overload
	// Aggregates are the overloads of an aggregate function (instead of
	// Overloads).
	Aggregates []AggregateOverload
	// Forms are the signatures, as the reference prints them, of a
	// function that another package registers with DuckDB itself and
	// documents here through Document (the ML table functions of
	// mlfuncs/sqlml); such an entry has no Overloads.
	Forms []string
	// Setup holds statements Example needs run first (a table, a trained
	// model); the reference shows them with the example.
	Setup []string
}

// AggregateOverload is one signature of an aggregate and its state maker.
type AggregateOverload struct {
	Args    []Arg
	Returns capi.Type
	New     func() capi.AggregateState
}

// Overload is one signature and its vectorised body.
type Overload struct {
	Args    []Arg
	Returns capi.Type
	Exec    func(in capi.Args, out capi.Vector) error
}

// Arg is a named, typed argument.
type Arg struct {
	Name string
	Type capi.Type
}

// Signature renders name(arg TYPE, ...) → TYPE.
func (o Overload) Signature(name string) string {
	parts := make([]string, len(o.Args))
	for i, a := range o.Args {
		parts[i] = a.Name + " " + typeName(a.Type)
	}
	return fmt.Sprintf("%s(%s) → %s", name, strings.Join(parts, ", "), typeName(o.Returns))
}

// typeName is t in SQL, or HIST and HIST2D for the histogram STRUCTs
// (whose fields hist's and hist2d's summaries list).
func typeName(t capi.Type) string {
	switch s := t.String(); s {
	case histValueType.String():
		return "HIST"
	case hist2dType.String():
		return "HIST2D"
	default:
		return s
	}
}

// Signatures lists every signature of f, one per overload.
func (f *Function) Signatures() []string {
	var out []string
	for _, o := range f.Overloads {
		out = append(out, o.Signature(f.Name))
	}
	for _, a := range f.Aggregates {
		out = append(out, Overload{Args: a.Args, Returns: a.Returns}.Signature(f.Name))
	}
	return append(out, f.Forms...)
}

var library []*Function

// documented holds the entries of other packages (see Document).
var documented []*Function

// Document adds functions that another package registers with DuckDB to
// the reference, so that .help, hepsql_functions() and docs/functions.md
// list them with the library; Register leaves them alone. The package
// calls it from an init function: sqlfuncs cannot import it, since it
// builds on sqlfuncs' own registry. An entry without a summary, example,
// group or forms, or whose name is taken, panics.
func Document(fs ...*Function) {
	for _, f := range fs {
		if f.Summary == "" || f.Example == "" || f.Group == "" || len(f.Forms) == 0 || len(f.Overloads)+len(f.Aggregates) > 0 {
			panic(fmt.Sprintf("sqlfuncs: Document(%s): want a summary, an example, a group and forms, and no overloads", f.Name))
		}
		if Lookup(f.Name) != nil {
			panic(fmt.Sprintf("sqlfuncs: Document(%s): the name is taken", f.Name))
		}
		documented = append(documented, f)
	}
}

// define adds f to the library; called from package-level var blocks.
func define(f *Function) *Function {
	library = append(library, f)
	return f
}

// Groups in documentation order.
var Groups = []string{"angles", "four-vectors", "combinatorics", "matching", "ranking", "selection", "histograms", "topology", "jets"}

// All returns the library, the functions Register registers, sorted by
// group, then name.
func All() []*Function { return sorted(library) }

// Reference returns the library and the documented functions of other
// packages, sorted by group (Groups first, then other groups in the order
// they were documented), then name: everything the reference lists.
func Reference() []*Function {
	return sorted(append(append([]*Function(nil), library...), documented...))
}

func sorted(fs []*Function) []*Function {
	out := append([]*Function(nil), fs...)
	order := map[string]int{}
	for i, g := range Groups {
		order[g] = i
	}
	for _, f := range documented {
		if _, ok := order[f.Group]; !ok {
			order[f.Group] = len(order)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return order[out[i].Group] < order[out[j].Group]
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Lookup finds a function of the reference by name (case-insensitive).
func Lookup(name string) *Function {
	for _, f := range Reference() {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// Register registers every function of the library, and hepsql_functions(),
// on conn.
func Register(conn *capi.Conn) error {
	for _, f := range library {
		if len(f.Aggregates) > 0 {
			overloads := make([]*capi.AggregateFunction, len(f.Aggregates))
			for i, a := range f.Aggregates {
				overloads[i] = &capi.AggregateFunction{Name: f.Name, Params: argTypes(a.Args), Returns: a.Returns, New: a.New}
			}
			if err := conn.RegisterAggregateFunctions(overloads); err != nil {
				return fmt.Errorf("sqlfuncs: %w", err)
			}
			continue
		}
		overloads := make([]*capi.ScalarFunction, len(f.Overloads))
		for i, o := range f.Overloads {
			overloads[i] = &capi.ScalarFunction{Name: f.Name, Params: argTypes(o.Args), Returns: o.Returns, Exec: explained(f.Name, o)}
		}
		if err := conn.RegisterScalarFunctions(overloads); err != nil {
			return fmt.Errorf("sqlfuncs: %w", err)
		}
	}
	if err := conn.RegisterTableFunction(docsFunction); err != nil {
		return fmt.Errorf("sqlfuncs: %w", err)
	}
	return nil
}

// explained wraps o's body so that its errors name o's arguments (see
// explain).
func explained(name string, o Overload) func(capi.Args, capi.Vector) error {
	return func(in capi.Args, out capi.Vector) error {
		if err := o.Exec(in, out); err != nil {
			return explain(name, o.Args, err)
		}
		return nil
	}
}

func argTypes(a []Arg) []capi.Type {
	out := make([]capi.Type, len(a))
	for i := range a {
		out[i] = a[i].Type
	}
	return out
}

// Shorthands for signatures.
var (
	tDouble  = capi.Scalar(capi.Double)
	tFloat   = capi.Scalar(capi.Float)
	tInt     = capi.Scalar(capi.Integer)
	tTinyInt = capi.Scalar(capi.TinyInt)
	tBigInt  = capi.Scalar(capi.BigInt)
	tBool    = capi.Scalar(capi.Boolean)
	tDoubles = capi.ListOf(tDouble)
	tFloats  = capi.ListOf(tFloat)
	tInts    = capi.ListOf(tInt)
	tBools   = capi.ListOf(tBool)
)

// listOf returns the list type of the float element type T.
func listOf[T float]() capi.Type {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return tFloats
	}
	return tDoubles
}

// p4Type is the four-vector returned by sums.
var p4Type = capi.Type{ID: capi.Struct, Fields: []capi.Field{
	{Name: "pt", Type: tDouble}, {Name: "eta", Type: tDouble}, {Name: "phi", Type: tDouble},
	{Name: "mass", Type: tDouble}, {Name: "e", Type: tDouble},
}}

// candidateType is a combination of objects: their 1-based indices and
// summed four-vector.
var candidateType = capi.Type{ID: capi.Struct, Fields: []capi.Field{
	{Name: "idx", Type: tInts},
	{Name: "pt", Type: tDouble}, {Name: "eta", Type: tDouble}, {Name: "phi", Type: tDouble},
	{Name: "mass", Type: tDouble}, {Name: "e", Type: tDouble},
}}

// args builds an argument list from alternating names and types.
func args(pairs ...any) []Arg {
	out := make([]Arg, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Arg{Name: pairs[i].(string), Type: pairs[i+1].(capi.Type)})
	}
	return out
}
