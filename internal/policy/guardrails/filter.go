package guardrails

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aigateway/aigateway/internal/policy/guardrails/detect"
)

// ruleMatch is a match of one rule.
type ruleMatch struct {
	detect.Match
	rule *Rule
}

// findAll returns the matches of rules in s from from on, ordered by
// start, without overlaps (the earlier start wins, then the longer match,
// then the earlier rule).
func findAll(rules []*Rule, s string, from int, scratch []detect.Match, out []ruleMatch) ([]detect.Match, []ruleMatch) {
	out = out[:0]
	for _, r := range rules {
		scratch = r.Detector.Find(s, from, scratch[:0])
		for _, m := range scratch {
			out = append(out, ruleMatch{m, r})
		}
	}
	if len(out) < 2 {
		return scratch, out
	}
	slices.SortStableFunc(out, func(a, b ruleMatch) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	kept := out[:1]
	for _, m := range out[1:] {
		if m.Start >= kept[len(kept)-1].End {
			kept = append(kept, m)
		}
	}
	return scratch, kept
}

// replacement is what a rule puts in place of a match in an answer.
func (r *Rule) replacement() string { return "[" + r.Label + "]" }

// contextBytes is how much already passed text a filter keeps, so
// detectors can look behind the start of a match (one rune at most).
const contextBytes = 8

// filter applies response rules to a stream of text. It passes text on as
// soon as no rule can match it any more, holding back only the end that
// may still become (part of) a match — bounded by the longest match a rule
// can have.
type filter struct {
	rules []*Rule
	// onMatch is called for every match, whatever its action.
	onMatch func(*Rule)
	// buf is kept context (buf[:ctx], already passed on) and held text.
	buf string
	ctx int

	scratch []detect.Match
	matches []ruleMatch
}

// push takes the next piece of text and returns the text that can be
// passed on, with redactions applied, or the block rule that matched.
// final passes on everything held.
func (f *filter) push(s string, final bool) (string, *Rule) {
	buf := f.buf + s
	limit := len(buf)
	if !final {
		for _, r := range f.rules {
			p := max(r.Detector.Pending(buf, f.ctx), len(buf)-r.Detector.MaxLen()-1)
			limit = min(limit, p)
		}
		// never split a character between two pieces
		for limit < len(buf) && limit > f.ctx && !utf8.RuneStart(buf[limit]) {
			limit--
		}
	}
	limit = max(limit, f.ctx)
	if limit == f.ctx && !final {
		f.buf = buf // nothing can leave yet
		return "", nil
	}
	f.scratch, f.matches = findAll(f.rules, buf, f.ctx, f.scratch, f.matches)
	end := limit
	pos := f.ctx
	var out strings.Builder
	for _, m := range f.matches {
		if m.Start >= limit {
			break
		}
		end = max(end, m.End)
		if f.onMatch != nil {
			f.onMatch(m.rule)
		}
		switch m.rule.Action {
		case ActionBlock:
			f.buf, f.ctx = "", 0
			return "", m.rule
		case ActionMask, ActionRedact:
			if out.Len() == 0 {
				out.Grow(end - f.ctx + 16)
			}
			out.WriteString(buf[pos:m.Start])
			out.WriteString(m.rule.replacement())
			pos = m.End
		}
	}
	var emitted string
	if pos == f.ctx {
		emitted = buf[f.ctx:end]
	} else {
		out.WriteString(buf[pos:end])
		emitted = out.String()
	}
	keep := end - contextBytes
	for keep > 0 && !utf8.RuneStart(buf[keep]) {
		keep--
	}
	keep = max(keep, 0)
	f.buf, f.ctx = buf[keep:], end-keep
	if final {
		f.buf, f.ctx = "", 0
	}
	return emitted, nil
}

// applyRules applies rules to a whole text (a prompt or an answer that is
// not streamed): it returns the text with masks and redactions applied,
// and the first block rule that matched, if any — the text then has the
// blocked values replaced by their labels too, so what a log keeps of a
// refused request holds none of them. mask, when set (in prompts), gives
// the replacement of every value replaced — a placeholder for a masked
// one — and may record it; in answers mask redacts. skip, when set, leaves
// values it reports alone; onMatch is called for every match acted on.
func applyRules(rules []*Rule, s string, mask func(r *Rule, value string) string,
	skip func(value string) bool, onMatch func(*Rule)) (string, *Rule) {
	_, matches := findAll(rules, s, 0, nil, nil)
	if len(matches) == 0 {
		return s, nil
	}
	var blocked *Rule
	var b strings.Builder
	pos := 0
	for _, m := range matches {
		value := s[m.Start:m.End]
		if skip != nil && skip(value) {
			continue
		}
		onMatch(m.rule)
		if m.rule.Action == ActionFlag {
			continue
		}
		if m.rule.Action == ActionBlock && blocked == nil {
			blocked = m.rule
		}
		repl := m.rule.replacement()
		if mask != nil {
			repl = mask(m.rule, value)
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[pos:m.Start])
		b.WriteString(repl)
		pos = m.End
	}
	if b.Len() == 0 {
		return s, blocked
	}
	b.WriteString(s[pos:])
	return b.String(), blocked
}
