-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q3: pt of the jets with |eta| < 1. 15-60 GeV, 100 bins.
-- One row per jet (the two unnests walk the lists side by side), so that the
-- cut is a plain vectorised filter rather than a lambda per event.
SELECT unnest(adl_hist(pt, 15, 60, 100), recursive := true)
FROM (SELECT unnest(Jet_pt) AS pt, unnest(Jet_eta) AS eta FROM read_root('${input}'))
WHERE abs(eta) < 1;
