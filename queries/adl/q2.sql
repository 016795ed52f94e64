-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q2: pt of every jet. 15-60 GeV, 100 bins.
SELECT unnest(adl_hist(Jet_pt, 15, 60, 100), recursive := true)
FROM read_root('${input}');
