package sqlflight

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
)

// The catalog, from DuckDB's information_schema: small results, built row
// by row into the reference schemas of the Flight SQL specification.

// infoFor is the FlightInfo of a catalog command: its ticket is the
// command itself, redeemed by the matching DoGet.
func (s *Server) infoFor(desc *flight.FlightDescriptor, schema *arrow.Schema) *flight.FlightInfo {
	return &flight.FlightInfo{
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: desc.Cmd}}},
		FlightDescriptor: desc,
		Schema:           flight.SerializeSchema(schema, s.Alloc),
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
}

func (s *Server) GetFlightInfoCatalogs(ctx context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.Catalogs), nil
}

func (s *Server) DoGetCatalogs(ctx context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.metadata(ctx, schema_ref.Catalogs, nil,
		"SELECT DISTINCT catalog_name FROM information_schema.schemata ORDER BY 1")
}

func (s *Server) GetFlightInfoSchemas(ctx context.Context, cmd flightsql.GetDBSchemas, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.DBSchemas), nil
}

func (s *Server) DoGetDBSchemas(ctx context.Context, cmd flightsql.GetDBSchemas) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	where, args := filters([]filter{
		{"catalog_name", cmd.GetCatalog(), false},
		{"schema_name", cmd.GetDBSchemaFilterPattern(), true},
	})
	return s.metadata(ctx, schema_ref.DBSchemas, nil,
		"SELECT catalog_name, schema_name FROM information_schema.schemata"+where+" ORDER BY 1, 2", args...)
}

func (s *Server) GetFlightInfoTables(ctx context.Context, cmd flightsql.GetTables, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if cmd.GetIncludeSchema() {
		return s.infoFor(desc, schema_ref.TablesWithIncludedSchema), nil
	}
	return s.infoFor(desc, schema_ref.Tables), nil
}

func (s *Server) DoGetTables(ctx context.Context, cmd flightsql.GetTables) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	where, args := filters([]filter{
		{"table_catalog", cmd.GetCatalog(), false},
		{"table_schema", cmd.GetDBSchemaFilterPattern(), true},
		{"table_name", cmd.GetTableNameFilterPattern(), true},
	})
	if types := cmd.GetTableTypes(); len(types) > 0 {
		marks := make([]string, len(types))
		for i, t := range types {
			marks[i] = "?"
			args = append(args, t)
		}
		if where == "" {
			where = " WHERE "
		} else {
			where += " AND "
		}
		where += "table_type IN (" + strings.Join(marks, ", ") + ")"
	}
	q := "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables" + where + " ORDER BY 1, 2, 3"
	if !cmd.GetIncludeSchema() {
		return s.metadata(ctx, schema_ref.Tables, nil, q, args...)
	}
	// The fifth column: each table's Arrow schema, serialized.
	tableSchema := func(row []*string) []byte {
		query := "SELECT * FROM " + quoteIdent(*row[0]) + "." + quoteIdent(*row[1]) + "." + quoteIdent(*row[2])
		sc, _, err := s.schemaOf(ctx, query)
		if err != nil || sc == nil {
			sc = arrow.NewSchema(nil, nil)
		}
		return flight.SerializeSchema(sc, s.Alloc)
	}
	return s.metadata(ctx, schema_ref.TablesWithIncludedSchema, tableSchema, q, args...)
}

func (s *Server) GetFlightInfoTableTypes(ctx context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.TableTypes), nil
}

func (s *Server) DoGetTableTypes(ctx context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.metadata(ctx, schema_ref.TableTypes, nil,
		"SELECT * FROM (VALUES ('BASE TABLE'), ('LOCAL TEMPORARY'), ('VIEW')) ORDER BY 1")
}

type filter struct {
	column  string
	value   *string
	pattern bool // a LIKE pattern, else an exact value
}

// filters makes the WHERE clause of the filters given.
func filters(fs []filter) (string, []any) {
	var conds []string
	var args []any
	for _, f := range fs {
		if f.value == nil {
			continue
		}
		if f.pattern {
			conds = append(conds, f.column+" LIKE ?")
		} else {
			conds = append(conds, f.column+" = ?")
		}
		args = append(args, *f.value)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// metadata runs a catalog query whose columns are strings and returns its
// rows as one batch of schema; extra, when set, computes the last column
// (binary) from the others.
func (s *Server) metadata(ctx context.Context, schema *arrow.Schema, extra func(row []*string) []byte, query string, args ...any) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, s.clientError(ctx, err)
	}
	var table [][]*string
	for rows.Next() {
		cols, _ := rows.Columns()
		row := make([]*string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return nil, nil, s.clientError(ctx, err)
		}
		table = append(table, row)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, s.clientError(ctx, err)
	}
	b := array.NewRecordBuilder(s.Alloc, schema)
	defer b.Release()
	for _, row := range table {
		for i, v := range row {
			sb := b.Field(i).(*array.StringBuilder)
			if v == nil {
				sb.AppendNull()
			} else {
				sb.Append(*v)
			}
		}
		if extra != nil {
			b.Field(len(row)).(*array.BinaryBuilder).Append(extra(row))
		}
	}
	ch := make(chan flight.StreamChunk, 1)
	ch <- flight.StreamChunk{Data: b.NewRecordBatch()}
	close(ch)
	return schema, ch, nil
}
