package sse

import (
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
