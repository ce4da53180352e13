package providertest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The fake's moderation: a text is unsafe when it contains one of these
// trigger words, in the category given (Llama Guard code, OpenAI name).
// Chat models whose name contains "llama-guard" answer like Llama Guard
// ("safe", or "unsafe" and a line of codes) about the last message;
// POST /moderations answers like OpenAI's moderation endpoint.
var moderationTriggers = []struct {
	word, code, name string
}{
	{"kill", "S1", "violence"},
	{"hate", "S10", "hate"},
	{"self-harm", "S11", "self-harm"},
}

// LlamaGuardVerdict is what the fake's Llama Guard answers about text.
func LlamaGuardVerdict(text string) string {
	var codes []string
	for _, t := range moderationTriggers {
		if strings.Contains(strings.ToLower(text), t.word) {
			codes = append(codes, t.code)
		}
	}
	if len(codes) == 0 {
		return "safe"
	}
	return "unsafe\n" + strings.Join(codes, ",")
}

// lastText is the text of the last message, whatever its role.
func lastText(req chatRequest) string {
	if len(req.Messages) == 0 {
		return ""
	}
	return textOf(req.Messages[len(req.Messages)-1].Content)
}

func textOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func (f *Fake) moderations(w http.ResponseWriter, body []byte) {
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		WriteOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return
	}
	inputs, ok := inputTexts(req.Input)
	if !ok {
		WriteOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "'input' must be a string or an array of strings")
		return
	}
	results := make([]any, len(inputs))
	for i, in := range inputs {
		cats := map[string]bool{}
		scores := map[string]float64{}
		flagged := false
		for _, t := range moderationTriggers {
			hit := strings.Contains(strings.ToLower(in), t.word)
			cats[t.name] = hit
			scores[t.name] = 0.001
			if hit {
				flagged, scores[t.name] = true, 0.98
			}
		}
		results[i] = map[string]any{"flagged": flagged, "categories": cats, "category_scores": scores}
	}
	model := req.Model
	if model == "" {
		model = "omni-moderation-latest"
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": "modr-fake", "model": model, "results": results})
}
