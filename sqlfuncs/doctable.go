package sqlfuncs

import (
	"strings"

	"github.com/hepsql/hepsql/internal/capi"
)

// docsFunction is hepsql_functions(): the registry as a table, one row per
// signature, so SQL can search the library.
var docsFunction = &capi.TableFunction{
	Name: "hepsql_functions",
	Bind: func(*capi.BindArgs) (capi.Table, error) {
		str := capi.Scalar(capi.Varchar)
		t := &capi.RowsTable{Cols: []capi.Column{
			{Name: "name", Type: str}, {Name: "group", Type: str}, {Name: "signature", Type: str},
			{Name: "summary", Type: str}, {Name: "example", Type: str},
		}}
		for _, f := range Reference() {
			for _, sig := range f.Signatures() {
				t.Rows = append(t.Rows, []any{f.Name, f.Group, sig, f.Summary, f.Example})
			}
		}
		return t, nil
	},
}

// Help renders one function's documentation for the REPL's .help NAME.
func Help(f *Function) string {
	var b strings.Builder
	b.WriteString(f.Name + " (" + f.Group + ")\n  " + f.Summary + "\n")
	for _, s := range f.Signatures() {
		b.WriteString("  " + s + "\n")
	}
	for _, s := range f.Setup {
		b.WriteString("  setup: " + s + "\n")
	}
	b.WriteString("  example: " + f.Example + "\n")
	return b.String()
}

// HelpIndex renders the one-line-per-function list for .help functions.
func HelpIndex() string {
	var b strings.Builder
	group := ""
	for _, f := range Reference() {
		if f.Group != group {
			group = f.Group
			b.WriteString(group + ":\n")
		}
		b.WriteString("  " + f.Name + strings.Repeat(" ", max(1, 16-len(f.Name))) + firstSentence(f.Summary) + "\n")
	}
	b.WriteString("(.help NAME for signatures and an example; SELECT * FROM hepsql_functions() for all)\n")
	return b.String()
}

func firstSentence(s string) string {
	if i := strings.Index(s, "; "); i > 0 {
		return s[:i]
	}
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}
