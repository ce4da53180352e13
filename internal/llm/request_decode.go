package llm

import (
	"encoding/json"
	"strconv"
)

// decodeRequestFast decodes a chat request in its usual shape (model,
// messages, stream, stream_options, numeric sampling parameters, user,
// reasoning_effort, members the type does not model) in one scan,
// validating as it goes as decodeResponseFast does, instead of
// encoding/json's validation pass, its reflective decoder and
// collectExtra's scan; stop, tools, tool_choice and
// response_format go to encoding/json on their own bytes. It reports
// false, leaving r untouched, for anything else (a null, a repeated or
// case-variant key, a key with escapes); UnmarshalJSON then
// takes the general path, so the result is always what json.Unmarshal
// gives (FuzzChatRequestDecoding).
func decodeRequestFast(b []byte, r *ChatRequest) bool {
	var w ChatRequest
	end, err := scanMembers(b, chatRequestKeyList, func(mb objectMember) (uint64, error) {
		if isNull(mb.value) {
			return 0, errStop
		}
		bit := uint64(0)
		var err error
		switch string(mb.rawKey) {
		case "model":
			bit = 1 << 0
			err = stringMember(mb.value, &w.Model)
		case "messages":
			bit = 1 << 1
			err = decodeMessagesFast(mb.value, &w.Messages)
		case "stream":
			bit = 1 << 2
			err = boolMember(mb.value, &w.Stream)
		case "stream_options":
			bit = 1 << 3
			w.StreamOptions = new(StreamOptions)
			err = decodeStreamOptionsFast(mb.value, w.StreamOptions)
		case "max_tokens":
			bit = 1 << 4
			w.MaxTokens, err = intMember(mb.value)
		case "max_completion_tokens":
			bit = 1 << 5
			w.MaxCompletionTokens, err = intMember(mb.value)
		case "temperature":
			bit = 1 << 6
			w.Temperature, err = floatMember(mb.value)
		case "top_p":
			bit = 1 << 7
			w.TopP, err = floatMember(mb.value)
		case "n":
			bit = 1 << 8
			w.N, err = intMember(mb.value)
		case "presence_penalty":
			bit = 1 << 9
			w.PresencePenalty, err = floatMember(mb.value)
		case "frequency_penalty":
			bit = 1 << 10
			w.FrequencyPenalty, err = floatMember(mb.value)
		case "seed":
			bit = 1 << 11
			n, ok := plainInt(mb.value, 64)
			if !ok {
				return 0, errStop
			}
			w.Seed = &n
		case "user":
			bit = 1 << 12
			err = stringMember(mb.value, &w.User)
		case "reasoning_effort":
			bit = 1 << 13
			err = stringMember(mb.value, &w.ReasoningEffort)
		// the structured members, each by encoding/json on its own bytes:
		// what it would do with them inside the whole object
		// (into variables of their own: &w.Stop given to encoding/json
		// would move all of w to the heap, on every request)
		case "stop":
			bit = 1 << 14
			var v Stop
			err = subValue(mb.value, &v)
			w.Stop = v
		case "tools":
			bit = 1 << 15
			var v []Tool
			err = subValue(mb.value, &v)
			w.Tools = v
		case "tool_choice":
			bit = 1 << 16
			var v *ToolChoice
			err = subValue(mb.value, &v)
			w.ToolChoice = v
		case "parallel_tool_calls":
			bit = 1 << 17
			w.ParallelToolCalls = new(bool)
			err = boolMember(mb.value, w.ParallelToolCalls)
		case "response_format":
			bit = 1 << 18
			var v *ResponseFormat
			err = subValue(mb.value, &v)
			w.ResponseFormat = v
		default:
			return 0, addExtra(&w.Extra, mb)
		}
		return bit, err
	})
	if err != nil || skipSpace(b, end) != len(b) {
		return false
	}
	*r = w
	return true
}

var chatRequestKeyList = func() []string {
	keys := make([]string, 0, len(chatRequestKeys))
	for k := range chatRequestKeys {
		keys = append(keys, k)
	}
	return keys
}()

func decodeMessagesFast(v []byte, out *[]Message) error {
	n := 0
	if err := scanArray(v, func([]byte) error { n++; return nil }); err != nil {
		return err
	}
	ms := make([]Message, n)
	i := 0
	err := scanArray(v, func(e []byte) error {
		if isNull(e) {
			return errStop // json leaves a zero message; not worth a case
		}
		// what json.Unmarshal calls with these bytes
		if err := ms[i].UnmarshalJSON(e); err != nil {
			return errStop
		}
		i++
		return nil
	})
	if err != nil {
		return err
	}
	*out = ms
	return nil
}

func decodeStreamOptionsFast(v []byte, o *StreamOptions) error {
	seen := false
	_, err := scanObjectEnd(v, func(mb objectMember) error {
		if mb.escaped {
			return errStop
		}
		if string(mb.rawKey) == "include_usage" {
			if seen {
				return errStop
			}
			seen = true
			return boolMember(mb.value, &o.IncludeUsage)
		}
		if !unknownKey(mb.rawKey, []string{"include_usage"}) || !json.Valid(mb.value) {
			return errStop
		}
		return nil
	})
	return err
}

// subValue decodes one member's bytes with encoding/json.
func subValue(v []byte, dst any) error {
	if json.Unmarshal(v, dst) != nil {
		return errStop
	}
	return nil
}

func stringMember(v []byte, dst *string) error {
	s, ok := plainString(v)
	if !ok {
		return errStop
	}
	*dst = s
	return nil
}

func boolMember(v []byte, dst *bool) error {
	switch string(v) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		return errStop
	}
	return nil
}

func intMember(v []byte) (*int, error) {
	n, ok := plainInt(v, 0)
	if !ok {
		return nil, errStop
	}
	i := int(n)
	return &i, nil
}

// floatMember parses a number as encoding/json does into a float64.
func floatMember(v []byte) (*float64, error) {
	if !isJSONNumber(v) {
		return nil, errStop
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return nil, errStop
	}
	return &f, nil
}

// isJSONNumber reports whether v is a number by JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (strconv.ParseFloat
// accepts more: hex, "Inf", "1.", underscores).
func isJSONNumber(v []byte) bool {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(v) && v[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(v) && v[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(v)
}
