package sse

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestEventsLargerThanTheBuffer: the reader's buffer is small because every
// open stream keeps one; events of any size up to the bound still arrive
// whole, also when the upstream delivers them a byte at a time.
func TestEventsLargerThanTheBuffer(t *testing.T) {
	big := strings.Repeat("x", 3*readBufferSize+17)
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"one long line", "data: " + big + "\n\n", []string{big}},
		{"long lines joined", "data: " + big + "\ndata: " + big + "\r\n\r\n", []string{big + "\n" + big}},
		{"long then short", "data: " + big + "\n\ndata: [DONE]\n\n", []string{big, "[DONE]"}},
	} {
		for _, slow := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				var src io.Reader = strings.NewReader(tc.in)
				if slow {
					src = iotest.OneByteReader(src)
				}
				r := NewReader(src)
				var got []string
				for {
					ev, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, string(ev.Data))
				}
				if len(got) != len(tc.want) {
					t.Fatalf("got %d events, want %d", len(got), len(tc.want))
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Errorf("event %d: %d bytes, want %d", i, len(got[i]), len(tc.want[i]))
					}
				}
			})
		}
	}
}

func TestEventLargerThanTheBoundIsRejected(t *testing.T) {
	r := NewReaderSize(strings.NewReader("data: "+strings.Repeat("x", 100)+"\n\n"), 50)
	if _, err := r.Next(); err != ErrEventTooLarge {
		t.Fatalf("err = %v, want ErrEventTooLarge", err)
	}
}

func TestAppendEventRoundTrip(t *testing.T) {
	var buf []byte
	buf = AppendEvent(buf, "message", []byte("a\nb"))
	r := NewReader(bytes.NewReader(buf))
	ev, err := r.Next()
	if err != nil || ev.Name != "message" || string(ev.Data) != "a\nb" {
		t.Fatalf("got %+v, %v", ev, err)
	}
}
