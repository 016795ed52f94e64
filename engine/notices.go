package engine

import (
	"database/sql"
	"runtime"
	"sync"
	"weak"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/hepsql/hepsql/rootscan"
)

// connNotes maps each DuckDB connection a Connector opened to its
// database's notes. Keys are weak, and an entry goes when its connection is
// collected, so the map never keeps a closed connection alive.
var connNotes sync.Map // weak.Pointer[duckdb.Conn] → *rootscan.Notes

func rememberNotes(c *duckdb.Conn, notes *rootscan.Notes) {
	k := weak.Make(c)
	connNotes.Store(k, notes)
	runtime.AddCleanup(c, func(k weak.Pointer[duckdb.Conn]) { connNotes.Delete(k) }, k)
}

// notesOf returns the notes of conn's database and conn's DuckDB id; notes
// is nil when conn is not a hepsql connection.
func notesOf(conn *sql.Conn) (notes *rootscan.Notes, id uint64) {
	_ = conn.Raw(func(dc any) error {
		if d, ok := dc.(*duckdb.Conn); ok {
			if v, ok := connNotes.Load(weak.Make(d)); ok {
				notes = v.(*rootscan.Notes)
			}
		}
		return nil
	})
	if notes == nil {
		return nil, 0
	}
	id, err := duckdb.ConnId(conn)
	if err != nil {
		return nil, 0
	}
	return notes, id
}

// Notices returns what the engine has to tell about the statements run on
// conn since the last call (today: the unsupported ROOT branches read_root
// left out of its tables), one line each, and forgets them. When err is the
// error of the last of those statements, it comes back explained where the
// engine can do better than DuckDB: a query naming an unsupported branch
// gets a *rootscan.UnsupportedColumnError naming the branch, its ROOT type
// and why it cannot be read (and then no notice repeats it). RunStatement
// calls it for every statement; programs using database/sql directly may
// call it after theirs, on the same *sql.Conn.
func Notices(conn *sql.Conn, err error) ([]string, error) {
	notes, id := notesOf(conn)
	if notes == nil {
		return nil, err
	}
	left := notes.Take(id)
	if err != nil {
		if explained := rootscan.Explain(err, left); explained != err {
			return nil, explained
		}
	}
	var out []string
	for _, l := range left {
		out = append(out, l.Notice())
	}
	return out, err
}
