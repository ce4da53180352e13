// Package sse reads and writes Server-Sent Events (the WHATWG event-stream
// format) as providers and SDKs use them: "data:" lines, optional "event:"
// names, events ended by a blank line.
//
// The reader is incremental and allocation-light: it hands out each event as
// soon as its terminating blank line arrives, which is what lets the gateway
// forward streams event by event.
package sse

import (
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
	src io.Reader
	// buf[r:w] is read but not yet parsed. It starts small and grows to
	// the longest line seen: every open stream keeps one for its whole
	// life, and it sits on top of the HTTP client's own buffer.
	buf     []byte
	r, w    int
	err     error // from src, returned once buf is drained
	empty   int   // reads in a row that returned nothing
	max     int
	data    []byte
	name    string
	id      string
	hasData bool
	pending [][]byte // lines split off at lone CRs, not yet processed
}

// NewReader returns a Reader with the default event size bound.
func NewReader(r io.Reader) *Reader {
	return NewReaderSize(r, DefaultMaxEventBytes)
}

// NewReaderSize returns a Reader whose events may be at most max bytes.
func NewReaderSize(r io.Reader, max int) *Reader {
	return &Reader{src: r, max: max}
}

const (
	// initialBufferSize holds a typical event (a few hundred bytes) in one
	// read; longer lines grow the buffer.
	initialBufferSize = 512
	// shrinkBufferSize: a buffer grown beyond it by one huge event is
	// given back once drained, so a stream does not keep it to its end.
	shrinkBufferSize = 64 << 10
)

// Next returns the next event with data. It returns io.EOF at the end of
// the stream; an event that the stream ends without a blank line after is
// still returned (some providers omit the last one).
func (r *Reader) Next() (Event, error) {
	if err := r.advance(); err != nil {
		return Event{}, err
	}
	return r.dispatch(), nil
}

// NextData is Next for a caller that only wants the event's data (the
// name and id are dropped); it saves copying the event around on a path
// where every stream waits.
func (r *Reader) NextData() ([]byte, error) {
	if err := r.advance(); err != nil {
		return nil, err
	}
	return r.eventData(), nil
}

// advance reads until the next event is complete.
//
// A stream waits for its next event in here, under the gateway's whole
// handler, for its whole life, so this frame is kept small and reads from
// src itself: parsing and making room are calls that have returned by
// the time it waits.
func (r *Reader) advance() error {
	r.data = r.data[:0]
	r.name, r.id, r.hasData = "", "", false
	for {
		if done, err := r.scan(); done {
			return err
		}
		n, err := r.src.Read(r.room())
		r.read(n, err)
	}
}

// scan parses the whole lines read so far into the event. It is done when
// the event is complete or there is no more (err); otherwise more must be
// read first.
func (r *Reader) scan() (done bool, err error) {
	for {
		line, ok, err := r.nextLine()
		if !ok {
			if err == nil {
				return false, nil
			}
			if err == io.EOF && r.hasData {
				return true, nil
			}
			return true, err
		}
		if len(line) == 0 {
			if r.hasData {
				return true, nil
			}
			r.name, r.id = "", ""
			continue
		}
		if err := r.field(line); err != nil {
			return true, err
		}
	}
}

func (r *Reader) dispatch() Event {
	return Event{Name: r.name, ID: r.id, Data: r.eventData()}
}

// eventData is the data of the event just completed, without the newline
// after its last line.
func (r *Reader) eventData() []byte {
	data := r.data
	if n := len(data); n > 0 && data[n-1] == '\n' {
		data = data[:n-1]
	}
	return data
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

// nextLine returns the next line without its terminator (LF, CRLF or CR)
// from what has been read. The line points into the buffer: it is valid
// until the next call. With ok false there is no whole line yet: err is
// nil when more must be read first, otherwise the reason there is no more.
func (r *Reader) nextLine() (line []byte, ok bool, err error) {
	if len(r.pending) > 0 {
		l := r.pending[0]
		r.pending = r.pending[1:]
		return l, true, nil
	}
	if i := bytes.IndexByte(r.buf[r.r:r.w], '\n'); i >= 0 {
		line = r.buf[r.r : r.r+i]
		r.r += i + 1
	} else {
		switch {
		case r.w-r.r > r.max+2:
			return nil, false, ErrEventTooLarge
		case r.err == nil:
			return nil, false, nil
		case r.r == r.w:
			return nil, false, r.err
		}
		line = r.buf[r.r:r.w] // the last line, without terminator
		r.r = r.w
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if bytes.IndexByte(line, '\r') >= 0 {
		parts := bytes.Split(line, []byte{'\r'})
		r.pending = append(r.pending[:0], parts[1:]...)
		return parts[0], true, nil
	}
	return line, true, nil
}

// room makes room in the buffer for a read and returns it: it moves the
// unread bytes to the front, grows a full buffer, and gives back one that
// a huge event grew once it is nearly empty.
func (r *Reader) room() []byte {
	unread := r.w - r.r
	switch {
	case r.buf == nil:
		r.buf = make([]byte, initialBufferSize)
	case len(r.buf) > shrinkBufferSize && unread < initialBufferSize:
		r.buf = append(make([]byte, 0, initialBufferSize), r.buf[r.r:r.w]...)[:initialBufferSize]
	case unread == len(r.buf):
		// nextLine refuses lines over max+2 bytes before asking for more
		r.buf = append(r.buf, make([]byte, min(len(r.buf), r.max+3-len(r.buf)))...)
	case r.r > 0:
		copy(r.buf, r.buf[r.r:r.w])
	}
	r.r, r.w = 0, unread
	return r.buf[r.w:]
}

// maxEmptyReads is how many reads in a row may return nothing before the
// reader gives up on a source that never says EOF.
const maxEmptyReads = 100

// read records the outcome of reading into room().
func (r *Reader) read(n int, err error) {
	r.w += n
	switch {
	case err != nil:
		r.err = err
	case n > 0:
		r.empty = 0
	default:
		if r.empty++; r.empty >= maxEmptyReads {
			r.err = io.ErrNoProgress
		}
	}
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
