package guardrails

import (
	"io"
	"slices"

	"github.com/aigateway/aigateway/internal/llm"
)

// textPipe carries one text of a streamed answer (a choice's content,
// reasoning or refusal, or one tool call's arguments) through the response
// rules and then the placeholder restorer. Each holds back only what it
// must, so a piece leaves as soon as nothing can change it any more.
type textPipe struct {
	filter  *filter   // nil without response rules
	restore *restorer // nil when nothing was masked
}

func (p *textPipe) push(s string, final bool) (string, *Rule) {
	if p.filter != nil {
		var blocked *Rule
		if s, blocked = p.filter.push(s, final); blocked != nil {
			return "", blocked
		}
	}
	if p.restore != nil {
		s = p.restore.push(s, final)
	}
	return s, nil
}

// holding reports whether the pipe holds back any text.
func (p *textPipe) holding() bool {
	return (p.filter != nil && len(p.filter.buf) > p.filter.ctx) || (p.restore != nil && p.restore.held != "")
}

// choiceState holds the pipes of one choice of a stream.
type choiceState struct {
	content, reasoning, refusal *textPipe
	tools                       map[int]*textPipe
	toolOrder                   []int
	finished                    bool
}

// guardStream filters and restores a streamed answer chunk by chunk.
type guardStream struct {
	inner    llm.Stream
	st       *callState
	choices  map[int]*choiceState
	order    []int
	last     llm.ChatChunk // id, model … for a chunk the stream adds at its end
	flushed  bool
	finished bool
	err      error
}

// newStream wraps inner.
func (st *callState) newStream(inner llm.Stream) *guardStream {
	return &guardStream{inner: inner, st: st, choices: map[int]*choiceState{}}
}

func (s *guardStream) pipe(inJSON bool) *textPipe {
	p := &textPipe{}
	if len(s.st.pol.response) > 0 {
		p.filter = &filter{rules: s.st.pol.response, onMatch: s.st.onMatch}
	}
	if !s.st.mask.empty() {
		p.restore = &restorer{m: s.st.mask, inJSON: inJSON}
	}
	return p
}

func (s *guardStream) choice(i int) *choiceState {
	cs, ok := s.choices[i]
	if !ok {
		cs = &choiceState{
			content:   s.pipe(false),
			reasoning: s.pipe(false),
			refusal:   s.pipe(false),
		}
		s.choices[i] = cs
		s.order = append(s.order, i)
	}
	return cs
}

// holding reports whether any pipe of the choice holds back text.
func (cs *choiceState) holding() bool {
	if cs.content.holding() || cs.reasoning.holding() || cs.refusal.holding() {
		return true
	}
	for _, p := range cs.tools {
		if p.holding() {
			return true
		}
	}
	return false
}

func (cs *choiceState) tool(i int, s *guardStream) *textPipe {
	if cs.tools == nil {
		cs.tools = map[int]*textPipe{}
	}
	p, ok := cs.tools[i]
	if !ok {
		p = s.pipe(true)
		cs.tools[i] = p
		cs.toolOrder = append(cs.toolOrder, i)
	}
	return p
}

// Recv implements llm.Stream.
func (s *guardStream) Recv() (*llm.ChatChunk, error) {
	for {
		if s.err != nil {
			return nil, s.err
		}
		if s.finished {
			return nil, io.EOF
		}
		ch, err := s.inner.Recv()
		if err == io.EOF {
			return s.end()
		}
		if err != nil {
			return nil, err
		}
		out, err := s.process(ch)
		if err != nil {
			s.err = err
			return nil, err
		}
		if out != nil {
			return out, nil
		}
	}
}

// end flushes what the pipes still hold into one last chunk.
func (s *guardStream) end() (*llm.ChatChunk, error) {
	if !s.flushed {
		s.flushed = true
		ch := s.last
		ch.Raw, ch.Usage, ch.Choices = nil, nil, nil
		for _, i := range s.order {
			cs := s.choices[i]
			if cs.finished {
				continue
			}
			cc := llm.ChunkChoice{Index: i}
			if err := s.flushChoice(cs, &cc.Delta); err != nil {
				s.err = err
				return nil, err
			}
			if !deltaEmpty(&cc.Delta) {
				ch.Choices = append(ch.Choices, cc)
			}
		}
		if len(ch.Choices) > 0 {
			return &ch, nil
		}
	}
	s.finished = true
	return nil, io.EOF
}

// process passes one chunk through the pipes; it returns nil when nothing
// is left of it to send.
func (s *guardStream) process(ch *llm.ChatChunk) (*llm.ChatChunk, error) {
	s.last.ID, s.last.Object, s.last.Created, s.last.Model = ch.ID, ch.Object, ch.Created, ch.Model
	s.last.SystemFingerprint = ch.SystemFingerprint
	var out *llm.ChatChunk
	var one *oneChoiceChunk
	var toolsCopied []bool
	edit := func(i int) *llm.ChunkChoice {
		if out == nil {
			if len(ch.Choices) == 1 {
				// the usual case in one allocation: chunk, choice, text
				one = &oneChoiceChunk{chunk: *ch, choice: [1]llm.ChunkChoice{ch.Choices[0]}}
				one.chunk.Choices = one.choice[:]
				out = &one.chunk
				toolsCopied = one.toolsCopied[:]
			} else {
				c := *ch
				c.Choices = slices.Clone(ch.Choices)
				out = &c
				toolsCopied = make([]bool, len(ch.Choices))
			}
			out.Raw = nil
		}
		return &out.Choices[i]
	}
	text := func(t string) *string {
		if one != nil && !one.textUsed {
			one.text, one.textUsed = t, true
			return &one.text
		}
		return &t
	}
	for i := range ch.Choices {
		cc := &ch.Choices[i]
		cs := s.choice(cc.Index)
		d := &cc.Delta
		for _, f := range []struct {
			in  *string
			p   *textPipe
			set func(d *llm.Delta, v *string)
		}{
			{d.Content, cs.content, func(d *llm.Delta, v *string) { d.Content = v }},
			{d.ReasoningContent, cs.reasoning, func(d *llm.Delta, v *string) { d.ReasoningContent = v }},
			{d.Refusal, cs.refusal, func(d *llm.Delta, v *string) { d.Refusal = v }},
		} {
			if f.in == nil {
				continue
			}
			t, blocked := f.p.push(*f.in, false)
			if blocked != nil {
				return nil, Blocked("response", blocked.Name, "the answer matched it")
			}
			if t != *f.in {
				d := &edit(i).Delta
				f.set(d, text(t))
			}
		}
		for k := range d.ToolCalls {
			tc := &d.ToolCalls[k]
			idx := k
			if tc.Index != nil {
				idx = *tc.Index
			}
			t, blocked := cs.tool(idx, s).push(tc.Function.Arguments, false)
			if blocked != nil {
				return nil, Blocked("response", blocked.Name, "the answer matched it")
			}
			if t != tc.Function.Arguments {
				oc := edit(i)
				if !toolsCopied[i] {
					oc.Delta.ToolCalls = slices.Clone(oc.Delta.ToolCalls)
					toolsCopied[i] = true
				}
				oc.Delta.ToolCalls[k].Function.Arguments = t
			}
		}
		if cc.FinishReason != nil && *cc.FinishReason != "" && !cs.finished {
			cs.finished = true
			if !cs.holding() {
				continue
			}
			oc := edit(i)
			if !toolsCopied[i] {
				oc.Delta.ToolCalls = slices.Clone(oc.Delta.ToolCalls)
				toolsCopied[i] = true
			}
			if err := s.flushChoice(cs, &oc.Delta); err != nil {
				return nil, err
			}
		}
	}
	if out == nil {
		return ch, nil
	}
	if out.Usage == nil && len(out.Choices) > 0 {
		for i := range out.Choices {
			if !choiceEmpty(&out.Choices[i]) {
				return out, nil
			}
		}
		return nil, nil // everything in it is held back
	}
	return out, nil
}

// oneChoiceChunk is a changed copy of a chunk with one choice, in one
// allocation.
type oneChoiceChunk struct {
	chunk       llm.ChatChunk
	choice      [1]llm.ChunkChoice
	text        string
	textUsed    bool
	toolsCopied [1]bool
}

// flushChoice appends what a choice's pipes hold to d.
func (s *guardStream) flushChoice(cs *choiceState, d *llm.Delta) error {
	for _, f := range []struct {
		p   *textPipe
		dst **string
	}{{cs.content, &d.Content}, {cs.reasoning, &d.ReasoningContent}, {cs.refusal, &d.Refusal}} {
		t, blocked := f.p.push("", true)
		if blocked != nil {
			return Blocked("response", blocked.Name, "the answer matched it")
		}
		if t == "" {
			continue
		}
		if *f.dst != nil {
			t = **f.dst + t
		}
		*f.dst = &t
	}
	for _, idx := range cs.toolOrder {
		t, blocked := cs.tools[idx].push("", true)
		if blocked != nil {
			return Blocked("response", blocked.Name, "the answer matched it")
		}
		if t == "" {
			continue
		}
		appended := false
		for k := range d.ToolCalls {
			tc := &d.ToolCalls[k]
			if (tc.Index != nil && *tc.Index == idx) || (tc.Index == nil && k == idx) {
				tc.Function.Arguments += t
				appended = true
				break
			}
		}
		if !appended {
			i := idx
			d.ToolCalls = append(d.ToolCalls, llm.ToolCall{Index: &i, Function: llm.FunctionCall{Arguments: t}})
		}
	}
	return nil
}

func deltaEmpty(d *llm.Delta) bool {
	return d.Role == "" && emptyPtr(d.Content) && emptyPtr(d.ReasoningContent) && emptyPtr(d.Refusal) && len(d.ToolCalls) == 0
}

func choiceEmpty(c *llm.ChunkChoice) bool {
	return deltaEmpty(&c.Delta) && c.FinishReason == nil && len(c.Logprobs) == 0
}

func emptyPtr(p *string) bool { return p == nil || *p == "" }

// Close implements llm.Stream.
func (s *guardStream) Close() error { return s.inner.Close() }

var _ llm.Stream = (*guardStream)(nil)
