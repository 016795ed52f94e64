// Reads a ROOT file with jsroot, an independent reader (JavaScript, CERN's
// own), and writes what it read as JSON, for the tests and tools that check
// hepsql against it (rootwrite's read-back tests, bench/cmd/rootsweep).
//
//   node dump.mjs OUT FILE tree TREE BRANCH...   {"entries": N, "rows": [{branch: value, ...}, ...]}
//   node dump.mjs OUT FILE hist NAME...          {NAME: {"class", "nbins", "edges", "array", "sumw2", "entries"}, ...}
//   node dump.mjs OUT FILE trees                 [{"path", "class", "entries", "branches": [name...], "error"}, ...]
//   node dump.mjs OUT FILE values TREE N BRANCH... {"entries": N, "branches": {BRANCH: {"values": [...]} | {"error": "..."}}}
//   node dump.mjs OUT FILE rntuple NAME FIELD...  {"entries": N, "rows": [{field: value, ...}, ...]}
//
// The JSON goes to the file OUT (jsroot logs its warnings on stdout).
// In tree mode values are printed as jsroot gives them: numbers (64-bit
// integers beyond 2^53 lose precision, which rootwrite's test avoids),
// booleans as jsroot reads them, jagged and fixed arrays as arrays.
// trees mode walks every directory; a tree jsroot cannot read carries its
// error. values mode reads the first N entries of each branch exactly (see
// exact): all branches in one pass, and when that pass fails each branch on
// its own, so that one branch jsroot cannot read does not hide the others.
import { writeFileSync } from 'node:fs';
import { openFile } from 'jsroot';
import { treeProcess, TSelector } from 'jsroot/tree';
import { rntupleProcess } from 'jsroot/rntuple';

const [outFile, file, mode, ...args] = process.argv.slice(2);
const f = await openFile(file);
// exact writes a value so that nothing is lost in JSON: 64-bit integers as
// {"$i": "digits"}, NaN and infinities as {"$f": "NaN"}, arrays (typed or
// not) as arrays, objects as their fields without jsroot's own (_typename).
// A float32 read by jsroot is a double holding the float exactly, and JSON
// prints the shortest form that reads back to that double.
const exact = v => {
	if (typeof v === 'bigint')
		return { $i: v.toString() };
	if (typeof v === 'number')
		return Number.isFinite(v) ? v : { $f: String(v) };
	if (v === null || typeof v !== 'object')
		return v;
	if (typeof v.length === 'number' && typeof v !== 'string')
		return Array.from(v, exact);
	const o = {};
	for (const [k, x] of Object.entries(v))
		if (!k.startsWith('_') && typeof x !== 'function')
			o[k] = exact(x);
	return o;
};
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
} else if (mode === 'trees') {
	const out = [];
	const walk = async (dir, prefix, seen) => {
		const names = new Set();
		for (const k of dir.fKeys ?? []) {
			const path = prefix + k.fName;
			if (names.has(k.fName))
				continue; // older cycles of one name: ROOT reads the highest
			names.add(k.fName);
			if (k.fClassName === 'TDirectory' || k.fClassName === 'TDirectoryFile') {
				if (seen.has(path))
					continue;
				seen.add(path);
				try {
					await walk(await f.readDirectory(path), path + '/', seen);
				} catch (e) {
					out.push({ path, class: k.fClassName, error: String(e) });
				}
			} else if (['TTree', 'TNtuple', 'TNtupleD'].includes(k.fClassName)) {
				try {
					const t = await f.readObject(path);
					const branches = [];
					const list = (bs, pre) => {
						for (const b of bs?.arr ?? []) {
							branches.push(b.fName);
							list(b.fBranches);
						}
					};
					list(t.fBranches);
					out.push({ path, class: k.fClassName, entries: Number(t.fEntries), branches });
				} catch (e) {
					out.push({ path, class: k.fClassName, error: String(e) });
				}
			}
		}
	};
	await walk(f, '', new Set());
	writeFileSync(outFile, JSON.stringify(out));
} else if (mode === 'values') {
	const [treeName, nstr, ...branches] = args;
	const n = Number(nstr);
	const tree = await f.readObject(treeName);
	// jsroot reports a member it has no streamer for on the console and
	// reads on, giving placeholders ({This: null}): such a read is a
	// failure too.
	const warned = [];
	for (const k of ['log', 'warn', 'error'])
		console[k] = (...a) => warned.push(a.join(' '));
	const read = async names => {
		warned.length = 0;
		const sel = new TSelector();
		const vals = names.map(() => []);
		names.forEach((b, i) => sel.addBranch(b, 'b' + i));
		sel.Process = function() {
			names.forEach((b, i) => vals[i].push(exact(this.tgtobj['b' + i])));
		};
		const want = Math.min(n, Number(tree.fEntries));
		await treeProcess(tree, sel, { numentries: want });
		// jsroot may stop early without an error (baskets it cannot
		// place): a short read is a failure, not values to compare.
		if (vals.some(v => v.length !== want))
			throw new Error(`jsroot read ${vals[0]?.length} of ${want} entries`);
		const streamer = warned.find(w => w.includes('streamer'));
		if (streamer)
			throw new Error(streamer);
		// Without a streamer for an STL member jsroot gives {This: null}
		// (and warns only the first time it meets the type).
		names.forEach((b, i) => {
			const v = vals[i][0];
			if (v !== null && typeof v === 'object' && 'This' in v && v.This === null)
				throw new Error(`jsroot has no streamer for branch ${b}`);
		});
		return vals;
	};
	const out = {};
	try {
		const vals = await read(branches);
		branches.forEach((b, i) => { out[b] = { values: vals[i] }; });
	} catch {
		for (const b of branches) {
			try {
				out[b] = { values: (await read([b]))[0] };
			} catch (e) {
				out[b] = { error: String(e) };
			}
		}
	}
	writeFileSync(outFile, JSON.stringify({ entries: Number(tree.fEntries), branches: out }));
} else {
	console.error('usage: node dump.mjs OUT FILE tree TREE BRANCH... | hist NAME... | trees | values TREE N BRANCH... | rntuple NAME FIELD...');
	process.exit(2);
}
