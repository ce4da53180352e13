package app

import (
	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/anthropic"
	"github.com/aigateway/aigateway/internal/provider/azure"
	"github.com/aigateway/aigateway/internal/provider/bedrock"
	"github.com/aigateway/aigateway/internal/provider/gemini"
	"github.com/aigateway/aigateway/internal/provider/openai"
	"github.com/aigateway/aigateway/internal/provider/workersai"
)

// providerFactories maps each wire format to its adapter. A new wire format
// is one package and one line here.
func providerFactories() map[string]provider.Factory {
	return map[string]provider.Factory{
		config.TypeOpenAI:    openai.New,
		config.TypeAzure:     azure.New,
		config.TypeAnthropic: anthropic.New,
		config.TypeGemini:    gemini.New,
		config.TypeWorkersAI: workersai.New,
		config.TypeBedrock:   bedrock.New,
	}
}
