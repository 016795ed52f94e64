// Package sqlflight is hepsql's SQL front door: an Apache Arrow Flight SQL
// server (arrow-go's flightsql framework) over one hepsql database, so that
// any Flight SQL client runs SQL on it: Go's database/sql through arrow-go's
// driver, Python and others through ADBC, Java through JDBC.
//
// A query's rows travel as Arrow record batches made by DuckDB itself
// (capi.QueryArrow: one duckdb_data_chunk_to_arrow call per 2048-row chunk,
// no value converted in Go), several chunks to a batch, streamed as DuckDB
// computes them.
//
// What it serves: statements (CommandStatementQuery, CommandStatementUpdate),
// prepared statements with parameters (bound as an Arrow batch of one row
// for a query, one or more rows for an update), the catalog (GetCatalogs,
// GetDbSchemas, GetTables with or without schemas, GetTableTypes) and
// GetSqlInfo. Not served: transactions, Substrait plans, key metadata,
// bulk ingestion. Each statement runs on a connection of the pool: session
// state (SET, temporary tables) does not carry over from one statement to
// the next.
//
// Limits: every statement runs under Options.QueryTimeout; a client that
// cancels or disconnects interrupts its query (the stream's context is the
// query's). Authentication, TLS and message-size limits belong to the gRPC
// server the caller builds (Register); file access to package sandbox.
package sqlflight

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hepsql/hepsql/internal/capi"
)

// Options configure a Server.
type Options struct {
	// QueryTimeout bounds each statement, from its start to its last row
	// sent (default 10 minutes).
	QueryTimeout time.Duration
	// BatchRows is the most rows in one Arrow batch sent (default 16384):
	// DuckDB's 2048-row chunks are gathered up to it, so that large results
	// travel in fewer, larger messages. Larger batches (65536) were no
	// faster for database/sql clients in flightbench, and delay the
	// first rows.
	BatchRows int
	// BatchBytes is the most bytes in one batch sent (default 2 MiB): gRPC
	// clients refuse messages over 4 MiB unless told otherwise, arrow-go's
	// database/sql driver among them. A DuckDB chunk larger than this
	// (wide lists) is split into row slices.
	BatchBytes int64
	// MaxPrepared bounds the prepared statements held open (default 1000).
	MaxPrepared int
	// ReadOnly is reported to clients (SqlInfo); the database itself
	// refuses writes when opened read-only.
	ReadOnly bool
	// Hide are server paths (the database file, the working folder) that
	// error messages must not show: each is replaced by "<server>".
	Hide []string
	// Version is reported as the server's version.
	Version string
	// Log receives errors that are not the client's (default: discarded).
	Log *log.Logger
}

// Server is a Flight SQL server over one database. Register it on a gRPC
// server.
type Server struct {
	flightsql.BaseServer
	db   *sql.DB
	opts Options

	mu       sync.Mutex
	prepared map[string]*prepared
}

// prepared is an open prepared statement.
type prepared struct {
	query  string
	params []any // bound by the last DoPut; nil: none yet
	rows   [][]any
}

// New returns a Flight SQL server over db, a hepsql database (hepsql.Open).
func New(db *sql.DB, opts Options) *Server {
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 10 * time.Minute
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = 1 << 14
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 2 << 20
	}
	if opts.MaxPrepared <= 0 {
		opts.MaxPrepared = 1000
	}
	if opts.Log == nil {
		opts.Log = log.New(io.Discard, "", 0)
	}
	s := &Server{db: db, opts: opts, prepared: map[string]*prepared{}}
	s.Alloc = memory.DefaultAllocator
	s.RegisterSqlInfo(flightsql.SqlInfoFlightSqlServerName, "hepsql")
	s.RegisterSqlInfo(flightsql.SqlInfoFlightSqlServerVersion, opts.Version)
	s.RegisterSqlInfo(flightsql.SqlInfoFlightSqlServerArrowVersion, arrowVersion)
	s.RegisterSqlInfo(flightsql.SqlInfoFlightSqlServerReadOnly, opts.ReadOnly)
	s.RegisterSqlInfo(flightsql.SqlInfoFlightSqlServerSql, true)
	s.RegisterSqlInfo(flightsql.SqlInfoFlightSqlServerSubstrait, false)
	s.RegisterSqlInfo(flightsql.SqlInfoFlightSqlServerTransaction, int32(flightsql.SqlTransactionNone))
	s.RegisterSqlInfo(flightsql.SqlInfoFlightSqlServerCancel, false)
	s.RegisterSqlInfo(flightsql.SqlInfoIdentifierQuoteChar, `"`)
	return s
}

const arrowVersion = "18.9.0"

// Register adds the server to gs as its Flight service.
func (s *Server) Register(gs *grpc.Server) {
	flight.RegisterFlightServiceServer(gs, flightsql.NewFlightServer(s))
}

// ---- statements ---------------------------------------------------------

// GetFlightInfoStatement plans the query, so that its errors come now and
// its schema is in the answer (JDBC's driver describes a result from it),
// and answers with a ticket that carries the query: it runs when the
// ticket is redeemed (DoGetStatement).
func (s *Server) GetFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if len(cmd.GetTransactionId()) > 0 {
		return nil, status.Error(codes.Unimplemented, "hepsql serve has no transactions")
	}
	schema, _, err := s.schemaOf(ctx, cmd.GetQuery())
	if err != nil {
		return nil, err
	}
	tkt, err := flightsql.CreateStatementQueryTicket([]byte(cmd.GetQuery()))
	if err != nil {
		return nil, status.Errorf(codes.Internal, "making a ticket: %v", err)
	}
	info := &flight.FlightInfo{
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: tkt}}},
		FlightDescriptor: desc,
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
	if schema != nil {
		info.Schema = flight.SerializeSchema(schema, s.Alloc)
	}
	return info, nil
}

// GetSchemaStatement plans the query and returns its result's schema.
func (s *Server) GetSchemaStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	schema, _, err := s.schemaOf(ctx, cmd.GetQuery())
	if err != nil {
		return nil, err
	}
	if schema == nil {
		return nil, status.Error(codes.InvalidArgument, "the result's types depend on the parameters' values")
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(schema, s.Alloc)}, nil
}

// DoGetStatement runs the ticket's query and streams its rows.
func (s *Server) DoGetStatement(ctx context.Context, tkt flightsql.StatementQueryTicket) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.stream(ctx, string(tkt.GetStatementHandle()), nil)
}

// DoPutCommandStatementUpdate runs a statement without a result (DDL,
// INSERT, UPDATE, DELETE, COPY) and returns the rows it changed.
func (s *Server) DoPutCommandStatementUpdate(ctx context.Context, cmd flightsql.StatementUpdate) (int64, error) {
	if len(cmd.GetTransactionId()) > 0 {
		return 0, status.Error(codes.Unimplemented, "hepsql serve has no transactions")
	}
	return s.exec(ctx, cmd.GetQuery(), nil)
}

// ---- prepared statements ------------------------------------------------

// CreatePreparedStatement plans the query (so that its errors come now)
// and keeps it under a new handle. The parameter schema is left out: the
// client sends its parameters' own types and DuckDB casts them.
func (s *Server) CreatePreparedStatement(ctx context.Context, req flightsql.ActionCreatePreparedStatementRequest) (flightsql.ActionCreatePreparedStatementResult, error) {
	var res flightsql.ActionCreatePreparedStatementResult
	if len(req.GetTransactionId()) > 0 {
		return res, status.Error(codes.Unimplemented, "hepsql serve has no transactions")
	}
	schema, _, err := s.schemaOf(ctx, req.GetQuery())
	if err != nil {
		return res, err
	}
	h := make([]byte, 16)
	rand.Read(h)
	handle := hex.EncodeToString(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.prepared) >= s.opts.MaxPrepared {
		return res, status.Errorf(codes.ResourceExhausted, "%d prepared statements are open; close some", len(s.prepared))
	}
	s.prepared[handle] = &prepared{query: req.GetQuery()}
	return flightsql.ActionCreatePreparedStatementResult{Handle: []byte(handle), DatasetSchema: schema}, nil
}

// ClosePreparedStatement forgets a prepared statement.
func (s *Server) ClosePreparedStatement(ctx context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.prepared, string(req.GetPreparedStatementHandle()))
	return nil
}

func (s *Server) preparedOf(handle []byte) (prepared, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.prepared[string(handle)]
	if p == nil {
		return prepared{}, status.Error(codes.NotFound, "no such prepared statement (closed, or made by another server)")
	}
	return *p, nil
}

// DoPutPreparedStatementQuery binds the parameters of the next execution:
// one row.
func (s *Server) DoPutPreparedStatementQuery(ctx context.Context, cmd flightsql.PreparedStatementQuery, r flight.MessageReader, w flight.MetadataWriter) ([]byte, error) {
	rows, err := readParams(r)
	if err != nil {
		return nil, err
	}
	if len(rows) > 1 {
		return nil, status.Errorf(codes.InvalidArgument, "a query takes one row of parameters; %d were sent", len(rows))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.prepared[string(cmd.GetPreparedStatementHandle())]
	if p == nil {
		return nil, status.Error(codes.NotFound, "no such prepared statement (closed, or made by another server)")
	}
	p.params = nil
	if len(rows) == 1 {
		p.params = rows[0]
	}
	return cmd.GetPreparedStatementHandle(), nil
}

// GetFlightInfoPreparedStatement answers with a ticket that is the
// command itself.
func (s *Server) GetFlightInfoPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if _, err := s.preparedOf(cmd.GetPreparedStatementHandle()); err != nil {
		return nil, err
	}
	return &flight.FlightInfo{
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: desc.Cmd}}},
		FlightDescriptor: desc,
		TotalRecords:     -1,
		TotalBytes:       -1,
	}, nil
}

// DoGetPreparedStatement runs a prepared query with its bound parameters.
func (s *Server) DoGetPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	p, err := s.preparedOf(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, nil, err
	}
	return s.stream(ctx, p.query, p.params)
}

// DoPutPreparedStatementUpdate runs a prepared statement once per row of
// parameters sent (once when none are), and returns the rows changed.
func (s *Server) DoPutPreparedStatementUpdate(ctx context.Context, cmd flightsql.PreparedStatementUpdate, r flight.MessageReader) (int64, error) {
	p, err := s.preparedOf(cmd.GetPreparedStatementHandle())
	if err != nil {
		return 0, err
	}
	rows, err := readParams(r)
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		rows = [][]any{nil}
	}
	var n int64
	for _, args := range rows {
		k, err := s.exec(ctx, p.query, args)
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// maxParamRows bounds the rows of parameters one DoPut may send.
const maxParamRows = 1 << 16

// readParams reads the parameter rows a client sent, as Go values.
func readParams(r flight.MessageReader) ([][]any, error) {
	if r == nil {
		return nil, nil
	}
	var rows [][]any
	for r.Next() {
		rec := r.RecordBatch()
		if len(rows)+int(rec.NumRows()) > maxParamRows {
			return nil, status.Errorf(codes.InvalidArgument, "over %d rows of parameters", maxParamRows)
		}
		for i := range int(rec.NumRows()) {
			row := make([]any, rec.NumCols())
			for c := range row {
				row[c] = paramValue(rec.Column(c), i)
			}
			rows = append(rows, row)
		}
	}
	if err := r.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, status.Errorf(codes.InvalidArgument, "reading the parameters: %v", err)
	}
	return rows, nil
}

// paramValue is row i of a parameter column as a value capi binds: the
// numeric, string, binary and boolean types as themselves, anything else
// as its text, which DuckDB casts to the parameter's type.
func paramValue(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int16:
		return a.Value(i)
	case *array.Int8:
		return a.Value(i)
	case *array.Uint32:
		return a.Value(i)
	case *array.Uint16:
		return a.Value(i)
	case *array.Uint8:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Float32:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Binary:
		return append([]byte(nil), a.Value(i)...)
	case *array.Boolean:
		return a.Value(i)
	case *array.DenseUnion: // Flight SQL's parameter unions
		return paramValue(a.Field(a.ChildID(i)), int(a.ValueOffset(i)))
	}
	return a.ValueStr(i)
}

// ---- running ------------------------------------------------------------

// exec runs a statement without a result on a pooled connection.
func (s *Server) exec(ctx context.Context, query string, args []any) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, s.clientError(ctx, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, nil
	}
	return n, nil
}

// schemaOf plans query on a pooled connection and returns its result's
// schema (nil when it depends on parameters) and parameter count.
func (s *Server) schemaOf(ctx context.Context, query string) (schema *arrow.Schema, nparams int, err error) {
	if strings.TrimSpace(query) == "" {
		return nil, 0, status.Error(codes.InvalidArgument, "empty query")
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, 0, s.clientError(ctx, err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		h, err := capi.ConnHandle(dc)
		if err != nil {
			return err
		}
		schema, nparams, err = capi.ArrowSchemaOf(h, query)
		return err
	})
	if err != nil {
		return nil, 0, s.clientError(ctx, err)
	}
	return schema, nparams, nil
}

// stream starts query with args on a connection of its own and returns
// its schema and a channel of its batches. The query runs in a goroutine
// that holds the connection until the last batch is sent, the client goes
// away (ctx, the gRPC stream's context: the query is interrupted) or the
// time limit passes. flightsql's DoGet drains the channel to its close.
func (s *Server) stream(ctx context.Context, query string, args []any) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		cancel()
		return nil, nil, s.clientError(ctx, err)
	}
	type started struct {
		schema *arrow.Schema
		err    error
	}
	startc := make(chan started, 1)
	ch := make(chan flight.StreamChunk, 2)
	go func() {
		defer cancel()
		defer conn.Close()
		sent := false // the schema, on startc
		defer func() {
			p := recover()
			if p != nil {
				s.opts.Log.Printf("sqlflight: panic running a statement: %v", p)
			}
			internal := status.Error(codes.Internal, "internal error; the server's log has the details")
			switch {
			case !sent && p != nil:
				startc <- started{err: internal}
			case sent:
				if p != nil {
					select {
					case ch <- flight.StreamChunk{Err: internal}:
					case <-ctx.Done():
					}
				}
				close(ch) // the one place ch is closed
			}
		}()
		err := conn.Raw(func(dc any) error {
			h, err := capi.ConnHandle(dc)
			if err != nil {
				return err
			}
			rows, err := capi.QueryArrow(ctx, h, query, args)
			if err != nil {
				return err
			}
			defer rows.Close()
			startc <- started{schema: rows.Schema()}
			sent = true
			s.pump(ctx, rows, ch)
			return nil
		})
		if !sent {
			// ctx is still live here: a time limit or a cancellation is
			// told apart from the statement's own error.
			startc <- started{err: s.clientError(ctx, err)}
		}
	}()
	st := <-startc
	if st.err != nil {
		return nil, nil, st.err
	}
	return st.schema, ch, nil
}

// pump sends rows' batches on ch, gathering DuckDB's chunks up to
// BatchRows rows or BatchBytes bytes (and splitting a chunk over
// BatchBytes), until the end, an error (sent as the last chunk) or ctx is
// done.
func (s *Server) pump(ctx context.Context, rows *capi.ArrowRows, ch chan<- flight.StreamChunk) {
	var pending []arrow.RecordBatch
	var n, size int64
	send := func(c flight.StreamChunk) bool {
		select {
		case ch <- c:
			return true
		case <-ctx.Done():
			if c.Data != nil {
				c.Data.Release()
			}
			return false
		}
	}
	flush := func() bool {
		if len(pending) == 0 {
			return true
		}
		rec := pending[0]
		if len(pending) > 1 {
			var err error
			rec, err = concatRecords(pending, s.Alloc)
			for _, p := range pending {
				p.Release()
			}
			if err != nil {
				pending, n, size = pending[:0], 0, 0
				send(flight.StreamChunk{Err: status.Errorf(codes.Internal, "gathering batches: %v", err)})
				return false
			}
		}
		pending, n, size = pending[:0], 0, 0
		return send(flight.StreamChunk{Data: rec})
	}
	defer func() {
		for _, p := range pending {
			p.Release()
		}
	}()
	for {
		rec, err := rows.Next()
		if err != nil {
			if flush() {
				send(flight.StreamChunk{Err: s.clientError(ctx, err)})
			}
			return
		}
		if rec == nil {
			flush()
			return
		}
		bytes := recordBytes(rec)
		if size+bytes > s.opts.BatchBytes && !flush() {
			rec.Release()
			return
		}
		if bytes > s.opts.BatchBytes {
			// Alone over the limit: send it in row slices.
			parts := (bytes + s.opts.BatchBytes - 1) / s.opts.BatchBytes
			rowsPer := max((rec.NumRows()+parts-1)/parts, 1)
			for i := int64(0); i < rec.NumRows(); i += rowsPer {
				if !send(flight.StreamChunk{Data: rec.NewSlice(i, min(i+rowsPer, rec.NumRows()))}) {
					rec.Release()
					return
				}
			}
			rec.Release()
			continue
		}
		pending = append(pending, rec)
		n += rec.NumRows()
		size += bytes
		if n >= int64(s.opts.BatchRows) && !flush() {
			return
		}
	}
}

// clientError turns err into a gRPC status whose message names nothing
// of the server (Options.Hide): a time limit is DeadlineExceeded, a
// cancelled client Canceled, anything else from a statement
// InvalidArgument with DuckDB's message.
func (s *Server) clientError(ctx context.Context, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return status.Errorf(codes.DeadlineExceeded, "the statement ran over the time limit (%s)", s.opts.QueryTimeout)
	case errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the statement was cancelled")
	}
	msg := err.Error()
	for _, h := range s.opts.Hide {
		if len(h) > 1 { // not "/", which is in every path
			msg = strings.ReplaceAll(msg, h, "<server>")
		}
	}
	return status.Error(codes.InvalidArgument, msg)
}

var _ flightsql.Server = (*Server)(nil)

// recordBytes is the size of rec's buffers (children included), about
// the size of its IPC message.
func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	var walk func(d arrow.ArrayData)
	walk = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
		for _, c := range d.Children() {
			walk(c)
		}
		// Dictionaries (ENUM) are left out: small, and sent apart.
	}
	for _, c := range rec.Columns() {
		walk(c.Data())
	}
	return n
}

// concatRecords joins batches of one schema into one (buffer copies, a
// column at a time).
func concatRecords(recs []arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	schema := recs[0].Schema()
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	parts := make([]arrow.Array, len(recs))
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	for c := range cols {
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		a, err := array.Concatenate(parts, mem)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", schema.Field(c).Name, err)
		}
		cols[c] = a
	}
	return array.NewRecordBatch(schema, cols, rows), nil
}
