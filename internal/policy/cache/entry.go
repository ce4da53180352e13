package cache

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// entryVersion starts every stored entry; an entry of another version is
// a miss (and is overwritten), so a format change needs no migration.
const entryVersion = 1

// Entry kinds.
const (
	entryChat   byte = 1
	entryEmbed  byte = 2
	entryNative byte = 3
)

// entryMeta is what an entry says about itself besides the payload.
type entryMeta struct {
	Provider  string      `json:"p,omitempty"`
	Model     string      `json:"m,omitempty"`
	Status    int         `json:"s,omitempty"`
	Header    http.Header `json:"h,omitempty"`
	Streaming bool        `json:"st,omitempty"`
}

// entry is a decoded cache entry. A chat answer is stored once, as the
// complete canonical response, however it was delivered: a streamed
// answer is folded (llm.Accumulator) before it is stored, and a streamed
// request is answered by splitting the response into chunks
// (llm.ResponseChunks). Storing the chunks instead would keep the
// provider's exact event boundaries, but takes several times the space
// (every token repeats the chunk envelope) and would need folding for every
// non-streamed hit; clients concatenate deltas, so the boundaries carry no
// meaning.
type entry struct {
	kind    byte
	meta    entryMeta
	payload []byte
}

// layout: version, kind, uvarint length of the meta JSON, meta, payload
// (chat/embeddings: the response JSON; native: the body bytes).
func encodeEntry(kind byte, meta entryMeta, payload []byte) ([]byte, error) {
	m, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("encoding cache entry: %w", err)
	}
	out := make([]byte, 0, 2+binary.MaxVarintLen32+len(m)+len(payload))
	out = append(out, entryVersion, kind)
	out = binary.AppendUvarint(out, uint64(len(m)))
	out = append(out, m...)
	return append(out, payload...), nil
}

var errBadEntry = errors.New("not a cache entry of this version")

func decodeEntry(b []byte) (*entry, error) {
	if len(b) < 3 || b[0] != entryVersion {
		return nil, errBadEntry
	}
	e := &entry{kind: b[1]}
	n, w := binary.Uvarint(b[2:])
	if w <= 0 || n > uint64(len(b)-2-w) {
		return nil, errBadEntry
	}
	start := 2 + w
	if err := json.Unmarshal(b[start:start+int(n)], &e.meta); err != nil {
		return nil, errBadEntry
	}
	e.payload = b[start+int(n):]
	return e, nil
}

// result answers c from the entry, in the form c asks for. ok is false when
// the entry is of another kind (a client reused its x-aig-cache-key for a
// different request): that is a miss.
func (e *entry) result(c *pipeline.Call) (*pipeline.Result, bool) {
	switch {
	case c.Kind == pipeline.KindChat && e.kind == entryChat:
		var resp llm.ChatResponse
		if json.Unmarshal(e.payload, &resp) != nil {
			return nil, false
		}
		if c.Chat.Stream {
			return &pipeline.Result{Stream: llm.NewSliceStream(llm.ResponseChunks(&resp))}, true
		}
		return &pipeline.Result{Chat: &resp}, true
	case c.Kind == pipeline.KindEmbed && e.kind == entryEmbed:
		var resp llm.EmbedResponse
		if json.Unmarshal(e.payload, &resp) != nil {
			return nil, false
		}
		return &pipeline.Result{Embed: &resp}, true
	case e.kind == entryNative && (c.Kind == pipeline.KindNative || c.Kind == pipeline.KindChat && c.NativeChat != nil):
		// a chat call in a provider's own format whose answer passed
		// through natively is answered the same way
		h := e.meta.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		return &pipeline.Result{Native: &pipeline.NativeResponse{
			Status: e.meta.Status, Header: h, Streaming: e.meta.Streaming,
			Body: io.NopCloser(bytes.NewReader(e.payload)),
		}}, true
	}
	return nil, false
}

// storedNativeHeaders are the response headers a native entry keeps: what
// the body needs to be read. Per-response headers (request ids, rate-limit
// state, dates) would be stale on a hit.
var storedNativeHeaders = []string{"Content-Type", "Content-Language", "Content-Disposition"}

func nativeMeta(c *pipeline.Call, nr *pipeline.NativeResponse) entryMeta {
	h := http.Header{}
	for _, k := range storedNativeHeaders {
		if v := nr.Header.Values(k); len(v) > 0 {
			h[k] = append([]string(nil), v...)
		}
	}
	return entryMeta{Provider: c.Outcome.Provider, Model: c.Outcome.ServedModel, Status: nr.Status, Header: h, Streaming: nr.Streaming}
}
