-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q7: scalar sum of the transverse momenta (HT) of the jets above 30 GeV
-- that have no lepton (electron or muon) above 10 GeV within
-- Delta R = sqrt(Delta eta^2 + Delta phi^2) < 0.4; events without such a jet
-- are not entered. Histogram 15-200 GeV, 100 bins.
-- Output: x = bin centre, y = count, one row per non-empty bin, ascending x;
-- values below lo share one underflow row at lo - w/2, values >= hi (the
-- upper edge is exclusive) one overflow row at hi + w/2 (w = bin width).
WITH
binning AS (
    SELECT 15.0::DOUBLE AS lo, 200.0::DOUBLE AS hi, 100 AS nbins, (hi - lo) / nbins AS w
),
events AS (
    SELECT Jet_pt::DOUBLE[] AS jet_pt, Jet_eta::DOUBLE[] AS jet_eta, Jet_phi::DOUBLE[] AS jet_phi,
           -- eta and phi of the leptons above 10 GeV: electrons, then muons
           list_concat(list_filter(Electron_eta::DOUBLE[], lambda eta, i: Electron_pt[i] > 10),
                       list_filter(Muon_eta::DOUBLE[], lambda eta, i: Muon_pt[i] > 10)) AS lep_eta,
           list_concat(list_filter(Electron_phi::DOUBLE[], lambda phi, i: Electron_pt[i] > 10),
                       list_filter(Muon_phi::DOUBLE[], lambda phi, i: Muon_pt[i] > 10)) AS lep_phi
    FROM read_root('${input}')
),
dphi AS (
    -- Delta phi of every (jet, lepton) pair, wrapped into [-pi, pi]
    SELECT jet_pt, jet_eta, lep_eta,
           list_transform(jet_phi, lambda jphi:
               list_transform(lep_phi, lambda lphi:
                   CASE WHEN jphi - lphi > pi() THEN jphi - lphi - 2 * pi()
                        WHEN jphi - lphi < -pi() THEN jphi - lphi + 2 * pi()
                        ELSE jphi - lphi END)) AS dphi
    FROM events
),
cleaned AS (
    -- keep jets above 30 GeV with no lepton within Delta R < 0.4
    SELECT list_filter(jet_pt, lambda pt, i:
               pt > 30
               AND len(list_filter(lep_eta, lambda leta, k:
                       sqrt((jet_eta[i] - leta) * (jet_eta[i] - leta) + dphi[i][k] * dphi[i][k]) < 0.4)) = 0
           ) AS kept_pt
    FROM dphi
),
vals AS (
    SELECT list_sum(kept_pt) AS v FROM cleaned WHERE len(kept_pt) > 0
),
binned AS (
    -- bin index k: -1 underflow, nbins overflow. NaN sorts above every number
    -- in DuckDB, so it lands in the overflow. The cap at nbins - 1 catches
    -- values just below hi for which (v - lo) / w rounds up to nbins.
    SELECT CASE WHEN v < lo THEN -1
                WHEN v >= hi THEN nbins
                ELSE least(floor((v - lo) / w)::BIGINT, nbins - 1) END AS k
    FROM vals, binning
)
SELECT CASE WHEN k < 0 THEN lo - w / 2
            WHEN k >= nbins THEN hi + w / 2
            ELSE lo + (k + 0.5::DOUBLE) * w END AS x,
       count(*) AS y
FROM binned, binning
GROUP BY ALL
ORDER BY x
