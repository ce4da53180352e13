package config

import "strings"

// Wire formats (provider types).
const (
	TypeOpenAI    = "openai"
	TypeAzure     = "azure-openai"
	TypeAnthropic = "anthropic"
	TypeGemini    = "google-ai-studio"
	TypeWorkersAI = "workers-ai"
	TypeBedrock   = "aws-bedrock"
)

// KnownProvider describes a provider the gateway knows by id: its wire
// format, default base URL and the environment variables that enable it.
type KnownProvider struct {
	ID      string
	Type    string
	BaseURL string // may contain {account} or {region}
	APIPath string
	// KeyEnv are the credential variables; all must be set to enable it
	// from the environment. Empty for keyless providers (Ollama).
	KeyEnv []string
	// BaseEnv overrides the base URL; for keyless providers it enables them.
	BaseEnv string
}

// openAICompatible are vendors that speak the OpenAI format, by id and
// public base URL.
var openAICompatible = [][2]string{
	{"mistral", "https://api.mistral.ai/v1"},
	{"groq", "https://api.groq.com/openai/v1"},
	{"deepseek", "https://api.deepseek.com/v1"},
	{"xai", "https://api.x.ai/v1"},
	{"together", "https://api.together.xyz/v1"},
	{"fireworks", "https://api.fireworks.ai/inference/v1"},
	{"openrouter", "https://openrouter.ai/api/v1"},
	{"perplexity", "https://api.perplexity.ai"},
	{"cerebras", "https://api.cerebras.ai/v1"},
}

// Catalog returns the known providers in a stable order.
func Catalog() []KnownProvider {
	c := []KnownProvider{
		{ID: "openai", Type: TypeOpenAI, BaseURL: "https://api.openai.com/v1", KeyEnv: []string{"OPENAI_API_KEY"}, BaseEnv: "OPENAI_BASE_URL"},
		{ID: "anthropic", Type: TypeAnthropic, BaseURL: "https://api.anthropic.com", KeyEnv: []string{"ANTHROPIC_API_KEY"}, BaseEnv: "ANTHROPIC_BASE_URL"},
		{ID: "google-ai-studio", Type: TypeGemini, BaseURL: "https://generativelanguage.googleapis.com", KeyEnv: []string{"GEMINI_API_KEY"}, BaseEnv: "GEMINI_BASE_URL"},
		{ID: "workers-ai", Type: TypeWorkersAI, BaseURL: "https://api.cloudflare.com/client/v4/accounts/{account}/ai", KeyEnv: []string{"CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"}, BaseEnv: "WORKERS_AI_BASE_URL"},
		{ID: "azure-openai", Type: TypeAzure, KeyEnv: []string{"AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"}, BaseEnv: "AZURE_OPENAI_ENDPOINT"},
		{ID: "aws-bedrock", Type: TypeBedrock, BaseURL: "https://bedrock-runtime.{region}.amazonaws.com", KeyEnv: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"}, BaseEnv: "BEDROCK_BASE_URL"},
	}
	for _, v := range openAICompatible {
		env := EnvPrefix(v[0])
		c = append(c, KnownProvider{ID: v[0], Type: TypeOpenAI, BaseURL: v[1], KeyEnv: []string{env + "_API_KEY"}, BaseEnv: env + "_BASE_URL"})
	}
	c = append(c, KnownProvider{ID: "ollama", Type: TypeOpenAI, APIPath: "/v1", BaseEnv: "OLLAMA_BASE_URL"})
	return c
}

// Known returns the catalog entry for id.
func Known(id string) (KnownProvider, bool) {
	for _, k := range Catalog() {
		if k.ID == id {
			return k, true
		}
	}
	return KnownProvider{}, false
}

// EnvPrefix is the environment prefix of a provider id: upper case with
// "-" as "_".
func EnvPrefix(id string) string {
	return strings.ToUpper(strings.ReplaceAll(id, "-", "_"))
}
