-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q4: missing transverse momentum of events with at least two jets above
-- 40 GeV. 0-2000 GeV, 100 bins.
SELECT unnest(adl_hist(MET_pt, 0, 2000, 100), recursive := true)
FROM read_root('${input}')
WHERE count_above(Jet_pt, 40) >= 2;
