// Runs SQL in a stock DuckDB (the library @duckdb/node-api ships) after
// LOADing hepsql.duckdb_extension into it: the peer that package extension's
// tests and bench/cmd/extbench compare hepsql's embedded engine with.
//
// stdin: {"extension": PATH, "package": "duckdb-1.5.5" (default @duckdb/node-api), "threads": N (0: DuckDB's default), "runs": N,
//         "queries": [{"name": "q1", "statements": ["SQL", ...]}, ...]}
// stdout: {"duckdb": "v1.5.6", "load_error": "...", "results": [{"name", "columns", "rows", "ms", "error"}]}
// load_error: why LOAD failed (then no query runs);
// rows: the last statement's rows, as @duckdb/node-api's getRowsJson gives
// them (BIGINT as strings, DOUBLE as numbers); ms: the wall time of each run
// of all the query's statements, from the first statement's start to the
// last row read; cpu_ms: the process's CPU time (user + system, every
// thread) during each run; error: the message of a statement that failed (the query
// stops there, the next one runs).
import { readFileSync } from 'node:fs';

const req = JSON.parse(readFileSync(0, 'utf8'));
const { DuckDBInstance } = await import(req.package || '@duckdb/node-api');
const config = { allow_unsigned_extensions: 'true' };
if (req.threads) config.threads = String(req.threads);
const instance = await DuckDBInstance.create(':memory:', config);
const conn = await instance.connect();
try {
	await conn.run(`LOAD '${req.extension.replaceAll("'", "''")}'`);
} catch (e) {
	const duckdb = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];
	process.stdout.write(JSON.stringify({ duckdb, load_error: String(e.message || e), results: [] }));
	process.exit(0);
}
const version = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];
const results = [];
for (const q of req.queries) {
	const ms = [], cpu_ms = [];
	let columns = [], rows = [], error;
	try {
		for (let run = 0; run < (req.runs || 1); run++) {
			const t0 = performance.now(), c0 = process.cpuUsage();
			for (const sql of q.statements) {
				const reader = await conn.runAndReadAll(sql);
				if (reader.columnCount > 0) {
					columns = reader.columnNames();
					rows = reader.getRowsJson();
				}
			}
			ms.push(performance.now() - t0);
			const c = process.cpuUsage(c0);
			cpu_ms.push((c.user + c.system) / 1000);
		}
	} catch (e) {
		error = String(e.message || e);
	}
	results.push({ name: q.name, columns, rows, ms, cpu_ms, error });
}
process.stdout.write(JSON.stringify({ duckdb: version, results }));
