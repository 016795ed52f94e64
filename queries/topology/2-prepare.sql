-- @param out = out/topology
-- @param seed = 42
-- @param features = ${out}/features.parquet
--
-- Topology classifier, step 2 of 3: training data (spec section 6), from
-- ${features}: ${out}/features.parquet (1-features.sql), or the parts of a
-- sharded run read in place (--set features='${out}/features-part-*.parquet',
-- after sharded/merge-counts.sql). Writes ${out}/train.parquet and
-- ${out}/test.parquet, one row per event in shuffled order:
--   id, label, onehot FLOAT[3]   the label and its one-hot encoding
--   hlf DOUBLE[14]               high-level features, min–max scaled
--   seq FLOAT[15219]             the 801 × 19 sequence input, row-major
--   mask BOOLEAN[801]            true for the rows holding a particle
--
-- Every random choice is a sort on hash_key(seed, salt, id): reproducible
-- for a seed, whatever order the events arrive in (internal/topref.Prepare
-- makes the same choices).

-- The high-level features as one list, in the spec's order.
CREATE OR REPLACE TEMP TABLE events AS
SELECT id, label,
       [hlf.ht, hlf.met, hlf.met_phi, hlf.mt, hlf.n_jets, hlf.n_bjets,
        hlf.lep_pt, hlf.lep_eta, hlf.lep_phi,
        hlf.lep_ch_iso, hlf.lep_gamma_iso, hlf.lep_neu_iso,
        hlf.lep_charge, hlf.is_electron] AS hlf
FROM read_parquet('${features}');

-- 1. Undersampling: keep in every class as many events as the smallest class
--    has, those with the smallest undersampling keys (salt 1).
CREATE OR REPLACE TEMP TABLE kept AS
WITH per_class AS (
    SELECT l.label, count(e.id) AS n
    FROM (VALUES (0), (1), (2)) l(label) LEFT JOIN events e USING (label)
    GROUP BY l.label
)
SELECT id, label, hlf
FROM (SELECT *, row_number() OVER (PARTITION BY label ORDER BY hash_key(${seed}, 1, id), id) AS k FROM events)
WHERE k <= (SELECT min(n) FROM per_class);

-- 2. Shuffle (salt 2) and split: the first 80% of the shuffled events train.
CREATE OR REPLACE TEMP TABLE split AS
SELECT *, pos < n * 80 // 100 AS is_train
FROM (SELECT *, row_number() OVER (ORDER BY hash_key(${seed}, 2, id), id) - 1 AS pos, count(*) OVER () AS n FROM kept);

-- 3. Min–max scaling fitted on the training set only; a constant feature
--    maps to 0.5. Test values outside the training range are not clipped.
CREATE OR REPLACE TEMP TABLE hlf_range AS
SELECT list(lo ORDER BY f) AS lo, list(hi ORDER BY f) AS hi
FROM (SELECT f, min(hlf[f]) AS lo, max(hlf[f]) AS hi
      FROM split, range(1, 15) r(f) WHERE is_train GROUP BY f);

CREATE OR REPLACE TEMP TABLE prepared AS
SELECT s.id, s.label, s.pos, s.is_train,
       -- 5. One-hot labels.
       [s.label = 0, s.label = 1, s.label = 2]::FLOAT[] AS onehot,
       list_transform(s.hlf, (x, f) ->
           CASE WHEN r.hi[f] = r.lo[f] THEN 0.5 ELSE (x - r.lo[f]) / (r.hi[f] - r.lo[f]) END) AS hlf
FROM split s, hlf_range r;

-- 4. The sequence input: each event's particle rows ordered by decreasing ΔR
--    from the lepton and standardised column by column (topo_sequence),
--    written with the rest in shuffled order.
COPY (
    SELECT id, label, onehot, hlf, s.seq, s.mask
    FROM (SELECT p.*, topo_sequence(f.particles) AS s
          FROM prepared p JOIN read_parquet('${features}') f USING (id)
          WHERE p.is_train)
    ORDER BY pos
) TO '${out}/train.parquet' (FORMAT parquet);

COPY (
    SELECT id, label, onehot, hlf, s.seq, s.mask
    FROM (SELECT p.*, topo_sequence(f.particles) AS s
          FROM prepared p JOIN read_parquet('${features}') f USING (id)
          WHERE NOT p.is_train)
    ORDER BY pos
) TO '${out}/test.parquet' (FORMAT parquet);

SELECT CASE WHEN is_train THEN 'train' ELSE 'test' END AS set, count(*) AS events,
       count(*) FILTER (label = 0) AS qcd, count(*) FILTER (label = 1) AS ttbar, count(*) FILTER (label = 2) AS wjets
FROM prepared GROUP BY ALL ORDER BY set DESC;
