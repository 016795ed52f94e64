-- @param out = out/topology
-- @param shards = 1
--
-- Merges the parts of sharded/1-features.sql into the outputs of the
-- one-process ../1-features.sql: ${out}/generated.parquet (counts add) and
-- ${out}/features.parquet (the parts' rows, by event id), which
-- ../2-prepare.sql then reads as usual.

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

COPY (
    SELECT * EXCLUDE (filename)
    FROM read_parquet('${out}/features-part-*.parquet', filename := true)
    WHERE regexp_extract(filename, '-part-(\d+)\.parquet$', 1)::INTEGER < ${shards}
    ORDER BY id
) TO '${out}/features.parquet' (FORMAT parquet, ROW_GROUP_SIZE 2048, USE_TMP_FILE true);

SELECT class, count(*) AS selected, round(avg(n_rows), 1) AS avg_particle_rows
FROM read_parquet('${out}/features.parquet')
GROUP BY class ORDER BY class;
