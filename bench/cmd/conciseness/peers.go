package main

// The peers' files are not copied here (their text is theirs); only their
// counts are, made by measure over the files fetched from the commit below.
// `conciseness -peers DIR` recounts them from such a fetch and fails on any
// difference, so the numbers can be checked by anyone with a clone:
//
//	git clone https://github.com/RumbleDB/hep-iris-benchmark-scripts DIR
//	git -C DIR checkout d563eba2d3e7bfc8d8a7bff327fd6859c47c4389
//
// That commit is the paper artefact of Graur et al., "Evaluating Query
// Languages and Systems for High-Energy Physics Data" (PVLDB 15(2), 2022),
// with its git submodules inlined: bigquery/queries is
// RumbleDB/iris-hep-benchmark-bigquery, presto/queries is
// RumbleDB/iris-hep-benchmark-presto and rdataframes/queries is
// masonproffitt/opendata-benchmarks, the fork of the RDataFrame
// implementation (stwunsch/opendata-benchmarks, now
// root-project/opendata-benchmarks) linked from iris-hep/adl-benchmarks-index.
// Taking all three from one commit compares the versions the paper ran side
// by side, rather than whichever version of each file is newest.
const (
	peerRepo   = "RumbleDB/hep-iris-benchmark-scripts"
	peerCommit = "d563eba2d3e7bfc8d8a7bff327fd6859c47c4389"
)

// The table's rows: the ADL benchmark's queries, Q6 in its two parts as
// every implementation here writes it.
var queries = []string{"Q1", "Q2", "Q3", "Q4", "Q5", "Q6-1", "Q6-2", "Q7", "Q8"}

// helpers marks a peer file that defines functions shared by its queries.
const helpers = "helpers"

const (
	bigQuery   = "BigQuery"
	presto     = "Presto"
	rdataframe = "RDataFrame"
)

// peerFile is one counted file of a peer: its size as a whole and, for the
// RDataFrame macros, without the lines that only draw the histogram.
type peerFile struct {
	system string
	query  string // one of queries, helpers, or "Q6" for a macro of both parts
	path   string // in peerRepo at peerCommit
	whole  size
	noDraw size
}

var peerFiles = []peerFile{
	{bigQuery, "Q1", "bigquery/queries/queries/query-1/query.sql", size{6, 118}, size{6, 118}},
	{bigQuery, "Q2", "bigquery/queries/queries/query-2/query.sql", size{7, 142}, size{7, 142}},
	{bigQuery, "Q3", "bigquery/queries/queries/query-3/query.sql", size{8, 160}, size{8, 160}},
	{bigQuery, "Q4", "bigquery/queries/queries/query-4/query.sql", size{7, 176}, size{7, 176}},
	{bigQuery, "Q5", "bigquery/queries/queries/query-5/query.sql", size{13, 374}, size{13, 374}},
	{bigQuery, "Q6-1", "bigquery/queries/queries/query-6-1/query.sql", size{21, 516}, size{21, 516}},
	{bigQuery, "Q6-2", "bigquery/queries/queries/query-6-2/query.sql", size{26, 641}, size{26, 641}},
	{bigQuery, "Q7", "bigquery/queries/queries/query-7/query.sql", size{24, 443}, size{24, 443}},
	{bigQuery, "Q8", "bigquery/queries/queries/query-8/query.sql", size{60, 1255}, size{60, 1255}},
	{bigQuery, helpers, "bigquery/queries/queries/common/functions.sql", size{69, 2910}, size{69, 2910}},

	{presto, "Q1", "presto/queries/queries/query-1/query.sql", size{6, 159}, size{6, 159}},
	{presto, "Q2", "presto/queries/queries/query-2/query.sql", size{7, 180}, size{7, 180}},
	{presto, "Q3", "presto/queries/queries/query-3/query.sql", size{8, 198}, size{8, 198}},
	{presto, "Q4", "presto/queries/queries/query-4/query.sql", size{7, 209}, size{7, 209}},
	{presto, "Q5", "presto/queries/queries/query-5/query.sql", size{23, 752}, size{23, 752}},
	{presto, "Q6-1", "presto/queries/queries/query-6-1/query.sql", size{53, 1547}, size{53, 1547}},
	{presto, "Q6-2", "presto/queries/queries/query-6-2/query.sql", size{53, 1566}, size{53, 1566}},
	{presto, "Q7", "presto/queries/queries/query-7/query.sql", size{22, 604}, size{22, 604}},
	{presto, "Q8", "presto/queries/queries/query-8/query.sql", size{65, 1807}, size{65, 1807}},
	{presto, helpers, "presto/queries/queries/common/functions.sql", size{13, 431}, size{13, 431}},

	{rdataframe, "Q1", "rdataframes/queries/macros/benchmark1.C", size{11, 422}, size{7, 354}},
	{rdataframe, "Q2", "rdataframes/queries/macros/benchmark2.C", size{11, 427}, size{7, 359}},
	{rdataframe, "Q3", "rdataframes/queries/macros/benchmark3.C", size{12, 480}, size{8, 412}},
	{rdataframe, "Q4", "rdataframes/queries/macros/benchmark4.C", size{12, 454}, size{8, 386}},
	{rdataframe, "Q5", "rdataframes/queries/macros/benchmark5.C", size{36, 1546}, size{32, 1478}},
	{rdataframe, "Q6-1", "rdataframes/queries/macros/benchmark6a.C", size{40, 1897}, size{36, 1827}},
	{rdataframe, "Q6-2", "rdataframes/queries/macros/benchmark6b.C", size{40, 2018}, size{36, 1948}},
	{rdataframe, "Q7", "rdataframes/queries/macros/benchmark7.C", size{43, 1861}, size{39, 1793}},
	{rdataframe, "Q8", "rdataframes/queries/macros/benchmark8.C", size{58, 3020}, size{54, 2952}},
	{rdataframe, "Q6", "rdataframes/queries/macros/benchmark6.C", size{46, 2208}, size{38, 2097}},
}
