package openai

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/aigateway/aigateway/internal/gwerr"
)

func FuzzDecodeChat(f *testing.F) {
	f.Add([]byte(`{"model":"openai/gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
	f.Add([]byte(`{"model":"a/b","messages":[{"role":"tool","content":"x"}]}`))
	f.Add([]byte(`{"model":"a/b","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}}]}],"tools":[{"type":"function","function":{}}]}`))
	f.Add([]byte(`{"model":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeChat(b)
		if err != nil {
			var ge *gwerr.Error
			if !errors.As(err, &ge) || ge.Status != 400 || ge.Message == "" {
				t.Fatalf("decode error is not a 400 with a message: %v", err)
			}
			return
		}
		if req.Model == "" || len(req.Messages) == 0 {
			t.Fatalf("invalid request accepted: %s", b)
		}
		if _, err := json.Marshal(req); err != nil {
			t.Fatalf("accepted request does not encode: %v", err)
		}
	})
}
