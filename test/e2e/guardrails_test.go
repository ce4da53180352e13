package e2e

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// startGuarded runs the binary with the README's guardrails example, OpenAI
// and Workers AI (Llama Guard) faked, configured through the environment.
func startGuarded(t *testing.T) (*Gateway, *providertest.Fake) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "examples", "guardrails", "guardrails.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	oai, env := openAIUpstream(t, providertest.Options{APIKey: "sk-upstream"})
	wai := providertest.NewWorkersAI(providertest.Options{APIKey: "cf-token"})
	env["CLOUDFLARE_API_TOKEN"], env["CLOUDFLARE_ACCOUNT_ID"], env["WORKERS_AI_BASE_URL"] = "cf-token", "acc1", startFake(t, wai)
	return StartGateway(t, GatewayOptions{Config: string(doc), Env: env}), oai
}

func TestGuardrailsThroughOpenAISDK(t *testing.T) {
	g, oai := startGuarded(t)
	client := sdkClient(g)
	ctx := ctx30(t)

	// masked on the way out, restored on the way back, streamed or not
	prompt := "Reply to jane.doe@example.com and call +44 20 7946 0958"
	resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "openai/gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
	})
	if err != nil {
		t.Fatalf("chat: %v\n%s", err, g.Logs())
	}
	if got := resp.Choices[0].Message.Content; got != "Hello from fake: "+prompt {
		t.Errorf("content = %q", got)
	}
	if body := string(oai.Last().Body); strings.Contains(body, "jane.doe") || !strings.Contains(body, "Reply to [EMAIL_1] and call [PHONE_1]") {
		t.Errorf("the provider got %s", body)
	}
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    "openai/gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
	})
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if got := acc.Choices[0].Message.Content; got != "Hello from fake: "+prompt {
		t.Errorf("streamed content = %q", got)
	}

	// refused with a clear error the SDK surfaces
	_, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "openai/gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("charge 4111 1111 1111 1111")},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Code != "guardrail_blocked" ||
		!strings.Contains(apiErr.Message, "pii/credit_card") || strings.Contains(apiErr.Message, "4111") {
		t.Errorf("blocked request: %v", err)
	}
}

func TestPromptTemplateThroughTheBinary(t *testing.T) {
	g, oai := startGuarded(t)
	resp, err := http.Post(g.URL+"/v1/prompts/summarize", "application/json",
		strings.NewReader(`{"variables":{"text":"The launch moved to May.","sentences":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"object":"chat.completion"`) ||
		!strings.Contains(string(body), "Summarise in at most 1 sentences:") {
		t.Fatalf("%d %s\n%s", resp.StatusCode, body, g.Logs())
	}
	if last := string(oai.Last().Body); !strings.Contains(last, `"temperature":0.2`) {
		t.Errorf("the template's params did not reach the provider: %s", last)
	}
	resp2, err := http.Post(g.URL+"/v1/prompts/summarize", "application/json", strings.NewReader(`{"variables":{"txt":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	b2, _ := io.ReadAll(resp2.Body)
	if resp2.StatusCode != 400 || !strings.Contains(string(b2), "missing variables: text") || !strings.Contains(string(b2), "unknown variables: txt") {
		t.Errorf("%d %s", resp2.StatusCode, b2)
	}
}

func TestGuardrailsExamplePassesConfigCheck(t *testing.T) {
	env := map[string]string{"OPENAI_API_KEY": "sk-x", "CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ACCOUNT_ID": "a"}
	code, stdout, stderr := runCLI(t, env, "config", "check", filepath.Join("..", "..", "examples", "guardrails", "guardrails.yaml"))
	if code != 0 || !strings.Contains(stdout, ": ok") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte("guardrails:\n  rule_sets:\n    pii:\n      rules:\n        - name: id\n          regex: 'EMP-(\\d'\n          action: mask\n"), 0o600)
	code, _, stderr = runCLI(t, env, "config", "check", bad)
	if code == 0 || !strings.Contains(stderr, "bad.yaml:6: guardrails.rule_sets.pii.rules[0].regex: invalid regular expression") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}
