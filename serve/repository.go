package serve

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/hepsql/hepsql/mlfuncs/sqlml"
)

// The model repository over HTTP: every stored version's metadata, as SQL's
// models() gives it (sqlml.ServedInfos reads it through models(), so the
// two cannot disagree), an index in the form of Triton's model repository
// extension, the ONNX export of a version, and inference for the models
// that take a particle sequence (gru, inclusive).

// registerRepository adds the repository's endpoints to m.
func (s *Server) registerRepository(m *http.ServeMux) {
	m.HandleFunc("GET /v2/models", s.listModels)
	m.HandleFunc("POST /v2/repository/index", s.repositoryIndex)
	m.HandleFunc("GET /v2/models/{name}/onnx", s.exportONNX)
	m.HandleFunc("GET /v2/models/{name}/versions/{version}/onnx", s.exportONNX)
}

// listModels is GET /v2/models: {"models": [metadata of every version]},
// by name and version, each with current, features (name, kind, SQL type,
// width), inputs, label, classes, training rows, seconds, metrics, options,
// query and the hepsql that trained it (sqlml.Info).
func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	infos, err := sqlml.ServedInfos(r.Context(), s.db, r.URL.Query().Get("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if infos == nil {
		infos = []*sqlml.Info{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": infos})
}

// repositoryIndex is POST /v2/repository/index (Triton's model repository
// extension): one entry per stored version, all READY, since any stored
// version is loaded on its first request. A body {"ready": true} is
// accepted and changes nothing.
func (s *Server) repositoryIndex(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(body) > 0 {
		var req struct {
			Ready *bool `json:"ready"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			s.fail(w, r, badRequest("malformed JSON: %s", jsonMessage(err)))
			return
		}
	}
	infos, err := sqlml.ServedInfos(r.Context(), s.db, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]map[string]string, 0, len(infos))
	for _, in := range infos {
		out = append(out, map[string]string{"name": in.Name, "version": strconv.FormatInt(in.Version, 10), "state": "READY", "reason": ""})
	}
	writeJSON(w, http.StatusOK, out)
}

// exportONNX is GET /v2/models/{name}[/versions/{v}]/onnx: the version as
// an ONNX model file (see mlfuncs/onnx), for other frameworks.
func (s *Server) exportONNX(w http.ResponseWriter, r *http.Request) {
	m, err := s.modelOf(r, r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := sqlml.ExportONNX(r.Context(), s.db, m.s.Name, m.s.Version)
	if err != nil {
		if errorsIsUnsupported(err) {
			err = badRequest("%v", err)
		}
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s@%d.onnx"`, m.s.Name, m.s.Version))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// metadataParameters is the parameters object of a model's metadata
// (GET /v2/models/{name}[/versions/{v}]): what the server knows from the
// network, and the repository's metadata of the version.
func (s *Server) metadataParameters(r *http.Request, m *model) (map[string]any, error) {
	in, err := sqlml.ServedInfo(r.Context(), s.db, m.s.Name, m.s.Version)
	if err != nil {
		return nil, err
	}
	cols := make([]map[string]any, len(in.Features))
	for i, c := range in.Features {
		cols[i] = map[string]any{"name": c.Name, "kind": c.Kind, "type": c.Type, "width": max(c.Width, 1)}
	}
	p := map[string]any{
		"version":        m.s.Version,
		"current":        in.Current,
		"architecture":   m.s.Arch,
		"created":        m.s.Created,
		"features":       in.Inputs,
		"columns":        cols,
		"label":          in.Label,
		"classes":        in.Classes,
		"rows":           in.Rows,
		"train_seconds":  in.TrainSeconds,
		"metrics":        in.Metrics,
		"options":        in.Options,
		"query":          in.Query,
		"hepsql_version": in.HepsqlVersion,
	}
	if m.s.SeqLen > 0 {
		p["sequence_layout"] = sequenceLayout
	}
	return p, nil
}
