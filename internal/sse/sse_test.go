package sse

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

type ev struct{ Name, ID, Data string }

func readAll(t testing.TB, r io.Reader) ([]ev, error) {
	rd := NewReaderSize(r, 1<<16)
	var out []ev
	for {
		e, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev{e.Name, e.ID, string(e.Data)})
	}
}

const sample = ": comment\n" +
	"data: {\"a\":1}\n\n" +
	"event: message_start\r\ndata: {\"b\":2}\r\n\r\n" +
	"id: 7\ndata: line1\ndata: line2\n\n" +
	"data:nospace\n\n" +
	"event: ping\n\n" + // no data: not dispatched
	"data: [DONE]\n\n" +
	"data: tail-without-blank-line"

var want = []ev{
	{"", "", `{"a":1}`},
	{"message_start", "", `{"b":2}`},
	{"", "7", "line1\nline2"},
	{"", "", "nospace"},
	{"", "", "[DONE]"},
	{"", "", "tail-without-blank-line"},
}

func TestReader(t *testing.T) {
	got, err := readAll(t, strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestReaderAnySplit feeds the stream in two reads split at every byte
// position, and one byte at a time: every split must decode the same.
func TestReaderAnySplit(t *testing.T) {
	for i := 0; i <= len(sample); i++ {
		r := io.MultiReader(strings.NewReader(sample[:i]), strings.NewReader(sample[i:]))
		got, err := readAll(t, r)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("split at %d: %q %v", i, got, err)
		}
	}
	got, err := readAll(t, iotest.OneByteReader(strings.NewReader(sample)))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("one byte at a time: %q %v", got, err)
	}
}

func TestLoneCRLineEndings(t *testing.T) {
	got, err := readAll(t, strings.NewReader("data: a\rdata: b\r\rdata: c\r\r"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []ev{{"", "", "a\nb"}, {"", "", "c"}}) {
		t.Fatalf("got %q", got)
	}
}

func TestEventTooLarge(t *testing.T) {
	big := "data: " + strings.Repeat("x", 100) + "\n\n"
	rd := NewReaderSize(strings.NewReader(big), 50)
	if _, err := rd.Next(); err != ErrEventTooLarge {
		t.Fatalf("err = %v", err)
	}
}

func TestAppendEventRoundTrip(t *testing.T) {
	var buf []byte
	buf = AppendEvent(buf, "content_block_delta", []byte(`{"x":1}`))
	buf = AppendEvent(buf, "", []byte("multi\nline"))
	got, err := readAll(t, bytes.NewReader(buf))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []ev{{"content_block_delta", "", `{"x":1}`}, {"", "", "multi\nline"}}) {
		t.Fatalf("got %q", got)
	}
}

// FuzzReader: any input decodes without panics, and splitting the input
// never changes what is decoded.
func FuzzReader(f *testing.F) {
	f.Add([]byte(sample), 5)
	f.Add([]byte("data: a\r\n\r\nevent: x\rdata: b\r\r"), 3)
	f.Add([]byte(":\n\n\n"), 0)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		whole, err1 := readAll(t, bytes.NewReader(b))
		if split < 0 {
			split = -split
		}
		if len(b) > 0 {
			split %= len(b) + 1
		} else {
			split = 0
		}
		parts, err2 := readAll(t, io.MultiReader(bytes.NewReader(b[:split]), bytes.NewReader(b[split:])))
		if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(whole, parts) {
			t.Fatalf("split at %d changes the result:\n%q %v\n%q %v", split, whole, err1, parts, err2)
		}
	})
}
