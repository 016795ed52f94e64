-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q6-2: largest b-tag among the jets of the trijet whose invariant mass is
-- closest to the top mass (172.5 GeV). 0-1, 100 bins.
SELECT unnest(adl_hist(list_max(list_select(Jet_btag, top.idx)), 0, 1, 100), recursive := true)
FROM (SELECT Jet_btag, best_triplet(Jet_pt, Jet_eta, Jet_phi, Jet_mass, 172.5) AS top
      FROM read_root('${input}'));
