-- @param in = out/topology/data
-- @param out = out/topology
--
-- Topology classifier, step 1 of 3: event selection and features.
-- (../shared/specs/topology.md, sections 2–5; hepsql gen topology writes the
-- input: qcd_*.root, ttbar_*.root and wjets_*.root, tree Events.)
--
-- For every event, topo_event builds the three isolation lists (tracks with
-- PT > 0.5, photons and neutral hadrons with ET > 1), picks the highest-pT
-- electron or tight muon with pT > 23 and relative isolation < 0.45, and
-- computes around it the 14 high-level features and the 801 × 19 low-level
-- matrix; it is NULL when no lepton passes. The matrix is stored as its
-- particle rows only (e.particles: the lepton, then tracks, photons and
-- neutral hadrons, each pT-ranked), each in its independent quantities;
-- topo_matrix(particles) rebuilds the padded 801 × 19 matrix from them. The label comes from the sample (the
-- file name): 0 QCD, 1 tt̄, 2 W+jets.
--
-- Writes ${out}/features.parquet (one row per selected event) and
-- ${out}/generated.parquet (events per class before the selection).

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

-- How many events each sample holds, before any selection.
COPY (
    SELECT topo_label(_file) AS label, topo_class(_file) AS class, count(*) AS events
    FROM read_root('${in}/*.root', tree := 'Events')
    GROUP BY ALL ORDER BY label
) TO '${out}/generated.parquet' (FORMAT parquet);

-- Selection and features, one pass over the files. Rows carry their id, and
-- 2-prepare.sql orders by it, so the file need not keep the input's order:
-- without that constraint every thread writes its own row groups. An
-- event's particles are ~13 kB before compression: row groups of 2048
-- events keep each writer's buffer near 30 MB.
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
) TO '${out}/features.parquet' (FORMAT parquet, ROW_GROUP_SIZE 2048);

-- What was written.
SELECT class, count(*) AS selected, round(avg(n_rows), 1) AS avg_particle_rows
FROM read_parquet('${out}/features.parquet')
GROUP BY class ORDER BY class;
