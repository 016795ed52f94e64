-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q3 on NanoAOD collections as structs (read_root's nest := true): pt of
-- the jets with |eta| < 1. 15-60 GeV, 100 bins. One row per jet, as in
-- ../q3.sql, whose two unnests of Jet_pt and Jet_eta become one of Jet.
SELECT unnest(adl_hist(j.pt, 15, 60, 100), recursive := true)
FROM (SELECT unnest(Jet) AS j FROM read_root('${input}', nest := true))
WHERE abs(j.eta) < 1;
