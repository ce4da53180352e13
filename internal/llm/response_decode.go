package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// decodeResponseFast decodes a chat response in the shape providers send
// (string, integer and object members, text messages, usage) in one scan,
// instead of encoding/json's validation pass, its reflective decoder and
// collectExtra's scan. It validates as it goes: the scanner checks the
// structure, every value is checked where it is decoded (strict strings
// and integers, json.Valid for values kept raw or ignored). It reports
// false, leaving r untouched, for anything else: invalid JSON, a null
// where a value is modelled, a
// number that is not a plain integer, a repeated key, a key with escapes
// or non-ASCII bytes or one that matches a member only
// case-insensitively. UnmarshalJSON then takes the general path, so the
// result is always what json.Unmarshal gives (FuzzChatResponseDecoding).
func decodeResponseFast(b []byte, r *ChatResponse) bool {
	var w ChatResponse
	end, err := scanMembers(b, chatResponseKeyList, func(mb objectMember) (uint64, error) {
		switch string(mb.rawKey) {
		case "id":
			return 1 << 0, stringMemberPlain(mb.value, &w.ID)
		case "object":
			return 1 << 1, stringMemberPlain(mb.value, &w.Object)
		case "created":
			n, ok := plainInt(mb.value, 64)
			if !ok {
				return 0, errStop
			}
			w.Created = n
			return 1 << 2, nil
		case "model":
			return 1 << 3, stringMemberPlain(mb.value, &w.Model)
		case "choices":
			return 1 << 4, decodeChoicesFast(mb.value, &w.Choices)
		case "usage":
			if isNull(mb.value) {
				return 1 << 5, nil
			}
			w.Usage = new(Usage)
			return 1 << 5, decodeUsageFast(mb.value, w.Usage)
		case "system_fingerprint":
			return 1 << 6, stringMemberPlain(mb.value, &w.SystemFingerprint)
		case "service_tier":
			return 1 << 7, stringMemberPlain(mb.value, &w.ServiceTier)
		}
		return 0, addExtra(&w.Extra, mb)
	})
	if err != nil || skipSpace(b, end) != len(b) {
		return false
	}
	*r = w
	return true
}

var chatResponseKeyList = []string{"id", "object", "created", "model", "choices", "usage", "system_fingerprint", "service_tier"}

func decodeChoicesFast(v []byte, out *[]Choice) error {
	if isNull(v) {
		return nil
	}
	n := 0
	if err := scanArray(v, func([]byte) error { n++; return nil }); err != nil {
		return err
	}
	cs := make([]Choice, 0, n)
	err := scanArray(v, func(e []byte) error {
		var c Choice
		_, err := scanMembers(e, choiceKeyList, func(mb objectMember) (uint64, error) {
			switch string(mb.rawKey) {
			case "index":
				i, ok := plainInt(mb.value, 0)
				if !ok {
					return 0, errStop
				}
				c.Index = int(i)
				return 1, nil
			case "message":
				if isNull(mb.value) {
					return 0, errStop
				}
				// what json.Unmarshal calls with these bytes
				return 2, c.Message.UnmarshalJSON(mb.value)
			case "finish_reason":
				if !isNull(mb.value) { // null leaves the string empty
					s, ok := plainString(mb.value)
					if !ok {
						return 0, errStop
					}
					c.FinishReason = s
				}
				return 4, nil
			case "logprobs":
				if !json.Valid(mb.value) {
					return 0, errStop
				}
				c.Logprobs = json.RawMessage(bytes.Clone(mb.value))
				return 8, nil
			}
			return 0, nil
		})
		if err != nil {
			return err
		}
		cs = append(cs, c)
		return nil
	})
	if err != nil {
		return err
	}
	*out = cs
	return nil
}

var choiceKeyList = []string{"index", "message", "finish_reason", "logprobs"}

func decodeUsageFast(v []byte, u *Usage) error {
	_, err := scanMembers(v, usageKeyList, func(mb objectMember) (uint64, error) {
		switch string(mb.rawKey) {
		case "prompt_tokens":
			return 1, intValue(mb.value, &u.PromptTokens)
		case "completion_tokens":
			return 2, intValue(mb.value, &u.CompletionTokens)
		case "total_tokens":
			return 4, intValue(mb.value, &u.TotalTokens)
		case "prompt_tokens_details":
			if isNull(mb.value) {
				return 8, nil
			}
			d := new(PromptTokensDetails)
			u.PromptTokensDetails = d
			return 8, decodeIntsFast(mb.value, []string{"cached_tokens", "cache_write_tokens", "audio_tokens"},
				[]*int{&d.CachedTokens, &d.CacheWriteTokens, &d.AudioTokens})
		case "completion_tokens_details":
			if isNull(mb.value) {
				return 16, nil
			}
			d := new(CompletionTokensDetails)
			u.CompletionTokensDetails = d
			return 16, decodeIntsFast(mb.value, []string{"reasoning_tokens", "audio_tokens"},
				[]*int{&d.ReasoningTokens, &d.AudioTokens})
		}
		return 0, nil
	})
	return err
}

var usageKeyList = []string{"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "completion_tokens_details"}

// decodeIntsFast decodes an object of integer members named keys into
// dsts, ignoring other members as encoding/json does.
func decodeIntsFast(v []byte, keys []string, dsts []*int) error {
	_, err := scanMembers(v, keys, func(mb objectMember) (uint64, error) {
		for i, k := range keys {
			if string(mb.rawKey) == k {
				return 1 << i, intValue(mb.value, dsts[i])
			}
		}
		return 0, nil
	})
	return err
}

// intValue decodes a plain integer member (no fraction or exponent, in
// range), what encoding/json takes for an int without a second look.
func intValue(v []byte, dst *int) error {
	n, ok := plainInt(v, 0)
	if !ok {
		return errStop
	}
	*dst = int(n)
	return nil
}

// stringMemberPlain decodes a plain string member (no null, no escapes).
func stringMemberPlain(v []byte, dst *string) error {
	s, ok := plainString(v)
	if !ok {
		return errStop
	}
	*dst = s
	return nil
}

// addExtra keeps a member the type does not model, for passthrough; a key
// seen twice stops the fast path (encoding/json keeps the last).
func addExtra(e *Extra, mb objectMember) error {
	if *e == nil {
		*e = make(Extra, 2)
	}
	k := string(mb.rawKey)
	if _, dup := (*e)[k]; dup {
		return errStop
	}
	(*e)[k] = json.RawMessage(bytes.Clone(mb.value))
	return nil
}

// plainInt parses an integer literal as encoding/json decodes it into an
// int of bitSize bits (0: int); ok is false for what is not a JSON
// integer (leading zeros, fractions, exponents, null) and anything out of
// range.
func plainInt(v []byte, bitSize int) (int64, bool) {
	if len(v) == 0 || len(v) > 20 {
		return 0, false
	}
	digits := v
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(v), 10, bitSize)
	return n, err == nil
}

// unknownKey reports whether k is printable ASCII and matches none of
// known even case-insensitively (encoding/json fills a member on such a
// match, with Unicode folding, hence no non-ASCII keys here).
func unknownKey(k []byte, known []string) bool {
	for _, c := range k {
		if c >= 0x80 || c < 0x20 {
			return false
		}
	}
	for _, name := range known {
		if len(name) == len(k) && bytes.EqualFold(k, []byte(name)) {
			return false
		}
	}
	return true
}

// scanArray calls fn with each element of the JSON array v, which the
// caller has validated.
func scanArray(v []byte, fn func(elem []byte) error) error {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		return errStop
	}
	i = skipSpace(v, i+1)
	if i < len(v) && v[i] == ']' {
		return nil
	}
	for {
		end, err := skipValue(v, i)
		if err != nil {
			return err
		}
		if err := fn(v[i:end]); err != nil {
			return err
		}
		i = skipSpace(v, end)
		if i >= len(v) {
			return errors.New("unexpected end of array")
		}
		if v[i] == ']' {
			return nil
		}
		if v[i] != ',' {
			return errStop
		}
		i = skipSpace(v, i+1)
	}
}
