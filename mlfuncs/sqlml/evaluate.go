package sqlml

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/mlfuncs/metrics"
)

// versionParam is the named argument of the functions that use a stored
// model: which version (default: the current one).
var versionParam = []capi.NamedParam{{Name: "version", Type: tBigInt}}

// modelArgs reads a call's model reference and query, and version := N.
func modelArgs(a *capi.BindArgs) (name string, version int64, query string, err error) {
	ref, query, err := nameAndQuery(a)
	if err != nil {
		return "", 0, "", err
	}
	n := &namedArgs{a: a}
	v, _ := n.get("version").(int64)
	if n.err != nil {
		return "", 0, "", n.err
	}
	name, version, err = refVersion(ref, v)
	return name, version, query, err
}

// score runs query through version of model name (0: the current one)
// and returns the probabilities ([rows×classes]) and the labels from the
// model's label column.
func (e *env) score(name string, version int64, query string) (*loaded, []float32, []int32, error) {
	m, err := e.model(name, version)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := m.notUC("this function"); err != nil {
		return nil, nil, nil, err
	}
	conn, err := e.connect()
	if err != nil {
		return nil, nil, nil, err
	}
	defer conn.Close()
	st, err := prepare(conn, query)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("the query: %w", err)
	}
	defer st.Close()
	l := *m.rec.Layout
	b, err := l.bind(st.Columns(), st.TypeName, true)
	if err != nil {
		return nil, nil, nil, err
	}
	spec := m.model.Spec
	pred := m.model.NewPredictor(capi.Cores())
	defer pred.Close()
	var probs []float32
	var labels []int32
	var r rows
	var seq []float32
	var offs []int
	err = each(st, func(ch capi.Chunk, n int) error {
		if err := b.read(ch, n, len(labels), &r); err != nil {
			return err
		}
		at := len(probs)
		probs = append(probs, make([]float32, n*spec.Classes)...)
		if err := pred.PredictInto(probs[at:], inputsOf(spec, &l, &r, &seq, &offs), n); err != nil {
			return err
		}
		labels = append(labels, r.labels...)
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if len(labels) == 0 {
		return nil, nil, nil, fmt.Errorf("the query returned no rows")
	}
	return m, probs, labels, nil
}

var evaluateColumns = []capi.Column{
	{Name: "rows", Type: tBigInt},
	{Name: "accuracy", Type: tDouble},
	{Name: "log_loss", Type: tDouble},
	{Name: "auc_macro", Type: tDouble},
	{Name: "auc", Type: tDoubles},
	{Name: "confusion", Type: capi.ListOf(tBigInts)},
	{Name: "version", Type: tBigInt},
}

// bindEvaluate: evaluate(name, query [, version := N]) scores the model on
// the query's labelled rows: one row with accuracy, log-loss, one-vs-rest
// AUC per class and their mean, the confusion matrix (row: true class,
// column: predicted) and the version scored.
func (e *env) bindEvaluate(a *capi.BindArgs) (capi.Table, error) {
	name, version, query, err := modelArgs(a)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	n := &namedArgs{a: a}
	truth := n.str("truth", "truth")
	if n.err != nil {
		return nil, fmt.Errorf("evaluate: %w", n.err)
	}
	// A ucluster model's scores are other columns, known from the model.
	if m, err := e.model(name, version); err == nil && m.uc != nil {
		return &valuesTable{cols: ucEvaluateColumns, compute: func() ([][]any, error) {
			rows, err := e.evaluateUC(m, query, truth)
			if err != nil {
				return nil, fmt.Errorf("evaluate %q: %w", name, err)
			}
			return rows, nil
		}}, nil
	}
	return &valuesTable{cols: evaluateColumns, compute: func() ([][]any, error) {
		m, probs, labels, err := e.score(name, version, query)
		if err != nil {
			return nil, fmt.Errorf("evaluate %q: %w", name, err)
		}
		k := m.model.Spec.Classes
		auc, macro := metrics.OneVsRestAUC(probs, labels, k)
		conf, err := metrics.Confusion(probs, labels, k)
		if err != nil {
			return nil, fmt.Errorf("evaluate %q: %w", name, err)
		}
		cm := make([][]int64, len(conf))
		for i, row := range conf {
			for _, x := range row {
				cm[i] = append(cm[i], int64(x))
			}
		}
		return [][]any{{int64(len(labels)), metrics.Accuracy(probs, labels, k), metrics.LogLoss(probs, labels, k),
			macro, auc, cm, m.rec.Version}}, nil
	}}, nil
}

var rocColumns = []capi.Column{
	{Name: "threshold", Type: tDouble},
	{Name: "fpr", Type: tDouble},
	{Name: "tpr", Type: tDouble},
}

// bindROC: roc(name, query, class) gives class's one-vs-rest ROC curve,
// one point per distinct score, highest threshold first.
func (e *env) bindROC(a *capi.BindArgs) (capi.Table, error) {
	name, version, query, err := modelArgs(a)
	if err != nil {
		return nil, fmt.Errorf("roc: %w", err)
	}
	v, err := a.Arg(2)
	if err != nil {
		return nil, fmt.Errorf("roc: %w", err)
	}
	class, _ := v.(int64)
	return &valuesTable{cols: rocColumns, compute: func() ([][]any, error) {
		m, probs, labels, err := e.score(name, version, query)
		if err != nil {
			return nil, fmt.Errorf("roc %q: %w", name, err)
		}
		k := m.model.Spec.Classes
		if class < 0 || int(class) >= k {
			return nil, fmt.Errorf("roc %q: class %d; the model has classes 0 to %d", name, class, k-1)
		}
		scores, pos := metrics.Column(probs, labels, k, int(class))
		var out [][]any
		for _, p := range metrics.ROC(scores, pos) {
			t := float64(p.Threshold)
			if math.IsInf(t, 1) {
				t = math.Inf(1)
			}
			out = append(out, []any{t, p.FPR, p.TPR})
		}
		return out, nil
	}}, nil
}

var modelColumns = []capi.Column{
	{Name: "name", Type: tVarchar},
	{Name: "version", Type: tBigInt},
	{Name: "current", Type: tBoolean},
	{Name: "created", Type: tVarchar},
	{Name: "architecture", Type: tVarchar},
	{Name: "classes", Type: tBigInt},
	{Name: "features", Type: capi.ListOf(tVarchar)},
	{Name: "label", Type: tVarchar},
	{Name: "rows", Type: tBigInt},
	{Name: "train_seconds", Type: tDouble},
	{Name: "metrics", Type: tVarchar},
	{Name: "options", Type: tVarchar},
	{Name: "query", Type: tVarchar},
	{Name: "feature_types", Type: capi.ListOf(tVarchar)},
	{Name: "inputs", Type: capi.ListOf(tVarchar)},
	{Name: "hepsql_version", Type: tVarchar},
	{Name: "metadata", Type: tVarchar},
}

// bindModels: models() lists every stored version; current is true on
// each name's current version.
func (e *env) bindModels(*capi.BindArgs) (capi.Table, error) {
	return &valuesTable{cols: modelColumns, compute: func() ([][]any, error) {
		conn, err := e.connect()
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		recs, err := list(conn)
		if err != nil {
			return nil, fmt.Errorf("models: %w", err)
		}
		out := make([][]any, 0, len(recs))
		for _, r := range recs {
			var feats, types []string
			for _, f := range r.Layout.Features {
				feats = append(feats, f.Name)
				types = append(types, f.Type) // "" (NULL would need a per-element mask): not recorded
			}
			info := r.info()
			meta, err := json.Marshal(info)
			if err != nil {
				return nil, fmt.Errorf("models: %q version %d: %w", r.Name, r.Version, err)
			}
			var hv any
			if r.HepsqlVer != "" {
				hv = r.HepsqlVer
			}
			out = append(out, []any{r.Name, r.Version, r.Current, r.Created, r.Arch, int64(r.Layout.Classes), feats,
				r.Layout.Label, r.Rows, r.TrainSeconds, r.Metrics, r.Options, r.Query, types, info.Inputs, hv, string(meta)})
		}
		return out, nil
	}}, nil
}

// bindDrop: drop_model(name [, version := N]) deletes every version of
// name, or the one version ('name@N' too), and returns how many it
// deleted; an unknown name or version is an error.
func (e *env) bindDrop(a *capi.BindArgs) (capi.Table, error) {
	v, err := a.Arg(0)
	if err != nil {
		return nil, fmt.Errorf("drop_model: %w", err)
	}
	ref, _ := v.(string)
	n := &namedArgs{a: a}
	named, _ := n.get("version").(int64)
	if n.err != nil {
		return nil, fmt.Errorf("drop_model: %w", n.err)
	}
	name, version, err := refVersion(ref, named)
	if err != nil {
		return nil, fmt.Errorf("drop_model: %w", err)
	}
	return &valuesTable{cols: []capi.Column{{Name: "dropped", Type: tBigInt}}, compute: func() ([][]any, error) {
		conn, err := e.connect()
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		n, err := drop(conn, name, version)
		e.changed()
		if err != nil {
			return nil, fmt.Errorf("drop_model: %w", err)
		}
		if n == 0 {
			return nil, fmt.Errorf("drop_model: %w", noModel(conn, name, version))
		}
		return [][]any{{n}}, nil
	}}, nil
}

var promoteColumns = []capi.Column{
	{Name: "name", Type: tVarchar},
	{Name: "version", Type: tBigInt},
	{Name: "previous", Type: tBigInt},
}

// bindPromote: promote_model(name, version) makes version name's current
// one; it returns the name, the version and the version current before.
func (e *env) bindPromote(a *capi.BindArgs) (capi.Table, error) {
	var args [2]any
	for i := range args {
		v, err := a.Arg(i)
		if err != nil {
			return nil, fmt.Errorf("promote_model: %w", err)
		}
		args[i] = v
	}
	name, _ := args[0].(string)
	version, _ := args[1].(int64)
	if version < 1 {
		return nil, fmt.Errorf("promote_model(%q, %d): want a version number from 1", name, version)
	}
	return &valuesTable{cols: promoteColumns, compute: func() ([][]any, error) {
		conn, err := e.connect()
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		prev, err := currentVersion(conn, name)
		if err != nil {
			return nil, fmt.Errorf("promote_model: %w", err)
		}
		v, err := resolveVersion(conn, name, version)
		if err != nil {
			return nil, fmt.Errorf("promote_model: %w", err)
		}
		if v == 0 {
			return nil, fmt.Errorf("promote_model: %w", noModel(conn, name, version))
		}
		err = setCurrent(conn, name, version)
		e.changed()
		if err != nil {
			return nil, fmt.Errorf("promote_model %q: %w", name, err)
		}
		return [][]any{{name, version, prev}}, nil
	}}, nil
}
