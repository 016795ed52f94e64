-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q3: pt of the jets with |eta| < 1. 15-60 GeV, 100 bins.
SELECT unnest(adl_hist(list_filter(Jet_pt, lambda pt, i: abs(Jet_eta[i]) < 1), 15, 60, 100), recursive := true)
FROM read_root('${input}');
