-- @param out = out/topology
-- @param bins = 10
-- @param features = ${out}/features.parquet
--
-- Topology classifier, step 3 of 3: a summary of ${out} after 1-features.sql
-- and 2-prepare.sql: events per class after each step, then each high-level
-- feature's distribution per class (selected events, unscaled), in ${bins}
-- equal bins between the feature's minimum and maximum.

-- Events per class: generated, selected (isolated lepton), kept after
-- undersampling, and in the training and test sets.
WITH generated AS (SELECT label, events FROM read_parquet('${out}/generated.parquet')),
     selected AS (SELECT label, count(*) AS n FROM read_parquet('${features}') GROUP BY label),
     train AS (SELECT label, count(*) AS n FROM read_parquet('${out}/train.parquet') GROUP BY label),
     test AS (SELECT label, count(*) AS n FROM read_parquet('${out}/test.parquet') GROUP BY label)
SELECT l.label, l.class,
       coalesce(g.events, 0) AS generated,
       coalesce(s.n, 0) AS selected,
       round(100.0 * coalesce(s.n, 0) / nullif(g.events, 0), 1) AS "selected %",
       coalesce(tr.n, 0) + coalesce(te.n, 0) AS undersampled,
       coalesce(tr.n, 0) AS train,
       coalesce(te.n, 0) AS test
FROM (VALUES (0, 'qcd'), (1, 'ttbar'), (2, 'wjets')) l(label, class)
LEFT JOIN generated g USING (label) LEFT JOIN selected s USING (label)
LEFT JOIN train tr USING (label) LEFT JOIN test te USING (label)
ORDER BY l.label;

-- Feature distributions per class: one row per feature and bin, the share
-- of each class's selected events in the bin, with a bar per class.
WITH long AS (
    UNPIVOT (SELECT class, hlf.* FROM read_parquet('${features}'))
    ON COLUMNS(* EXCLUDE class) INTO NAME feature VALUE x
),
ranges AS (SELECT feature, min(x) AS lo, max(x) AS hi FROM long GROUP BY feature),
binned AS (
    SELECT feature, class,
           least(${bins} - 1, floor((x - lo) / nullif(hi - lo, 0) * ${bins}))::INT AS bin, lo, hi
    FROM long JOIN ranges USING (feature)
),
counts AS (
    SELECT feature, coalesce(bin, 0) AS bin, class, any_value(lo) AS lo, any_value(hi) AS hi, count(*) AS n
    FROM binned GROUP BY ALL
),
shares AS (
    SELECT feature, bin, any_value(lo) AS lo, any_value(hi) AS hi,
           coalesce(sum(n / total) FILTER (class = 'qcd'), 0) AS qcd,
           coalesce(sum(n / total) FILTER (class = 'ttbar'), 0) AS ttbar,
           coalesce(sum(n / total) FILTER (class = 'wjets'), 0) AS wjets
    FROM (SELECT *, sum(n) OVER (PARTITION BY feature, class) AS total FROM counts)
    GROUP BY feature, bin
)
SELECT feature,
       round(lo + (hi - lo) * bin / ${bins}, 3) AS from_value,
       round(qcd, 3) AS qcd, round(ttbar, 3) AS ttbar, round(wjets, 3) AS wjets,
       bar(qcd, 0, 1, 12) AS qcd_bar, bar(ttbar, 0, 1, 12) AS ttbar_bar, bar(wjets, 0, 1, 12) AS wjets_bar
FROM shares
ORDER BY array_position(['ht', 'met', 'met_phi', 'mt', 'n_jets', 'n_bjets', 'lep_pt', 'lep_eta', 'lep_phi',
                         'lep_ch_iso', 'lep_gamma_iso', 'lep_neu_iso', 'lep_charge', 'is_electron'], feature), bin;
