-- @param out = out/topology
-- @param shards = 1
--
-- The merge of sharded/1-features.sql for large runs: it checks the parts
-- and writes ${out}/generated.parquet (counts add), but leaves the features
-- in their parts, which ../2-prepare.sql and ../3-summary.sql then read in
-- place (--set features='${out}/features-part-*.parquet'). Concatenating
-- them into one file (merge.sql) is a single process rewriting every
-- feature row: at 54 M events, the serial part of the run (bench/README.md).

-- Never merge partial input: both parts of every shard 0 … ${shards}-1.
SELECT count(*) AS parts,
       CASE WHEN count(*) <> 2 * ${shards} THEN
           error(format('merge: {} of the {} part files in ${out} ((generated|features)-part-0 … {}.parquet): a shard has not finished; rerun it, then merge',
                        count(*), 2 * ${shards}, ${shards} - 1))
       END AS missing
FROM glob('${out}/*-part-*.parquet')
WHERE regexp_matches(file, '/(generated|features)-part-\d+\.parquet$')
  AND regexp_extract(file, '-part-(\d+)\.parquet$', 1)::INTEGER < ${shards};

COPY (
    SELECT label, class, sum(events)::BIGINT AS events
    FROM read_parquet('${out}/generated-part-*.parquet', filename := true)
    WHERE regexp_extract(filename, '-part-(\d+)\.parquet$', 1)::INTEGER < ${shards}
    GROUP BY label, class ORDER BY label
) TO '${out}/generated.parquet' (FORMAT parquet, USE_TMP_FILE true);
