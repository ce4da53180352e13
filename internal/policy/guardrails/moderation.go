package guardrails

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
)

// Moderation asks a moderation model about prompts and/or answers.
type Moderation struct {
	Moderator Moderator
	// Prompt and Response say what is moderated. Streamed answers are
	// moderated when they end (the client has seen the text by then; a
	// block ends the stream with an error event instead of its end).
	Prompt, Response bool
	// Action applies to flagged categories not in Categories (default
	// ActionBlock when zero).
	Action Action
	// Categories override Action per category (Llama Guard's S1…S14,
	// OpenAI's "violence", "hate" …): ActionBlock, ActionFlag or
	// ActionAllow.
	Categories map[string]Action
	// FailClosed refuses the request when the moderation call fails;
	// otherwise a failure is flagged ("set/moderation:error") and the
	// request goes on.
	FailClosed bool
	// Timeout bounds one moderation call (default 10s).
	Timeout time.Duration
}

// Turn is one message of a conversation to moderate, text only.
type Turn struct {
	Role string // user or assistant
	Text string
}

// Verdict is a moderation model's judgement.
type Verdict struct {
	Flagged    bool
	Categories []string
}

// Moderator judges a conversation. The last turn is what is judged: the
// user's prompt, or the assistant's answer.
type Moderator interface {
	Moderate(ctx context.Context, turns []Turn) (Verdict, error)
}

// LlamaGuard is a Moderator backed by a Llama Guard chat model (Workers
// AI @cf/meta/llama-guard-3-8b, or the same model on Groq, Together …),
// called through the gateway's own provider adapter. The model answers
// "safe", or "unsafe" and a line of category codes ("S1,S10").
type LlamaGuard struct {
	Provider provider.Provider
	Model    string
}

// Moderate implements Moderator.
func (lg *LlamaGuard) Moderate(ctx context.Context, turns []Turn) (Verdict, error) {
	msgs := make([]llm.Message, 0, len(turns))
	for _, t := range turns {
		msgs = append(msgs, llm.Message{Role: t.Role, Content: llm.TextContent(t.Text)})
	}
	zero, maxTokens := 0.0, 32
	resp, err := lg.Provider.Chat(ctx, &llm.ChatRequest{Model: lg.Model, Messages: msgs, Temperature: &zero, MaxTokens: &maxTokens})
	if err != nil {
		return Verdict{}, fmt.Errorf("calling %s/%s: %w", lg.Provider.ID(), lg.Model, err)
	}
	if len(resp.Choices) == 0 {
		return Verdict{}, errors.New("the moderation model returned no choices")
	}
	return ParseLlamaGuard(resp.Choices[0].Message.Content.Text())
}

// ParseLlamaGuard reads a Llama Guard answer: "safe", "unsafe\nS1,S3", or
// the JSON some hosts return ({"safe":false,"categories":["S1"]}, also
// wrapped in {"response":…}).
func ParseLlamaGuard(out string) (Verdict, error) {
	s := strings.TrimSpace(out)
	if strings.HasPrefix(s, "{") {
		var obj struct {
			Safe       *bool           `json:"safe"`
			Categories []string        `json:"categories"`
			Response   json.RawMessage `json:"response"`
		}
		if err := json.Unmarshal([]byte(s), &obj); err != nil {
			return Verdict{}, fmt.Errorf("moderation answer is not valid JSON")
		}
		if obj.Safe == nil && len(obj.Response) > 0 {
			if len(obj.Response) > 0 && obj.Response[0] == '"' {
				var inner string
				_ = json.Unmarshal(obj.Response, &inner)
				return ParseLlamaGuard(inner)
			}
			return ParseLlamaGuard(string(obj.Response))
		}
		if obj.Safe == nil {
			return Verdict{}, errors.New(`moderation answer has no "safe" member`)
		}
		v := Verdict{Flagged: !*obj.Safe}
		if v.Flagged {
			v.Categories = normalizeCategories(obj.Categories)
		}
		return v, nil
	}
	first, rest, _ := strings.Cut(s, "\n")
	switch strings.ToLower(strings.TrimSpace(first)) {
	case "safe":
		return Verdict{}, nil
	case "unsafe":
		var cats []string
		for _, line := range strings.Split(rest, "\n") {
			for _, c := range strings.Split(line, ",") {
				if c = strings.TrimSpace(c); c != "" {
					cats = append(cats, c)
				}
			}
		}
		return Verdict{Flagged: true, Categories: normalizeCategories(cats)}, nil
	}
	return Verdict{}, fmt.Errorf("unexpected moderation answer (want safe or unsafe)")
}

func normalizeCategories(cats []string) []string {
	out := make([]string, 0, len(cats))
	for _, c := range cats {
		c = strings.TrimSpace(c)
		if len(c) > 1 && (c[0] == 's' || c[0] == 'S') && c[1] >= '0' && c[1] <= '9' {
			c = "S" + c[1:]
		}
		if c != "" && len(c) <= 64 {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		out = append(out, "unsafe")
	}
	return out
}

// llamaGuardNames are Llama Guard 3's hazard categories, for messages.
var llamaGuardNames = map[string]string{
	"S1": "violent crimes", "S2": "non-violent crimes", "S3": "sex-related crimes",
	"S4": "child sexual exploitation", "S5": "defamation", "S6": "specialized advice",
	"S7": "privacy", "S8": "intellectual property", "S9": "indiscriminate weapons",
	"S10": "hate", "S11": "suicide and self-harm", "S12": "sexual content",
	"S13": "elections", "S14": "code interpreter abuse",
}

// describeCategory gives a category with its name when known ("S1
// (violent crimes)").
func describeCategory(c string) string {
	if n, ok := llamaGuardNames[c]; ok {
		return c + " (" + n + ")"
	}
	return c
}

// OpenAIModeration is a Moderator backed by OpenAI's moderation endpoint
// (POST {base}/moderations), reached through the provider's passthrough,
// so the provider's credential and base URL are the gateway's own.
type OpenAIModeration struct {
	Forwarder provider.Forwarder
	// Model is the moderation model ("omni-moderation-latest"); empty
	// lets the endpoint choose.
	Model string
}

// maxModerationBody bounds the moderation endpoint's answer.
const maxModerationBody = 1 << 20

// Moderate implements Moderator: the last turn is sent as input.
func (om *OpenAIModeration) Moderate(ctx context.Context, turns []Turn) (Verdict, error) {
	if len(turns) == 0 {
		return Verdict{}, nil
	}
	body := map[string]any{"input": turns[len(turns)-1].Text}
	if om.Model != "" {
		body["model"] = om.Model
	}
	b, err := json.Marshal(body)
	if err != nil {
		return Verdict{}, fmt.Errorf("encoding moderation request: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	resp, err := om.Forwarder.Forward(ctx, &provider.NativeRequest{Method: http.MethodPost, Path: "/moderations", Header: h, Body: b})
	if err != nil {
		return Verdict{}, fmt.Errorf("calling the moderation endpoint: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxModerationBody))
	if err != nil {
		return Verdict{}, fmt.Errorf("reading the moderation answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Verdict{}, fmt.Errorf("the moderation endpoint returned status %d", resp.StatusCode)
	}
	return ParseOpenAIModeration(raw)
}

// ParseOpenAIModeration reads a /moderations answer: flagged if any result
// is, with every category that is true in a flagged result.
func ParseOpenAIModeration(raw []byte) (Verdict, error) {
	var out struct {
		Results []struct {
			Flagged    bool            `json:"flagged"`
			Categories map[string]bool `json:"categories"`
		} `json:"results"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(raw), &out); err != nil {
		return Verdict{}, errors.New("moderation answer is not valid JSON")
	}
	if out.Results == nil {
		return Verdict{}, errors.New(`moderation answer has no "results"`)
	}
	var v Verdict
	seen := map[string]bool{}
	for _, r := range out.Results {
		if !r.Flagged {
			continue
		}
		v.Flagged = true
		for c, on := range r.Categories {
			if on && !seen[c] {
				seen[c] = true
				v.Categories = append(v.Categories, c)
			}
		}
	}
	if v.Flagged && len(v.Categories) == 0 {
		v.Categories = []string{"flagged"}
	}
	sort.Strings(v.Categories)
	return v, nil
}

var (
	_ Moderator = (*LlamaGuard)(nil)
	_ Moderator = (*OpenAIModeration)(nil)
)
