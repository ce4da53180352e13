package cache

import (
	"encoding/json"
	"strconv"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// recording turns a miss's answer into an entry: at once for a complete
// response, or while a stream or native body is forwarded (a tee: the
// client gets every piece as soon as it arrives, the copy is made on the
// side) and only when it ended without error.
type recording struct {
	s   *stage
	c   *pipeline.Call
	d   decision
	f   *flight
	sem *semanticLookup
}

// attach starts recording res and reports whether it took over ending the
// flight.
func (r *recording) attach(res *pipeline.Result) bool {
	switch {
	case res.Chat != nil:
		if !cacheableChat(res.Chat) {
			return false
		}
		payload, err := json.Marshal(res.Chat)
		if err != nil {
			return false
		}
		r.done(entryChat, r.meta(), payload)
		return true
	case res.Embed != nil:
		if len(res.Embed.Data) == 0 {
			return false
		}
		payload, err := json.Marshal(res.Embed)
		if err != nil {
			return false
		}
		r.done(entryEmbed, r.meta(), payload)
		return true
	case res.Stream != nil:
		r.stream(res)
		return true
	case res.Native != nil:
		if res.Native.Status < 200 || res.Native.Status > 299 || res.Native.Body == nil {
			return false
		}
		r.native(res.Native)
		return true
	}
	return false
}

func (r *recording) meta() entryMeta {
	return entryMeta{Provider: r.c.Outcome.Provider, Model: r.c.Outcome.ServedModel}
}

// done stores the entry if it fits, and hands it to the followers.
func (r *recording) done(kind byte, meta entryMeta, payload []byte) {
	if len(payload) > r.s.p.MaxEntryBytes {
		r.s.e.stats.tooLarge.Add(1)
		r.failed()
		return
	}
	raw, err := encodeEntry(kind, meta, payload)
	if err != nil {
		r.failed()
		return
	}
	if r.f != nil {
		r.f.finish(raw, StatusHit)
	}
	r.s.store(r.d, r.f, raw, r.sem)
}

func (r *recording) failed() {
	if r.f != nil {
		r.s.e.flights.fail(r.d.key, r.f)
	}
}

// stream folds the chunks as they pass and stores the folded response
// when the stream has ended cleanly.
func (r *recording) stream(res *pipeline.Result) {
	var (
		acc  llm.Accumulator
		size int
		over bool
	)
	max := r.s.p.MaxEntryBytes
	res.Stream = pipeline.WrapStream(res.Stream, pipeline.StreamHooks{
		OnChunk: func(ch *llm.ChatChunk) {
			if over {
				return
			}
			if size += chunkSize(ch); size > max {
				over, acc = true, llm.Accumulator{}
				return
			}
			acc.Add(ch)
		},
		OnDone: func(err error) {
			if err != nil || over {
				if over {
					r.s.e.stats.tooLarge.Add(1)
				}
				r.failed()
				return
			}
			resp := acc.Response()
			if !cacheableChat(resp) {
				r.failed()
				return
			}
			payload, err := json.Marshal(resp)
			if err != nil {
				r.failed()
				return
			}
			r.done(entryChat, r.meta(), payload)
		},
	})
}

// chunkSize estimates what a chunk adds to the folded response.
func chunkSize(ch *llm.ChatChunk) int {
	n := 16
	for i := range ch.Choices {
		d := &ch.Choices[i].Delta
		if d.Content != nil {
			n += len(*d.Content)
		}
		if d.ReasoningContent != nil {
			n += len(*d.ReasoningContent)
		}
		if d.Refusal != nil {
			n += len(*d.Refusal)
		}
		for _, tc := range d.ToolCalls {
			n += len(tc.ID) + len(tc.Function.Name) + len(tc.Function.Arguments) + 32
		}
	}
	return n
}

// native copies the body as it is read and stores status, the headers
// needed to read it, and the bytes once it was read to the end.
func (r *recording) native(nr *pipeline.NativeResponse) {
	var (
		buf  []byte
		over bool
	)
	max := r.s.p.MaxEntryBytes
	if want, err := strconv.Atoi(nr.Header.Get("Content-Length")); err == nil && want > 0 && want <= max {
		buf = make([]byte, 0, want) // grow once when the size is known
	}
	meta := nativeMeta(r.c, nr)
	nr.Body = pipeline.WrapBody(nr.Body, pipeline.BodyHooks{
		OnRead: func(p []byte) {
			if over {
				return
			}
			if len(buf)+len(p) > max {
				over, buf = true, nil
				return
			}
			buf = append(buf, p...)
		},
		OnDone: func(err error) {
			if err != nil || over {
				if over {
					r.s.e.stats.tooLarge.Add(1)
				}
				r.failed()
				return
			}
			r.done(entryNative, meta, buf)
		},
	})
}
