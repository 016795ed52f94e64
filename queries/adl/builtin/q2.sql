-- @param input = ../shared/data/Run2012B_SingleMu_10000.root
-- ADL Q2: transverse momentum (Jet_pt) of every jet.
-- Histogram 15-60 GeV, 100 bins.
-- Output: x = bin centre, y = count, one row per non-empty bin, ascending x;
-- values below lo share one underflow row at lo - w/2, values >= hi (the
-- upper edge is exclusive) one overflow row at hi + w/2 (w = bin width).
WITH
binning AS (
    SELECT 15.0::DOUBLE AS lo, 60.0::DOUBLE AS hi, 100 AS nbins, (hi - lo) / nbins AS w
),
vals AS (
    -- one row per jet
    SELECT unnest(Jet_pt)::DOUBLE AS v
    FROM read_root('${input}')
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
