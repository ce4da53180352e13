package main

import (
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/benchfix"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// fakeOptions pace the fake upstream for a scenario.
type fakeOptions struct {
	Latency    time.Duration `json:"latency_ns,omitempty"`
	ChunkDelay time.Duration `json:"chunk_delay_ns,omitempty"`
	ReplyWords int           `json:"reply_words,omitempty"`
}

func (o fakeOptions) replyWords() int {
	if o.ReplyWords <= 0 {
		return 20
	}
	return o.ReplyWords
}

// scenario is one row group of the report. Each declares everything it
// needs: the load, the fake's pacing, the gateway's configuration and, for
// features not built yet, which issue it waits for. Enabling a waiting
// scenario is deleting its Needs line (and filling in its Gateway config).
type scenario struct {
	Name string
	What string
	// Needs, when set, says which issues must land first; the scenario is
	// listed as skipped with this text until then.
	Needs string
	// Extra scenarios run only when named with -scenarios, to keep the
	// default run under three minutes.
	Extra bool

	// Conns is the fixed concurrency of the closed loop.
	Conns  int
	Stream bool
	// PromptBytes pads the user message to about this size.
	PromptBytes int
	// OpenStreams holds -streams slow streams open at once instead of
	// running a closed loop, to measure memory per open stream.
	OpenStreams bool

	Fake fakeOptions
	// Gateway is the gateway's config file; ${BENCH_FAKE_URL} is the fake's
	// OpenAI base URL (the gateway expands it from its environment).
	// Empty: defaultGatewayConfig.
	Gateway string
	// GatewayModel is the model asked of the gateway (default
	// openai/gpt-4o-mini; the other targets get gpt-4o-mini).
	GatewayModel string
	// GatewayHeaders are sent to the gateway only (a gateway key, x-aig-*).
	GatewayHeaders [][2]string
	// GatewayExpect is a response header the gateway must send once warm
	// (e.g. a cache HIT), checked before measuring.
	GatewayExpect [2]string
	// GatewayCheck, when set, is run against the warm gateway before
	// measuring, to prove the scenario measures what it says (e.g. that a
	// guardrail is bound to the bench requests). The gateway's admin API
	// is on for it (adminToken).
	GatewayCheck func(t *target) error
	// LogRate, when set, makes this a measurement of the request log path
	// in-process (logpath.go) at this many records/s instead of a load
	// against the targets.
	LogRate int
	// Targets limits the targets (default: all). A proxy that cannot do
	// what the scenario measures (fail over between models) is left out.
	Targets []string
}

// defaultGatewayConfig is one OpenAI-format provider: the fake.
const defaultGatewayConfig = `providers_from_env: false
providers:
  - id: openai
    base_url: ${BENCH_FAKE_URL}
    api_key: sk-bench
`

// policyGatewayConfig turns on every policy stage that exists
// (benchfix.PolicyConfig, shared with the in-process benchmarks). The
// request log and metrics are on in every scenario (they are by default).
const policyGatewayConfig = defaultGatewayConfig + benchfix.PolicyConfig

// fullPolicyGatewayConfig is the policy path plus one guardrail bound to
// the bench model: a PII rule that masks e-mail addresses in the prompt
// and the answer. Every request and answer is scanned; the bench prompt
// holds no address, so nothing is replaced (the common case), and the
// harness proves the rule is bound with one request that holds one (see
// guardrailCheck).
const fullPolicyGatewayConfig = policyGatewayConfig + `guardrails:
  rule_sets:
    pii:
      rules:
        - detect: email
          action: mask
          on: [prompt, response]
  bindings:
    - models: ["openai/*"]
      rule_sets: [pii]
`

// scenarios is the benchmark, in run order.
func scenarios() []scenario {
	return []scenario{
		{
			Name:  "chat-c1",
			What:  "non-streamed chat, 1 connection: latency added per request",
			Conns: 1,
		},
		{
			Name:  "chat-c50",
			What:  "non-streamed chat, 50 connections: throughput and CPU per request",
			Conns: 50,
		},
		{
			Name:   "stream-c1",
			What:   "streamed chat, 1 connection, 23 events 1 ms apart: added time to first event and inter-event delay",
			Conns:  1,
			Stream: true,
			Fake:   fakeOptions{ChunkDelay: time.Millisecond},
		},
		{
			Name:   "stream-c50",
			What:   "streamed chat, 50 connections, unpaced: stream throughput",
			Conns:  50,
			Stream: true,
		},
		{
			Name:        "large-prompt-c10",
			What:        "non-streamed chat with a 100 KB prompt, 10 connections",
			Conns:       10,
			PromptBytes: 100 << 10,
		},
		{
			Name:         "failover-c1",
			What:         "alias whose first target fails with 500 and second answers, 1 connection (direct = one successful upstream call)",
			Conns:        1,
			GatewayModel: "bench-failover",
			Gateway: defaultGatewayConfig + `models:
  - name: bench-failover
    targets:
      - model: openai/error-500
      - model: openai/gpt-4o-mini
`,
			Targets: []string{targetDirect, targetGateway},
		},
		{
			Name:        "open-streams",
			What:        "slow streams held open at once (-streams): memory per open stream",
			Stream:      true,
			OpenStreams: true,
			Fake:        fakeOptions{ChunkDelay: 500 * time.Millisecond, ReplyWords: 60},
		},
		{
			Name:  "cache-hit-c50",
			What:  "non-streamed chat answered from the exact cache, 50 connections (compare the gateway's chat-c50, a miss)",
			Conns: 50,
			Gateway: defaultGatewayConfig + `cache:
  models:
    - match: "openai/*"
`,
			GatewayExpect: [2]string{"X-Aig-Cache-Status", "HIT"},
			Targets:       []string{targetDirect, targetGateway},
		},
		{
			Name:           "policy-c50",
			Extra:          true,
			What:           "non-streamed chat with a gateway key, rate limits, key and tenant budgets, the request log and metrics (full-policy-c50 adds a guardrail), 50 connections",
			Conns:          50,
			Gateway:        policyGatewayConfig,
			GatewayHeaders: [][2]string{{"Authorization", "Bearer " + benchfix.GatewayKey}},
			Targets:        []string{targetDirect, targetFloor, targetNginx, targetGateway},
		},
		{
			Name:           "policy-c1",
			Extra:          true,
			What:           "the same policy path at 1 connection: latency added with keys, limits, budgets, log and metrics on",
			Conns:          1,
			Gateway:        policyGatewayConfig,
			GatewayHeaders: [][2]string{{"Authorization", "Bearer " + benchfix.GatewayKey}},
		},
		{
			Name:           "full-policy-c50",
			What:           "non-streamed chat through gateway key auth + rate limits + key and tenant budgets + async SQLite log + metrics + a PII guardrail (mask e-mail, prompt and answer), 50 connections",
			Conns:          50,
			Gateway:        fullPolicyGatewayConfig,
			GatewayHeaders: [][2]string{{"Authorization", "Bearer " + benchfix.GatewayKey}},
			GatewayCheck:   guardrailCheck,
			Targets:        []string{targetDirect, targetFloor, targetNginx, targetGateway},
		},
		{
			Name:           "full-policy-c1",
			What:           "the full policy path at 1 connection: latency added with every feature on, the guardrail included",
			Conns:          1,
			Gateway:        fullPolicyGatewayConfig,
			GatewayHeaders: [][2]string{{"Authorization", "Bearer " + benchfix.GatewayKey}},
			GatewayCheck:   guardrailCheck,
			Targets:        []string{targetDirect, targetFloor, targetNginx, targetGateway},
		},
		{
			Name:    "log-10k",
			What:    "the request log alone, in-process: chat records offered at 10,000/s to the real writer and SQLite store; do all reach the store without drops?",
			LogRate: 10000,
		},
	}
}

// wants reports whether the scenario runs against target t.
func (s scenario) wants(t string) bool {
	if len(s.Targets) == 0 {
		return true
	}
	for _, x := range s.Targets {
		if x == t {
			return true
		}
	}
	return false
}

func (s scenario) gatewayConfig() string {
	if s.Gateway == "" {
		return defaultGatewayConfig
	}
	return s.Gateway
}

// body returns the chat request body for a model.
func (s scenario) body(model string) []byte {
	return providertest.ChatBody(model, s.PromptBytes, s.Stream)
}

// request returns the whole HTTP request for target t.
func (s scenario) request(t *target) []byte {
	model := "gpt-4o-mini"
	header := [][2]string{{"Authorization", "Bearer " + fakeAPIKey}}
	if t.name == targetGateway {
		model = s.GatewayModel
		if model == "" {
			model = "openai/gpt-4o-mini"
		}
		header = mergeHeaders(header, s.GatewayHeaders)
	}
	return buildRequest(t.addr, "/v1/chat/completions", header, s.body(model))
}

// mergeHeaders returns base with over applied: a header in over replaces
// the one of the same name in base.
func mergeHeaders(base, over [][2]string) [][2]string {
	out := make([][2]string, 0, len(base)+len(over))
	for _, b := range base {
		replaced := false
		for _, o := range over {
			if strings.EqualFold(b[0], o[0]) {
				replaced = true
			}
		}
		if !replaced {
			out = append(out, b)
		}
	}
	return append(out, over...)
}
