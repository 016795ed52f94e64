package xrootd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// The XRootD protocol (version 5), as far as reading files needs it. All
// integers are big-endian. A client opens a connection with a 20-byte
// handshake; then every request is a 24-byte header (stream id, request
// id, 16 bytes of parameters, body length) and its body, and every
// response an 8-byte header (stream id, status, body length) and its body.
// Responses to requests on different streams may interleave, whole frames
// at a time; a kXR_oksofar frame is followed by more frames for the same
// stream, up to a final one.
const (
	handshakeLen    = 20
	requestHeadLen  = 24
	responseHeadLen = 8

	// maxFrameBody bounds a response body: a larger length is taken for a
	// broken stream rather than allocated.
	maxFrameBody = 64 << 20

	// protocolVersion is the client's, sent in kXR_protocol: 5.0.0.
	protocolVersion = 0x500
)

// Request ids.
const (
	reqClose    = 3003
	reqDirlist  = 3004
	reqProtocol = 3006
	reqLogin    = 3007
	reqOpen     = 3010
	reqPing     = 3011
	reqRead     = 3013
	reqStat     = 3017
)

// Response statuses.
const (
	statusOK       = 0
	statusOKSoFar  = 4000
	statusAttn     = 4001
	statusAuthMore = 4002
	statusError    = 4003
	statusRedirect = 4004
	statusWait     = 4005
	statusWaitResp = 4006
)

// kXR_attn action codes.
const (
	attnAsyncAbort      = 5000 // the server is going away: the connection is lost
	attnAsyncDisconnect = 5001 // likewise
	attnAsyncResponse   = 5008 // the deferred response to a kXR_waitresp
)

// Options and flags.
const (
	protoExpectLogin = 3 // kXR_ExpLogin: the client logs in next
	loginCapVer      = 5 // kXR_ver005, without kXR_asyncap
	openRead         = 0x0010
	openRetStat      = 0x0400
	modeOwnerRead    = 0x0100
	dirlistDStat     = 2 // kXR_dstat: each name with its stat
	statIsDir        = 2 // kXR_isDir in a stat's flags
)

// errNames names the server's error codes that users meet.
var errNames = map[uint32]string{
	3000: "kXR_ArgInvalid", 3001: "kXR_ArgMissing", 3002: "kXR_ArgTooLong",
	3003: "kXR_FileLocked", 3004: "kXR_FileNotOpen", 3005: "kXR_FSError",
	3006: "kXR_InvalidRequest", 3007: "kXR_IOError", 3008: "kXR_NoMemory",
	3009: "kXR_NoSpace", 3010: "kXR_NotAuthorized", 3011: "kXR_NotFound",
	3012: "kXR_ServerError", 3013: "kXR_Unsupported", 3014: "kXR_noserver",
	3015: "kXR_NotFile", 3016: "kXR_isDirectory", 3017: "kXR_Cancelled",
	3018: "kXR_ItExists", 3019: "kXR_ChkSumErr", 3020: "kXR_inProgress",
	3021: "kXR_overQuota", 3022: "kXR_SigVerErr", 3023: "kXR_DecryptErr",
	3024: "kXR_Overloaded", 3025: "kXR_fsReadOnly", 3026: "kXR_BadPayload",
	3027: "kXR_AttrNotFound", 3028: "kXR_TLSRequired", 3029: "kXR_noReplicas",
	3030: "kXR_AuthFailed", 3031: "kXR_Impossible", 3032: "kXR_Conflict",
	3033: "kXR_TooManyErrs", 3034: "kXR_ReqTimedOut", 3035: "kXR_TimerExpired",
}

// ServerError is a kXR_error response: the server refused the request.
// It is an answer, not a lost connection, and is never retried.
type ServerError struct {
	Code    uint32
	Message string
}

func (e *ServerError) Error() string {
	name := errNames[e.Code]
	if name == "" {
		name = "kXR_error"
	}
	return fmt.Sprintf("server error %d (%s): %s", e.Code, name, e.Message)
}

// parseError reads a kXR_error body: a 4-byte code and a message ended by
// a NUL.
func parseError(body []byte) (*ServerError, error) {
	if len(body) < 4 {
		return nil, fmt.Errorf("kXR_error of %d bytes", len(body))
	}
	msg, _, _ := bytes.Cut(body[4:], []byte{0})
	return &ServerError{Code: binary.BigEndian.Uint32(body), Message: strings.TrimSpace(string(msg))}, nil
}

// redirect is a kXR_redirect response: ask Addr instead, adding Opaque
// (the part after '?', which the server wants back as CGI) to the path.
type redirect struct {
	Addr   string
	Opaque string
}

func (r *redirect) Error() string { return "redirected to " + r.Addr }

// parseRedirect reads a kXR_redirect body: a 4-byte port, then
// host[?opaque[?token]].
func parseRedirect(body []byte) (*redirect, error) {
	if len(body) < 5 {
		return nil, fmt.Errorf("kXR_redirect of %d bytes", len(body))
	}
	port := int32(binary.BigEndian.Uint32(body))
	host, opaque, _ := strings.Cut(string(bytes.TrimRight(body[4:], "\x00")), "?")
	if port <= 0 || host == "" || strings.ContainsAny(host, "/ ") {
		// A negative port means a URL redirect (port -1) or a multi-host
		// list: neither is supported.
		return nil, fmt.Errorf("unsupported kXR_redirect to %q, port %d", host, port)
	}
	return &redirect{Addr: net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(int(port))), Opaque: opaque}, nil
}

// parseWait reads a kXR_wait or kXR_waitresp body: the seconds to wait,
// then an optional message.
func parseWait(body []byte) (time.Duration, error) {
	if len(body) < 4 {
		return 0, fmt.Errorf("kXR_wait of %d bytes", len(body))
	}
	s := int32(binary.BigEndian.Uint32(body))
	if s < 0 {
		return 0, fmt.Errorf("kXR_wait of %d seconds", s)
	}
	return time.Duration(s) * time.Second, nil
}

// Stat is what kXR_stat (or kXR_open with kXR_retstat) says of a file.
type Stat struct {
	ID    int64
	Size  int64
	Flags int64
	MTime time.Time
}

// IsDir says whether the entry is a folder.
func (s Stat) IsDir() bool { return s.Flags&statIsDir != 0 }

// parseStat reads "id size flags mtime", ended by a NUL or the body's end.
func parseStat(b []byte) (Stat, error) {
	b, _, _ = bytes.Cut(b, []byte{0})
	f := strings.Fields(string(b))
	if len(f) < 4 {
		return Stat{}, fmt.Errorf("stat %q: want \"id size flags mtime\"", b)
	}
	var v [4]int64
	for i := range v {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return Stat{}, fmt.Errorf("stat %q: %w", b, err)
		}
		v[i] = n
	}
	if v[1] < 0 {
		return Stat{}, fmt.Errorf("stat %q: negative size", b)
	}
	return Stat{ID: v[0], Size: v[1], Flags: v[2], MTime: time.Unix(v[3], 0)}, nil
}

// Entry is one name of a folder's listing.
type Entry struct {
	Name string
	Stat Stat
}

// parseDirlist reads a kXR_dirlist response with kXR_dstat: names
// separated by newlines, each followed by its stat line, after a first
// pseudo-entry ".\n0 0 0 0". A server that cannot give the stats sends
// only names (their Stat is then zero: not a folder).
func parseDirlist(body []byte) ([]Entry, error) {
	body = bytes.TrimRight(body, "\x00\n")
	if len(body) == 0 {
		return nil, nil
	}
	lines := strings.Split(string(body), "\n")
	if len(lines) < 2 || lines[0] != "." || lines[1] != "0 0 0 0" {
		es := make([]Entry, len(lines))
		for i, l := range lines {
			es[i].Name = l
		}
		return es, nil
	}
	lines = lines[2:]
	if len(lines)%2 != 0 {
		return nil, fmt.Errorf("listing of %d lines after its header: want name and stat pairs", len(lines))
	}
	es := make([]Entry, 0, len(lines)/2)
	for i := 0; i < len(lines); i += 2 {
		st, err := parseStat([]byte(lines[i+1]))
		if err != nil {
			return nil, fmt.Errorf("listing entry %q: %w", lines[i], err)
		}
		es = append(es, Entry{Name: lines[i], Stat: st})
	}
	return es, nil
}

// responseHead is a response frame's header.
type responseHead struct {
	sid    uint16
	status uint16
	dlen   uint32
}

// errMalformed marks frames the client cannot make sense of: the
// connection is then dropped, since nothing after them can be trusted.
var errMalformed = errors.New("malformed response")

func parseHead(b []byte) (responseHead, error) {
	h := responseHead{
		sid:    binary.BigEndian.Uint16(b),
		status: binary.BigEndian.Uint16(b[2:]),
		dlen:   binary.BigEndian.Uint32(b[4:]),
	}
	if h.dlen > maxFrameBody {
		return h, fmt.Errorf("%w: frame of %d bytes on stream %d", errMalformed, h.dlen, h.sid)
	}
	return h, nil
}

// parseAsyncResponse reads a kXR_attn body carrying kXR_asynresp: the
// action code, 4 reserved bytes, then a whole response frame.
func parseAsyncResponse(body []byte) (responseHead, []byte, error) {
	if len(body) < 8+responseHeadLen {
		return responseHead{}, nil, fmt.Errorf("%w: kXR_asynresp of %d bytes", errMalformed, len(body))
	}
	h, err := parseHead(body[8:])
	if err != nil {
		return h, nil, err
	}
	inner := body[8+responseHeadLen:]
	if uint32(len(inner)) != h.dlen {
		return h, nil, fmt.Errorf("%w: kXR_asynresp says %d bytes, holds %d", errMalformed, h.dlen, len(inner))
	}
	return h, inner, nil
}

// request builds a request frame: header and body.
func request(sid, id uint16, params [16]byte, body []byte) []byte {
	b := make([]byte, requestHeadLen+len(body))
	binary.BigEndian.PutUint16(b, sid)
	binary.BigEndian.PutUint16(b[2:], id)
	copy(b[4:20], params[:])
	binary.BigEndian.PutUint32(b[20:], uint32(len(body)))
	copy(b[requestHeadLen:], body)
	return b
}

// handshake is the 20 bytes that open a connection: 0, 0, 0, 4, 2012.
func handshake() []byte {
	b := make([]byte, handshakeLen)
	binary.BigEndian.PutUint32(b[12:], 4)
	binary.BigEndian.PutUint32(b[16:], 2012)
	return b
}

func protocolParams() (p [16]byte) {
	binary.BigEndian.PutUint32(p[:], protocolVersion)
	p[5] = protoExpectLogin
	return p
}

func loginParams(user string, pid int) (p [16]byte) {
	binary.BigEndian.PutUint32(p[:], uint32(pid))
	copy(p[4:12], user) // 8 bytes at most; the rest stays zero
	p[14] = loginCapVer
	return p
}

func openParams() (p [16]byte) {
	binary.BigEndian.PutUint16(p[:], modeOwnerRead)
	binary.BigEndian.PutUint16(p[2:], openRead|openRetStat)
	return p
}

func readParams(h [4]byte, off int64, n int32) (p [16]byte) {
	copy(p[:4], h[:])
	binary.BigEndian.PutUint64(p[4:], uint64(off))
	binary.BigEndian.PutUint32(p[12:], uint32(n))
	return p
}

func closeParams(h [4]byte) (p [16]byte) {
	copy(p[:4], h[:])
	return p
}

func statParams() (p [16]byte) { return p } // by path, no kXR_vfs

func dirlistParams() (p [16]byte) {
	p[15] = dirlistDStat
	return p
}

// parseOpen reads a kXR_open response: the 4-byte handle, then (asked
// with kXR_retstat) the compression info and the file's stat.
func parseOpen(body []byte) ([4]byte, *Stat, error) {
	var h [4]byte
	if len(body) < 4 {
		return h, nil, fmt.Errorf("kXR_open response of %d bytes", len(body))
	}
	copy(h[:], body)
	if len(body) <= 12 {
		return h, nil, nil
	}
	st, err := parseStat(body[12:])
	if err != nil {
		return h, nil, err
	}
	return h, &st, nil
}
