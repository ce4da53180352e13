package usage

import (
	"maps"
	"strings"

	"github.com/aigateway/aigateway/internal/pipeline"
)

// Metadata keys the gateway adds to a record, so logs can be filtered by
// them like by the client's own (metadata.aig.prompt=summarize).
const (
	// MetaGuardrails lists the guardrail checks that matched, comma
	// separated ("pii/email,safety/injection").
	MetaGuardrails = "aig.guardrails"
	// MetaPrompt and MetaPromptVersion name the prompt template a call ran.
	MetaPrompt        = "aig.prompt"
	MetaPromptVersion = "aig.prompt_version"
)

// recordMetadata is the request's metadata plus what the gateway knows
// about the call that the record has no column for.
func recordMetadata(c *pipeline.Call) map[string]any {
	md := c.Options.Metadata
	if len(c.Outcome.Flags) == 0 && c.Prompt.Name == "" {
		return md
	}
	out := make(map[string]any, len(md)+3)
	maps.Copy(out, md)
	if len(c.Outcome.Flags) > 0 {
		out[MetaGuardrails] = strings.Join(c.Outcome.Flags, ",")
	}
	if c.Prompt.Name != "" {
		out[MetaPrompt] = c.Prompt.Name
		out[MetaPromptVersion] = float64(c.Prompt.Version)
	}
	return out
}
