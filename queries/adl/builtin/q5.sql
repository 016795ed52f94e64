-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q5: missing transverse momentum of the events holding at least one
-- opposite-charge muon pair with invariant mass between 60 and 120 GeV
-- (a Z -> mu mu candidate); each event counts once.
-- Histogram 0-2000 GeV, 100 bins.
-- Output: x = bin centre, y = count, one row per non-empty bin, ascending x;
-- values below lo share one underflow row at lo - w/2, values >= hi (the
-- upper edge is exclusive) one overflow row at hi + w/2 (w = bin width).
WITH
binning AS (
    SELECT 0.0::DOUBLE AS lo, 2000.0::DOUBLE AS hi, 100 AS nbins, (hi - lo) / nbins AS w
),
events AS (
    SELECT MET_pt::DOUBLE AS met,
           Muon_pt::DOUBLE[] AS pt, Muon_eta::DOUBLE[] AS eta, Muon_phi::DOUBLE[] AS phi,
           Muon_mass::DOUBLE[] AS mass, Muon_charge AS charge
    FROM read_root('${input}')
),
muons AS (
    -- four-vector of every muon: px = pt cos(phi), py = pt sin(phi),
    -- pz = pt sinh(eta), E = sqrt((pt cosh(eta))^2 + m^2)
    SELECT met, charge,
           list_transform(pt, lambda p, i: {
               'px': p * cos(phi[i]),
               'py': p * sin(phi[i]),
               'pz': p * sinh(eta[i]),
               'e':  sqrt((p * cosh(eta[i])) * (p * cosh(eta[i])) + mass[i] * mass[i])
           }) AS mu
    FROM events
),
pairs AS (
    -- summed four-vector of every opposite-charge pair i < j
    SELECT met,
           flatten(list_transform(range(1, len(mu) + 1), lambda i:
               list_transform(
                   list_filter(range(i + 1, len(mu) + 1), lambda j: charge[i] * charge[j] < 0),
                   lambda j: {
                       'px': mu[i].px + mu[j].px,
                       'py': mu[i].py + mu[j].py,
                       'pz': mu[i].pz + mu[j].pz,
                       'e':  mu[i].e + mu[j].e
                   }))) AS dimuons
    FROM muons
),
vals AS (
    -- invariant mass sqrt(E^2 - p^2); the square can only be negative
    -- through rounding and DuckDB's sqrt rejects it, hence greatest(., 0)
    SELECT met AS v
    FROM pairs
    WHERE len(list_filter(dimuons, lambda s:
              sqrt(greatest(s.e * s.e - s.px * s.px - s.py * s.py - s.pz * s.pz, 0)) > 60
              AND sqrt(greatest(s.e * s.e - s.px * s.px - s.py * s.py - s.pz * s.pz, 0)) < 120)) > 0
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
