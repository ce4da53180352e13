package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// conn is a minimal HTTP/1.1 keep-alive client connection: it writes a
// prebuilt request in one write and reads the response with a bufio.Reader.
// It exists so that the load generator costs far less CPU than the servers
// it measures (net/http's client spends tens of microseconds per request,
// which on a 2-core machine is taken from the proxy under test), and so that
// stream events can be timed as they arrive.
type conn struct {
	addr string
	nc   net.Conn
	br   *bufio.Reader
	// onEvent, when set, is called with the running count as each
	// complete event arrives.
	onEvent func(n int)
}

// response is what one exchange observed.
type response struct {
	Status int
	// Bytes is the body length received.
	Bytes int
	// FirstEvent is when the first complete SSE event arrived (streams).
	FirstEvent time.Time
	// Events are the arrival times of every complete SSE event, in order
	// (only recorded when asked for).
	Events []time.Time
	// EventCount counts complete events.
	EventCount int
	// Done reports that a stream ended with "data: [DONE]".
	Done bool
}

func dial(addr string) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{addr: addr, nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}, nil
}

func (c *conn) Close() error { return c.nc.Close() }

// buildRequest returns the wire form of a POST with a JSON body.
func buildRequest(addr, path string, header [][2]string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, addr, len(body))
	for _, h := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

var errProtocol = errors.New("malformed HTTP response")

// do sends req and reads the whole response. When events is non-nil, SSE
// event arrival times are appended to it (and returned in response.Events).
// keep reports whether the connection can be reused.
func (c *conn) do(req []byte, events []time.Time) (resp response, keep bool, err error) {
	if _, err := c.nc.Write(req); err != nil {
		return resp, false, err
	}
	resp.Events = events
	line, err := c.line()
	if err != nil {
		return resp, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return resp, false, fmt.Errorf("%w: status line %q", errProtocol, line)
	}
	resp.Status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return resp, false, fmt.Errorf("%w: status line %q", errProtocol, line)
	}
	length, chunked, keep := -1, false, true
	for {
		line, err := c.line()
		if err != nil {
			return resp, false, err
		}
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return resp, false, fmt.Errorf("%w: header %q", errProtocol, line)
		}
		v = bytes.TrimSpace(v)
		switch {
		case asciiEqualFold(k, "content-length"):
			length, err = strconv.Atoi(string(v))
			if err != nil || length < 0 {
				return resp, false, fmt.Errorf("%w: content-length %q", errProtocol, v)
			}
		case asciiEqualFold(k, "transfer-encoding"):
			chunked = asciiEqualFold(v, "chunked")
		case asciiEqualFold(k, "connection"):
			if asciiEqualFold(v, "close") {
				keep = false
			}
		}
	}
	sc := sseScanner{events: events, onEvent: c.onEvent}
	switch {
	case chunked:
		err = c.readChunked(&sc, &resp)
	case length >= 0:
		err = c.readN(&sc, &resp, length)
	default:
		// body until close
		keep = false
		err = c.readN(&sc, &resp, -1)
	}
	resp.FirstEvent, resp.EventCount, resp.Events, resp.Done = sc.first, sc.count, sc.events, sc.done()
	return resp, keep && err == nil, err
}

// line reads one CRLF-terminated line without its terminator.
func (c *conn) line() ([]byte, error) {
	l, err := c.br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	l = bytes.TrimSuffix(l, []byte("\n"))
	return bytes.TrimSuffix(l, []byte("\r")), nil
}

// readN reads n body bytes (n < 0: until EOF).
func (c *conn) readN(sc *sseScanner, resp *response, n int) error {
	for n != 0 {
		if _, err := c.br.Peek(1); err != nil {
			if n < 0 && err == io.EOF {
				return nil
			}
			return err
		}
		buf := c.br.Buffered()
		if n >= 0 && buf > n {
			buf = n
		}
		b, _ := c.br.Peek(buf)
		sc.feed(b, time.Now())
		resp.Bytes += len(b)
		_, _ = c.br.Discard(len(b))
		if n > 0 {
			n -= len(b)
		}
	}
	return nil
}

// readChunked reads a chunked body, timing events as chunks arrive.
func (c *conn) readChunked(sc *sseScanner, resp *response) error {
	for {
		line, err := c.line()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("%w: chunk size %q", errProtocol, line)
		}
		if size == 0 {
			// trailers until a blank line
			for {
				l, err := c.line()
				if err != nil {
					return err
				}
				if len(l) == 0 {
					return nil
				}
			}
		}
		if err := c.readN(sc, resp, int(size)); err != nil {
			return err
		}
		if l, err := c.line(); err != nil || len(l) != 0 {
			return fmt.Errorf("%w: missing CRLF after chunk", errProtocol)
		}
	}
}

// sseScanner finds the ends of server-sent events (a blank line) in a byte
// stream fed piece by piece, and remembers the last bytes to tell whether
// the stream ended with [DONE].
type sseScanner struct {
	prev   byte // last byte seen, '\n' after a line end ('\r' is skipped)
	first  time.Time
	count  int
	events []time.Time
	tail   [16]byte
	tailN  int
	// onEvent is called with the running count after each event.
	onEvent func(n int)
}

func (s *sseScanner) feed(b []byte, now time.Time) {
	for _, ch := range b {
		if ch == '\r' {
			continue
		}
		if ch == '\n' && s.prev == '\n' {
			if s.count == 0 {
				s.first = now
			}
			s.count++
			if s.events != nil {
				s.events = append(s.events, now)
			}
			if s.onEvent != nil {
				s.onEvent(s.count)
			}
		}
		s.prev = ch
	}
	// keep the last bytes
	if len(b) >= len(s.tail) {
		copy(s.tail[:], b[len(b)-len(s.tail):])
		s.tailN = len(s.tail)
		return
	}
	keep := len(s.tail) - len(b)
	if keep > s.tailN {
		keep = s.tailN
	}
	copy(s.tail[:], s.tail[s.tailN-keep:s.tailN])
	copy(s.tail[keep:], b)
	s.tailN = keep + len(b)
}

func (s *sseScanner) done() bool {
	t := bytes.TrimRight(s.tail[:s.tailN], "\r\n")
	return bytes.HasSuffix(t, []byte("[DONE]"))
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
