-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q6-1: in events with at least three jets, take the trijet (three
-- distinct jets) whose summed four-vector has the invariant mass closest to
-- 172.5 GeV (the top-quark mass) and histogram its transverse momentum.
-- Histogram 15-40 GeV, 100 bins.
-- Output: x = bin centre, y = count, one row per non-empty bin, ascending x;
-- values below lo share one underflow row at lo - w/2, values >= hi (the
-- upper edge is exclusive) one overflow row at hi + w/2 (w = bin width).
WITH
binning AS (
    SELECT 15.0::DOUBLE AS lo, 40.0::DOUBLE AS hi, 100 AS nbins, (hi - lo) / nbins AS w
),
events AS (
    SELECT Jet_pt::DOUBLE[] AS pt, Jet_eta::DOUBLE[] AS eta, Jet_phi::DOUBLE[] AS phi,
           Jet_mass::DOUBLE[] AS mass, Jet_btag::DOUBLE[] AS btag
    FROM read_root('${input}')
    WHERE len(Jet_pt) >= 3
),
jets AS (
    -- four-vector of every jet: px = pt cos(phi), py = pt sin(phi),
    -- pz = pt sinh(eta), E = sqrt((pt cosh(eta))^2 + m^2)
    SELECT btag,
           list_transform(pt, lambda p, i: {
               'px': p * cos(phi[i]),
               'py': p * sin(phi[i]),
               'pz': p * sinh(eta[i]),
               'e':  sqrt((p * cosh(eta[i])) * (p * cosh(eta[i])) + mass[i] * mass[i])
           }) AS jet
    FROM events
),
trijets AS (
    -- summed four-vector of every trijet i < j < k
    SELECT btag,
           flatten(flatten(
               list_transform(range(1, len(jet) + 1), lambda i:
               list_transform(range(i + 1, len(jet) + 1), lambda j:
               list_transform(range(j + 1, len(jet) + 1), lambda k: {
                   'i': i, 'j': j, 'k': k,
                   'px': jet[i].px + jet[j].px + jet[k].px,
                   'py': jet[i].py + jet[j].py + jet[k].py,
                   'pz': jet[i].pz + jet[j].pz + jet[k].pz,
                   'e':  jet[i].e + jet[j].e + jet[k].e
               }))))) AS candidates
    FROM jets
),
best AS (
    -- the trijet whose mass sqrt(E^2 - p^2) is closest to 172.5 GeV:
    -- list_min compares the structs field by field, so on a tie in distance
    -- the first trijet (lowest i, then j, then k) wins
    SELECT btag,
           list_min(list_transform(candidates, lambda c: {
               'dist': abs(sqrt(greatest(c.e * c.e - c.px * c.px - c.py * c.py - c.pz * c.pz, 0)) - 172.5),
               'i': c.i, 'j': c.j, 'k': c.k,
               'px': c.px, 'py': c.py
           })) AS t
    FROM trijets
),
vals AS (
    SELECT sqrt(t.px * t.px + t.py * t.py) AS v FROM best
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
