package guardrails

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// callState is the stage's state for one call.
type callState struct {
	g    *Guard
	pol  *policy
	c    *pipeline.Call
	mask *masker // nil until a value is masked
	// replaced lists what the prompt rules replaced, as pairs of value
	// and replacement.
	replaced []string
}

// flag records name on the call, once.
func (st *callState) flag(name string) {
	if !slices.Contains(st.c.Outcome.Flags, name) {
		st.c.Outcome.Flags = append(st.c.Outcome.Flags, name)
	}
}

func (st *callState) onMatch(r *Rule) { st.flag(r.Name) }

// Blocked is the error of a guardrail refusal: 400 with code
// guardrail_blocked, naming the check but never the text it matched.
func Blocked(what, check, detail string) *gwerr.Error {
	msg := fmt.Sprintf("%s blocked by guardrail %q", what, check)
	if detail != "" {
		msg += ": " + detail
	}
	return &gwerr.Error{Kind: gwerr.KindPolicy, Status: http.StatusBadRequest, Type: gwerr.TypeInvalidRequest,
		Code: "guardrail_blocked", Message: msg}
}

// request checks and rewrites the prompt: first the prompt rules, so that
// whatever happens next — also a refusal — the call (and so its log) holds
// only the masked prompt; then the injection heuristics, the system
// prompts and the size limit. (Moderation is a stage of its own, further
// in.)
func (st *callState) request() error {
	req := st.c.Chat
	if len(st.pol.prompt) > 0 {
		changed, blocked := st.applyPromptRules(req)
		if changed {
			// no stage after this one, and no log, sees the original values
			st.c.Body = maskedBody(st.c.Body, st.replaced, req)
		}
		if blocked != nil {
			return blocked
		}
	}
	if !st.mask.empty() {
		st.c.Remask = st.mask.remask
	}
	for _, rs := range st.pol.injections {
		in := rs.Injection
		score, matched := in.score(in.texts(req))
		if score < in.threshold() {
			continue
		}
		name := flagName(rs.Name, "injection")
		st.flag(name)
		if in.Action == ActionBlock {
			return Blocked("request", name, fmt.Sprintf("the prompt looks like a prompt-injection attempt (score %.2f, threshold %.2f; heuristics: %s)",
				score, in.threshold(), strings.Join(matched, ", ")))
		}
	}
	if len(st.pol.systems) > 0 {
		addSystemPrompts(req, st.pol.systems)
	}
	if st.pol.maxTokens > 0 {
		if n := st.g.tokens(st.c.Model, req); n > st.pol.maxTokens {
			return &gwerr.Error{Kind: gwerr.KindPolicy, Status: http.StatusBadRequest, Type: gwerr.TypeInvalidRequest,
				Code: "prompt_too_large", Param: "messages",
				Message: fmt.Sprintf("the prompt is about %d tokens, more than the %d tokens allowed for this model by guardrail %q",
					n, st.pol.maxTokens, flagName(st.pol.maxTokenSet, "max_prompt_tokens"))}
		}
	}
	return nil
}

// applyPromptRules runs the prompt rules over every text of the request
// the provider will see: message contents and text parts, earlier answers'
// reasoning and refusals, and the arguments of earlier tool calls. It reports whether it changed any, and
// the refusal of the first block rule that matched (the texts are still
// rewritten, blocked values replaced by their labels).
func (st *callState) applyPromptRules(req *llm.ChatRequest) (changed bool, blocked error) {
	maskFn := func(r *Rule, value string) string {
		repl := r.replacement()
		if r.Action == ActionMask {
			if st.mask == nil {
				st.mask = newMasker()
			}
			repl = st.mask.placeholder(r.Label, value)
		}
		st.replaced = append(st.replaced, value, repl)
		return repl
	}
	apply := func(s, where string, inJSON bool) string {
		var skip func(string) bool
		if inJSON {
			skip = unsafeInJSON
		}
		out, rule := applyRules(st.pol.prompt, s, maskFn, skip, st.onMatch)
		if rule != nil && blocked == nil {
			blocked = Blocked("request", rule.Name, "it matched "+where)
		}
		if out != s {
			changed = true
		}
		return out
	}
	for i := range req.Messages {
		m := &req.Messages[i]
		where := fmt.Sprintf("messages[%d]", i)
		switch {
		case m.Content.IsParts():
			parts := m.Content.Parts()
			for j := range parts {
				if parts[j].Type != llm.PartText || parts[j].Text == "" {
					continue
				}
				parts[j].Text = apply(parts[j].Text, fmt.Sprintf("%s.content[%d].text", where, j), false)
			}
		case !m.Content.IsNull():
			s := m.Content.Text()
			if t := apply(s, where+".content", false); t != s {
				m.Content = llm.TextContent(t)
			}
		}
		if m.ReasoningContent != "" {
			m.ReasoningContent = apply(m.ReasoningContent, where+".reasoning_content", false)
		}
		if m.Refusal != nil && *m.Refusal != "" {
			t := apply(*m.Refusal, where+".refusal", false)
			m.Refusal = &t
		}
		for k := range m.ToolCalls {
			fc := &m.ToolCalls[k].Function
			fc.Arguments = apply(fc.Arguments, fmt.Sprintf("%s.tool_calls[%d].function.arguments", where, k), true)
		}
	}
	return changed, blocked
}

// addSystemPrompts inserts the rule sets' system prompts: prepended ones
// first of all, appended ones after the client's leading system and
// developer messages; each group in rule-set order.
func addSystemPrompts(req *llm.ChatRequest, sets []*RuleSet) {
	var pre, app []llm.Message
	for _, rs := range sets {
		m := llm.Message{Role: llm.RoleSystem, Content: llm.TextContent(rs.SystemPrompt)}
		if rs.SystemPosition == Append {
			app = append(app, m)
		} else {
			pre = append(pre, m)
		}
	}
	lead := 0
	for lead < len(req.Messages) && (req.Messages[lead].Role == llm.RoleSystem || req.Messages[lead].Role == llm.RoleDeveloper) {
		lead++
	}
	out := make([]llm.Message, 0, len(req.Messages)+len(pre)+len(app))
	out = append(out, pre...)
	out = append(out, req.Messages[:lead]...)
	out = append(out, app...)
	out = append(out, req.Messages[lead:]...)
	req.Messages = out
}

// EstimateTokens estimates a request's prompt tokens cheaply: four bytes
// of text per token, plus a few tokens of framing per message. It errs on
// the high side for English and is exact enough for a size limit.
func EstimateTokens(req *llm.ChatRequest) int {
	n := 0
	for i := range req.Messages {
		m := &req.Messages[i]
		n += len(m.Role) + len(m.Name) + 12
		if m.Content.IsParts() {
			for _, p := range m.Content.Parts() {
				n += len(p.Text)
				if p.ImageURL != nil && !strings.HasPrefix(p.ImageURL.URL, "data:") {
					n += len(p.ImageURL.URL)
				}
			}
		} else {
			n += len(m.Content.Text())
		}
		for _, tc := range m.ToolCalls {
			n += len(tc.Function.Name) + len(tc.Function.Arguments)
		}
	}
	for _, t := range req.Tools {
		n += len(t.Function.Name) + len(t.Function.Description) + len(t.Function.Parameters)
	}
	return (n + 3) / 4
}

// promptTurns is the conversation a moderation model judges for a
// prompt: the user's texts, joined, as one user turn.
func promptTurns(req *llm.ChatRequest) []Turn {
	var b strings.Builder
	for i := range req.Messages {
		m := &req.Messages[i]
		if m.Role != llm.RoleUser {
			continue
		}
		if t := m.Content.Text(); t != "" {
			if b.Len() > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(t)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return []Turn{{Role: llm.RoleUser, Text: b.String()}}
}

// moderate runs the moderations that apply (answer false: prompts; true:
// answers) and returns a block error when one says so.
func (st *callState) moderate(ctx context.Context, answer bool, turns []Turn) error {
	if len(turns) == 0 {
		return nil
	}
	what := "request"
	if answer {
		what = "response"
	}
	for _, rs := range st.pol.moderations {
		mod := rs.Moderation
		if (answer && !mod.Response) || (!answer && !mod.Prompt) {
			continue
		}
		name := flagName(rs.Name, "moderation")
		timeout := mod.Timeout
		if timeout <= 0 {
			timeout = defaultModerationTimeout
		}
		mctx, cancel := context.WithTimeout(ctx, timeout)
		v, err := mod.Moderator.Moderate(mctx, turns)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return gwerr.As(ctx.Err())
			}
			st.g.log.Warn("moderation call failed", "log_id", st.c.ID, "check", name, "error", err)
			st.flag(name + ":error")
			if mod.FailClosed {
				return &gwerr.Error{Kind: gwerr.KindProvider, Status: http.StatusServiceUnavailable, Type: gwerr.TypeAPI,
					Code: "moderation_unavailable", Retryable: true, Cause: err,
					Message: fmt.Sprintf("the moderation model of guardrail %q could not be reached; the %s was not checked", name, what)}
			}
			continue
		}
		if !v.Flagged {
			continue
		}
		var blocking []string
		for _, cat := range v.Categories {
			act, ok := mod.Categories[cat]
			if !ok {
				act = mod.Action
			}
			if act == 0 {
				act = ActionBlock
			}
			if act == ActionAllow {
				continue
			}
			st.flag(name + ":" + cat)
			if act == ActionBlock {
				blocking = append(blocking, describeCategory(cat))
			}
		}
		if len(blocking) > 0 {
			return Blocked(what, name, "the moderation model flagged "+strings.Join(blocking, ", "))
		}
	}
	return nil
}

// defaultModerationTimeout bounds a moderation call when the rule set
// gives no timeout.
const defaultModerationTimeout = 10 * time.Second
