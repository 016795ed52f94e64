package rootscan

import (
	"errors"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// Looking ahead in a remote chain.
//
// Over a network, each file of a chain costs round trips before its first
// entry can be decoded: opening it (which brings its size and time),
// reading its metadata unless cached, fetching its baskets. A thread that
// paid them on reaching the file would wait two round trips or more per
// file, 40 ms at 10 ms each way, where decoding a file of the CMS sample
// takes 2 to 15 ms. So a scan opens the files of a remote chain ahead of its
// threads, up to filesAhead past the last one a thread has claimed: each in
// its own goroutine, opened, checked and planned as a thread would, its
// first baskets asked of the server within the backend's look-ahead budget
// (bytes for all the files opened ahead together). The thread that reaches
// the file then finds it ready, its baskets fetched or on their way.
//
// Ownership: a file being opened ahead belongs to its goroutine until the
// goroutine publishes it (closing done, under the scan's lock), then to the
// scan (rootScan.ahead) until a thread claims it and moves it to
// rootScan.files. A thread may claim it before it is published, and then
// waits on done. An error met opening a file ahead is kept with it and
// becomes the query's only when a thread claims the file: a query that ends
// before a bad file never sees its error, and one that reaches it gets the
// error it would have got opening the file itself.
//
// Cancellation: rootScan.Close closes the published files nobody claimed;
// a goroutine still opening finds the scan closed when it is done and closes
// its file itself. Its waits on the server end with the query's
// cancellation (SourceOptions.Cancelled, which the files it opens carry),
// and otherwise within the source's timeout: a goroutine outlives a query
// that failed by at most the wait under way.

// filesAhead bounds the files a scan opens ahead of its threads, each of
// which holds a handle on its server until it is read. Sixteen hide two
// round trips of 20 ms behind files that take 2.5 ms each to decode.
const filesAhead = 16

// aheadFile is a file of a chain being opened ahead, then opened.
type aheadFile struct {
	done     chan struct{} // closed once sf or err is set
	sf       *scanFile
	err      error
	reserved int64 // basket bytes fetched for it, counted in rootScan.aheadBytes until claimed
}

// startAhead starts opening the remote files of the window after the last
// claimed file. Called with mu held.
func (s *rootScan) startAhead() {
	if s.closed || s.err != nil {
		return
	}
	s.aheadNext = max(s.aheadNext, s.claimed)
	for ; s.aheadNext < min(len(s.files), s.claimed+filesAhead); s.aheadNext++ {
		fi := s.aheadNext
		budget, ok := rfile.LookAheadBytes(s.t.names[fi], s.t.opts)
		if !ok {
			continue // local: opened by the thread that reaches it
		}
		a := &aheadFile{done: make(chan struct{})}
		s.ahead[fi] = a
		go s.openAhead(fi, a, budget)
	}
}

// openAhead opens file fi of the chain and fetches the baskets of its first
// units, as many as fit in what budget leaves, then publishes it in a.
func (s *rootScan) openAhead(fi int, a *aheadFile, budget int64) {
	sf, err := s.open(fi)
	var reserved int64
	if err == nil {
		if pf, ok := sf.f.r.File.(rfile.Prefetcher); ok {
			ranges := s.basketRanges(sf.f, sf.units)
			s.mu.Lock()
			n := 0
			for ; n < len(ranges) && !s.closed && s.aheadBytes+ranges[n].Len <= budget; n++ {
				s.aheadBytes += ranges[n].Len
				reserved += ranges[n].Len
			}
			s.mu.Unlock()
			if n > 0 {
				pf.Prefetch(ranges[:n])
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a.sf, a.err, a.reserved = sf, err, reserved
	close(a.done)
	if s.closed && s.ahead[fi] == a {
		// The scan closed while the file opened, and no thread claimed it.
		s.ahead[fi] = nil
		s.aheadBytes -= reserved
		if sf != nil {
			sf.f.Close()
		}
	}
}

// closeAhead closes the files opened ahead that no thread claimed. Called
// with mu held, once the scan is closed.
func (s *rootScan) closeAhead() error {
	var err error
	for i, a := range s.ahead {
		if a == nil {
			continue
		}
		select {
		case <-a.done:
			if a.sf != nil {
				err = errors.Join(err, a.sf.f.Close())
			}
			s.aheadBytes -= a.reserved
			s.ahead[i] = nil
		default:
			// Still opening: openAhead closes it.
		}
	}
	return err
}
