package llm

import (
	"bytes"
	"encoding/json"
)

// decodeMessageFast decodes the common shape of a message in one scan of
// its bytes: string members, text or null content, members the type does
// not model. encoding/json has validated the bytes before it calls
// Message.UnmarshalJSON, and the general path would validate and decode
// them a second time; for a long prompt that is most of the request's cost.
//
// It reports false, leaving m untouched, for anything else: content parts,
// tool calls, a key with escapes or non-ASCII bytes or one that matches a
// member only case-insensitively (encoding/json would fill the member), a
// value of another type. The general path then decodes the message, so the
// result is always what json.Unmarshal gives (FuzzMessageFastPath).
func decodeMessageFast(b []byte, m *Message) bool {
	var w Message
	ok := true
	bail := func() error { ok = false; return errStop }
	str := func(v []byte, dst *string) error {
		s, good := plainString(v)
		if !good {
			return bail()
		}
		*dst = s
		return nil
	}
	end, err := scanObjectEnd(b, func(mb objectMember) error {
		if mb.escaped {
			return bail()
		}
		switch string(mb.rawKey) {
		case "role":
			return str(mb.value, &w.Role)
		case "name":
			return str(mb.value, &w.Name)
		case "tool_call_id":
			return str(mb.value, &w.ToolCallID)
		case "reasoning_content":
			return str(mb.value, &w.ReasoningContent)
		case "content":
			if isNull(mb.value) {
				w.Content = Content{}
				return nil
			}
			var s string
			if err := str(mb.value, &s); err != nil {
				return err
			}
			w.Content = TextContent(s)
		case "refusal":
			if isNull(mb.value) {
				w.Refusal = nil
				return nil
			}
			var s string
			if err := str(mb.value, &s); err != nil {
				return err
			}
			w.Refusal = &s
		case "tool_calls":
			if !isNull(mb.value) {
				return bail()
			}
			w.ToolCalls = nil
		default:
			if !plainKey(mb.rawKey) || !json.Valid(mb.value) {
				return bail()
			}
			if w.Extra == nil {
				w.Extra = make(Extra, 2)
			}
			w.Extra[string(mb.rawKey)] = json.RawMessage(bytes.Clone(mb.value))
		}
		return nil
	})
	if err != nil || !ok || skipSpace(b, end) != len(b) {
		return false
	}
	*m = w
	return true
}

// plainKey reports whether an unknown key is printable ASCII and matches no member
// of Message even case-insensitively (encoding/json matches member names
// that way, with Unicode folding, hence no non-ASCII keys here).
func plainKey(k []byte) bool {
	for _, c := range k {
		if c >= 0x80 || c < 0x20 {
			return false
		}
	}
	for known := range messageKeys {
		if len(known) == len(k) && bytes.EqualFold(k, []byte(known)) {
			return false
		}
	}
	return true
}

func isNull(v []byte) bool { return string(v) == "null" }
