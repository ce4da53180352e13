package upstream

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
)

func TestArgsObject(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "{}", true}, {"  ", "{}", true}, {`{"a":1}`, `{"a":1}`, true},
		{`[1]`, "", false}, {`"x"`, "", false}, {`{"a":`, "", false},
	} {
		got, err := ArgsObject(tc.in)
		if (err == nil) != tc.ok || (tc.ok && string(got) != tc.want) {
			t.Errorf("ArgsObject(%q) = %s, %v", tc.in, got, err)
		}
	}
}

func TestEmbeddingEncodings(t *testing.T) {
	v := []float64{0.5, -1.25}
	e, err := Embedding(3, v, "")
	if err != nil || string(e.Embedding) != "[0.5,-1.25]" || e.Index != 3 || e.Object != "embedding" {
		t.Fatalf("float: %+v %v", e, err)
	}
	e, err = Embedding(0, v, "base64")
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal(e.Embedding, &s); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != 8 {
		t.Fatalf("base64 %q: %v", s, err)
	}
	for i, want := range v {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); float64(got) != want {
			t.Errorf("element %d = %v, want %v", i, got, want)
		}
	}
}

type batches struct {
	out [][]*llm.ChatChunk
	err error
}

func (b *batches) Next() ([]*llm.ChatChunk, error) {
	if len(b.out) == 0 {
		return nil, b.err
	}
	n := b.out[0]
	b.out = b.out[1:]
	return n, nil
}

type closer struct{ n int }

func (c *closer) Close() error { c.n++; return nil }

func TestStreamDrainsBatchesAndKeepsItsError(t *testing.T) {
	a, b := &llm.ChatChunk{ID: "a"}, &llm.ChatChunk{ID: "b"}
	boom := errors.New("boom")
	c := &closer{}
	s := NewStream(c, &batches{out: [][]*llm.ChatChunk{{a, b}, nil, {}}, err: boom})
	for _, want := range []string{"a", "b"} {
		got, err := s.Recv()
		if err != nil || got.ID != want {
			t.Fatalf("Recv = %v, %v; want %s", got, err, want)
		}
	}
	for i := 0; i < 2; i++ {
		if _, err := s.Recv(); err != boom {
			t.Fatalf("Recv = %v, want the decoder's error every time", err)
		}
	}
	_ = s.Close()
	_ = s.Close()
	if c.n != 1 {
		t.Errorf("body closed %d times", c.n)
	}
	s = NewStream(c, &batches{err: io.EOF})
	if _, err := s.Recv(); err != io.EOF {
		t.Errorf("empty stream: %v", err)
	}
}
