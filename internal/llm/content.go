package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"
)

// Content is a message's content: absent/null, a plain string, or an array of
// typed parts. The three are kept apart because providers treat them
// differently (an assistant turn with tool calls often has null content).
type Content struct {
	text  string
	parts []Part
	kind  contentKind
}

type contentKind uint8

const (
	contentNull contentKind = iota
	contentText
	contentParts
)

// TextContent returns string content.
func TextContent(s string) Content { return Content{text: s, kind: contentText} }

// PartsContent returns multi-part content.
func PartsContent(p ...Part) Content { return Content{parts: p, kind: contentParts} }

// IsNull reports whether the content is absent or JSON null.
func (c Content) IsNull() bool { return c.kind == contentNull }

// IsParts reports whether the content is an array of parts.
func (c Content) IsParts() bool { return c.kind == contentParts }

// Parts returns the content as parts; string content becomes one text part.
func (c Content) Parts() []Part {
	switch c.kind {
	case contentParts:
		return c.parts
	case contentText:
		return []Part{{Type: PartText, Text: c.text}}
	}
	return nil
}

// Text returns the content's text: the string itself, or the text parts
// joined, ignoring non-text parts.
func (c Content) Text() string {
	switch c.kind {
	case contentText:
		return c.text
	case contentParts:
		if len(c.parts) == 1 && c.parts[0].Type == PartText {
			return c.parts[0].Text
		}
		var b strings.Builder
		for _, p := range c.parts {
			if p.Type == PartText {
				b.WriteString(p.Text)
			}
		}
		return b.String()
	}
	return ""
}

// MarshalJSON encodes null, a string or an array.
func (c Content) MarshalJSON() ([]byte, error) {
	switch c.kind {
	case contentText:
		return json.Marshal(c.text)
	case contentParts:
		if c.parts == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(c.parts)
	}
	return []byte("null"), nil
}

// UnmarshalJSON accepts null, a string or an array of parts.
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*c = Content{}
		return nil
	case b[0] == '"':
		// Message text is most of a request's bytes: take a string without
		// escapes as is rather than validating and unquoting it again
		// (encoding/json has validated the whole body before calling here).
		if s, ok := plainString(b); ok {
			*c = TextContent(s)
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = TextContent(s)
		return nil
	case b[0] == '[':
		var p []Part
		if err := json.Unmarshal(b, &p); err != nil {
			return err
		}
		if p == nil {
			p = []Part{}
		}
		*c = PartsContent(p...)
		return nil
	}
	return errors.New("content must be a string, an array of content parts, or null")
}

// plainString returns the value of the JSON string literal b when it has
// no escapes and is valid UTF-8, which is exactly what json.Unmarshal would
// return for it; ok is false otherwise.
func plainString(b []byte) (s string, ok bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	in := b[1 : len(b)-1]
	if bytes.IndexByte(in, '\\') >= 0 || bytes.IndexByte(in, '"') >= 0 || !utf8.Valid(in) {
		return "", false
	}
	for _, ch := range in {
		if ch < 0x20 {
			return "", false
		}
	}
	return string(in), true
}

// Part types of the OpenAI content-part vocabulary.
const (
	PartText       = "text"
	PartImageURL   = "image_url"
	PartInputAudio = "input_audio"
	PartFile       = "file"
	PartRefusal    = "refusal"
)

// Part is one element of multi-part content.
type Part struct {
	Type       string      `json:"type"`
	Text       string      `json:"text,omitempty"`
	Refusal    string      `json:"refusal,omitempty"`
	ImageURL   *ImageURL   `json:"image_url,omitempty"`
	InputAudio *InputAudio `json:"input_audio,omitempty"`
	File       *File       `json:"file,omitempty"`
}

// ImageURL is an image reference: an http(s) URL or a data: URL with base64.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// DataURL splits a data: URL into media type and base64 payload; ok is false
// for other URLs.
func (u ImageURL) DataURL() (mediaType, base64Data string, ok bool) {
	rest, found := strings.CutPrefix(u.URL, "data:")
	if !found {
		return "", "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	mediaType, isBase64 := strings.CutSuffix(meta, ";base64")
	if !isBase64 {
		return "", "", false
	}
	return mediaType, data, true
}

// InputAudio is base64 audio input.
type InputAudio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

// File is an inline or uploaded file reference.
type File struct {
	FileData string `json:"file_data,omitempty"`
	FileID   string `json:"file_id,omitempty"`
	Filename string `json:"filename,omitempty"`
}
