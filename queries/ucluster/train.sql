-- @param out = out/ucluster
-- @param clusters = 3
-- @param pretrain_epochs = 6
-- @param epochs = 3
-- @param seed = 1
--
-- UCluster, step 2: train and evaluate, from the Parquet sets that
-- 1-features.sql writes.
--
-- The network reads each jet's particles, the list of eight-feature
-- structs that jet_particles gives (padding and masking are its own), and
-- learns to predict aux_label (the
-- jet-mass class); truth is never trained on. Evaluation assigns every test
-- jet to a cluster and scores the clusters against truth: the clustering
-- accuracy after the best one-to-one matching of clusters to classes
-- (Hungarian), 81% for k = 3 in the original on HLS4ML jets; on
-- `hepsql gen jets` 0.60 over 3 seeds against a supervised 0.64 (the same
-- particles, model := 'gru') and 0.75 (the jet mass alone): see
-- bench/README.md, "On gen/jets". The schedule (batch 64, lr 3e-3 halved
-- every 8 epochs, β 0.1) is the ucluster model's default.

SELECT *
FROM train('uc', 'SELECT particles, aux_label FROM read_parquet(''${out}/train.parquet'')',
           model := 'ucluster', clusters := ${clusters},
           pretrain_epochs := ${pretrain_epochs}, epochs := ${epochs}, seed := ${seed});

SELECT *
FROM evaluate('uc', 'SELECT particles, truth FROM read_parquet(''${out}/test.parquet'')', truth := 'truth');
