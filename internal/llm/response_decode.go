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
	var seen uint16
	once := func(bit uint16) error {
		if seen&bit != 0 {
			return errStop
		}
		seen |= bit
		return nil
	}
	end, err := scanObjectEnd(b, func(mb objectMember) error {
		if mb.escaped {
			return errStop
		}
		switch string(mb.rawKey) {
		case "id":
			return firstString(once(1<<0), mb.value, &w.ID)
		case "object":
			return firstString(once(1<<1), mb.value, &w.Object)
		case "created":
			if err := once(1 << 2); err != nil {
				return err
			}
			n, ok := plainInt(mb.value, 64)
			if !ok {
				return errStop
			}
			w.Created = n
		case "model":
			return firstString(once(1<<3), mb.value, &w.Model)
		case "choices":
			if err := once(1 << 4); err != nil {
				return err
			}
			return decodeChoicesFast(mb.value, &w.Choices)
		case "usage":
			if err := once(1 << 5); err != nil {
				return err
			}
			if isNull(mb.value) {
				return nil
			}
			w.Usage = new(Usage)
			return decodeUsageFast(mb.value, w.Usage)
		case "system_fingerprint":
			return firstString(once(1<<6), mb.value, &w.SystemFingerprint)
		case "service_tier":
			return firstString(once(1<<7), mb.value, &w.ServiceTier)
		default:
			if !unknownKey(mb.rawKey, chatResponseKeyList) || !json.Valid(mb.value) {
				return errStop
			}
			if w.Extra == nil {
				w.Extra = make(Extra, 2)
			}
			k := string(mb.rawKey)
			if _, dup := w.Extra[k]; dup {
				return errStop
			}
			w.Extra[k] = json.RawMessage(bytes.Clone(mb.value))
		}
		return nil
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
		var seen uint8
		_, err := scanObjectEnd(e, func(mb objectMember) error {
			if mb.escaped {
				return errStop
			}
			bit := uint8(0)
			switch string(mb.rawKey) {
			case "index":
				bit = 1
				i, ok := plainInt(mb.value, 0)
				if !ok {
					return errStop
				}
				c.Index = int(i)
			case "message":
				bit = 2
				if isNull(mb.value) {
					return errStop
				}
				// what json.Unmarshal calls with these bytes
				if err := c.Message.UnmarshalJSON(mb.value); err != nil {
					return errStop
				}
			case "finish_reason":
				bit = 4
				if !isNull(mb.value) { // null leaves the string empty
					s, ok := plainString(mb.value)
					if !ok {
						return errStop
					}
					c.FinishReason = s
				}
			case "logprobs":
				bit = 8
				if !json.Valid(mb.value) {
					return errStop
				}
				c.Logprobs = json.RawMessage(bytes.Clone(mb.value))
			default:
				if !unknownKey(mb.rawKey, choiceKeyList) || !json.Valid(mb.value) {
					return errStop
				}
			}
			if seen&bit != 0 {
				return errStop
			}
			seen |= bit
			return nil
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
	var seen uint8
	_, err := scanObjectEnd(v, func(mb objectMember) error {
		if mb.escaped {
			return errStop
		}
		var dst *int
		bit := uint8(0)
		switch string(mb.rawKey) {
		case "prompt_tokens":
			dst, bit = &u.PromptTokens, 1
		case "completion_tokens":
			dst, bit = &u.CompletionTokens, 2
		case "total_tokens":
			dst, bit = &u.TotalTokens, 4
		case "prompt_tokens_details":
			bit = 8
			if !isNull(mb.value) {
				d := new(PromptTokensDetails)
				u.PromptTokensDetails = d
				if err := decodeIntsFast(mb.value, []string{"cached_tokens", "cache_write_tokens", "audio_tokens"},
					[]*int{&d.CachedTokens, &d.CacheWriteTokens, &d.AudioTokens}); err != nil {
					return err
				}
			}
		case "completion_tokens_details":
			bit = 16
			if !isNull(mb.value) {
				d := new(CompletionTokensDetails)
				u.CompletionTokensDetails = d
				if err := decodeIntsFast(mb.value, []string{"reasoning_tokens", "audio_tokens"},
					[]*int{&d.ReasoningTokens, &d.AudioTokens}); err != nil {
					return err
				}
			}
		default:
			if !unknownKey(mb.rawKey, usageKeyList) || !json.Valid(mb.value) {
				return errStop
			}
			return nil
		}
		if seen&bit != 0 {
			return errStop
		}
		seen |= bit
		if dst != nil {
			n, ok := plainInt(mb.value, 0)
			if !ok {
				return errStop
			}
			*dst = int(n)
		}
		return nil
	})
	return err
}

var usageKeyList = []string{"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "completion_tokens_details"}

// decodeIntsFast decodes an object of integer members named keys into
// dsts, ignoring other members as encoding/json does.
func decodeIntsFast(v []byte, keys []string, dsts []*int) error {
	var seen uint8
	_, err := scanObjectEnd(v, func(mb objectMember) error {
		if mb.escaped {
			return errStop
		}
		for i, k := range keys {
			if string(mb.rawKey) != k {
				continue
			}
			if seen&(1<<i) != 0 {
				return errStop
			}
			seen |= 1 << i
			n, ok := plainInt(mb.value, 0)
			if !ok {
				return errStop
			}
			*dsts[i] = int(n)
			return nil
		}
		if !unknownKey(mb.rawKey, keys) || !json.Valid(mb.value) {
			return errStop
		}
		return nil
	})
	return err
}

// firstString decodes a string member unless err (a repeated key) is set.
func firstString(err error, v []byte, dst *string) error {
	if err != nil {
		return err
	}
	s, ok := plainString(v)
	if !ok {
		return errStop
	}
	*dst = s
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
