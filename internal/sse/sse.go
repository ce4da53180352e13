// Package sse reads and writes Server-Sent Events (the WHATWG event-stream
// format) as providers and SDKs use them: "data:" lines, optional "event:"
// names, events ended by a blank line.
//
// The reader is incremental and allocation-light: it hands out each event as
// soon as its terminating blank line arrives, which is what lets the gateway
// forward streams event by event.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxEventBytes bounds one event's size so a hostile or broken
// upstream cannot make the reader grow without limit.
const DefaultMaxEventBytes = 16 << 20

// ErrEventTooLarge is returned when an event exceeds the reader's bound.
var ErrEventTooLarge = errors.New("sse: event too large")

// Event is one dispatched event. Data is only valid until the next call to
// Next; copy it to keep it.
type Event struct {
	Name string
	ID   string
	Data []byte
}

// Reader decodes events from a byte stream.
type Reader struct {
	br      *bufio.Reader
	max     int
	data    []byte
	name    string
	id      string
	hasData bool
	line    []byte
	pending [][]byte // lines split off at lone CRs, not yet processed
}

// NewReader returns a Reader with the default event size bound.
func NewReader(r io.Reader) *Reader {
	return NewReaderSize(r, DefaultMaxEventBytes)
}

// NewReaderSize returns a Reader whose events may be at most max bytes.
func NewReaderSize(r io.Reader, max int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, readBufferSize), max: max}
}

// readBufferSize is the reader's buffer. Typical events are a few hundred
// bytes and larger ones are assembled across reads, so it is small: every
// open stream keeps one for its whole life.
const readBufferSize = 4096

// Next returns the next event with data. It returns io.EOF at the end of
// the stream; an event that the stream ends without a blank line after is
// still returned (some providers omit the last one).
func (r *Reader) Next() (Event, error) {
	r.data = r.data[:0]
	r.name, r.id, r.hasData = "", "", false
	for {
		line, err := r.nextLine()
		if err != nil {
			if err == io.EOF && r.hasData {
				return r.dispatch(), nil
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if r.hasData {
				return r.dispatch(), nil
			}
			r.name, r.id = "", ""
			continue
		}
		if err := r.field(line); err != nil {
			return Event{}, err
		}
	}
}

func (r *Reader) dispatch() Event {
	data := r.data
	if n := len(data); n > 0 && data[n-1] == '\n' {
		data = data[:n-1]
	}
	return Event{Name: r.name, ID: r.id, Data: data}
}

func (r *Reader) field(line []byte) error {
	if line[0] == ':' {
		return nil // comment, e.g. ": keep-alive"
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		if len(r.data)+len(value)+1 > r.max {
			return ErrEventTooLarge
		}
		r.data = append(r.data, value...)
		r.data = append(r.data, '\n')
		r.hasData = true
	case "event":
		r.name = string(value)
	case "id":
		r.id = string(value)
	}
	return nil
}

// nextLine returns the next line without its terminator (LF, CRLF or CR).
func (r *Reader) nextLine() ([]byte, error) {
	if len(r.pending) > 0 {
		l := r.pending[0]
		r.pending = r.pending[1:]
		return l, nil
	}
	r.line = r.line[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(r.line)+len(chunk) > r.max+2 {
			return nil, ErrEventTooLarge
		}
		r.line = append(r.line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && (err != io.EOF || len(r.line) == 0) {
			return nil, err
		}
		break
	}
	line := r.line
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	} else if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if bytes.IndexByte(line, '\r') >= 0 {
		parts := bytes.Split(line, []byte{'\r'})
		r.pending = append(r.pending[:0], parts[1:]...)
		return parts[0], nil
	}
	return line, nil
}

// AppendEvent appends one event in wire form to dst: an optional event line,
// one data line per line of data, and the blank line that ends it.
func AppendEvent(dst []byte, name string, data []byte) []byte {
	if name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	for {
		i := bytes.IndexByte(data, '\n')
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, data...)
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		data = data[i+1:]
	}
	return append(dst, '\n', '\n')
}

// WriteEvent writes one event to w.
func WriteEvent(w io.Writer, name string, data []byte) error {
	_, err := w.Write(AppendEvent(make([]byte, 0, len(data)+32), name, data))
	if err != nil {
		return fmt.Errorf("writing event: %w", err)
	}
	return nil
}
