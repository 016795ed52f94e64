-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q1: missing transverse momentum of every event. 0-2000 GeV, 100 bins.
SELECT unnest(adl_hist(MET_pt, 0, 2000, 100), recursive := true)
FROM read_root('${input}');
