-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q7: scalar sum of the pt of jets above 30 GeV with no lepton above
-- 10 GeV within Delta R < 0.4, in events with at least one such jet.
-- 15-200 GeV, 100 bins.
SELECT unnest(adl_hist(list_sum(list_filter(Jet_pt, lambda pt, i: pt > 30 AND dr[i] >= 0.4)), 15, 200, 100),
              recursive := true)
FROM (SELECT Jet_pt, min_delta_r(Jet_eta, Jet_phi, list_concat(Electron_pt, Muon_pt),
                                 list_concat(Electron_eta, Muon_eta), list_concat(Electron_phi, Muon_phi), 10) AS dr
      FROM read_root('${input}'));
