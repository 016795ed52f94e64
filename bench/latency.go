package bench

import (
	"net"
	"sync"
	"time"
)

// LatencyProxy forwards TCP connections to a server, delaying every chunk
// of bytes by a fixed time in each direction: a network with that one-way
// latency and ample bandwidth.
type LatencyProxy struct {
	ln     net.Listener
	target string
	delay  time.Duration

	mu    sync.Mutex
	conns []net.Conn
}

// NewLatencyProxy listens on a loopback port in front of target.
func NewLatencyProxy(target string, delay time.Duration) (*LatencyProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &LatencyProxy{ln: ln, target: target, delay: delay}
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *LatencyProxy) Addr() string { return p.ln.Addr().String() }

// Close stops the proxy and closes its connections.
func (p *LatencyProxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	return err
}

func (p *LatencyProxy) accept() {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		go p.delayed(down, up)
		go p.delayed(up, down)
	}
}

type chunk struct {
	at   time.Time
	data []byte
}

// delayed copies src to dst, each chunk leaving delay after it arrived.
func (p *LatencyProxy) delayed(src, dst net.Conn) {
	q := make(chan chunk, 4096)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 64<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{time.Now().Add(p.delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	src.Close()
	dst.Close()
}
