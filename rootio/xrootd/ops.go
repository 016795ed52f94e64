package xrootd

import "fmt"

// The requests hepsql makes of a server, on a session. Each returns the
// server's refusal as a *ServerError, a redirection as a *redirect, and
// anything wrong with the connection wrapped in errLost.

// open opens path for reading and returns its handle and, when the server
// sends it along (kXR_retstat), its stat.
func (s *session) open(w wait, path string) ([4]byte, *Stat, error) {
	what := "opening " + path
	body, err := s.exchange(w, what, reqOpen, openParams(), []byte(path), nil)
	if err != nil {
		return [4]byte{}, nil, err
	}
	h, st, err := parseOpen(body)
	if err != nil {
		s.fail(fmt.Errorf("from %s: %s: %w: %w", s.addr, what, errMalformed, err))
		return h, nil, s.lost()
	}
	return h, st, nil
}

// stat returns path's stat.
func (s *session) stat(w wait, path string) (Stat, error) {
	what := "stat " + path
	body, err := s.exchange(w, what, reqStat, statParams(), []byte(path), nil)
	if err != nil {
		return Stat{}, err
	}
	st, err := parseStat(body)
	if err != nil {
		s.fail(fmt.Errorf("from %s: %s: %w: %w", s.addr, what, errMalformed, err))
		return Stat{}, s.lost()
	}
	return st, nil
}

// dirlist lists the folder path, with each entry's stat.
func (s *session) dirlist(w wait, path string) ([]Entry, error) {
	what := "listing " + path
	body, err := s.exchange(w, what, reqDirlist, dirlistParams(), []byte(path), nil)
	if err != nil {
		return nil, err
	}
	es, err := parseDirlist(body)
	if err != nil {
		s.fail(fmt.Errorf("from %s: %s: %w: %w", s.addr, what, errMalformed, err))
		return nil, s.lost()
	}
	return es, nil
}

// maxReadRequest bounds the bytes one kXR_read asks for; a longer read is
// split. The server answers each in kXR_oksofar frames of its own size.
const maxReadRequest = 16 << 20

// read reads len(p) bytes at off into p, or fewer at the file's end, and
// returns how many. p is written only until read returns.
func (s *session) read(w wait, h [4]byte, off int64, p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		n := min(len(p), maxReadRequest)
		got, _, err := s.exchangeN(w, fmt.Sprintf("reading %d bytes at offset %d", n, off), reqRead, readParams(h, off, int32(n)), nil, p[:n])
		total += got
		if err != nil {
			return total, err
		}
		if got < n {
			break // the file's end
		}
		p, off = p[n:], off+int64(n)
	}
	return total, nil
}

// closeFile closes a handle.
func (s *session) closeFile(w wait, h [4]byte) error {
	_, err := s.exchange(w, "closing", reqClose, closeParams(h), nil, nil)
	return err
}

// ping checks that the server answers.
func (s *session) ping(w wait) error {
	_, err := s.exchange(w, "ping", reqPing, [16]byte{}, nil, nil)
	return err
}
