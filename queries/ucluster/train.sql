-- @param out = out/ucluster
-- @param clusters = 3
--
-- UCluster, step 2: train and evaluate, from the Parquet sets that
-- 1-features.sql writes.
--
-- NOT RUN by ./scripts/demo yet: the 'ucluster' model of train() (ABCNet
-- encoder, focal-loss pre-training on aux_label, k-means initialisation,
-- then deep k-means end to end; spec "The model") is being built on
-- another branch, and the lead wires this file into scripts/demo when the
-- two are merged. The option names past model and clusters follow that
-- branch's interface and may need adjusting then.
--
-- The network reads each jet's particles as jet_particles_padded(particles),
-- the zero-padded 100 × 8 block, and learns to predict aux_label (the
-- jet-mass class); truth is never trained on. Evaluation assigns every test
-- jet to a cluster and scores the clusters against truth: the clustering
-- accuracy after the best one-to-one matching of clusters to classes
-- (Hungarian), 81% for k = 3 in the original on HLS4ML jets.

SELECT *
FROM train('uc', 'SELECT jet_particles_padded(particles) AS particles, aux_label FROM read_parquet(''${out}/train.parquet'')',
           model := 'ucluster', clusters := ${clusters}, seed := 1);

SELECT *
FROM evaluate('uc', 'SELECT jet_particles_padded(particles) AS particles, truth AS label FROM read_parquet(''${out}/test.parquet'')');
