-- @param out = out/topology
-- @param epochs = 20
-- Step 4: train the high-level-feature classifier of the spec (14 -> 50 ->
-- 20 -> 10 -> 3, ReLU, softmax; Adam, batch 128) on the training set written
-- by 2-prepare.sql, one row per epoch, then evaluate it on the test set.
SELECT epoch, round(train_loss, 4) AS train_loss, round(val_loss, 4) AS val_loss,
       round(val_auc_macro, 4) AS val_auc, round(seconds, 2) AS seconds
FROM train('hlf', 'SELECT label, hlf FROM read_parquet(''${out}/train.parquet'')',
           model := 'mlp', hidden := [50, 20, 10], epochs := ${epochs}, batch := 128, lr := 1e-3, seed := 1);

-- Test-set figures: accuracy, per-class one-vs-rest AUC (QCD, ttbar,
-- W+jets) and the confusion matrix (rows: true class).
SELECT rows, round(accuracy, 4) AS accuracy, round(log_loss, 4) AS log_loss,
       list_transform(auc, a -> round(a, 4)) AS auc, confusion
FROM evaluate('hlf', 'SELECT label, hlf FROM read_parquet(''${out}/test.parquet'')');
