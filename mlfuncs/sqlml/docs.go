package sqlml

import (
	"fmt"
	"strings"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/sqlfuncs"
)

// The ML functions in the function reference (.help, hepsql_functions(),
// docs/functions.md). Their forms are rendered from the same parameter
// and column lists that register them, so the two cannot drift apart.

const mlGroup = "machine learning"

// toySetup makes the examples' data and model: 900 rows of three classes
// told apart by a 2-vector, and an mlp trained on them with one thread
// (so that every run prints the same figures).
var toySetup = []string{
	`CREATE OR REPLACE TABLE toy AS SELECT i % 3 AS label,
    [(i % 3) + (hash(i) % 1000) / 1000.0, (hash(i + 7) % 1000) / 1000.0] AS hlf
  FROM range(900) t(i)`,
	`SELECT count(*) FROM train('toy', 'SELECT label, hlf FROM toy', hidden := [16, 8], epochs := 3, lr := 0.01, threads := 1)`,
}

func init() {
	nameQuery := []string{"name VARCHAR", "query VARCHAR"}
	sqlfuncs.Document(
		&sqlfuncs.Function{
			Name: "train", Group: mlGroup,
			Summary: "Trains a model on the rows of query and stores it as the next version of name, which becomes the current one; one row per epoch, as it ends. " +
				"Feature columns: numbers, lists of numbers (high-level features), one list of lists (a particle sequence, padding steps of zeros skipped); label: an integer class or a one-hot list. " +
				"model 'mlp' (dense ReLU layers, hidden default [50, 20, 10]), 'gru' (GRU(gru_units, default 50) → dropout → softmax) or 'inclusive' (GRU and high-level features → dense 25 → softmax). " +
				"Adam (lr 1e-3), batch 128, 5 epochs, seed 1; data-parallel over threads (default: all cores), the same seed and threads giving the same model; " +
				"validation: the fraction of rows held out (0.2), patience: early stopping on the validation loss; memory_mb bounds the shuffle buffer (256): when shuffle_rows is below rows, batches mix only rows near each other in the query's order, so give such a query a random order. " +
				"model 'ucluster' (UCluster: unsupervised clustering of jets): one particle column, a list of STRUCTs of numbers or of lists, Δη and Δφ first (up to seq_len particles; all-zero rows are padding), and the auxiliary class in label (default 'aux_label'); " +
				"a kNN graph (k := 8 neighbours in Δη, Δφ), two graph-attention edge convolutions (32, 64), a dense layer max-pooled to the jet embedding (embed := 128) and a classification head; " +
				"the inputs standardised per feature (mean and 1/σ of the training particles, stored with the model; the kNN graph on the raw Δη, Δφ); " +
				"pretrain_epochs (6) on the focal loss (γ 2), k-means of the embeddings (of at most 200,000 jets, evenly thinned, and no more than memory_mb holds) into clusters (3) centroids, then epochs (3) end to end on focal + beta (0.1) × Σ softmax(−α d)·d, α from alpha (1) growing by alpha_step (2) an epoch; " +
				"lr 3e-3 halved every lr_halve_every (8) epochs down to 1e-5, batch 64 (the schedule measured on hepsql gen jets); one row per epoch of both phases (train_loss: focal + β·clustering loss). " +
				"Under mpirun or srun (hepsql built with -tags mpi), every rank trains on its shard of the query's read_root rows, batch is the global batch split across the ranks, gradients are summed with MPI all-reduce, every rank returns the same rows, and rank 0 stores the model; scale_lr multiplies lr by threads × ranks. 'ucluster' too: the ranks also add up the input standardisation's sums and gather their k-means samples (each rank's every n-th jet, the total within the cap above) to every rank, which runs the same k-means: the same centroids on every rank.",
			Forms:   []string{tableForm("train", nameQuery, trainParams, epochColumns)},
			Setup:   toySetup[:1],
			Example: `SELECT epoch, round(train_loss, 3) AS train_loss, round(val_auc_macro, 3) AS val_auc FROM train('toy', 'SELECT label, hlf FROM toy', hidden := [16, 8], epochs := 3, lr := 0.01, threads := 1)`,
		},
		&sqlfuncs.Function{
			Name: "tune", Group: mlGroup,
			Summary: "Grid search: one training per point of grid (a JSON object of candidate lists for hidden, lr, batch, epochs, dropout, gru_units, scale_lr, seed or patience; the first key varies slowest), " +
				"with train's other options, parallel trainings at a time (default: threads) on threads/parallel threads each; one row per point with its validation figures (best epoch) and seconds. " +
				"The point with the lowest validation loss (metric := 'auc': the highest macro AUC) is stored as the next version of name; " +
				"promote := 'if_better' (the default) makes it current only if that figure beats the current version's, as stored in its metrics (measured on its own validation rows), 'always' makes it current, 'never' leaves it for promote_model.",
			Forms:   []string{tableForm("tune", nameQuery, tuneParams, tuneColumns)},
			Setup:   toySetup[:1],
			Example: `SELECT config, params, round(val_loss, 3) AS val_loss FROM tune('toy', 'SELECT label, hlf FROM toy', grid := '{"hidden": [[8], [16, 8]], "lr": [0.01, 0.003]}', epochs := 2, threads := 1)`,
		},
		&sqlfuncs.Function{
			Name: "predict", Group: mlGroup,
			Summary: "The rows of query with model name applied (its current version; another with version := N or name 'name@N'): every column of the query, then prob_0 … prob_K−1 and the predicted class. " +
				"The feature columns are found by the names they had in training (DECIMAL ones read as DOUBLE); each chunk of rows goes through the network at once, split over threads (default: all cores), in the query's order.",
			Forms: []string{tableForm("predict", nameQuery, predictParams, nil) + " → TABLE(query's columns…, prob_0 FLOAT, …, predicted BIGINT)",
				tableForm("predict", nameQuery, predictParams, nil) + " → TABLE(query's columns…, cluster BIGINT, dist_0 FLOAT, …) for a 'ucluster' model: each row's nearest centroid and its squared distances to every centroid"},
			Setup:   toySetup,
			Example: `SELECT label, round(prob_0, 3) AS prob_0, round(prob_1, 3) AS prob_1, predicted FROM predict('toy', 'SELECT label, hlf FROM toy WHERE label = 1 LIMIT 3')`,
		},
		&sqlfuncs.Function{
			Name: "predict_proba", Group: mlGroup,
			Summary: "The class probabilities of each row under model name (its current version; another as 'name@N'), for use inside any query: the features as one list, in training order " +
				"(and for 'gru' and 'inclusive' the sequence as a list of lists); a whole vector of rows goes through the network at once. One model per call.",
			Forms: []string{
				"predict_proba(name VARCHAR, features DOUBLE[]) → FLOAT[]",
				"predict_proba(name VARCHAR, sequence DOUBLE[][]) → FLOAT[]",
				"predict_proba(name VARCHAR, features DOUBLE[], sequence DOUBLE[][]) → FLOAT[]",
			},
			Setup:   toySetup,
			Example: `SELECT label, list_transform(predict_proba('toy', hlf), p -> round(p, 3)) AS probs FROM toy LIMIT 3`,
		},
		&sqlfuncs.Function{
			Name: "evaluate", Group: mlGroup,
			Summary: "Scores model name (its current version; another with version := N or name 'name@N') on the labelled rows of query: accuracy, log-loss, one-vs-rest AUC per class and their mean, the confusion matrix (row: true class, column: predicted) and the version scored. " +
				"For a 'ucluster' model, against the integer column truth (default 'truth'): the clustering accuracy after the best one-to-one matching of clusters to classes (Hungarian), the contingency table (row: true class, column: cluster), each cluster's purity, the matching (cluster → class, −1: none) and the clusters' sizes.",
			Forms: []string{tableForm("evaluate", nameQuery, versionParam, evaluateColumns),
				tableForm("evaluate", nameQuery, append([]capi.NamedParam{{Name: "truth", Type: tVarchar}}, versionParam...), ucEvaluateColumns)},
			Setup:   toySetup,
			Example: `SELECT rows, round(accuracy, 3) AS accuracy, list_transform(auc, a -> round(a, 3)) AS auc, confusion FROM evaluate('toy', 'SELECT label, hlf FROM toy')`,
		},
		&sqlfuncs.Function{
			Name: "roc", Group: mlGroup,
			Summary: "The one-vs-rest ROC curve of class on the labelled rows of query under model name (its current version; another with version := N or 'name@N'), one point per distinct score, highest threshold first, for plotting.",
			Forms:   []string{tableForm("roc", append(nameQuery, "class BIGINT"), versionParam, rocColumns)},
			Setup:   toySetup,
			Example: `SELECT count(*) AS points, round(max(fpr), 3) AS fpr, round(max(tpr), 3) AS tpr FROM roc('toy', 'SELECT label, hlf FROM toy', 2)`,
		},
		&sqlfuncs.Function{
			Name: "models", Group: mlGroup,
			Summary: "Every stored model version, from the database table hepsql_models: whether it is its name's current version (the one used when none is given), architecture, classes, feature columns, label, training rows and seconds, best-epoch metrics, options and training query (JSON text), " +
				"each feature's SQL type in training (empty for models stored before types were recorded), the network's high-level inputs in order, the hepsql version that trained it, and all of it as one JSON document (metadata), which hepsql serve's GET /v2/models returns. " +
				"A database in memory forgets its models when it closes; open a file (hepsql --db FILE) to keep them.",
			Forms: []string{tableForm("models", nil, nil, modelColumns)},
			Setup: append(toySetup[:1:1],
				`SELECT count(*) FROM train('toy_mlp', 'SELECT label, hlf FROM toy', hidden := [8], epochs := 1, threads := 1)`,
				`SELECT count(*) FROM train('toy_mlp', 'SELECT label, hlf FROM toy', hidden := [16, 8], epochs := 1, threads := 1)`),
			Example: `SELECT name, version, current, architecture, classes, features, rows, regexp_extract(options, '"hidden":(\[[0-9,]*\])', 1) AS hidden FROM models() WHERE name = 'toy_mlp'`,
		},
		&sqlfuncs.Function{
			Name: "model_info", Group: mlGroup,
			Summary: "The feature columns of model name (its current version; another as 'name@N'), one row each in training order: its kind (scalar, vector or sequence), its SQL type in the training query, its width and the network inputs it feeds " +
				"(a list column v of width 2 feeds v[1] and v[2]; the high-level inputs in order are also models()'s inputs column).",
			Forms:   []string{tableForm("model_info", []string{"name VARCHAR"}, nil, modelInfoColumns)},
			Setup:   toySetup,
			Example: `SELECT version, position, feature, kind, type, width, inputs FROM model_info('toy')`,
		},
		&sqlfuncs.Function{
			Name: "export_onnx", Group: mlGroup,
			Summary: "Writes model name (its current version; another as 'name@N') to path as an ONNX model (IR 7, opset 13) for other frameworks, and returns what it wrote. " +
				"An mlp becomes Gemm/Relu layers and a Softmax from input \"features\" [batch × inputs, in models()'s inputs order] to \"probabilities\" [batch × classes], weights bit for bit; " +
				"gru and inclusive models take \"sequence\" [batch × seq_len × values per step] too (inclusive: after \"features\"), their GRU unrolled over the steps, an all-zero step skipped wherever it is, as in hepsql. " +
				"The model's metadata (name@version, features, label, query, metrics) goes into the file's metadata_props. " +
				"Where the database forbids file access (enable_external_access = false), only paths under allowed_directories or in allowed_paths are written; hepsql serve hands the same bytes out at GET /v2/models/{name}/onnx.",
			Forms:   []string{tableForm("export_onnx", []string{"name VARCHAR", "path VARCHAR"}, nil, exportColumns)},
			Setup:   toySetup,
			Example: `SELECT name, version, bytes > 0 AS written FROM export_onnx('toy', '/tmp/hepsql_toy.onnx')`,
		},
		&sqlfuncs.Function{
			Name: "drop_model", Group: mlGroup,
			Summary: "Deletes every version of model name, or one (version := N, or name 'name@N'), and returns how many it deleted; an unknown name or version is an error. When the current version goes, the newest left becomes current; the number of a version dropped alone is not given again (dropping every version starts the name again at 1).",
			Forms:   []string{tableForm("drop_model", []string{"name VARCHAR"}, versionParam, []capi.Column{{Name: "dropped", Type: tBigInt}})},
			Setup:   toySetup,
			Example: `SELECT * FROM drop_model('toy')`,
		},
		&sqlfuncs.Function{
			Name: "promote_model", Group: mlGroup,
			Summary: "Makes version the current version of model name, the one the other functions use when given none; returns it with the version current before.",
			Forms:   []string{tableForm("promote_model", []string{"name VARCHAR", "version BIGINT"}, nil, promoteColumns)},
			Setup: append(toySetup[:1:1],
				`SELECT count(*) FROM train('toy_mlp', 'SELECT label, hlf FROM toy', hidden := [8], epochs := 1, threads := 1)`,
				`SELECT count(*) FROM train('toy_mlp', 'SELECT label, hlf FROM toy', hidden := [16, 8], epochs := 1, threads := 1)`),
			Example: `SELECT * FROM promote_model('toy_mlp', 1)`,
		},
	)
}

// tableForm renders a table function's signature: positional and named
// parameters, and the result's columns (none: left to the caller).
func tableForm(name string, pos []string, named []capi.NamedParam, cols []capi.Column) string {
	args := append([]string(nil), pos...)
	for _, p := range named {
		args = append(args, fmt.Sprintf("%s := %s", p.Name, p.Type))
	}
	s := fmt.Sprintf("%s(%s)", name, strings.Join(args, ", "))
	if cols == nil {
		return s
	}
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name + " " + c.Type.String()
	}
	return s + " → TABLE(" + strings.Join(out, ", ") + ")"
}
