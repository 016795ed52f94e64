-- @param in = out/ucluster/data
-- @param out = out/ucluster
-- @param seed = 42
-- @param mass_bin = 20
-- @param mass_classes = 15
--
-- UCluster, step 1: per-particle inputs and the auxiliary label
-- (../shared/specs/ucluster.md, "The inputs"), from the fat jets of
-- `hepsql gen jets` (jets_*.root, tree Jets, one jet per entry).
--
-- Writes ${out}/train.parquet (80% of the jets) and ${out}/test.parquet
-- (the rest), each in a seeded shuffled order, one row per jet:
--   id           file number · 2³² + entry: stable, whatever the read order
--   truth        0 W, 1 Z, 2 top, 3 QCD: for scoring only, never trained on
--   jet_pt, jet_eta, jet_mass, n_particles
--   aux_label    the jet-mass class: ${mass_classes} bins of ${mass_bin} GeV
--                (the last open above), the classification objective
--   particles    jet_particles(): up to 100 STRUCT(deta, dphi, log_pt, log_e,
--                log_pt_rel, log_e_rel, dr, pid), hardest first, unpadded;
--                jet_particles_padded(particles) gives the zero-padded
--                100 × 8 block of the original's HDF5 files
-- The split and the order are sorts on hash_key(seed, salt, id): the same
-- for a seed however the files are read. Shuffling in the file sorts each
-- set whole: about 4.5 kB of memory per jet (100,000 jets: 470 MB peak
-- RSS), which DuckDB spills to disk past its memory limit.

-- The jets' identities and labels only (a few bytes each): the split and
-- the order are decided here, and the particles computed while writing,
-- so that no table holds them all.
CREATE OR REPLACE MACRO uc_id(file, entry) AS
    (regexp_extract(parse_filename(file), '_(\d+)\.root$', 1)::UBIGINT << 32) | entry::UBIGINT;

CREATE OR REPLACE TEMP TABLE split AS
SELECT id, truth, jet_mass, n_particles, aux_label,
       row_number() OVER (ORDER BY hash_key(${seed}, 1, id), id) - 1 < count(*) OVER () * 80 // 100 AS is_train,
       row_number() OVER (ORDER BY hash_key(${seed}, 2, id), id) AS pos
FROM (SELECT uc_id(_file, _entry) AS id, truth, Jet_mass AS jet_mass, least(nPart, 100) AS n_particles,
             jet_mass_class(Jet_mass, [i * ${mass_bin} FOR i IN range(1, ${mass_classes})]::DOUBLE[]) AS aux_label
      FROM read_root('${in}/*.root', tree := 'Jets'));

CREATE OR REPLACE TEMP VIEW features AS
SELECT s.id, s.truth, r.Jet_pt AS jet_pt, r.Jet_eta AS jet_eta, s.jet_mass, s.n_particles, s.aux_label, s.is_train, s.pos,
       jet_particles(r.Part_pt, r.Part_eta, r.Part_phi, r.Part_e, r.Part_pid, r.Jet_pt, r.Jet_eta, r.Jet_phi, r.Jet_e) AS particles
FROM read_root('${in}/*.root', tree := 'Jets') r JOIN split s ON s.id = uc_id(r._file, r._entry);

COPY (
    SELECT id, truth, jet_pt, jet_eta, jet_mass, n_particles, aux_label, particles
    FROM features WHERE is_train ORDER BY pos
) TO '${out}/train.parquet' (FORMAT parquet, ROW_GROUP_SIZE 4096);

COPY (
    SELECT id, truth, jet_pt, jet_eta, jet_mass, n_particles, aux_label, particles
    FROM features WHERE NOT is_train ORDER BY pos
) TO '${out}/test.parquet' (FORMAT parquet, ROW_GROUP_SIZE 4096);

-- What was written, per true class: the sets, the mass peak and the
-- multiplicity.
SELECT CASE truth WHEN 0 THEN 'W' WHEN 1 THEN 'Z' WHEN 2 THEN 'top' ELSE 'QCD' END AS class,
       count(*) FILTER (is_train) AS train, count(*) FILTER (NOT is_train) AS test,
       round(quantile_cont(jet_mass, 0.16), 1) AS mass_q16, round(median(jet_mass), 1) AS mass_median,
       round(quantile_cont(jet_mass, 0.84), 1) AS mass_q84, round(avg(n_particles), 1) AS particles
FROM split GROUP BY truth ORDER BY truth;

-- The auxiliary label against the truth: W and Z share their mass classes.
SELECT aux_label, ${mass_bin} * aux_label AS from_gev,
       count(*) FILTER (truth = 0) AS W, count(*) FILTER (truth = 1) AS Z,
       count(*) FILTER (truth = 2) AS top, count(*) FILTER (truth = 3) AS QCD
FROM split GROUP BY aux_label ORDER BY aux_label;
