-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q8: in events with at least three light leptons and a same-flavour
-- opposite-charge pair, the transverse mass of the missing momentum and the
-- leading lepton outside the pair closest to the Z mass. 15-250 GeV, 100 bins.
-- An event without such a pair has a NULL z, so a NULL k and a NULL mt, which
-- adl_hist does not enter. (A `WHERE z IS NOT NULL` would say the same, but
-- DuckDB merges it with the three-lepton cut and runs best_pair first, on
-- every event: 1.8x slower.)
WITH leptons AS (
    SELECT MET_pt, MET_phi, list_concat(Electron_pt, Muon_pt) AS pt, list_concat(Electron_eta, Muon_eta) AS eta,
           list_concat(Electron_phi, Muon_phi) AS phi, list_concat(Electron_mass, Muon_mass) AS mass,
           list_concat(Electron_charge, Muon_charge) AS charge,
           list_concat(list_transform(Electron_pt, lambda x: 11), list_transform(Muon_pt, lambda x: 13)) AS flavour
    FROM read_root('${input}') WHERE nElectron + nMuon >= 3),
z AS (SELECT *, best_pair(pt, eta, phi, mass, charge, flavour, 91.2) AS z FROM leptons),
third AS (SELECT *, list_filter(argsort_desc(pt), lambda k: NOT list_contains(z.idx, k))[1] AS k FROM z)
SELECT unnest(adl_hist(mt(pt[k], phi[k], MET_pt, MET_phi), 15, 250, 100), recursive := true) FROM third;
