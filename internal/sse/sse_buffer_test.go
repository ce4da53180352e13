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
	big := strings.Repeat("x", 3*shrinkBufferSize+17)
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

// TestBufferGrowsAndShrinks: the buffer starts small, grows for a long
// line and is given back once a huge event is drained, so a stream that
// once carried one does not keep its buffer to the end.
func TestBufferGrowsAndShrinks(t *testing.T) {
	big := strings.Repeat("x", 2*shrinkBufferSize)
	r := NewReader(io.MultiReader(strings.NewReader("data: a\n\n"), strings.NewReader("data: "+big+"\n\n"),
		strings.NewReader("data: b\n\n"), strings.NewReader("data: c\n\n")))
	for i, want := range []string{"a", big, "b", "c"} {
		ev, err := r.Next()
		if err != nil || string(ev.Data) != want {
			t.Fatalf("event %d: %d bytes, %v", i, len(ev.Data), err)
		}
		switch i {
		case 0:
			if len(r.buf) != initialBufferSize {
				t.Fatalf("buffer after a small event: %d bytes, want %d", len(r.buf), initialBufferSize)
			}
		case 3:
			if len(r.buf) > shrinkBufferSize {
				t.Fatalf("buffer after the huge event drained: %d bytes", len(r.buf))
			}
		}
	}
}

// TestUnterminatedLineTooLarge: a line that never ends is refused at the
// bound instead of growing the buffer without limit.
func TestUnterminatedLineTooLarge(t *testing.T) {
	r := NewReaderSize(iotest.HalfReader(strings.NewReader("data: "+strings.Repeat("x", 10000))), 1000)
	if _, err := r.Next(); err != ErrEventTooLarge {
		t.Fatalf("err = %v, want ErrEventTooLarge", err)
	}
	if len(r.buf) > 2*1003 {
		t.Fatalf("buffer grew to %d bytes for a bound of 1000", len(r.buf))
	}
}
