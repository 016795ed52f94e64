-- @param out = out/adl
-- @param shards = 1
--
-- Merges the parts shard.sql wrote: a bin's count is the sum of its counts
-- in the parts, so the result equals the one-process queries' exactly.
-- Writes ${out}/adl.parquet, (query, x, y) by query and x, and prints the
-- entries per query.

-- Never merge partial input: every part 0 … ${shards}-1 must be there
-- (a shard writes its part only once it has succeeded).
SELECT count(*) AS parts,
       CASE WHEN count(*) <> ${shards} THEN
           error(format('merge: {} of the ${shards} parts in ${out} (part-0 … part-{}.parquet): a shard has not finished; rerun it, then merge',
                        count(*), ${shards} - 1))
       END AS missing
FROM glob('${out}/part-*.parquet')
WHERE regexp_extract(file, 'part-(\d+)\.parquet$', 1)::INTEGER < ${shards};

COPY (
    SELECT query, x, sum(y)::BIGINT AS y
    FROM read_parquet('${out}/part-*.parquet', filename := true)
    WHERE regexp_extract(filename, 'part-(\d+)\.parquet$', 1)::INTEGER < ${shards} -- not a stale part of a wider run
    GROUP BY query, x ORDER BY query, x
) TO '${out}/adl.parquet' (FORMAT parquet, USE_TMP_FILE true);

SELECT query, sum(y) AS entries, count(*) AS bins
FROM read_parquet('${out}/adl.parquet') GROUP BY query ORDER BY query;
