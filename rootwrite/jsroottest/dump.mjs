// Reads a ROOT file with jsroot, an independent reader (JavaScript, CERN's
// own), and prints what it read as JSON on stdout, for rootwrite's tests.
//
//   node dump.mjs OUT FILE tree TREE BRANCH...   {"entries": N, "rows": [{branch: value, ...}, ...]}
//   node dump.mjs OUT FILE hist NAME...          {NAME: {"class", "nbins", "edges", "array", "sumw2", "entries"}, ...}
//   node dump.mjs OUT FILE rntuple NAME FIELD... {"entries": N, "rows": [{field: value, ...}, ...]}
//
// The JSON goes to the file OUT (jsroot logs its warnings on stdout).
// Values are printed as jsroot gives them: numbers (64-bit integers beyond
// 2^53 lose precision, which the test avoids), booleans as jsroot reads
// them, jagged and fixed arrays as arrays.
import { writeFileSync } from 'node:fs';
import { openFile } from 'jsroot';
import { treeProcess, TSelector } from 'jsroot/tree';
import { rntupleProcess } from 'jsroot/rntuple';

const [outFile, file, mode, ...args] = process.argv.slice(2);
const f = await openFile(file);
const plain = v => (v !== null && typeof v === 'object' && typeof v.length === 'number') ? Array.from(v, plain) : (typeof v === 'bigint' ? Number(v) : v);

if (mode === 'tree') {
	const [treeName, ...branches] = args;
	const tree = await f.readObject(treeName);
	const sel = new TSelector();
	for (const b of branches)
		sel.addBranch(b, b);
	const rows = [];
	sel.Process = function() {
		const row = {};
		for (const b of branches)
			row[b] = plain(this.tgtobj[b]);
		rows.push(row);
	};
	await treeProcess(tree, sel);
	writeFileSync(outFile, JSON.stringify({ entries: Number(tree.fEntries), rows }));
} else if (mode === 'rntuple') {
	const [name, ...fields] = args;
	const nt = await f.readObject(name);
	const sel = new TSelector();
	for (const b of fields)
		sel.addBranch(b, b);
	const rows = [];
	sel.Process = function() {
		const row = {};
		for (const b of fields)
			row[b] = plain(this.tgtobj[b]);
		rows.push(row);
	};
	await rntupleProcess(nt, sel);
	writeFileSync(outFile, JSON.stringify({ entries: rows.length, rows }));
} else if (mode === 'hist') {
	const out = {};
	for (const name of args) {
		const h = await f.readObject(name);
		const ax = h.fXaxis;
		out[name] = { class: h._typename, nbins: ax.fNbins, edges: plain(ax.fXbins), xmin: ax.fXmin, xmax: ax.fXmax,
			array: plain(h.fArray), sumw2: plain(h.fSumw2), entries: h.fEntries, tsumw: h.fTsumw, tsumw2: h.fTsumw2 };
	}
	writeFileSync(outFile, JSON.stringify(out));
} else {
	console.error('usage: node dump.mjs OUT FILE tree TREE BRANCH... | FILE hist NAME... | FILE rntuple NAME FIELD...');
	process.exit(2);
}
