-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- @param out = out/adl
-- @param shard = 0
--
-- ADL Q1–Q8 as one shard of a sharded run: `hepsql run shard.sql --shard K/N`
-- reads part K of N of ${input} (every read_root is split; see `hepsql run
-- -h`) and writes the eight histograms' partial counts to
-- ${out}/part-K.parquet, one row per non-empty bin: (query, x, y). merge.sql
-- adds them up. Each query is its one-process file in ../ (q1.sql, ...),
-- with its rows kept in a table instead of printed.
--
-- The part is written to a temporary file renamed at the end
-- (USE_TMP_FILE), so a shard that fails or is killed leaves no part: the
-- merge sees a missing part, never a truncated one.

CREATE TEMP TABLE adl_part (query VARCHAR, x DOUBLE, y BIGINT);

INSERT INTO adl_part SELECT 'q1', unnest(adl_hist(MET_pt, 0, 2000, 100), recursive := true)
FROM read_root('${input}');

INSERT INTO adl_part SELECT 'q2', unnest(adl_hist(Jet_pt, 15, 60, 100), recursive := true)
FROM read_root('${input}');

INSERT INTO adl_part SELECT 'q3', unnest(adl_hist(pt, 15, 60, 100), recursive := true)
FROM (SELECT unnest(Jet_pt) AS pt, unnest(Jet_eta) AS eta FROM read_root('${input}'))
WHERE abs(eta) < 1;

INSERT INTO adl_part SELECT 'q4', unnest(adl_hist(MET_pt, 0, 2000, 100), recursive := true)
FROM read_root('${input}')
WHERE count_above(Jet_pt, 40) >= 2;

INSERT INTO adl_part SELECT 'q5', unnest(adl_hist(MET_pt, 0, 2000, 100), recursive := true)
FROM read_root('${input}')
WHERE count_between(pair_mass(Muon_pt, Muon_eta, Muon_phi, Muon_mass, Muon_charge), 60, 120) > 0;

INSERT INTO adl_part SELECT 'q6-1', unnest(adl_hist(top.pt, 15, 40, 100), recursive := true)
FROM (SELECT best_triplet(Jet_pt, Jet_eta, Jet_phi, Jet_mass, 172.5) AS top
      FROM read_root('${input}'));

INSERT INTO adl_part SELECT 'q6-2', unnest(adl_hist(list_max(list_select(Jet_btag, top.idx)), 0, 1, 100), recursive := true)
FROM (SELECT Jet_btag, best_triplet(Jet_pt, Jet_eta, Jet_phi, Jet_mass, 172.5) AS top
      FROM read_root('${input}'));

INSERT INTO adl_part SELECT 'q7', unnest(adl_hist(list_sum(list_filter(Jet_pt, lambda pt, i: pt > 30 AND dr[i] >= 0.4)), 15, 200, 100),
              recursive := true)
FROM (SELECT Jet_pt, min_delta_r(Jet_eta, Jet_phi, list_concat(Electron_pt, Muon_pt),
                                 list_concat(Electron_eta, Muon_eta), list_concat(Electron_phi, Muon_phi), 10) AS dr
      FROM read_root('${input}'));

INSERT INTO adl_part
WITH leptons AS (
    SELECT MET_pt, MET_phi, list_concat(Electron_pt, Muon_pt) AS pt, list_concat(Electron_eta, Muon_eta) AS eta,
           list_concat(Electron_phi, Muon_phi) AS phi, list_concat(Electron_mass, Muon_mass) AS mass,
           list_concat(Electron_charge, Muon_charge) AS charge,
           list_concat(list_transform(Electron_pt, lambda x: 11), list_transform(Muon_pt, lambda x: 13)) AS flavour
    FROM read_root('${input}') WHERE nElectron + nMuon >= 3),
z AS (SELECT *, best_pair(pt, eta, phi, mass, charge, flavour, 91.2) AS z FROM leptons),
third AS (SELECT *, list_filter(argsort_desc(pt), lambda k: NOT list_contains(z.idx, k))[1] AS k FROM z)
SELECT 'q8', unnest(adl_hist(mt(pt[k], phi[k], MET_pt, MET_phi), 15, 250, 100), recursive := true) FROM third;

COPY adl_part TO '${out}/part-${shard}.parquet' (FORMAT parquet, USE_TMP_FILE true);
