package sse

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchStream is a typical OpenAI chat stream: 24 data events of ~200 bytes.
func benchStream() []byte {
	var b bytes.Buffer
	for i := 0; i < 23; i++ {
		fmt.Fprintf(&b, "data: {\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\","+
			"\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word%d \"},\"finish_reason\":null}]}\n\n", i)
	}
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// BenchmarkReaderNext is SSE event parsing, per stream of 24 events.
func BenchmarkReaderNext(b *testing.B) {
	body := benchStream()
	rd := bytes.NewReader(body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rd.Reset(body)
		r := NewReader(rd)
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAppendEvent is SSE event re-emission into a reused buffer.
func BenchmarkAppendEvent(b *testing.B) {
	data := bytes.TrimPrefix(bytes.SplitN(benchStream(), []byte("\n\n"), 2)[0], []byte("data: "))
	var buf []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		buf = AppendEvent(buf[:0], "", data)
	}
}

// BenchmarkParseAndReemit is what a gateway does to a stream it passes on
// unchanged: parse each event and write it out again, per stream.
func BenchmarkParseAndReemit(b *testing.B) {
	body := benchStream()
	rd := bytes.NewReader(body)
	var buf []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rd.Reset(body)
		r := NewReader(rd)
		for {
			ev, err := r.Next()
			if err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			buf = AppendEvent(buf[:0], ev.Name, ev.Data)
			_, _ = io.Discard.Write(buf)
		}
	}
}
