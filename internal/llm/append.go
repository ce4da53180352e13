package llm

import (
	"strconv"
	"unicode/utf8"
)

// Hand-written encoders for the hot response path: a chat completion as
// providers usually answer it (text messages, usage). Each writes exactly
// the bytes json.Marshal writes for the same value (strings HTML-escaped,
// invalid UTF-8 as U+FFFD), which TestAppendMatchesJSONMarshal and
// FuzzChatResponseEncoding check; anything they do not model (tool calls,
// content parts) goes through encoding/json.

// appendChatResponse appends r's known members as json.Marshal encodes
// chatResponseJSON, without Extra.
func appendChatResponse(b []byte, r *ChatResponse) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"object":`...)
	b = appendJSONString(b, r.Object)
	b = append(b, `,"created":`...)
	b = strconv.AppendInt(b, r.Created, 10)
	b = append(b, `,"model":`...)
	b = appendJSONString(b, r.Model)
	b = append(b, `,"choices":[`...)
	for i := range r.Choices {
		if i > 0 {
			b = append(b, ',')
		}
		ch := &r.Choices[i]
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(ch.Index), 10)
		b = append(b, `,"message":`...)
		var err error
		if b, err = appendMessage(b, &ch.Message); err != nil {
			return nil, err
		}
		b = append(b, `,"finish_reason":`...)
		b = appendJSONString(b, ch.FinishReason)
		if len(ch.Logprobs) > 0 {
			b = append(b, `,"logprobs":`...)
			if b, err = appendCompactHTML(b, ch.Logprobs); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if r.Usage != nil {
		b = append(b, `,"usage":`...)
		b = appendUsage(b, r.Usage)
	}
	if r.SystemFingerprint != "" {
		b = append(b, `,"system_fingerprint":`...)
		b = appendJSONString(b, r.SystemFingerprint)
	}
	if r.ServiceTier != "" {
		b = append(b, `,"service_tier":`...)
		b = appendJSONString(b, r.ServiceTier)
	}
	return append(b, '}'), nil
}

// appendMessage appends m as Message.MarshalJSON writes it: by hand for
// text or null content without tool calls or extra members, through
// MarshalJSON otherwise (whose output is already compact and escaped, as
// json.Marshal would embed it).
func appendMessage(b []byte, m *Message) ([]byte, error) {
	if m.Content.kind == contentParts || len(m.ToolCalls) > 0 || len(m.Extra) > 0 {
		enc, err := m.MarshalJSON()
		if err != nil {
			return nil, err
		}
		return append(b, enc...), nil
	}
	return appendPlainMessage(b, m), nil
}

// appendPlainMessage is appendMessage's hand-written case.
func appendPlainMessage(b []byte, m *Message) []byte {
	b = append(b, `{"role":`...)
	b = appendJSONString(b, m.Role)
	b = append(b, `,"content":`...)
	if m.Content.kind == contentText {
		b = appendJSONString(b, m.Content.text)
	} else {
		b = append(b, "null"...)
	}
	if m.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, m.Name)
	}
	if m.ToolCallID != "" {
		b = append(b, `,"tool_call_id":`...)
		b = appendJSONString(b, m.ToolCallID)
	}
	if m.Refusal != nil {
		b = append(b, `,"refusal":`...)
		b = appendJSONString(b, *m.Refusal)
	}
	if m.ReasoningContent != "" {
		b = append(b, `,"reasoning_content":`...)
		b = appendJSONString(b, m.ReasoningContent)
	}
	return append(b, '}')
}

func appendUsage(b []byte, u *Usage) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.TotalTokens), 10)
	if d := u.PromptTokensDetails; d != nil {
		b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
		b = strconv.AppendInt(b, int64(d.CachedTokens), 10)
		if d.CacheWriteTokens != 0 {
			b = append(b, `,"cache_write_tokens":`...)
			b = strconv.AppendInt(b, int64(d.CacheWriteTokens), 10)
		}
		if d.AudioTokens != 0 {
			b = append(b, `,"audio_tokens":`...)
			b = strconv.AppendInt(b, int64(d.AudioTokens), 10)
		}
		b = append(b, '}')
	}
	if d := u.CompletionTokensDetails; d != nil {
		b = append(b, `,"completion_tokens_details":{"reasoning_tokens":`...)
		b = strconv.AppendInt(b, int64(d.ReasoningTokens), 10)
		if d.AudioTokens != 0 {
			b = append(b, `,"audio_tokens":`...)
			b = strconv.AppendInt(b, int64(d.AudioTokens), 10)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// htmlSafe[c] is whether ASCII byte c is written as itself by json.Marshal
// (encoding/json's htmlSafeSet): one lookup per byte of a long prompt.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json does with HTML
// escaping on (json.Marshal's default).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
