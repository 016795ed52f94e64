-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q5: missing transverse momentum of events with an opposite-charge muon
-- pair of invariant mass between 60 and 120 GeV. 0-2000 GeV, 100 bins.
SELECT unnest(adl_hist(MET_pt, 0, 2000, 100), recursive := true)
FROM read_root('${input}')
WHERE count_between(pair_mass(Muon_pt, Muon_eta, Muon_phi, Muon_mass, Muon_charge), 60, 120) > 0;
