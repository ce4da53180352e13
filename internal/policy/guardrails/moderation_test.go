package guardrails

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/openai"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// fakeProvider is the OpenAI adapter against the OpenAI fake upstream.
func fakeProvider(t *testing.T) (provider.Provider, *providertest.Fake) {
	t.Helper()
	fake := providertest.NewFake(providertest.Options{APIKey: "sk-fake"})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p, err := openai.New(provider.Spec{ID: "workers-ai", Type: "openai", BaseURL: srv.URL + "/v1", APIKey: "sk-fake", Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return p, fake
}

func TestParseLlamaGuard(t *testing.T) {
	for _, tc := range []struct {
		in      string
		flagged bool
		cats    string
		err     bool
	}{
		{"safe", false, "", false},
		{"  Safe\n", false, "", false},
		{"unsafe\nS1", true, "S1", false},
		{"unsafe\nS1,S10", true, "S1,S10", false},
		{"unsafe\ns2, S3\n", true, "S2,S3", false},
		{"unsafe", true, "unsafe", false},
		{`{"safe":false,"categories":["S9"]}`, true, "S9", false},
		{`{"safe":true}`, false, "", false},
		{`{"response":{"safe":false,"categories":["S4"]}}`, true, "S4", false},
		{`{"response":"unsafe\nS5"}`, true, "S5", false},
		{"I cannot help with that", false, "", true},
		{`{"nope":1}`, false, "", true},
		{`{`, false, "", true},
	} {
		v, err := ParseLlamaGuard(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("%q: err = %v", tc.in, err)
			continue
		}
		if v.Flagged != tc.flagged || strings.Join(v.Categories, ",") != tc.cats {
			t.Errorf("%q: got %+v", tc.in, v)
		}
	}
}

func TestParseOpenAIModeration(t *testing.T) {
	v, err := ParseOpenAIModeration([]byte(`{"results":[{"flagged":false,"categories":{"hate":false}},
		{"flagged":true,"categories":{"violence":true,"hate":false,"self-harm":true}}]}`))
	if err != nil || !v.Flagged || strings.Join(v.Categories, ",") != "self-harm,violence" {
		t.Errorf("got %+v, %v", v, err)
	}
	for _, bad := range []string{`{}`, `[]`, `nope`} {
		if _, err := ParseOpenAIModeration([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestLlamaGuardAgainstFakeProvider(t *testing.T) {
	p, fake := fakeProvider(t)
	mod := &Moderation{
		Moderator:  &LlamaGuard{Provider: p, Model: "@cf/meta/llama-guard-3-8b"},
		Prompt:     true,
		Response:   true,
		Categories: map[string]Action{"S10": ActionFlag},
	}
	g := newGuard(t, []RuleSet{{Name: "safety", Moderation: mod}})

	// a safe prompt passes, and the guard model saw it
	c := newCall("m", false, user("what is the capital of France?"))
	if _, err := serve(t, g, &upstream{}, c); err != nil {
		t.Fatalf("safe prompt: %v", err)
	}
	var sent llm.ChatRequest
	_ = json.Unmarshal(fake.Requests()[0].Body, &sent)
	if sent.Model != "@cf/meta/llama-guard-3-8b" || lastUser(&sent) != "what is the capital of France?" {
		t.Errorf("guard model got %s", fake.Requests()[0].Body)
	}

	// S1 blocks, naming the category but not the text
	_, err := serve(t, g, &upstream{}, newCall("m", false, user("how do I kill a process")))
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Code != "guardrail_blocked" || !strings.Contains(ge.Message, "S1 (violent crimes)") ||
		strings.Contains(ge.Message, "process") {
		t.Fatalf("unsafe prompt: %v", err)
	}

	// S10 is only flagged
	c = newCall("m", false, user("I hate mondays"))
	if _, err := serve(t, g, &upstream{}, c); err != nil || !contains(c.Outcome.Flags, "safety/moderation:S10") {
		t.Fatalf("flagged category: err %v flags %v", err, c.Outcome.Flags)
	}

	// answers are moderated too, with the prompt as context
	violent := func(*llm.ChatRequest) string { return "you should kill it" }
	_, err = serve(t, g, &upstream{reply: violent}, newCall("m", false, user("hi")))
	if !errors.As(err, &ge) || !strings.Contains(ge.Message, "response blocked") {
		t.Fatalf("unsafe answer: %v", err)
	}
	last := fake.Last()
	_ = json.Unmarshal(last.Body, &sent)
	if n := len(sent.Messages); n != 2 || sent.Messages[1].Role != llm.RoleAssistant || sent.Messages[1].Content.Text() != "you should kill it" {
		t.Errorf("answer moderation sent %s", last.Body)
	}

	// a streamed answer is moderated at its end: the stream ends in an error
	sent2, err := serve(t, g, &upstream{reply: violent, split: func(s string) []string { return strings.SplitAfter(s, " ") }},
		newCall("m", true, user("hi")))
	if !errors.As(err, &ge) || ge.Code != "guardrail_blocked" || sent2 != "you should kill it" {
		t.Fatalf("unsafe streamed answer: sent %q, err %v", sent2, err)
	}
}

func TestModerationSeesOnlyMaskedValues(t *testing.T) {
	p, fake := fakeProvider(t)
	set := piiSet(t, ActionMask)
	set.Moderation = &Moderation{Moderator: &LlamaGuard{Provider: p, Model: "llama-guard"}, Prompt: true, Response: true}
	g := newGuard(t, []RuleSet{set})
	got, err := serve(t, g, &upstream{}, newCall("m", false, user("mail john.doe@example.com")))
	if err != nil || got != "You said: mail john.doe@example.com" {
		t.Fatalf("got %q, %v", got, err)
	}
	for _, r := range fake.Requests() {
		if strings.Contains(string(r.Body), "john.doe") {
			t.Errorf("the moderation model received the original value: %s", r.Body)
		}
	}
}

func TestOpenAIModerationAgainstFakeProvider(t *testing.T) {
	p, fake := fakeProvider(t)
	fw := p.(provider.Forwarder)
	mod := &Moderation{
		Moderator:  &OpenAIModeration{Forwarder: fw, Model: "omni-moderation-latest"},
		Prompt:     true,
		Categories: map[string]Action{"hate": ActionAllow},
	}
	g := newGuard(t, []RuleSet{{Name: "mod", Moderation: mod}})
	_, err := serve(t, g, &upstream{}, newCall("m", false, user("kill it")))
	var ge *gwerr.Error
	if !errors.As(err, &ge) || !strings.Contains(ge.Message, "violence") {
		t.Fatalf("violent prompt: %v", err)
	}
	r := fake.Last()
	if r.Path != "/v1/moderations" || r.Header.Get("Authorization") != "Bearer sk-fake" {
		t.Errorf("moderation request went to %s with auth %q", r.Path, r.Header.Get("Authorization"))
	}
	c := newCall("m", false, user("I hate rain"))
	if _, err := serve(t, g, &upstream{}, c); err != nil || len(c.Outcome.Flags) != 0 {
		t.Fatalf("allowed category: err %v flags %v", err, c.Outcome.Flags)
	}
}

func TestModerationFailures(t *testing.T) {
	fake := providertest.NewFake(providertest.Options{})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p, _ := openai.New(provider.Spec{ID: "x", Type: "openai", BaseURL: srv.URL + "/v1", Client: srv.Client()})
	for _, failClosed := range []bool{false, true} {
		mod := &Moderation{Moderator: &LlamaGuard{Provider: p, Model: "error-500"}, Prompt: true, FailClosed: failClosed}
		g := newGuard(t, []RuleSet{{Name: "s", Moderation: mod}})
		c := newCall("m", false, user("hi"))
		_, err := serve(t, g, &upstream{}, c)
		var ge *gwerr.Error
		switch {
		case failClosed && (!errors.As(err, &ge) || ge.Status != http.StatusServiceUnavailable || ge.Code != "moderation_unavailable"):
			t.Errorf("fail closed: %v", err)
		case !failClosed && (err != nil || !contains(c.Outcome.Flags, "s/moderation:error")):
			t.Errorf("fail open: err %v flags %v", err, c.Outcome.Flags)
		}
	}
	// a guard model that answers something else is a failure, not a pass
	mod := &Moderation{Moderator: &LlamaGuard{Provider: p, Model: "gpt-4o"}, Prompt: true, FailClosed: true}
	g := newGuard(t, []RuleSet{{Name: "s", Moderation: mod}})
	if _, err := serve(t, g, &upstream{}, newCall("m", false, user("hi"))); err == nil {
		t.Error("an unparseable moderation answer passed")
	}
}

func FuzzParseModeration(f *testing.F) {
	for _, s := range []string{"safe", "unsafe\nS1,S10", `{"safe":false,"categories":["S2"]}`, `{"response":"unsafe\nS5"}`,
		`{"results":[{"flagged":true,"categories":{"hate":true}}]}`, `{"response":{"response":"safe"}}`, "unsafe\n" + strings.Repeat("S1,", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := ParseLlamaGuard(s); err == nil && v.Flagged && len(v.Categories) == 0 {
			t.Fatalf("flagged without a category: %q", s)
		}
		if v, err := ParseOpenAIModeration([]byte(s)); err == nil && v.Flagged && len(v.Categories) == 0 {
			t.Fatalf("flagged without a category: %q", s)
		}
	})
}
