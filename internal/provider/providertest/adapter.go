package providertest

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
)

// This file holds what the adapter tests of every native wire format share:
// building canonical requests and reading answers back.

// User is a user message of text s.
func User(s string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Content: llm.TextContent(s)}
}

// ChatRequest is a chat request for model with msgs.
func ChatRequest(model string, msgs ...llm.Message) *llm.ChatRequest {
	return &llm.ChatRequest{Model: model, Messages: msgs}
}

// DecodeChatRequest decodes a canonical chat request (a request fixture),
// failing the test when it is not one.
func DecodeChatRequest(t testing.TB, raw []byte) *llm.ChatRequest {
	t.Helper()
	var req llm.ChatRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	return &req
}

// Collect reads s to its end and closes it, accumulating its chunks into
// the response they make; err is what ended the stream (nil at its end).
func Collect(s llm.Stream) (*llm.ChatResponse, error) {
	defer s.Close()
	var acc llm.Accumulator
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return acc.Response(), nil
		}
		if err != nil {
			return acc.Response(), err
		}
		acc.Add(c)
	}
}

// Ask sends req to p, streamed (and collected) or not, and returns the
// answer; any error fails the test.
func Ask(t testing.TB, p provider.Provider, req *llm.ChatRequest, stream bool) *llm.ChatResponse {
	t.Helper()
	if !stream {
		resp, err := p.Chat(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	s, err := p.ChatStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Collect(s)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
