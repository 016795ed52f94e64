// Package serve is hepsql's inference server as a library: every model
// stored in a database's hepsql_models table, served over HTTP/JSON in the
// Open Inference Protocol (KServe v2, as Triton and Seldon speak it) and in
// TFaaS's /json and /models form.
//
// Each request finds its model's current version (or the version it
// names): the resolved version is kept until the model store is written
// through this process (sqlml.StoreGeneration) or a second has passed, so
// that a model trained or promoted while the server runs is served at
// once, at the cost of one atomic load per request. Decoded networks are
// cached by name and version; a version found dropped is unloaded (after
// unloadDelay, so that requests that found it finish), while a version
// that is merely no longer current stays loaded, since it can still be
// asked for by number.
//
// Concurrent requests for one model version are gathered into one batch
// for the network (dynamic batching, see batcher): the first request waits
// up to Options.BatchWait for others, up to Options.MaxBatch rows.
//
// Models with a sequence input (gru, inclusive) are served through the v2
// protocol without dynamic batching (sequence.go; TFaaS's /json answers
// 400 for them). The model repository's endpoints (a listing, Triton's
// index, ONNX export) are in repository.go.
//
// This package serves inference only: bearer tokens are package auth's
// (auth.HTTP wraps a Server), TLS and listening hepsql serve's, SQL over
// the network package sqlflight's. The Protocol's binary tensor
// extension is binary.go's.
package serve

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/sqlml"
)

// Options configure a Server.
type Options struct {
	// BatchWait is how long the first request of a batch waits for others
	// (default 1ms; negative: never waits, batches only what is queued).
	BatchWait time.Duration
	// MaxBatch is the most rows in one batch (default 1024). A request of
	// half as many rows or more runs alone.
	MaxBatch int
	// Threads is the goroutines one batch is split over (default: the
	// cores Go was given, GOMAXPROCS as the process started).
	Threads int
	// MaxBody is the largest request body in bytes (default 64 MiB).
	MaxBody int64
	// Recheck is how long a resolved current version is trusted when the
	// store has not been written through this process (default 1s): a
	// change made by hand to hepsql_models is seen within it.
	Recheck time.Duration
	// Version is reported by GET /v2.
	Version string
	// Log receives errors that are not the client's (default: discarded).
	Log *log.Logger
}

// Server serves the models of one database. Create it with New; it is an
// http.Handler. Close it after the HTTP server has stopped.
type Server struct {
	db   *sql.DB
	opts Options
	mux  *http.ServeMux

	mu     sync.Mutex
	refs   map[modelKey]resolved // by version asked for (0: current)
	models map[modelKey]*model   // by version resolved
	closed bool
}

type modelKey struct {
	name    string
	version int64
}

type resolved struct {
	version int64
	gen     int64
	at      time.Time
}

// model is a loaded model version with its batcher.
type model struct {
	s     *sqlml.Served
	input string // the input tensor's name
	pred  *nn.Predictor
	b     *batcher
}

const outputName = "probabilities"

// New returns a server over db, a hepsql database (hepsql.Open).
func New(db *sql.DB, opts Options) *Server {
	if opts.BatchWait == 0 {
		opts.BatchWait = time.Millisecond
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.Threads <= 0 {
		// The cores, not GOMAXPROCS: opening a database raises GOMAXPROCS
		// above them (internal/capi's procs.go), and a team wider than the
		// cores only wakes goroutines that find no chunk to run.
		opts.Threads = capi.Cores()
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 64 << 20
	}
	if opts.Recheck <= 0 {
		opts.Recheck = time.Second
	}
	if opts.Log == nil {
		opts.Log = log.New(io.Discard, "", 0)
	}
	s := &Server{db: db, opts: opts, refs: map[modelKey]resolved{}, models: map[modelKey]*model{}}
	m := http.NewServeMux()
	m.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	m.HandleFunc("GET /v2/health/ready", s.ready)
	m.HandleFunc("GET /v2", s.serverMetadata)
	m.HandleFunc("GET /v2/models/{name}", s.modelMetadata)
	m.HandleFunc("GET /v2/models/{name}/versions/{version}", s.modelMetadata)
	m.HandleFunc("GET /v2/models/{name}/ready", s.modelReady)
	m.HandleFunc("GET /v2/models/{name}/versions/{version}/ready", s.modelReady)
	m.HandleFunc("POST /v2/models/{name}/infer", s.infer)
	m.HandleFunc("POST /v2/models/{name}/versions/{version}/infer", s.infer)
	m.HandleFunc("POST /json", s.tfaasPredict)
	m.HandleFunc("GET /models", s.tfaasModels)
	s.registerRepository(m)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s; see GET /v2, /v2/models/{name}, POST /v2/models/{name}/infer, POST /json, GET /models", r.Method, r.URL.Path))
	})
	s.mux = m
	return s
}

// ServeHTTP implements http.Handler. A panic in a handler answers 500
// rather than dropping the connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			s.opts.Log.Printf("serve: panic in %s %s: %v", r.Method, r.URL.Path, p)
			writeError(w, http.StatusInternalServerError, "internal error")
		}
	}()
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
	s.mux.ServeHTTP(w, r)
}

// Close stops the batchers; requests still queued are answered with an
// error.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	ms := s.models
	s.models = map[modelKey]*model{}
	s.mu.Unlock()
	for _, m := range ms {
		m.b.close()
		m.pred.Close()
	}
	return nil
}

// lookup returns version of name (0: the current one), loading it when
// it is not cached.
func (s *Server) lookup(ctx context.Context, name string, version int64) (*model, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	ref := modelKey{name, version}
	gen, now := sqlml.StoreGeneration(), time.Now()
	r, ok := s.refs[ref]
	if !ok || r.gen != gen || now.Sub(r.at) > s.opts.Recheck {
		v, err := sqlml.ResolveVersion(ctx, s.db, name, version)
		if err != nil {
			delete(s.refs, ref)
			if errors.Is(err, sqlml.ErrNoModel) {
				s.unload(name, version)
			}
			return nil, err
		}
		r = resolved{version: v, gen: gen, at: now}
		s.refs[ref] = r
	}
	key := modelKey{name, r.version}
	if m := s.models[key]; m != nil {
		return m, nil
	}
	sv, err := sqlml.LoadServed(ctx, s.db, name, r.version)
	if err != nil {
		return nil, err
	}
	m := &model{s: sv, input: hlfInputName(sv), pred: sv.Model.NewPredictor(s.opts.Threads)}
	m.b = newBatcher(m.pred, sv.HLFDim(), sv.Classes, s.opts.MaxBatch, s.opts.BatchWait)
	s.models[key] = m
	return m, nil
}

// unloadDelay is how long an unloaded model keeps answering the requests
// that found it before it was dropped.
const unloadDelay = 30 * time.Second

// unload forgets version of name (0: every version), which the store no
// longer has; s.mu is held.
func (s *Server) unload(name string, version int64) {
	for k, m := range s.models {
		if k.name == name && (version == 0 || k.version == version) {
			delete(s.models, k)
			time.AfterFunc(unloadDelay, func() {
				m.b.close()
				m.pred.Close()
			})
		}
	}
}

// modelOf resolves the request's {name} and {version}.
func (s *Server) modelOf(r *http.Request, name, ver string) (*model, error) {
	var version int64
	if ver != "" {
		v, err := strconv.ParseInt(ver, 10, 64)
		if err != nil || v < 1 {
			return nil, badRequest("version %q: want a version number from 1", ver)
		}
		version = v
	}
	if name == "" {
		return nil, badRequest("no model named")
	}
	return s.lookup(r.Context(), name, version)
}

// fail answers err: the client's faults with 400 or 404 and their
// message, anything else with 500 and a message that names nothing of the
// server (the details go to the log).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var re *requestError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &re) && re.notFound:
		writeError(w, http.StatusNotFound, re.msg)
	case errors.As(err, &re):
		writeError(w, http.StatusBadRequest, re.msg)
	case errors.Is(err, sqlml.ErrNoModel):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, sqlml.ErrNotServable):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", tooBig.Limit))
	case errors.Is(err, errClosed):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		s.opts.Log.Printf("serve: %s %s: %v", r.Method, r.URL.Path, err)
		writeError(w, http.StatusInternalServerError, "internal error; the server's log has the details")
	}
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if err := s.db.PingContext(r.Context()); err != nil {
		s.opts.Log.Printf("serve: ready: %v", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]bool{"ready": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

func (s *Server) serverMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": "hepsql", "version": s.opts.Version, "extensions": []string{"binary_tensor_data"}})
}

type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) {
	m, err := s.modelOf(r, r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	vs, err := sqlml.ServedVersions(r.Context(), s.db, m.s.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versions := make([]string, len(vs))
	for i, v := range vs {
		versions[i] = strconv.FormatInt(v, 10)
	}
	params, err := s.metadataParameters(r, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var inputs []tensorMeta
	if m.s.HLFDim() > 0 {
		inputs = append(inputs, tensorMeta{Name: m.input, Datatype: "FP32", Shape: []int64{-1, int64(m.s.HLFDim())}})
	}
	if m.s.SeqLen > 0 {
		inputs = append(inputs, tensorMeta{Name: "sequence", Datatype: "FP32", Shape: []int64{-1, int64(m.s.SeqLen), int64(m.s.SeqDim)}})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":       m.s.Name,
		"versions":   versions,
		"platform":   "hepsql_" + m.s.Arch,
		"inputs":     inputs,
		"outputs":    []tensorMeta{{Name: outputName, Datatype: "FP32", Shape: []int64{-1, int64(m.s.Classes)}}},
		"parameters": params,
	})
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	if _, err := s.modelOf(r, r.PathValue("name"), r.PathValue("version")); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

// run predicts rows rows of x on m, through its batcher.
func (m *model) run(x []float32, rows int) ([]float32, error) {
	if m.s.SeqLen > 0 {
		return nil, badRequest("model %q is a %s network, which takes a sequence: use POST /v2/models/%s/infer with a %q tensor", m.s.Name, m.s.Arch, m.s.Name, sequenceName)
	}
	return m.b.predict(x, rows)
}

func (s *Server) infer(w http.ResponseWriter, r *http.Request) {
	m, err := s.modelOf(r, r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	headerLen, err := headerLength(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := readBody(r, s.opts.MaxBody)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if m.s.SeqLen > 0 {
		s.inferSequence(w, r, m, body, headerLen)
		return
	}
	req, x, rows, err := decodeInfer(body, headerLen, m.input, m.s.HLFDim())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	probs, err := m.run(x, rows)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeInferResponse(w, m, req, rows, probs)
}

// readBody reads a request's body whole, in one allocation when the
// client said its length (io.ReadAll grows its buffer step by step); a
// length over limit is left to MaxBytesReader's error.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= limit {
		b := make([]byte, n)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			if err == io.ErrUnexpectedEOF {
				return nil, badRequest("body shorter than its Content-Length (%d bytes)", n)
			}
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(r.Body)
}

// writeInferResponse answers an inference request with its rows'
// probabilities, as JSON numbers or, when the request asks for it, as
// binary data after the JSON (binary.go).
func writeInferResponse(w http.ResponseWriter, m *model, req *inferRequest, rows int, probs []float32) {
	id, bin := req.ID, req.binaryOutput()
	size := 160 + len(probs)*12
	if bin {
		size = 200 + len(probs)*4
	}
	out := make([]byte, 0, size)
	out = append(out, `{"model_name":`...)
	out = appendString(out, m.s.Name)
	out = append(out, `,"model_version":"`...)
	out = strconv.AppendInt(out, m.s.Version, 10)
	out = append(out, '"')
	if id != "" {
		out = append(out, `,"id":`...)
		out = appendString(out, id)
	}
	out = append(out, `,"outputs":[{"name":"`+outputName+`","datatype":"FP32","shape":[`...)
	out = strconv.AppendInt(out, int64(rows), 10)
	out = append(out, ',')
	out = strconv.AppendInt(out, int64(m.s.Classes), 10)
	if bin {
		out = append(out, `],"parameters":{"binary_data_size":`...)
		out = strconv.AppendInt(out, int64(4*len(probs)), 10)
		out = append(out, "}}]}"...)
		w.Header().Set(binaryHeader, strconv.Itoa(len(out)))
		out = appendFloat32LE(out, probs)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(http.StatusOK)
		w.Write(out)
		return
	}
	out = append(out, `],"data":`...)
	out = appendFloats(out, probs)
	out = append(out, "}]}\n"...)
	writeRaw(w, http.StatusOK, out)
}

// tfaasPredict is TFaaS's POST /json: {"keys", "values", "model"}; the
// answer is the row's class probabilities, a list (a list of lists for
// several rows).
func (s *Server) tfaasPredict(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req tfaasRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.fail(w, r, badRequest("malformed JSON: %s", jsonMessage(err)))
		return
	}
	name, ver := req.Model, ""
	if i := lastAt(name); i > 0 {
		name, ver = name[:i], name[i+1:]
	}
	m, err := s.modelOf(r, name, ver)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x, rows, err := decodeTFaaS(&req, m.s.Inputs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	probs, err := m.run(x, rows)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	C := m.s.Classes
	out := make([]byte, 0, 8+len(probs)*12)
	if rows == 1 && !nestedValues(req.Values) {
		out = appendFloats(out, probs)
	} else {
		out = append(out, '[')
		for i := range rows {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendFloats(out, probs[i*C:(i+1)*C])
		}
		out = append(out, ']')
	}
	out = append(out, '\n')
	writeRaw(w, http.StatusOK, out)
}

// nestedValues reports whether values is a list of lists.
func nestedValues(v json.RawMessage) bool {
	depth := 0
	for _, c := range v {
		switch c {
		case '[':
			depth++
			if depth == 2 {
				return true
			}
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return false
}

func lastAt(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '@' {
			return i
		}
	}
	return -1
}

// tfaasModels is TFaaS's GET /models: every model at its current version,
// in TFaaS's fields, with hepsql's beside them.
func (s *Server) tfaasModels(w http.ResponseWriter, r *http.Request) {
	names, versions, err := sqlml.ServedNames(r.Context(), s.db)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []map[string]any{}
	for i, name := range names {
		m, err := s.lookup(r.Context(), name, versions[i])
		if err != nil {
			if errors.Is(err, sqlml.ErrNoModel) || errors.Is(err, sqlml.ErrNotServable) { // dropped meanwhile, or not servable (ucluster)
				continue
			}
			s.fail(w, r, err)
			return
		}
		labels := make([]string, m.s.Classes)
		for k := range labels {
			labels[k] = strconv.Itoa(k)
		}
		out = append(out, map[string]any{
			"name":       name,
			"model":      fmt.Sprintf("hepsql_models:%s@%d", name, m.s.Version),
			"labels":     labels,
			"options":    nil,
			"inputNode":  m.input,
			"outputNode": outputName,
			"timestamp":  m.s.Created,
			"version":    m.s.Version,
			"keys":       m.s.Inputs,
			"platform":   "hepsql_" + m.s.Arch,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func appendFloats(out []byte, v []float32) []byte {
	out = append(out, '[')
	for i, p := range v {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendFloat(out, float64(p), 'g', -1, 32)
	}
	return append(out, ']')
}

func appendString(out []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(out, b...)
}

func writeRaw(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	writeRaw(w, code, append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
