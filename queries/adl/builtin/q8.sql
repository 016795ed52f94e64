-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q8: in events with at least three light leptons (electrons and muons)
-- and at least one same-flavour opposite-charge (SFOS) pair, take the SFOS
-- pair with invariant mass closest to 91.2 GeV (the Z mass); among the other
-- leptons take the one with the highest pt, and histogram the transverse
-- mass sqrt(2 pt MET (1 - cos(phi - MET_phi))) of it and the missing
-- momentum. Histogram 15-250 GeV, 100 bins.
-- Output: x = bin centre, y = count, one row per non-empty bin, ascending x;
-- values below lo share one underflow row at lo - w/2, values >= hi (the
-- upper edge is exclusive) one overflow row at hi + w/2 (w = bin width).
WITH
binning AS (
    SELECT 15.0::DOUBLE AS lo, 250.0::DOUBLE AS hi, 100 AS nbins, (hi - lo) / nbins AS w
),
events AS (
    -- every light lepton, electrons first then muons, with its flavour,
    -- charge and four-vector: px = pt cos(phi), py = pt sin(phi),
    -- pz = pt sinh(eta), E = sqrt((pt cosh(eta))^2 + m^2)
    SELECT MET_pt::DOUBLE AS met, MET_phi::DOUBLE AS met_phi,
           list_concat(
               list_transform(Electron_pt::DOUBLE[], lambda pt, i: {
                   'flavour': 'e', 'charge': Electron_charge[i], 'pt': pt, 'phi': Electron_phi[i]::DOUBLE,
                   'px': pt * cos(Electron_phi[i]::DOUBLE),
                   'py': pt * sin(Electron_phi[i]::DOUBLE),
                   'pz': pt * sinh(Electron_eta[i]::DOUBLE),
                   'e':  sqrt((pt * cosh(Electron_eta[i]::DOUBLE)) * (pt * cosh(Electron_eta[i]::DOUBLE))
                              + Electron_mass[i]::DOUBLE * Electron_mass[i]::DOUBLE)
               }),
               list_transform(Muon_pt::DOUBLE[], lambda pt, i: {
                   'flavour': 'mu', 'charge': Muon_charge[i], 'pt': pt, 'phi': Muon_phi[i]::DOUBLE,
                   'px': pt * cos(Muon_phi[i]::DOUBLE),
                   'py': pt * sin(Muon_phi[i]::DOUBLE),
                   'pz': pt * sinh(Muon_eta[i]::DOUBLE),
                   'e':  sqrt((pt * cosh(Muon_eta[i]::DOUBLE)) * (pt * cosh(Muon_eta[i]::DOUBLE))
                              + Muon_mass[i]::DOUBLE * Muon_mass[i]::DOUBLE)
               })) AS lep
    FROM read_root('${input}')
    WHERE len(Electron_pt) + len(Muon_pt) >= 3
),
pairs AS (
    -- summed four-vector of every SFOS pair i < j
    SELECT met, met_phi, lep,
           flatten(list_transform(range(1, len(lep) + 1), lambda i:
               list_transform(
                   list_filter(range(i + 1, len(lep) + 1), lambda j:
                       lep[i].flavour = lep[j].flavour AND lep[i].charge * lep[j].charge < 0),
                   lambda j: {
                       'i': i, 'j': j,
                       'px': lep[i].px + lep[j].px,
                       'py': lep[i].py + lep[j].py,
                       'pz': lep[i].pz + lep[j].pz,
                       'e':  lep[i].e + lep[j].e
                   }))) AS sfos
    FROM events
),
best_pair AS (
    -- the SFOS pair whose mass sqrt(E^2 - p^2) is closest to 91.2 GeV;
    -- list_min compares the structs field by field, so on a tie the first
    -- pair (lowest i, then j) wins
    SELECT met, met_phi, lep,
           list_min(list_transform(sfos, lambda s: {
               'dist': abs(sqrt(greatest(s.e * s.e - s.px * s.px - s.py * s.py - s.pz * s.pz, 0)) - 91.2),
               'i': s.i, 'j': s.j
           })) AS z
    FROM pairs
    WHERE len(sfos) > 0
),
third AS (
    -- the highest-pt lepton outside the pair (the first one on a tie)
    SELECT met, met_phi,
           lep[list_min(list_transform(
               list_filter(range(1, len(lep) + 1), lambda k: k != z.i AND k != z.j),
               lambda k: {'neg_pt': -lep[k].pt, 'k': k})).k] AS l
    FROM best_pair
),
vals AS (
    SELECT sqrt(2 * l.pt * met * (1 - cos(l.phi - met_phi))) AS v FROM third
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
