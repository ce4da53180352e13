package bedrock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// ConverseStream answers in the AWS event-stream framing
// (application/vnd.amazon.eventstream): each message is a 12-byte prelude
// (total length, headers length, CRC32 of those 8 bytes), headers
// (:event-type, :content-type, :message-type …), a payload, and a CRC32
// of everything before it.
//
// The SDK's eventstream.Decoder checks both CRCs and parses headers, but
// trusts the lengths in the prelude; frameReader validates them first, so
// a hostile or corrupt upstream can make it neither read nor allocate
// without bound.

// Limits of the event-stream format (AWS documents 16 MiB messages and
// 128 KiB of headers).
const (
	maxFrameBytes  = 16 << 20
	maxHeaderBytes = 128 << 10
	preludeBytes   = 12
	minFrameBytes  = preludeBytes + 4
)

// errFrame reports a frame whose lengths cannot be right.
var errFrame = errors.New("malformed event-stream frame")

type frameReader struct {
	r   io.Reader
	dec *eventstream.Decoder
	buf []byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: r, dec: eventstream.NewDecoder()}
}

// next returns the next message. Its payload is valid until the next call.
// At a clean end it returns io.EOF; a stream cut inside a frame gives
// io.ErrUnexpectedEOF.
func (f *frameReader) next() (eventstream.Message, error) {
	var prelude [preludeBytes]byte
	n, err := io.ReadFull(f.r, prelude[:])
	if err != nil {
		if err == io.EOF && n == 0 {
			return eventstream.Message{}, io.EOF
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return eventstream.Message{}, io.ErrUnexpectedEOF
		}
		return eventstream.Message{}, err
	}
	total := binary.BigEndian.Uint32(prelude[0:4])
	headers := binary.BigEndian.Uint32(prelude[4:8])
	if total < minFrameBytes || total > maxFrameBytes || headers > maxHeaderBytes || headers > total-minFrameBytes {
		return eventstream.Message{}, fmt.Errorf("%w: length %d, headers %d", errFrame, total, headers)
	}
	rest := &countingReader{r: io.LimitReader(f.r, int64(total-preludeBytes))}
	msg, err := f.dec.Decode(io.MultiReader(bytes.NewReader(prelude[:]), rest), f.buf[:0])
	if err != nil {
		if rest.n < int64(total-preludeBytes) && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			return eventstream.Message{}, io.ErrUnexpectedEOF
		}
		return eventstream.Message{}, fmt.Errorf("%w: %v", errFrame, err)
	}
	if cap(msg.Payload) > cap(f.buf) {
		f.buf = msg.Payload[:0]
	}
	return msg, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// header returns a string header of msg, or "".
func header(msg eventstream.Message, name string) string {
	if v := msg.Headers.Get(name); v != nil {
		return v.String()
	}
	return ""
}
