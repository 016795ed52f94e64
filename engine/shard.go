package engine

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/hepsql/hepsql/rootscan"
)

// ShardSetting is the DSN parameter that makes a database one shard of a
// sharded run: "?shard=K/N" (0 <= K < N). Every read_root of the database
// then reads only its part K of N of its sources (rootscan.Shard says how
// they are split). It is hepsql's, not DuckDB's: takeShard removes it from
// the DSN before DuckDB sees it. Whatever starts the process sets it:
// `hepsql run --shard K/N`, a Slurm array task through that flag, an MPI
// rank with "?shard=RANK/SIZE".
const ShardSetting = "shard"

// takeShard removes the shard setting from dsn and parses it.
func takeShard(dsn string) (string, rootscan.Shard, error) {
	base, query, ok := strings.Cut(dsn, "?")
	if !ok {
		return dsn, rootscan.Shard{}, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", rootscan.Shard{}, fmt.Errorf("hepsql: bad settings in %q: %w", dsn, err)
	}
	v, ok := q[ShardSetting]
	if !ok {
		return dsn, rootscan.Shard{}, nil
	}
	if len(v) != 1 {
		return "", rootscan.Shard{}, fmt.Errorf("hepsql: setting %q in %q needs exactly one value", ShardSetting, dsn)
	}
	shard, err := rootscan.ParseShard(v[0])
	if err != nil {
		return "", rootscan.Shard{}, fmt.Errorf("hepsql: %q: %w", dsn, err)
	}
	q.Del(ShardSetting)
	if len(q) == 0 {
		return base, shard, nil
	}
	return base + "?" + q.Encode(), shard, nil
}

// Declares reports whether pipeline source src declares parameter name
// ("-- @param NAME = ..."): `hepsql run --shard K/N` sets ${shard} and
// ${shards} only in files that declare them, as --set may only set
// declared parameters.
func Declares(src, name string) bool {
	for _, c := range scanSQL(src).lineCmts {
		d := paramDecl.FindStringSubmatch(trimRight(src[c.start:c.end]))
		if d == nil {
			continue
		}
		if b := paramBody.FindStringSubmatch(d[1]); b != nil && b[1] == name {
			return true
		}
	}
	return false
}
