package llm

import (
	"bytes"
	"encoding/json"
	"errors"
)

// EmbedRequest is an OpenAI embeddings request.
type EmbedRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format,omitempty"`
	Dimensions     *int            `json:"dimensions,omitempty"`
	User           string          `json:"user,omitempty"`

	Extra Extra `json:"-"`
}

type embedRequestJSON EmbedRequest

var embedRequestKeys = map[string]bool{
	"model": true, "input": true, "encoding_format": true, "dimensions": true, "user": true,
}

// UnmarshalJSON decodes the known members and keeps the rest in Extra.
func (r *EmbedRequest) UnmarshalJSON(b []byte) error {
	var w embedRequestJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	extra, err := collectExtra(b, embedRequestKeys)
	if err != nil {
		return err
	}
	w.Extra = extra
	*r = EmbedRequest(w)
	return nil
}

// MarshalJSON encodes the known members followed by Extra.
func (r EmbedRequest) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(embedRequestJSON(r))
	if err != nil {
		return nil, err
	}
	return appendExtra(b, r.Extra)
}

// ErrTokenInput is returned by Texts when the input is pre-tokenized.
var ErrTokenInput = errors.New("input is token arrays, not text")

// Texts returns the input as a list of strings (a single string becomes one
// element). Token-array input yields ErrTokenInput.
func (r *EmbedRequest) Texts() ([]string, error) {
	in := bytes.TrimSpace(r.Input)
	if len(in) == 0 {
		return nil, errors.New("input is missing")
	}
	if in[0] == '"' {
		var s string
		if err := json.Unmarshal(in, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	var many []string
	if err := json.Unmarshal(in, &many); err != nil {
		var tokens []json.RawMessage
		if json.Unmarshal(in, &tokens) == nil {
			return nil, ErrTokenInput
		}
		return nil, errors.New("input must be a string or an array of strings")
	}
	return many, nil
}

// EmbedResponse is an OpenAI embeddings response.
type EmbedResponse struct {
	Object string      `json:"object"`
	Data   []Embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  *Usage      `json:"usage,omitempty"`
}

// Embedding is one vector. Vector is kept as raw JSON (a float array, or a
// base64 string when encoding_format is base64) so it is not re-parsed on
// the way through.
type Embedding struct {
	Object    string          `json:"object"`
	Index     int             `json:"index"`
	Embedding json.RawMessage `json:"embedding"`
}

// FloatEmbedding builds an Embedding from floats.
func FloatEmbedding(index int, v []float32) (Embedding, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return Embedding{}, err
	}
	return Embedding{Object: "embedding", Index: index, Embedding: raw}, nil
}
