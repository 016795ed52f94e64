-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q6-1: pt of the trijet whose invariant mass is closest to the top mass
-- (172.5 GeV), in events with at least three jets. 15-40 GeV, 100 bins.
SELECT unnest(adl_hist(top.pt, 15, 40, 100), recursive := true)
FROM (SELECT best_triplet(Jet_pt, Jet_eta, Jet_phi, Jet_mass, 172.5) AS top
      FROM read_root('${input}'));
