package capi

import (
	"fmt"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

// BindArgs gives a table function's Bind its arguments as Go values. It is
// valid only during Bind.
type BindArgs struct {
	info ddb.BindInfo
	fn   *TableFunction
}

// Len is the number of positional arguments.
func (a *BindArgs) Len() int { return int(ddb.BindGetParameterCount(a.info)) }

// Arg returns positional argument i converted to Go (see valueToGo).
func (a *BindArgs) Arg(i int) (any, error) {
	v := ddb.BindGetParameter(a.info, ddb.IdxT(i))
	defer ddb.DestroyValue(&v)
	return valueToGo(v)
}

// Named returns the named argument, or nil when the call does not set it.
func (a *BindArgs) Named(name string) (any, error) {
	v := ddb.BindGetNamedParameter(a.info, name)
	if v.Ptr == nil {
		return nil, nil
	}
	defer ddb.DestroyValue(&v)
	return valueToGo(v)
}

// valueToGo converts the argument kinds hepsql's functions take: NULL → nil,
// VARCHAR → string, BOOLEAN → bool, integers → int64, FLOAT/DOUBLE →
// float64, LIST → []any. Arguments are converted once per query, at bind.
func valueToGo(v ddb.Value) (any, error) {
	if ddb.IsNullValue(v) {
		return nil, nil
	}
	lt := ddb.GetValueType(v)
	switch id := ddb.GetTypeId(lt); id {
	case ddb.TypeVarchar:
		return ddb.GetVarchar(v), nil
	case ddb.TypeBoolean:
		return ddb.GetBool(v), nil
	case ddb.TypeTinyInt, ddb.TypeSmallInt, ddb.TypeInteger, ddb.TypeBigInt,
		ddb.TypeUTinyInt, ddb.TypeUSmallInt, ddb.TypeUInteger:
		return ddb.GetInt64(v), nil
	case ddb.TypeUBigInt:
		return int64(ddb.GetUInt64(v)), nil
	case ddb.TypeFloat, ddb.TypeDouble, ddb.TypeDecimal:
		return ddb.GetDouble(v), nil
	case ddb.TypeList, ddb.TypeArray:
		n := ddb.GetListSize(v)
		out := make([]any, 0, n)
		for i := ddb.IdxT(0); i < n; i++ {
			child := ddb.GetListChild(v, i)
			g, err := valueToGo(child)
			ddb.DestroyValue(&child)
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unsupported argument type %s", ddb.ValueToString(v))
	}
}

// ConnectionID is the id of the DuckDB connection binding the call, as
// duckdb-go's ConnId reports it for a *sql.Conn; ok is false if DuckDB
// gives no client context.
func (a *BindArgs) ConnectionID() (id uint64, ok bool) {
	var ctx ddb.ClientContext
	ddb.TableFunctionGetClientContext(a.info, &ctx)
	if ctx.Ptr == nil {
		return 0, false
	}
	defer ddb.DestroyClientContext(&ctx)
	return uint64(ddb.ClientContextGetConnectionId(ctx)), true
}
