-- @param out = out/ucluster
-- @param clusters = 3
-- @param pretrain_epochs = 4
-- @param epochs = 4
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
-- (Hungarian), 81% for k = 3 in the original on HLS4ML jets.

SELECT *
FROM train('uc', 'SELECT particles, aux_label FROM read_parquet(''${out}/train.parquet'')',
           model := 'ucluster', clusters := ${clusters},
           pretrain_epochs := ${pretrain_epochs}, epochs := ${epochs}, seed := 1);

SELECT *
FROM evaluate('uc', 'SELECT particles, truth FROM read_parquet(''${out}/test.parquet'')', truth := 'truth');
