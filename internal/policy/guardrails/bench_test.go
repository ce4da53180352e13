package guardrails

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/policy/guardrails/detect"
)

// benchText is prose with a sensitive value every few hundred bytes, n
// bytes long.
func benchText(n int) string {
	parts := []string{
		"The quarterly report shows that revenue grew in every region, with the strongest results in Europe. ",
		"Please forward the summary to jane.roe@example.com before Friday. ",
		"Our support line is +1 (415) 555-2671 and the office is at 12 Main Street. ",
		"The customer asked whether the contract renewal could be moved to the next quarter. ",
		"Server 10.20.30.40 handles the batch jobs overnight. ",
		"Invoices are paid to DE89 3704 0044 0532 0130 00 within thirty days of receipt. ",
	}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(parts[i%len(parts)])
	}
	return b.String()[:n]
}

func benchRuleSets(b *testing.B) []RuleSet {
	var rules []Rule
	for _, k := range []string{detect.KindEmail, detect.KindPhone, detect.KindCard, detect.KindIBAN,
		detect.KindSSN, detect.KindIP, detect.KindCredential} {
		r := builtinRule(b, k, ActionMask)
		r.Name = k
		rules = append(rules, r)
	}
	return []RuleSet{{Name: "pii", Rules: rules,
		Injection: &Injection{Action: ActionFlag, Rules: BuiltinInjectionRules()}}}
}

var cannedAnswer = &pipeline.Result{Chat: &llm.ChatResponse{ID: "x", Choices: []llm.Choice{{
	Message: llm.Message{Role: "assistant", Content: llm.TextContent("Done: I forwarded it to [EMAIL_1].")}, FinishReason: "stop"}}}}

// BenchmarkStage measures the guardrail stage per request for prompts of
// several sizes: "baseline" is the same call without the stage; "pii" is
// every built-in detector (masking) plus the injection heuristics.
func BenchmarkStage(b *testing.B) {
	next := pipeline.HandlerFunc(func(context.Context, *pipeline.Call) (*pipeline.Result, error) {
		return cannedAnswer, nil
	})
	guarded := newGuard(b, benchRuleSets(b)).Stage()(next)
	for _, kb := range []int{1, 16} {
		text := benchText(kb << 10)
		body, _ := json.Marshal(&llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: "user", Content: llm.TextContent(text)}}})
		call := func() *pipeline.Call {
			// what decode leaves: the body and the request decoded from it
			return &pipeline.Call{Kind: pipeline.KindChat, Model: "m", Body: body, Chat: &llm.ChatRequest{Model: "m",
				Messages: []llm.Message{{Role: "user", Content: llm.TextContent(text)}}}}
		}
		for _, tc := range []struct {
			name string
			h    pipeline.Handler
		}{{"baseline", next}, {"pii", guarded}} {
			b.Run(fmt.Sprintf("%s/%dKB", tc.name, kb), func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				start := cpuTime()
				for b.Loop() {
					if _, err := tc.h.Serve(context.Background(), call()); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, start)
			})
		}
	}
}

// BenchmarkStreamFilter measures a streamed answer of 16 KB in 4-byte
// events (about a token each) passing the output rules and the
// placeholder restorer, against reading the same stream unfiltered.
func BenchmarkStreamFilter(b *testing.B) {
	text := benchText(16 << 10)
	var chunks []*llm.ChatChunk
	for i := 0; i < len(text); i += 4 {
		s := text[i:min(i+4, len(text))]
		chunks = append(chunks, &llm.ChatChunk{Choices: []llm.ChunkChoice{{Delta: llm.Delta{Content: &s}}}})
	}
	sets := benchRuleSets(b)
	for i := range sets[0].Rules {
		sets[0].Rules[i].Action = ActionRedact
	}
	g := newGuard(b, sets)
	c := &pipeline.Call{Kind: pipeline.KindChat, Chat: &llm.ChatRequest{}}
	pol := g.policyFor(c)
	drain := func(s llm.Stream) {
		for {
			if _, err := s.Recv(); err == io.EOF {
				return
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("baseline/16KB", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		start := cpuTime()
		for b.Loop() {
			drain(llm.NewSliceStream(chunks))
		}
		reportCPU(b, start)
	})
	b.Run("filtered/16KB", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		start := cpuTime()
		for b.Loop() {
			st := &callState{g: g, pol: pol, c: c}
			st.mask = newMasker()
			st.mask.placeholder("EMAIL", "x@y.de")
			drain(st.newStream(llm.NewSliceStream(chunks)))
		}
		reportCPU(b, start)
	})
}

// reportCPU adds the process CPU time per operation (cpu-ns/op): on a
// loaded machine it is steadier than ns/op, which counts time spent
// waiting for a core.
func reportCPU(b *testing.B, start time.Duration) {
	if start > 0 && b.N > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}
