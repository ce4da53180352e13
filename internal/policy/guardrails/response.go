package guardrails

import (
	"slices"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// response filters and restores the answer. The answer may be shared (a
// cache holds it), so it is copied before anything in it changes.
func (st *callState) response(res *pipeline.Result) (*pipeline.Result, error) {
	if len(st.pol.response) == 0 && st.mask.empty() {
		return res, nil
	}
	switch {
	case res.Chat != nil:
		resp, err := st.answer(res.Chat)
		if err != nil {
			return nil, err
		}
		return &pipeline.Result{Chat: resp}, nil
	case res.Stream != nil:
		return &pipeline.Result{Stream: st.newStream(res.Stream)}, nil
	}
	return res, nil
}

// answer applies the response rules, then restores masked values.
func (st *callState) answer(in *llm.ChatResponse) (*llm.ChatResponse, error) {
	out := *in
	out.Choices = slices.Clone(in.Choices)
	for i := range out.Choices {
		if err := st.answerMessage(&out.Choices[i].Message); err != nil {
			return nil, err
		}
	}
	if !st.mask.empty() {
		for i := range out.Choices {
			st.restoreMessage(&out.Choices[i].Message)
		}
	}
	return &out, nil
}

// filterText applies the response rules to one text of an answer.
func (st *callState) filterText(s string, inJSON bool) (string, error) {
	if len(st.pol.response) == 0 || s == "" {
		return s, nil
	}
	var skip func(string) bool
	if inJSON {
		skip = unsafeInJSON
	}
	out, blocked := applyRules(st.pol.response, s, nil, skip, st.onMatch)
	if blocked != nil {
		return "", Blocked("response", blocked.Name, "the answer matched it")
	}
	return out, nil
}

// answerMessage filters the texts of one answer message in place (msg is
// already a copy; its slices are copied before they change).
func (st *callState) answerMessage(msg *llm.Message) error {
	switch {
	case msg.Content.IsParts():
		parts := slices.Clone(msg.Content.Parts())
		for j := range parts {
			if parts[j].Type != llm.PartText {
				continue
			}
			t, err := st.filterText(parts[j].Text, false)
			if err != nil {
				return err
			}
			parts[j].Text = t
		}
		msg.Content = llm.PartsContent(parts...)
	case !msg.Content.IsNull():
		t, err := st.filterText(msg.Content.Text(), false)
		if err != nil {
			return err
		}
		msg.Content = llm.TextContent(t)
	}
	if msg.Refusal != nil {
		t, err := st.filterText(*msg.Refusal, false)
		if err != nil {
			return err
		}
		msg.Refusal = &t
	}
	if msg.ReasoningContent != "" {
		t, err := st.filterText(msg.ReasoningContent, false)
		if err != nil {
			return err
		}
		msg.ReasoningContent = t
	}
	if len(msg.ToolCalls) > 0 {
		msg.ToolCalls = slices.Clone(msg.ToolCalls)
		for k := range msg.ToolCalls {
			fc := &msg.ToolCalls[k].Function
			t, err := st.filterText(fc.Arguments, true)
			if err != nil {
				return err
			}
			fc.Arguments = t
		}
	}
	return nil
}

// restoreMessage puts the masked values back into an answer message
// (already copied by answerMessage).
func (st *callState) restoreMessage(msg *llm.Message) {
	m := st.mask
	switch {
	case msg.Content.IsParts():
		parts := msg.Content.Parts()
		for j := range parts {
			parts[j].Text = m.restore(parts[j].Text, false)
		}
	case !msg.Content.IsNull():
		msg.Content = llm.TextContent(m.restore(msg.Content.Text(), false))
	}
	if msg.Refusal != nil {
		t := m.restore(*msg.Refusal, false)
		msg.Refusal = &t
	}
	msg.ReasoningContent = m.restore(msg.ReasoningContent, false)
	for k := range msg.ToolCalls {
		fc := &msg.ToolCalls[k].Function
		fc.Arguments = m.restore(fc.Arguments, true)
	}
}
