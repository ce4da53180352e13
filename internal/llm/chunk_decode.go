package llm

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

type chatChunkJSON ChatChunk

// UnmarshalJSON decodes a stream chunk as json.Unmarshal would without
// this method, in one scan for the shapes providers send (a stream
// decodes one chunk per token, and encoding/json was most of a stream's
// CPU). Raw is left nil; the caller that owns the bytes sets it.
func (c *ChatChunk) UnmarshalJSON(b []byte) error {
	var w ChatChunk
	if decodeChunkFast(b, &w, nil) {
		*c = w
		return nil
	}
	var g chatChunkJSON
	if err := json.Unmarshal(b, &g); err != nil {
		return err
	}
	*c = ChatChunk(g)
	return nil
}

// StreamEvent is one event of an OpenAI-format stream: a chunk or, from
// some providers mid-stream, an error object in its place.
type StreamEvent struct {
	ChatChunk
	// Error is the raw "error" member, "null" or nil when there is none.
	Error json.RawMessage `json:"error"`
}

// streamEventJSON is StreamEvent without methods, for encoding/json.
type streamEventJSON struct {
	chatChunkJSON
	Error json.RawMessage `json:"error"`
}

// UnmarshalJSON decodes the event as json.Unmarshal would decode its
// fields, in one scan when it can (see ChatChunk.UnmarshalJSON).
func (e *StreamEvent) UnmarshalJSON(b []byte) error {
	var w StreamEvent
	if decodeChunkFast(b, &w.ChatChunk, &w.Error) {
		*e = w
		return nil
	}
	var g streamEventJSON
	if err := json.Unmarshal(b, &g); err != nil {
		return err
	}
	*e = StreamEvent{ChatChunk: ChatChunk(g.chatChunkJSON), Error: g.Error}
	return nil
}

// decodeChunkFast decodes a stream chunk into the zero chunk c in one
// scan, validating as it goes like decodeResponseFast, and with errVal
// set also the "error" member of a StreamEvent. It reports false for
// anything else than the common shapes: invalid JSON, a number that is
// not a plain integer, a repeated key, a key with escapes or non-ASCII
// bytes or one that matches a member only case-insensitively, a null
// where encoding/json would do more than leave the zero value, a string
// with a surrogate escape or invalid UTF-8. The callers then take the
// general path, so the result is always what json.Unmarshal gives
// (FuzzChatChunkDecoding).
func decodeChunkFast(b []byte, c *ChatChunk, errVal *json.RawMessage) bool {
	known := chatChunkKeyList
	if errVal != nil {
		known = streamEventKeyList
	}
	end, err := scanMembers(b, known, func(mb objectMember) (uint64, error) {
		switch string(mb.rawKey) {
		case "id":
			return 1 << 0, stringValue(mb.value, &c.ID)
		case "object":
			if string(mb.value) == `"`+chunkObject+`"` {
				c.Object = chunkObject // the same in every event: no copy
				return 1 << 1, nil
			}
			return 1 << 1, stringValue(mb.value, &c.Object)
		case "created":
			n, ok := plainInt(mb.value, 64)
			if !ok {
				return 0, errStop
			}
			c.Created = n
			return 1 << 2, nil
		case "model":
			return 1 << 3, stringValue(mb.value, &c.Model)
		case "choices":
			return 1 << 4, decodeChunkChoicesFast(mb.value, &c.Choices)
		case "usage":
			if isNull(mb.value) {
				return 1 << 5, nil
			}
			c.Usage = new(Usage)
			return 1 << 5, decodeUsageFast(mb.value, c.Usage)
		case "system_fingerprint":
			return 1 << 6, stringValue(mb.value, &c.SystemFingerprint)
		case "service_tier":
			return 1 << 7, stringValue(mb.value, &c.ServiceTier)
		case "error":
			if errVal == nil {
				return 0, nil
			}
			if !json.Valid(mb.value) {
				return 0, errStop
			}
			*errVal = json.RawMessage(bytes.Clone(mb.value))
			return 1 << 8, nil
		}
		return 0, nil
	})
	return err == nil && skipSpace(b, end) == len(b)
}

const chunkObject = "chat.completion.chunk"

var (
	chatChunkKeyList   = []string{"id", "object", "created", "model", "choices", "usage", "system_fingerprint", "service_tier"}
	streamEventKeyList = append(chatChunkKeyList[:len(chatChunkKeyList):len(chatChunkKeyList)], "error")
)

func decodeChunkChoicesFast(v []byte, out *[]ChunkChoice) error {
	if isNull(v) {
		return nil
	}
	cs := []ChunkChoice{} // encoding/json's result for []
	err := scanArray(v, func(e []byte) error {
		if cap(cs) == 0 {
			cs = make([]ChunkChoice, 0, 1) // a stream has one choice, as a rule
		}
		var ch ChunkChoice
		_, err := scanMembers(e, chunkChoiceKeyList, func(mb objectMember) (uint64, error) {
			switch string(mb.rawKey) {
			case "index":
				i, ok := plainInt(mb.value, 0)
				if !ok {
					return 0, errStop
				}
				ch.Index = int(i)
				return 1, nil
			case "delta":
				return 2, decodeDeltaFast(mb.value, &ch.Delta)
			case "finish_reason":
				var err error
				ch.FinishReason, err = optionalString(mb.value)
				return 4, err
			case "logprobs":
				if !json.Valid(mb.value) {
					return 0, errStop
				}
				// json.RawMessage keeps a null as "null"
				ch.Logprobs = json.RawMessage(bytes.Clone(mb.value))
				return 8, nil
			}
			return 0, nil
		})
		if err != nil {
			return err
		}
		cs = append(cs, ch)
		return nil
	})
	if err != nil {
		return err
	}
	*out = cs
	return nil
}

var chunkChoiceKeyList = []string{"index", "delta", "finish_reason", "logprobs"}

func decodeDeltaFast(v []byte, d *Delta) error {
	if isNull(v) {
		return nil
	}
	_, err := scanMembers(v, deltaKeyList, func(mb objectMember) (uint64, error) {
		var err error
		switch string(mb.rawKey) {
		case "role":
			return 1, stringValue(mb.value, &d.Role)
		case "content":
			d.Content, err = optionalString(mb.value)
			return 2, err
		case "reasoning_content":
			d.ReasoningContent, err = optionalString(mb.value)
			return 4, err
		case "refusal":
			d.Refusal, err = optionalString(mb.value)
			return 8, err
		case "tool_calls":
			return 16, decodeToolCallDeltasFast(mb.value, &d.ToolCalls)
		}
		return 0, nil
	})
	return err
}

var deltaKeyList = []string{"role", "content", "reasoning_content", "refusal", "tool_calls"}

func decodeToolCallDeltasFast(v []byte, out *[]ToolCall) error {
	if isNull(v) {
		return nil
	}
	tcs := []ToolCall{}
	err := scanArray(v, func(e []byte) error {
		if cap(tcs) == 0 {
			tcs = make([]ToolCall, 0, 1)
		}
		var tc ToolCall
		_, err := scanMembers(e, toolCallKeyList, func(mb objectMember) (uint64, error) {
			switch string(mb.rawKey) {
			case "index":
				if !isNull(mb.value) {
					i, ok := plainInt(mb.value, 0)
					if !ok {
						return 0, errStop
					}
					n := int(i)
					tc.Index = &n
				}
				return 1, nil
			case "id":
				return 2, stringValue(mb.value, &tc.ID)
			case "type":
				return 4, stringValue(mb.value, &tc.Type)
			case "function":
				return 8, decodeFunctionCallFast(mb.value, &tc.Function)
			}
			return 0, nil
		})
		if err != nil {
			return err
		}
		tcs = append(tcs, tc)
		return nil
	})
	if err != nil {
		return err
	}
	*out = tcs
	return nil
}

var toolCallKeyList = []string{"index", "id", "type", "function"}

func decodeFunctionCallFast(v []byte, f *FunctionCall) error {
	if isNull(v) {
		return nil
	}
	_, err := scanMembers(v, functionCallKeyList, func(mb objectMember) (uint64, error) {
		switch string(mb.rawKey) {
		case "name":
			return 1, stringValue(mb.value, &f.Name)
		case "arguments":
			return 2, stringValue(mb.value, &f.Arguments)
		}
		return 0, nil
	})
	return err
}

var functionCallKeyList = []string{"name", "arguments"}

// stringValue decodes a string member; a null leaves dst as it is, as in
// encoding/json (the callers reject repeated keys, so dst is empty).
func stringValue(v []byte, dst *string) error {
	if isNull(v) {
		return nil
	}
	s, ok := unquote(v)
	if !ok {
		return errStop
	}
	*dst = s
	return nil
}

// optionalString decodes a *string member: nil for null.
func optionalString(v []byte) (*string, error) {
	if isNull(v) {
		return nil, nil
	}
	s, ok := unquote(v)
	if !ok {
		return nil, errStop
	}
	return &s, nil
}

// unquote returns the value of the JSON string literal v as encoding/json
// decodes it, also for the escapes that text and tool-call argument
// deltas are full of; ok is false for what it leaves to encoding/json: a
// malformed literal, control bytes, invalid UTF-8 (which encoding/json
// replaces) and surrogate escapes.
func unquote(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	in := v[1 : len(v)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return plainString(v)
	}
	if !utf8.Valid(in) {
		return "", false
	}
	var sb strings.Builder
	sb.Grow(len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c == '"' || c < 0x20 {
			return "", false
		}
		if c != '\\' {
			sb.WriteByte(c)
			continue
		}
		i++
		if i >= len(in) {
			return "", false
		}
		switch in[i] {
		case '"', '\\', '/':
			sb.WriteByte(in[i])
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			if i+5 > len(in) {
				return "", false
			}
			r, ok := hex4(in[i+1 : i+5])
			if !ok || utf16.IsSurrogate(r) {
				return "", false
			}
			sb.WriteRune(r)
			i += 4
		default:
			return "", false
		}
	}
	return sb.String(), true
}

func hex4(h []byte) (rune, bool) {
	var r rune
	for _, c := range h {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
