-- @param in = out/topology/data
-- @param out = out/topology
-- @param shard = 0
--
-- Topology classifier, step 1, as one shard of a sharded run:
-- `hepsql run 1-features.sql --shard K/N` reads part K of N of the
-- generated files (whole files, or entry ranges of a few large ones) and
-- writes ${out}/generated-part-K.parquet (events per class) and
-- ${out}/features-part-K.parquet (the selected events' features);
-- merge.sql makes ../1-features.sql's two outputs from the parts, equal to
-- the one-process ones row for row (TestShardedTopologyFeatures checks it).
-- The macros and the feature SELECT are ../1-features.sql's, where their
-- comments are: change both together.
--
-- Each part is written to a temporary file renamed at the end
-- (USE_TMP_FILE): a failed shard leaves no part behind.

-- Each event gets a stable identity, class · 2⁵⁶ + file number · 2³² + entry,
-- from which the seeded steps of 2-prepare.sql draw their random keys.
CREATE OR REPLACE MACRO topo_class(file) AS
    regexp_extract(parse_filename(file), '^(qcd|ttbar|wjets)_', 1);
CREATE OR REPLACE MACRO topo_label(file) AS
    CASE topo_class(file) WHEN 'qcd' THEN 0 WHEN 'ttbar' THEN 1 WHEN 'wjets' THEN 2 END;
CREATE OR REPLACE MACRO topo_id(file, entry) AS
    (topo_label(file)::UBIGINT << 56)
    | (regexp_extract(parse_filename(file), '_(\d+)\.root$', 1)::UBIGINT << 32)
    | entry::UBIGINT;

-- This shard's events per sample, before any selection.
COPY (
    SELECT topo_label(_file) AS label, topo_class(_file) AS class, count(*) AS events
    FROM read_root('${in}/*.root', tree := 'Events')
    GROUP BY ALL ORDER BY label
) TO '${out}/generated-part-${shard}.parquet' (FORMAT parquet, USE_TMP_FILE true);

SET preserve_insertion_order = false;
COPY (
    SELECT id, label, class,
           e.lepton,        -- STRUCT(is_muon, idx, pt, eta, phi, charge, ch_iso, gamma_iso, neu_iso)
           e.hlf,           -- STRUCT of the 14 high-level features, by name
           e.n_rows,        -- matrix rows holding a particle (the rest is zero padding)
           e.particles      -- those rows: LIST<STRUCT(kind, pt, eta, phi, x, y, z,
                            --   ch_iso, gamma_iso, neu_iso, charge)>, kind 0 charged hadron,
                            --   1 neutral hadron, 2 photon, 3 electron, 4 muon
    FROM (
        SELECT topo_id(_file, _entry) AS id, topo_label(_file) AS label, topo_class(_file) AS class,
               topo_event(
                   EFlowTrack_PT, EFlowTrack_Eta, EFlowTrack_Phi, EFlowTrack_Charge,
                   EFlowTrack_X, EFlowTrack_Y, EFlowTrack_Z,
                   EFlowPhoton_ET, EFlowPhoton_Eta, EFlowPhoton_Phi,
                   EFlowNeutralHadron_ET, EFlowNeutralHadron_Eta, EFlowNeutralHadron_Phi,
                   Electron_PT, Electron_Eta, Electron_Phi, Electron_Charge,
                   MuonTight_PT, MuonTight_Eta, MuonTight_Phi, MuonTight_Charge,
                   Jet_PT, Jet_Eta, Jet_BTag,
                   MissingET_MET, MissingET_Phi) AS e
        FROM read_root('${in}/*.root', tree := 'Events')
    )
    WHERE e IS NOT NULL
) TO '${out}/features-part-${shard}.parquet' (FORMAT parquet, ROW_GROUP_SIZE 2048, USE_TMP_FILE true);
